"""Load landing files into the append-only ``raw`` schema of the DuckDB warehouse.

Each file is atomic: read with DuckDB's own reader, validated against the landing
contract, its rows appended with lineage columns and recorded in the load ledger, all
in one transaction. Files that can be read together — clean Parquet files of one
entity, CSV files of one entity with the same header, JSON Lines files of one entity
with the same keys — share one multi-file read and one transaction (all of the chunk
or none), each keeping its own batch id, ledger row and row numbers. A file that fails
validation loads nothing and gets a quarantine entry naming the file, the first
offending row and column, and how many rows are bad; the file itself stays where it
is. Files get their batch ids in lexical order of their path; a file whose path and
content hash were seen before is skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from laer.contract import BY_PATH, ENTITIES, ColType, Column, Entity, is_wanted
from laer.ingest.diagnose import (
    csv_header_line,
    header_names,
    header_problem,
    path_problem,
    reader_problem,
)
from laer.ingest.exports.settings import DEFAULT_EXPORT_SETTINGS, ExportSettings
from laer.ingest.files import LandingFile, discover
from laer.ingest.rules import (
    DUCKDB,
    LEDGER_COLUMNS,
    LINEAGE,
    Rejected,
    bad_value_condition,
    conversion,
    drift_warning,
    extra_columns,
    first_bad_value,
    malformed,
    native_conversion,
    source_columns,
    unknown_values_warning,
)

if TYPE_CHECKING:
    import pyarrow as pa

RAW = "raw"
LEDGER = f"{RAW}._load_ledger"
# an export file (stripe/, hubspot/, segment/) feeds several raw tables: how many rows each got
FEEDS = f"{RAW}._load_ledger_feeds"
RACY_SECONDS = 2  # a file modified less than this before it was hashed is hashed again next time
qi, _lit = DUCKDB.qi, DUCKDB.lit


@dataclass
class FileResult:
    relpath: str
    entity: str
    status: str  # loaded | skipped | quarantined
    rows: int = 0
    batch_id: int | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    column: str | None = None
    row: int | None = None
    bad_rows: int | None = None
    # an export file: the rows its adapter wrote into each raw table (``rows`` counts its objects)
    fed: dict[str, int] = field(default_factory=dict)


@dataclass
class LoadReport:
    results: list[FileResult]
    warnings: list[str]

    def by_status(self, status: str) -> list[FileResult]:
        return [r for r in self.results if r.status == status]

    @property
    def loaded(self) -> list[FileResult]:
        return self.by_status("loaded")

    @property
    def quarantined(self) -> list[FileResult]:
        return self.by_status("quarantined")

    @property
    def skipped(self) -> list[FileResult]:
        return self.by_status("skipped")


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    columns = ",\n            ".join(DUCKDB.ledger_columns(constraints=True))
    con.execute(f"create table if not exists {LEDGER} (\n            {columns})")
    _add_missing_columns(con, LEDGER, [(name, type_) for name, type_, _ in LEDGER_COLUMNS])
    con.execute(f"create table if not exists {FEEDS} (batch_id bigint not null, source varchar not null, "
                "entity varchar not null, row_count bigint not null)")
    con.execute(f"""
        create or replace view {RAW}.quarantine as
        select l.* from {LEDGER} l
        where l.status = 'quarantined'
          and not exists (
              select 1 from {LEDGER} ok
              where ok.path = l.path and ok.status in ('loaded', 'withdrawn') and ok.batch_id > l.batch_id)""")


def record_withdrawals(con: duckdb.DuckDBPyConnection, present: set[str], entities: Iterable[str] | None) -> list[str]:
    """A quarantined file that is no longer in the landing folder was withdrawn by its sender:
    it gets a ``withdrawn`` ledger row (the next batch id), so it leaves the quarantine and the
    data-quality mart. Loaded files that disappear change nothing: their rows stay."""
    wanted = set(entities) if entities is not None else None
    gone = [row for row in con.execute(f"select path, source, entity, content_hash, size_bytes from {RAW}.quarantine "
                                       "order by path").fetchall()
            if row[0] not in present
            and (is_wanted(BY_PATH[(row[1], row[2])], wanted) if (row[1], row[2]) in BY_PATH else wanted is None)]
    if gone:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        last = int(con.execute(f"select coalesce(max(batch_id), 0) from {LEDGER}").fetchone()[0])  # type: ignore[index]
        con.executemany(
            f"insert into {LEDGER} (batch_id, path, source, entity, content_hash, size_bytes, loaded_at, status, "
            "message) values (?, ?, ?, ?, ?, ?, ?, 'withdrawn', 'no longer in the landing folder')",
            [[last + i, path, source, entity, digest, size, now]
             for i, (path, source, entity, digest, size) in enumerate(gone, start=1)])
    return [row[0] for row in gone]


def ensure_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """The entity's raw table with every column of the contract: created, or given the
    columns a later contract version added (empty for the rows loaded before)."""
    columns = ",\n            ".join(DUCKDB.raw_table_columns(entity, lineage_not_null=True))
    con.execute(f"create table if not exists {RAW}.{entity.table} (\n            {columns})")
    _add_missing_columns(con, f"{RAW}.{entity.table}", [(c.name, c.type) for c in entity.columns])


def _add_missing_columns(con: duckdb.DuckDBPyConnection, table: str, columns: Iterable[tuple[str, ColType]]) -> None:
    """Give ``table`` the ``columns`` it lacks: a table written before a version of the
    contract (or of the ledger) named them gains them, empty for the rows it holds."""
    present = _columns(con, table)
    for name, type_ in columns:
        if name not in present:
            con.execute(f"alter table {table} add column {DUCKDB.column_ddl(name, type_)}")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> type of a table or view, in order."""
    return {r[0]: r[1] for r in con.execute(f"describe {relation}").fetchall()}


