"""Atomic publish of the marts BI reads.

A publish writes a complete new version into ``publishes/<id>/`` (``marts.duckdb`` in a
storage format DuckDB 1.1+ opens, and ``marts/<mart>.parquet``), each mart and column
carrying its dbt description (``COMMENT ON`` in the database, Arrow field metadata in the
Parquet files, which pyarrow, pandas and Arrow-based tools read), then flips one symlink,
``current``, with an atomic rename. ``marts.duckdb`` and ``marts/`` in the warehouse
folder are fixed symlinks through ``current``, so the database file and the Parquet files
change together in that one step. The version it replaced becomes ``last_good``; older
versions are removed. A reader holding the old file open keeps reading it unharmed.

The account-day marts hold tens of millions of rows at scale, and a daily refresh
rebuilds a sliver of them. When the warehouse lists the account-days rebuilt since the
last publish (``ops.account_day_unpublished``, written by dbt's on-run-end) and the
current version exists, the new version starts as a copy of the current
``marts.duckdb`` (which keeps its storage format): the listed account-days of those
marts are replaced, every other mart is copied whole. The Parquet files are always
written whole. After the switch the list is emptied; a failed publish leaves it for the
next one.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from laer.paths import Warehouse
from laer.project import Mart, published_marts

# DuckDB 1.1 reads storage written for v1.0.0; DuckDB 2.x writes newer storage by default.
BI_STORAGE_VERSION = "v1.0.0"
PUBLISHED_SCHEMA = "marts"
PUBLISH_LOG = "ops.publish_log"
PENDING_ACCOUNT_DAYS = "ops.account_day_unpublished"
# String columns of a few values in marts of tens of millions of rows: the Parquet writer
# encodes them from an ENUM of their values (0.8 s less per daily run at 100,000
# accounts); the file still holds plain UTF-8 strings (tests/test_refresh.py).
PARQUET_ENUM_COLUMNS = {"fct_laer_stage_daily": ("laer_stage", "previous_stage"),
                        "fct_account_health_daily": ("health_band",)}


@dataclass(frozen=True)
class PublishResult:
    publish_id: str
    path: Path
    row_counts: dict[str, int]


def _lit(value: str | Path) -> str:
    """A SQL string literal: a path (a warehouse folder may be named "o'brien wh"), a description."""
    return "'" + str(value).replace("'", "''") + "'"


def _relink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically (create a temp link, rename over)."""
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex}")
    os.symlink(target, tmp)
    os.replace(tmp, link)


def current_publish(wh: Warehouse) -> Path | None:
    link = wh.root / "current"
    return link.resolve() if link.is_symlink() else None


def published_as_of(wh: Warehouse) -> str | None:
    """The as-of date of the marts BI reads now (None before the first publish)."""
    current = current_publish(wh)
    if current is None or not (current / "publish.json").exists():
        return None
    return str(json.loads((current / "publish.json").read_text())["as_of"])


def publish_marts(wh: Warehouse, *, as_of: str, run_id: str, checks: dict[str, object],
                  marts: Mapping[str, Mart] | None = None) -> PublishResult:
    """Copy the published marts (default: those the dbt project marks ``published``) from the
    warehouse's ``marts`` schema into a new version and make it current."""
    wh.publishes.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    publish_id = f"{stamp}-{run_id[:8]}"
    staging = wh.publishes / f".incoming-{publish_id}"
    final = wh.publishes / publish_id
    staging.mkdir()
    previous = current_publish(wh)
    try:
        row_counts, incremental = _write_version(wh, staging, published_marts() if marts is None else marts,
                                                 as_of=as_of, run_id=run_id, checks=checks, previous=previous)
        manifest = {"publish_id": publish_id, "as_of": as_of, "run_id": run_id,
                    "published_at": dt.datetime.now(dt.UTC).isoformat(), "row_counts": row_counts,
                    "account_days": "rebuilt rows copied" if incremental else "whole", "checks": checks}
        (staging / "publish.json").write_text(json.dumps(manifest, indent=2, default=str))
        _fsync_tree(staging)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _relink(wh.root / "current", f"publishes/{publish_id}")
    for name, target in (("marts.duckdb", "current/marts.duckdb"), ("marts", "current/marts")):
        link = wh.root / name
        if not link.is_symlink() or os.readlink(link) != target:
            _relink(link, target)
    if previous is not None and previous != final:
        _relink(wh.root / "last_good", f"publishes/{previous.name}")
    _prune(wh, keep={final.name, previous.name if previous else ""})
    _clear_pending(wh)
    _log(wh, manifest)
    return PublishResult(publish_id, final, row_counts)


