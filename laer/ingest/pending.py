"""Landing files the load ledger has not seen yet: what the next refresh would load."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from laer.ingest.files import LandingFile, discover
from laer.ingest.loader import LEDGER


class LedgerBusy(Exception):
    """Another process (a refresh) is writing the warehouse; its ledger cannot be read now."""


@dataclass(frozen=True)
class Pending:
    files: list[LandingFile]

    @property
    def newest_ns(self) -> int:
        """When the most recently written of the files was modified (ns since the epoch)."""
        return max((f.modified_ns for f in self.files), default=0)

    @property
    def signature(self) -> str:
        """Names the set of files (path, size, modification time): the same set, the same text."""
        digest = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: f.relpath):
            digest.update(f"{f.relpath}\0{f.size}\0{f.modified_ns}\n".encode())
        return digest.hexdigest()[:16]


def _ledger_entries(db: Path) -> set[tuple[str, int, int]]:
    if not db.exists():
        return set()
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.IOException as exc:
        raise LedgerBusy(str(exc).splitlines()[0]) from exc
    with con:
        exists = con.execute("select count(*) from information_schema.tables "
                             "where table_schema = 'raw' and table_name = '_load_ledger'").fetchone()
        if not exists or not exists[0]:
            return set()
        rows = con.execute(f"select path, size_bytes, modified_ns from {LEDGER} where modified_ns is not null").fetchall()
    return {(p, int(size), int(ns)) for p, size, ns in rows}


def pending_files(landing: Path, db: Path) -> Pending:
    """Loadable files under ``landing`` whose path, size and modification time the ledger of
    ``db`` has no entry for (loaded or quarantined). A file re-written with the same content
    counts as new here; the load then skips it by its content hash."""
    seen = _ledger_entries(db)
    return Pending([f for f in discover(landing).files if (f.relpath, f.size, f.modified_ns) not in seen])