def _stage(con: duckdb.DuckDBPyConnection, f: LandingFile) -> None:
    """Create temp relation ``_stage``: the file's columns plus ``_row`` (1-based data row)."""
    path = str(f.path)
    if f.fmt == "parquet":
        con.execute(f"create temp view _stage as select * exclude (file_row_number), "
                    f"file_row_number + 1 as _row from read_parquet({_lit(path)}, file_row_number = true)")
        return
    if f.fmt == "csv":
        if f.size == 0:
            raise Rejected("empty file: no header row")
        con.execute(
            f"create temp table _stage as select * from read_csv({_lit(path)}, header = true, "
            "all_varchar = true, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"auto_detect = true, compression = '{'gzip' if f.compressed else 'none'}')")
        _number_rows(con, "_stage")
        return
    # JSON Lines: every value as text, so that typing is decided here, not guessed by a reader
    con.execute(f"create temp table _stage_src as select json "
                f"from read_ndjson_objects({_lit(path)}, compression = '{'gzip' if f.compressed else 'none'}')")
    _number_rows(con, "_stage_src")
    bad = con.execute("select min(_row), count(*) from _stage_src "
                      "where json_type(json) <> 'OBJECT'").fetchone()
    if bad and bad[1]:
        raise Rejected(f"malformed JSON Lines: line {bad[0]} is not a JSON object", row=bad[0], count=bad[1])
    keys = [r[0] for r in con.execute(
        "select k from (select unnest(json_keys(json)) as k, _row from _stage_src) "
        "group by k order by min(_row), k").fetchall()]
    if not keys:
        raise Rejected("empty file: no records")
    con.execute(f"create temp table _stage as select {_json_columns(keys)}, _row from _stage_src order by _row")


def _json_columns(keys: list[str]) -> str:
    """Select list of a staged JSON Lines file: every key's value as text, in ``keys`` order."""
    return ", ".join(f"json ->> {_lit(k)} as {qi(k)}" for k in keys)