def _write_version(wh: Warehouse, folder: Path, marts: Mapping[str, Mart], *, as_of: str, run_id: str,
                   checks: dict[str, object], previous: Path | None) -> tuple[dict[str, int], bool]:
    """Write marts.duckdb and marts/*.parquet into ``folder``; (row counts, whether only the
    pending account-days of the account-day marts were copied)."""
    target = folder / "marts.duckdb"
    parquet_dir = folder / "marts"
    parquet_dir.mkdir()
    row_counts: dict[str, int] = {}
    with duckdb.connect() as con:
        # marts are unordered tables: the Parquet writer need not keep the scan's row order
        # (a quarter faster on the account-day marts)
        con.execute("set preserve_insertion_order = false")
        con.execute(f"attach {_lit(wh.db)} as warehouse (read_only)")
        built = set(_tables(con, "warehouse", PUBLISHED_SCHEMA))
        if missing := sorted(set(marts) - built):
            raise RuntimeError(f"the warehouse has no table for published mart(s) {', '.join(missing)}: build them first")
        incremental = previous is not None and (previous / "marts.duckdb").exists() and _has_pending(con)
        if incremental:
            shutil.copyfile(previous / "marts.duckdb", target)  # type: ignore[operator]
            con.execute(f"attach {_lit(target)} as published")
        else:
            con.execute(f"attach {_lit(target)} as published (storage_version '{BI_STORAGE_VERSION}')")
        kept = set(_tables(con, "published", "main")) if incremental else set()
        for mart in marts:
            source = f'warehouse.{PUBLISHED_SCHEMA}."{mart}"'
            published = f'published.main."{mart}"'
            day = marts[mart].day_column
            if day and mart in kept and _same_columns(con, mart):
                pending = (f"(select account_id, min(rebuild_from) as rebuild_from from warehouse.{PENDING_ACCOUNT_DAYS} "
                           "group by account_id)")
                con.execute(f"delete from {published} as t using {pending} as p "
                            f"where p.account_id = t.account_id and t.{day} >= p.rebuild_from")
                con.execute(f"insert into {published} select t.* from {source} as t inner join {pending} as p "
                            f"on p.account_id = t.account_id and t.{day} >= p.rebuild_from")
            else:
                con.execute(f"create or replace table {published} as select * from {source}")
            _comment(con, published, marts[mart])
            _write_parquet(con, marts[mart], source, parquet_dir / f"{mart}.parquet")
            row_counts[mart] = int(con.execute(f"select count(*) from {source}").fetchone()[0])  # type: ignore[index]
        for stale in kept - set(marts) - {"_publish_info"}:
            con.execute(f'drop table published.main."{stale}"')
        con.execute(
            "create or replace table published.main._publish_info as select ? as as_of, ? as run_id, "
            "current_timestamp as published_at, ? as checks", [as_of, run_id, json.dumps(checks, default=str)])
        con.execute("detach published")
        con.execute("detach warehouse")
    return row_counts, incremental


def _comment(con: duckdb.DuckDBPyConnection, table: str, mart: Mart) -> None:
    """The mart's and its columns' dbt descriptions as comments (DuckDB 1.1+ reads them:
    ``duckdb_tables().comment``, ``duckdb_columns().comment``)."""
    con.execute(f"comment on table {table} is {_lit(mart.description)}")
    columns = {r[0] for r in con.execute(f"select * from {table} limit 0").description or []}
    for column, description in mart.column_descriptions:
        if column in columns:
            con.execute(f'comment on column {table}."{column}" is {_lit(description)}')


def _arrow_schema(con: duckdb.DuckDBPyConnection, mart: Mart, source: str) -> str:
    """The mart's Arrow schema with its descriptions as field and schema metadata
    (``description``), serialised as the Parquet key ``ARROW:schema`` Arrow readers use."""
    schema = con.sql(f"select * from {source} limit 0").to_arrow_table().schema
    described = dict(mart.column_descriptions)
    fields = [f.with_metadata({"description": described[f.name]}) if f.name in described else f for f in schema]
    with_docs = pa.schema(fields, metadata={"description": mart.description} if mart.description else None)
    return base64.b64encode(with_docs.serialize().to_pybytes()).decode()


def _write_parquet(con: duckdb.DuckDBPyConnection, mart: Mart, source: str, path: Path) -> None:
    replaced = []
    for column in PARQUET_ENUM_COLUMNS.get(mart.name, ()):
        enum = f'"{mart.name}__{column}__values"'
        con.execute(f'create or replace type {enum} as enum '
                    f'(select distinct "{column}" from {source} where "{column}" is not null)')
        replaced.append(f'"{column}"::{enum} as "{column}"')
    select = f"select * replace ({', '.join(replaced)})" if replaced else "select *"
    metadata = f"kv_metadata {{'ARROW:schema': '{_arrow_schema(con, mart, source)}'}}"
    con.execute(f"copy ({select} from {source}) to {_lit(path)} (format parquet, compression zstd, {metadata})")


def _tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_type = 'BASE TABLE' order by table_name", [catalog, schema]).fetchall()]


def _has_pending(con: duckdb.DuckDBPyConnection, catalog: str = "warehouse") -> bool:
    schema, table = PENDING_ACCOUNT_DAYS.split(".")
    return table in _tables(con, catalog, schema)


def _same_columns(con: duckdb.DuckDBPyConnection, mart: str) -> bool:
    """The published table has the warehouse mart's columns, in order, with its types."""
    q = ("select column_name, data_type from information_schema.columns where table_catalog = ? "
         "and table_schema = ? and table_name = ? order by ordinal_position")
    return (con.execute(q, ["published", "main", mart]).fetchall()
            == con.execute(q, ["warehouse", PUBLISHED_SCHEMA, mart]).fetchall())


def _clear_pending(wh: Warehouse) -> None:
    with duckdb.connect(str(wh.db)) as con:
        if _has_pending(con, catalog=wh.db.stem):
            con.execute(f"delete from {PENDING_ACCOUNT_DAYS}")


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())


def _prune(wh: Warehouse, keep: set[str]) -> None:
    for p in wh.publishes.iterdir():
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def _log(wh: Warehouse, manifest: dict[str, object]) -> None:
    with duckdb.connect(str(wh.db)) as con:
        con.execute("create schema if not exists ops")
        con.execute(f"""create table if not exists {PUBLISH_LOG} (
            publish_id varchar, as_of date, run_id varchar, published_at timestamp,
            row_counts varchar, checks varchar)""")
        con.execute(f"insert into {PUBLISH_LOG} values (?, ?, ?, now(), ?, ?)",
                    [manifest["publish_id"], manifest["as_of"], manifest["run_id"],
                     json.dumps(manifest["row_counts"]), json.dumps(manifest["checks"], default=str)])
