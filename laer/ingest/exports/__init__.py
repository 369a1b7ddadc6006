"""Adapters for exports as the source systems write them (landing.md v2): Stripe,
HubSpot and Segment objects become rows of the contract's raw tables, inside the same
ledgered, quarantining load as the contract's own files (:func:`laer.ingest.loader.load_export_file`).
"""

from __future__ import annotations

from typing import Any

import duckdb

from laer.contract import ENTITIES
from laer.ingest.exports import hubspot, segment, stripe
from laer.ingest.exports.objects import Bad, Rows
from laer.ingest.exports.settings import ExportSettings
from laer.ingest.files import LandingFile

__all__ = ["Bad", "ExportSettings", "Rows", "adapt", "cleanup", "latest_per_key"]

BY_TABLE = {e.table: e for e in ENTITIES}
FEEDS_TABLE = "raw._load_ledger_feeds"


def adapt(con: duckdb.DuckDBPyConnection, f: LandingFile, settings: ExportSettings) -> Rows:
    """The rows the file gives each raw table; a bad object raises :class:`Bad`."""
    if f.entity.source == "stripe":
        return stripe.adapt(con, f, settings.stripe_account_key)
    if f.entity.source == "hubspot":
        return hubspot.adapt(f, settings.hubspot_csm_property)
    return segment.adapt(con, f)


def cleanup(con: duckdb.DuckDBPyConnection) -> None:
    segment.cleanup(con)


def latest_per_key(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per record and file: the latest version (greatest ``updated_at``, then the
    later one), as staging would keep it. A file that observes a record many times (a
    plan on every subscription event) loads its last state once."""
    entity = BY_TABLE[table]
    keys = entity.key.split(",")
    version = entity.version_column
    best: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    for i, row in enumerate(rows):
        key = tuple(row[k] for k in keys)
        kept = best.get(key)
        if kept is None or version is None or row[version] is None or kept[1][version] is None \
                or row[version] >= kept[1][version]:
            best[key] = (i, row)
    return [row for _, row in sorted(best.values(), key=lambda x: x[0])]