def _number_rows(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Add ``_row``: the 1-based data row. Rowids follow insertion (= file) order, but temp
    tables do not start them at 0."""
    con.execute(f"alter table {table} add column _row bigint")
    con.execute(f"update {table} set _row = rowid - (select min(rowid) from {table}) + 1")


def _drop_stage(con: duckdb.DuckDBPyConnection, f: LandingFile) -> None:
    con.execute("drop table if exists temp._typed")
    if f.fmt == "parquet":
        con.execute("drop view if exists temp._stage")
    else:
        con.execute("drop table if exists temp._stage; drop table if exists temp._stage_src")


def _native_conversion(col: Column, src: str, src_type: str) -> str | None:
    return native_conversion(col, src, src_type, DUCKDB)


TYPED_PREFIX = "__laer_typed__"


@dataclass(frozen=True)
class _Conversion:
    """How a staged file's text columns become the contract's typed columns."""

    conv: dict[str, str]  # contract column -> its typed column in _typed
    typed: list[str]  # select expressions adding the typed columns
    checks: list[tuple[Column, str]]  # (column, source column) whose bad values are counted
    aggs: list[str]  # count(*), then per check: bad count, first bad row; then unknown enum values
    enum_cols: list[Column]
    extra: dict[str, str]  # columns outside the contract (kept as text)


def _plan_conversion(entity: Entity, stage_cols: dict[str, str]) -> _Conversion:
    """Rejects a file without a required column; else what to convert and check."""
    sources = source_columns(entity, stage_cols)
    conv: dict[str, str] = {}
    typed: list[str] = []
    checks: list[tuple[Column, str]] = []
    aggs: list[str] = ["count(*)"]
    for col in entity.columns:
        src = sources.get(col.name)
        if src is None:
            continue
        # each value is converted once, into _typed; validation and the insert read that
        conv[col.name] = qi(TYPED_PREFIX + col.name)
        typed.append(f"{conversion(col, src, stage_cols[src], DUCKDB)} as {conv[col.name]}")
        bad = bad_value_condition(col, qi(src), conv[col.name])
        if bad is not None:
            checks.append((col, src))
            aggs += [f"count(*) filter (where {bad})", f"min(_row) filter (where {bad})"]
    enum_cols = [c for c in entity.columns if c.enum and c.name in conv]
    for col in enum_cols:
        val = f"lower({qi(sources[col.name])})" if col.case_insensitive else qi(sources[col.name])
        known = ", ".join(_lit(v) for v in col.enum)
        aggs.append(f"list(distinct {val} order by {val}) filter (where {val} is not null and {val} not in ({known}))")
    extra = {k: stage_cols[k] for k in extra_columns(entity, stage_cols)}
    return _Conversion(conv, typed, checks, aggs, enum_cols, extra)


def _outcome(plan: _Conversion, result: tuple) -> tuple[list[tuple[int, Column, str, int]], list[str], int]:
    """From one row of ``plan.aggs``: (failures as (first row, column, source, count), warnings, rows)."""
    failures = []
    for i, (col, src) in enumerate(plan.checks):
        count, first = result[1 + 2 * i], result[2 + 2 * i]
        if count:
            failures.append((first, col, src, count))
    warnings = [unknown_values_warning(col, unknown)
                for col, unknown in zip(plan.enum_cols, result[1 + 2 * len(plan.checks):], strict=True) if unknown]
    if plan.extra:
        warnings.append(drift_warning(plan.extra))
    return failures, warnings, int(result[0])


def _validate(con: duckdb.DuckDBPyConnection, f: LandingFile,
              header: bytes | None) -> tuple[dict[str, str], dict[str, str], list[str], int]:
    """Check the staged file (``header``: a CSV file's first line); returns (contract
    column -> SQL, extra columns, warnings, rows)."""
    stage_cols = {k: v for k, v in _columns(con, "_stage").items() if k != "_row"}
    if f.fmt == "csv" and list(stage_cols) != header_names(header or b""):
        # the reader did not take the first line as the header (its sniffer judged the
        # rows): never report what it found instead, which is data
        found = reader_problem(f)
        raise Rejected(f"malformed csv file: {found}" if found else
                       "malformed csv file: the reader did not find the header's columns in the rows")
    plan = _plan_conversion(f.entity, stage_cols)
    con.execute(f"create temp table _typed as select *, {', '.join(plan.typed) or 'null as _none'} from _stage")
    result = con.execute(f"select {', '.join(plan.aggs)} from _typed").fetchone()
    assert result is not None
    failures, warnings, n_rows = _outcome(plan, result)
    if failures:
        sources = {col.name: src for _, col, src, _ in failures}

        def value_at(row: int, col: Column) -> object:
            value = con.execute(f"select cast({qi(sources[col.name])} as varchar) from _stage where _row = ?",
                                [row]).fetchone()
            return None if value is None else value[0]

        raise first_bad_value(f.fmt, f.entity, [(first, col, count) for first, col, _, count in failures], value_at)
    return plan.conv, plan.extra, warnings, n_rows


def _record(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, batch_id: int, *, status: str,
            rows: int | None, message: str, warnings: list[str], loaded_at: dt.datetime,
            rejection: Rejected | None = None) -> None:
    con.execute(
        f"insert into {LEDGER} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, f.relpath, f.entity.source, f.entity.name, digest, f.size, rows,
         loaded_at, status, message, rejection.column if rejection else None,
         rejection.row if rejection else None, rejection.count if rejection else None,
         json.dumps(warnings, ensure_ascii=False) if warnings else None, f.modified_ns])


def _prepare_raw_table(con: duckdb.DuckDBPyConnection, entity: Entity, extra: Iterable[str],
                       raw_columns: dict[str, dict[str, str]]) -> list[str]:
    """Add the extra columns the entity's raw table lacks (as text);
    ``raw_columns`` caches its columns per table. Returns the columns added: the caller
    records them in the cache after its commit (a rollback undoes them)."""
    if entity.table not in raw_columns:  # load_landing created it with the contract's columns
        raw_columns[entity.table] = _columns(con, f"{RAW}.{entity.table}")
    added = [name for name in extra if name not in raw_columns[entity.table]]
    for name in added:
        con.execute(f"alter table {RAW}.{entity.table} add column {qi(name)} varchar")
    return added


def _quarantine(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, batch_id: int, rej: Rejected,
                loaded_at: dt.datetime) -> FileResult:
    """Record a rejected file in the ledger (its own transaction, after the load's rollback)."""
    con.execute("begin transaction")
    _record(con, f, digest, batch_id, status="quarantined", rows=None, message=rej.reason,
            warnings=[], loaded_at=loaded_at, rejection=rej)
    con.execute("commit")
    return FileResult(f.relpath, f.entity.table, "quarantined", 0, batch_id, rej.reason,
                      column=rej.column, row=rej.row, bad_rows=rej.count)


def load_file(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, batch_id: int,
              before_commit: Callable[[LandingFile], None] | None = None,
              raw_columns: dict[str, dict[str, str]] | None = None) -> FileResult:
    """Load one file in one transaction, or quarantine it. Crashes roll back and re-raise."""
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        header = csv_header_line(f) if f.fmt == "csv" else None
        problem = path_problem(f) or header_problem(header, f.entity)
        if problem:
            raise Rejected(problem)
        try:
            _stage(con, f)
            conv, extra, warnings, n_rows = _validate(con, f, header)
        except duckdb.Error as exc:  # the reader could not parse the file: say where, if we can
            found = reader_problem(f)
            raise Rejected(f"malformed {f.fmt} file: {found}" if found else malformed(f, exc)) from exc
        raw_columns = {} if raw_columns is None else raw_columns
        added = _prepare_raw_table(con, f.entity, extra, raw_columns)
        targets = [*conv, *extra, *LINEAGE]
        values = [*conv.values(), *(f"cast({qi(k)} as varchar)" for k in extra),
                  _lit(f.relpath), str(batch_id), f"cast({_lit(loaded_at.isoformat())} as timestamp)", "_row"]
        con.execute(f"insert into {RAW}.{f.entity.table} ({', '.join(map(qi, targets))}) "
                    f"select {', '.join(values)} from _typed")
        if before_commit:
            before_commit(f)
        _record(con, f, digest, batch_id, status="loaded", rows=n_rows, message="loaded",
                warnings=warnings, loaded_at=loaded_at)
        con.execute("commit")
        raw_columns[f.entity.table].update(dict.fromkeys(added, "VARCHAR"))
        return FileResult(f.relpath, f.entity.table, "loaded", n_rows, batch_id, "loaded", warnings)
    except Rejected as rej:
        con.execute("rollback")
        if raw_columns is not None:
            raw_columns.pop(f.entity.table, None)
        return _quarantine(con, f, digest, batch_id, rej, loaded_at)
    except BaseException:
        con.execute("rollback")
        if raw_columns is not None:
            raw_columns.pop(f.entity.table, None)  # the rollback may have undone a create/alter
        raise
    finally:
        _drop_stage(con, f)


def _arrow_rows(entity: Entity, rows: list[dict[str, object]]) -> pa.Table:
    """An Arrow table of an adapter's rows: the entity's columns the rows name, typed, and
    ``_row_number``; decimals travel as text and are cast by the insert."""
    import pyarrow as pa

    arrow_types = {ColType.STRING: pa.string(), ColType.INT: pa.int64(), ColType.BOOL: pa.bool_(),
                   ColType.TIMESTAMP: pa.timestamp("us"), ColType.DATE: pa.date32(), ColType.DECIMAL: pa.string()}
    named = set().union(*(r.keys() for r in rows))
    columns = {c.name: pa.array([None if r.get(c.name) is None else str(r[c.name]) if c.type is ColType.DECIMAL
                                 else r.get(c.name) for r in rows], arrow_types[c.type])
               for c in entity.columns if c.name in named}
    columns["_row_number"] = pa.array([r["_row_number"] for r in rows], pa.int64())
    return pa.table(columns)


def load_export_file(con: duckdb.DuckDBPyConnection, f: LandingFile, digest: str, batch_id: int,
                     before_commit: Callable[[LandingFile], None] | None = None,
                     settings: ExportSettings = DEFAULT_EXPORT_SETTINGS) -> FileResult:
    """Load one file of a source system's export (stripe/, hubspot/, segment/) through its
    adapter into the contract's raw tables, in one transaction, or quarantine it with the
    line and JSON path at fault. The ledger records the file once (its rows = the objects
    read) and ``raw._load_ledger_feeds`` how many rows each raw table got."""
    from laer.ingest import exports

    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamp = f"cast({_lit(loaded_at.isoformat())} as timestamp)"
    con.execute("begin transaction")
    try:
        problem = path_problem(f)
        if problem:
            raise Rejected(problem)
        made = exports.adapt(con, f, settings)
        fed: dict[str, int] = {}
        for table, made_in_sql in [*((t, None) for t in made.tables), *made.queries.items()]:
            entity = exports.BY_TABLE[table]
            if made_in_sql is None:
                arrow = _arrow_rows(entity, exports.latest_per_key(table, made.tables[table]))
                con.register("_export_rows", arrow)
                query, count, given = "select * from _export_rows", arrow.num_rows, tuple(arrow.column_names)
            else:
                (query, given), count = made_in_sql, None
            names = [c.name for c in entity.columns if c.name in given]
            values = [f"cast({qi(n)} as {DUCKDB.types[entity.column(n).type]})" for n in names]
            inserted = con.execute(f"insert into {RAW}.{table} ({', '.join(map(qi, [*names, *LINEAGE]))}) "
                                   f"select {', '.join(values)}, {_lit(f.relpath)}, {batch_id}, {stamp}, _row_number "
                                   f"from ({query})").fetchone()
            if count is None:
                count = int(inserted[0]) if inserted else 0
            else:
                con.unregister("_export_rows")
            fed[table] = fed.get(table, 0) + count
        if before_commit:
            before_commit(f)
        _record(con, f, digest, batch_id, status="loaded", rows=made.objects, message="loaded",
                warnings=made.warnings, loaded_at=loaded_at)
        con.executemany(f"insert into {FEEDS} values (?, ?, ?, ?)",
                        [[batch_id, *table.split("__", 1), n] for table, n in sorted(fed.items())])
        con.execute("commit")
        return FileResult(f.relpath, f.entity.table, "loaded", made.objects, batch_id, "loaded", made.warnings,
                          fed=fed)
    except Rejected as rej:
        con.execute("rollback")
        return _quarantine(con, f, digest, batch_id, rej, loaded_at)
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        with contextlib.suppress(duckdb.Error):
            con.unregister("_export_rows")
        exports.cleanup(con)


PARQUET_CHUNK_FILES = 256
METADATA_BATCH_FILES = 512


@dataclass(frozen=True)
class _CleanParquet:
    """A Parquet file that metadata alone proves valid: typed columns, no null in a required one."""

    file: LandingFile
    digest: str
    batch_id: int
    rows: int
    schema: tuple[tuple[str, str], ...]


def _parquet_candidates(con: duckdb.DuckDBPyConnection, todo: list[tuple[LandingFile, str, int]]) -> dict[str, _CleanParquet]:
    """Validate Parquet files from their schema and column statistics, without reading data.

    Metadata of many files is read with a few queries. A file is *clean* when every
    contract column it has is natively typed, it has all required columns and no extra
    ones, its entity has no enum to check, and statistics prove no null in a required
    column. Any other file takes the per-file path, which validates row by row and
    quarantines with row and column.
    """
    clean: dict[str, _CleanParquet] = {}
    todo = [t for t in todo if t[0].fmt == "parquet" and not any(c.enum or c.money for c in t[0].entity.columns)
            and not path_problem(t[0])]
    for i in range(0, len(todo), METADATA_BATCH_FILES):
        part = todo[i:i + METADATA_BATCH_FILES]
        files = "[" + ", ".join(_lit(str(f.path)) for f, _, _ in part) + "]"
        try:
            signatures = dict(con.execute(
                f"select file_name, string_agg(name || ':' || coalesce(type, '') || ':' || coalesce(logical_type::varchar, '') "
                f"|| ':' || coalesce(converted_type::varchar, ''), ',' order by name) from parquet_schema({files}) "
                f"group by file_name").fetchall())
            stats: dict[str, dict[str, tuple[int, int]]] = {}
            for fname, col, nulls, unknown in con.execute(
                    f"select file_name, lower(path_in_schema), coalesce(sum(stats_null_count), 0), "
                    f"count(*) filter (where stats_null_count is null) from parquet_metadata({files}) group by all").fetchall():
                stats.setdefault(fname, {})[col] = (int(nulls), int(unknown))
            rows = dict(con.execute(f"select file_name, num_rows from parquet_file_metadata({files})").fetchall())
        except duckdb.Error:
            continue  # unreadable metadata: the per-file path will say why
        described: dict[str, tuple[tuple[str, str], ...]] = {}
        for f, digest, batch_id in part:
            sig = signatures.get(str(f.path))
            if sig is None:
                continue
            if sig not in described:
                try:
                    described[sig] = tuple((r[0].lower(), r[1]) for r in con.execute(
                        f"describe select * from read_parquet({_lit(str(f.path))})").fetchall())
                except duckdb.Error:
                    continue
            schema = described[sig]
            if _metadata_proves_valid(f.entity, dict(schema), stats.get(str(f.path), {})):
                clean[f.relpath] = _CleanParquet(f, digest, batch_id, int(rows.get(str(f.path), 0)), schema)
    return clean


def _metadata_proves_valid(entity: Entity, types: dict[str, str], stats: dict[str, tuple[int, int]]) -> bool:
    names = {c.name for c in entity.columns}
    if set(types) - names or any(c.name not in types for c in entity.required):
        return False
    if any(c.name in types and _native_conversion(c, c.name, types[c.name]) is None for c in entity.columns):
        return False
    return all(stats.get(c.name, (1, 1)) == (0, 0) for c in entity.required)


def _register_chunk_files(con: duckdb.DuckDBPyConnection,
                          files: list[tuple[LandingFile, str, int, int, list[str]]]) -> None:
    """Register ``_chunk_files``: one row per file a chunk loads, (file, content hash, batch
    id, rows, warnings) — what the insert joins for lineage and the ledger rows record."""
    import pyarrow as pa

    con.register("_chunk_files", pa.table({
        "filename": [str(f.path) for f, *_ in files], "relpath": [f.relpath for f, *_ in files],
        "batch_id": [b for _, _, b, _, _ in files], "content_hash": [d for _, d, _, _, _ in files],
        "size_bytes": [f.size for f, *_ in files], "modified_ns": [f.modified_ns for f, *_ in files],
        "row_count": [n for _, _, _, n, _ in files],
        "warnings": pa.array([json.dumps(w, ensure_ascii=False) if w else None for *_, w in files], pa.string()),
    }))


def _record_chunk(con: duckdb.DuckDBPyConnection, entity: Entity, loaded_at: dt.datetime) -> None:
    """The ledger rows of the files in ``_chunk_files``, all loaded."""
    con.execute(
        f"insert into {LEDGER} (batch_id, path, source, entity, content_hash, size_bytes, row_count, loaded_at, "
        f"status, message, warnings, modified_ns) select batch_id, relpath, ?, ?, content_hash, size_bytes, "
        f"row_count, ?, 'loaded', 'loaded', warnings, modified_ns from _chunk_files",
        [entity.source, entity.name, loaded_at])


def _load_parquet_chunk(con: duckdb.DuckDBPyConnection, chunk: list[_CleanParquet],
                        before_commit: Callable[[LandingFile], None] | None) -> list[FileResult]:
    """Load clean Parquet files of one entity with one multi-file scan, in one transaction.

    Each file stays atomic (the whole chunk commits or nothing does) and keeps its own
    batch id, ledger row and lineage; one scan of many files lets DuckDB read them in
    parallel, which a transaction per file cannot.
    """
    entity = chunk[0].file.entity
    types = dict(chunk[0].schema)
    conv = {c.name: _native_conversion(c, c.name, types[c.name]) for c in entity.columns if c.name in types}
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    _register_chunk_files(con, [(c.file, c.digest, c.batch_id, c.rows, []) for c in chunk])
    con.execute("begin transaction")
    try:
        files = "[" + ", ".join(_lit(str(c.file.path)) for c in chunk) + "]"
        targets = [*conv, *LINEAGE]
        values = [*conv.values(), "m.relpath", "m.batch_id",
                  f"cast({_lit(loaded_at.isoformat())} as timestamp)", "p.file_row_number + 1"]
        con.execute(
            f"insert into {RAW}.{entity.table} ({', '.join(map(qi, targets))}) "
            f"select {', '.join(values)} from read_parquet({files}, filename = true, file_row_number = true) as p "
            f"join _chunk_files as m on m.filename = p.filename")
        for c in chunk:
            if before_commit:
                before_commit(c.file)
        _record_chunk(con, entity, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_chunk_files")
    return [FileResult(c.file.relpath, entity.table, "loaded", c.rows, c.batch_id, "loaded") for c in chunk]


TEXT_CHUNK_FILES = 256
FILE_COLUMN = "__laer_landing_file"


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join(map(_lit, paths)) + "]"


def _stage_csv_chunk(con: duckdb.DuckDBPyConnection, paths: list[str], compressed: bool) -> set[str]:
    """Temp table ``_stage`` of CSV files with the same header: every value as text, the
    file in FILE_COLUMN, its data row in ``_row``. No file is set aside."""
    files = _sql_list(paths)
    con.execute(
        f"create temp table _stage_src as select * from read_csv({files}, header = true, all_varchar = true, "
        f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, auto_detect = true, "
        f"compression = '{'gzip' if compressed else 'none'}', filename = {_lit(FILE_COLUMN)})")
    con.execute(f"create temp table _stage as select *, row_number() over (partition by {qi(FILE_COLUMN)} "
                f"order by rowid) as _row from _stage_src")
    return set()


def _stage_jsonl_chunk(con: duckdb.DuckDBPyConnection, paths: list[str], compressed: bool) -> set[str]:
    """Temp table ``_stage`` of JSON Lines files, as the per-file path stages one (every
    value as text, ``_row`` the record's number in its file), for the files whose records
    are all objects with the same set of keys as the first file's. Returns the files set
    aside for the per-file path: a non-object line, no records, or other keys (its own
    columns, and its own schema-drift warning)."""
    con.execute(f"create temp table _stage_src as select json, filename as {qi(FILE_COLUMN)} "
                f"from read_ndjson_objects({_sql_list(paths)}, compression = '{'gzip' if compressed else 'none'}', filename = true)")
    # per file: only objects?, and its keys in order of first appearance (then by name,
    # as the per-file path orders them), in one pass over the keys
    per_file = con.execute(
        f"select {qi(FILE_COLUMN)}, bool_and(objects), list(k order by first_row, k) filter (where k is not null) "
        f"from (select {qi(FILE_COLUMN)}, k, bool_and(json_type(json) = 'OBJECT') as objects, min(r) as first_row "
        f"      from (select {qi(FILE_COLUMN)}, json, rowid as r, unnest(case when json_type(json) = 'OBJECT' "
        f"            then json_keys(json) else [null::varchar] end) as k from _stage_src) group by all) "
        f"group by all order by min(first_row)").fetchall()
    objects = [(name, keys) for name, only_objects, keys in per_file if only_objects and keys]
    if not objects:
        raise Rejected("no file to load together")  # the caller loads each file alone
    keys = objects[0][1]  # the first file's; the files with the same set load with it
    same = {name for name, other in objects if sorted(other) == sorted(keys)}
    staged = {name for name, *_ in per_file}
    aside = staged - same
    keep = f"where {qi(FILE_COLUMN)} not in ({', '.join(map(_lit, sorted(aside)))})" if aside else ""
    con.execute(f"create temp table _stage as select {_json_columns(keys)}, {qi(FILE_COLUMN)}, row_number() over "
                f"(partition by {qi(FILE_COLUMN)} order by rowid) as _row from _stage_src {keep}")
    return aside | (set(paths) - staged)


STAGE_CHUNK = {"csv": _stage_csv_chunk, "jsonl": _stage_jsonl_chunk}


def _load_text_chunk(con: duckdb.DuckDBPyConnection, chunk: list[tuple[LandingFile, str, int]],
                     before_commit: Callable[[LandingFile], None] | None,
                     raw_columns: dict[str, dict[str, str]]) -> tuple[list[FileResult], list[tuple[LandingFile, str, int]]]:
    """Load CSV files of one entity with the same header, or JSON Lines files of one entity
    with the same keys, with one multi-file read, in one transaction: (results of the
    loaded files, files left for the per-file path).

    The checks are those of the per-file path, counted per file. A file with any bad
    value, a file the stage sets aside, or a chunk the reader cannot parse, is left to the
    per-file path, which loads or quarantines it alone and names its row and column. Each
    file stays atomic and keeps its own batch id, ledger row and lineage (row numbers
    follow the file)."""

    entity, fmt, compressed = chunk[0][0].entity, chunk[0][0].fmt, chunk[0][0].compressed
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ordered = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]  # type: ignore[index]
    con.execute("set preserve_insertion_order = true")  # rowids follow each file's lines
    con.execute("begin transaction")
    try:
        try:
            aside = STAGE_CHUNK[fmt](con, [str(f.path) for f, _, _ in chunk], compressed)
            stage_cols = {k: v for k, v in _columns(con, "_stage").items() if k not in ("_row", FILE_COLUMN)}
            plan = _plan_conversion(entity, stage_cols)
        except (duckdb.Error, Rejected):
            con.execute("rollback")
            return [], chunk
        con.execute(f"create temp table _typed as select *, {', '.join(plan.typed) or 'null as _none'} from _stage")
        outcomes = {r[0]: _outcome(plan, r[1:]) for r in con.execute(
            f"select {qi(FILE_COLUMN)}, {', '.join(plan.aggs)} from _typed group by {qi(FILE_COLUMN)}").fetchall()}
        no_rows = _outcome(plan, (0, *([0, None] * len(plan.checks)), *([None] * len(plan.enum_cols))))
        failed = {name for name, (failures, _, _) in outcomes.items() if failures} | aside
        good = [(f, d, b, *outcomes.get(str(f.path), no_rows)[1:]) for f, d, b in chunk if str(f.path) not in failed]
        retry = [(f, d, b) for f, d, b in chunk if str(f.path) in failed]
        if not good:
            con.execute("rollback")
            return [], retry
        added = _prepare_raw_table(con, entity, plan.extra, raw_columns)
        _register_chunk_files(con, [(f, d, b, n, w) for f, d, b, w, n in good])
        targets = [*plan.conv, *plan.extra, *LINEAGE]
        values = [*plan.conv.values(), *(f"cast(t.{qi(k)} as varchar)" for k in plan.extra), "m.relpath", "m.batch_id",
                  f"cast({_lit(loaded_at.isoformat())} as timestamp)", "t._row"]
        con.execute(f"insert into {RAW}.{entity.table} ({', '.join(map(qi, targets))}) "
                    f"select {', '.join(values)} from _typed as t join _chunk_files as m on m.filename = t.{qi(FILE_COLUMN)}")
        for f, *_ in good:
            if before_commit:
                before_commit(f)
        _record_chunk(con, entity, loaded_at)
        con.execute("commit")
        raw_columns[entity.table].update(dict.fromkeys(added, "VARCHAR"))
    except BaseException:
        con.execute("rollback")
        raw_columns.pop(entity.table, None)  # the rollback may have undone a create/alter
        raise
    finally:
        with contextlib.suppress(duckdb.Error):
            con.unregister("_chunk_files")
        con.execute("drop table if exists temp._typed; drop table if exists temp._stage; "
                    "drop table if exists temp._stage_src")
        con.execute(f"set preserve_insertion_order = {ordered}")
    return [FileResult(f.relpath, entity.table, "loaded", n, b, "loaded", w) for f, _, b, w, n in good], retry


def plan_batches(files: Iterable[LandingFile], entities: Iterable[str] | None, seen: set[tuple[str, str]],
                 last_batch: int, known: dict[tuple[str, int, int], str] | None = None,
                 ) -> list[tuple[LandingFile, str, int | None]]:
    """Every file's fate before anything loads, the same for DuckDB and Spark: (file, content
    hash, None) when its path and content were loaded before, else its new batch id, counted
    on from ``last_batch`` in lexical order of the path. ``seen`` gains the new files.

    ``known`` maps (path, size, modification time) of files hashed before to their hash: a
    file whose path, size and modification time all match is not read again (the test
    rsync and make use; a rewrite changes the modification time). Every other file is
    hashed and judged by its content."""
    wanted = set(entities) if entities is not None else None
    plan: list[tuple[LandingFile, str, int | None]] = []
    for f in files:
        if not is_wanted(f.entity, wanted):
            continue
        digest = (known or {}).get((f.relpath, f.size, f.modified_ns)) or f.content_hash()
        if (f.relpath, digest) in seen:
            plan.append((f, digest, None))
        else:
            last_batch += 1
            seen.add((f.relpath, digest))
            plan.append((f, digest, last_batch))
    return plan


def load_landing(con: duckdb.DuckDBPyConnection, landing: Path, *, entities: Iterable[str] | None = None,
                 on_file: Callable[[FileResult], None] | None = None,
                 before_commit: Callable[[LandingFile], None] | None = None,
                 on_plan: Callable[[int, int], None] | None = None,
                 export_settings: ExportSettings = DEFAULT_EXPORT_SETTINGS) -> LoadReport:
    """Load every new file under ``landing`` (optionally only some raw tables). ``on_plan``
    hears how many files are new and how many were loaded before, before any loads;
    ``export_settings`` are the exports' adapters' choices."""
    con.execute("set TimeZone = 'UTC'")
    ensure_ledger(con)
    for entity in ENTITIES:  # every raw table of the contract exists, empty until its entity delivers
        ensure_raw_table(con, entity)
    found = discover(Path(landing))
    # a modification time within the last seconds before hashing does not prove the content:
    # the file may have been written again in the same clock tick ("racy git")
    ledger = con.execute(f"select path, content_hash, size_bytes, modified_ns, "
                         f"modified_ns < epoch_ns(loaded_at) - {RACY_SECONDS * 10**9} from {LEDGER} "
                         "where status <> 'withdrawn'").fetchall()
    # a withdrawn file that comes back is judged again, like a new delivery
    withdrawn = {p for (p,) in con.execute(
        f"select path from {LEDGER} group by path having arg_max(status, batch_id) = 'withdrawn'").fetchall()}
    seen = {(p, h) for p, h, _, _, _ in ledger if p not in withdrawn}
    known = {(p, size, ns): h for p, h, size, ns, settled in ledger if settled}
    last_batch = int(con.execute(f"select coalesce(max(batch_id), 0) from {LEDGER}").fetchone()[0])  # type: ignore[index]
    plan = plan_batches(found.files, entities, seen, last_batch, known)
    if on_plan:
        new = sum(batch is not None for _, _, batch in plan)
        on_plan(new, len(plan) - new)
    clean = _parquet_candidates(con, [(f, d, b) for f, d, b in plan if b is not None])

    results: list[FileResult] = []
    raw_columns: dict[str, dict[str, str]] = {}
    chunk: list[_CleanParquet] = []

    def emit(res: FileResult) -> None:
        results.append(res)
        if on_file:
            on_file(res)

    def flush() -> None:
        if chunk:
            for res in _load_parquet_chunk(con, chunk, before_commit):
                emit(res)
            raw_columns.pop(chunk[0].file.entity.table, None)
            chunk.clear()

    text_chunk: list[tuple[LandingFile, str, int]] = []
    text_key: tuple[str, str, bool, bytes] | None = None

    def flush_text() -> None:
        nonlocal text_key
        if text_chunk:
            done, retry = _load_text_chunk(con, text_chunk, before_commit, raw_columns) if len(text_chunk) > 1 \
                else ([], list(text_chunk))
            for res in done:
                emit(res)
            for f, digest, batch in retry:
                emit(load_file(con, f, digest, batch, before_commit, raw_columns))
            text_chunk.clear()
        text_key = None

    for f, digest, batch in plan:
        if batch is None:
            flush()
            flush_text()
            emit(FileResult(f.relpath, f.entity.table, "skipped", message="already seen with this content"))
            continue
        if f.entity.feeds:
            flush()
            flush_text()
            emit(load_export_file(con, f, digest, batch, before_commit, export_settings))
            continue
        # CSV files with the same header, and JSON Lines files, of one entity load together;
        # a path the readers would expand, or a header naming a column twice, is loaded
        # alone (and quarantined with its reason)
        header = csv_header_line(f) if f.fmt == "csv" else b"" if f.fmt == "jsonl" else None
        if path_problem(f) or (f.fmt == "csv" and header_problem(header, f.entity)):
            flush()
            flush_text()
            emit(load_file(con, f, digest, batch, before_commit, raw_columns))
            continue
        if header is not None:
            flush()
            key = (f.entity.table, f.fmt, f.compressed, header)
            if text_key != key or len(text_chunk) >= TEXT_CHUNK_FILES:
                flush_text()
            text_key = key
            text_chunk.append((f, digest, batch))
            continue
        flush_text()
        ok = clean.get(f.relpath)
        if ok is not None and chunk and (chunk[0].file.entity != ok.file.entity or chunk[0].schema != ok.schema):
            flush()
        if ok is not None:
            chunk.append(ok)
            if len(chunk) >= PARQUET_CHUNK_FILES:
                flush()
            continue
        flush()
        emit(load_file(con, f, digest, batch, before_commit, raw_columns))
    flush()
    flush_text()
    record_withdrawals(con, {f.relpath for f in found.files}, entities)
    return LoadReport(results, found.warnings)
