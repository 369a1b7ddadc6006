"""Load the landing folder into Spark's ``raw`` database with Spark's own readers.

The Spark counterpart of :mod:`laer.ingest.loader`, for running the dbt project on
Spark. Same contract, same lineage columns, same ledger columns, same batch numbering
(one file = one batch, in lexical order of the path), same rule that a file breaking
the contract loads nothing and is recorded as quarantined with its first bad row and
column, same checks before reading (laer.ingest.diagnose), extra columns kept as text.
Differences, because a Spark table on plain Parquet has no transactions:

* files are read together per entity and layout (one Spark job per group, not per
  file), validated per file in one aggregation, and appended together;
* the ledger is written after the rows. A crash in between leaves rows whose batch
  the ledger does not know; the next load removes them before loading anything.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from laer.contract import ENTITIES, ColType, Column, Entity
from laer.ingest.diagnose import csv_header_line, header_problem, path_problem, reader_problem
from laer.ingest.files import Discovery, LandingFile, discover
from laer.ingest.loader import FileResult, LoadReport, plan_batches
from laer.ingest.rules import (
    LEDGER_COLUMNS,
    LINEAGE,
    SPARK,
    Rejected,
    bad_value_condition,
    conversion,
    drift_warning,
    extra_columns,
    first_bad_value,
    malformed,
    source_columns,
    unknown_values_warning,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RAW = "raw"
LEDGER = f"{RAW}._load_ledger"
FEEDS = f"{RAW}._load_ledger_feeds"
SPARK_TYPES = SPARK.types
LEDGER_SCHEMA = ", ".join(f"{name} {SPARK_TYPES[type_]}" for name, type_, _ in LEDGER_COLUMNS)
CORRUPT = "_corrupt_record"
qi, _lit = SPARK.qi, SPARK.lit


@dataclass(frozen=True)
class _Planned:
    file: LandingFile
    digest: str
    batch_id: int


def ensure_tables(spark: SparkSession) -> None:
    """The ``raw`` database, the ledger and one table per landing entity (contract columns)."""
    spark.sql(f"create database if not exists {RAW}")
    spark.sql(f"create table if not exists {LEDGER} ({', '.join(SPARK.ledger_columns())}) using parquet")
    _add_missing_columns(spark, LEDGER, [(name, type_) for name, type_, _ in LEDGER_COLUMNS])
    # what export files fed (the DuckDB loader's adapters); empty here, read by the data-quality models
    spark.sql(f"create table if not exists {FEEDS} (batch_id bigint, source string, entity string, row_count bigint) "
              "using parquet")
    for entity in ENTITIES:
        spark.sql(f"create table if not exists {RAW}.{entity.table} ({', '.join(SPARK.raw_table_columns(entity))}) "
                  "using parquet")
        _add_missing_columns(spark, f"{RAW}.{entity.table}", [(c.name, c.type) for c in entity.columns])


def _add_missing_columns(spark: SparkSession, table: str, columns: Iterable[tuple[str, ColType]]) -> None:
    """Give ``table`` the ``columns`` it lacks: a table written before a version of the
    contract (or of the ledger) named them gains them, empty for the rows it holds."""
    present = set(spark.table(table).columns)
    added = [SPARK.column_ddl(name, type_) for name, type_ in columns if name not in present]
    if added:
        spark.sql(f"alter table {table} add columns ({', '.join(added)})")


def _remove_orphans(spark: SparkSession) -> None:
    """Drop rows of batches the ledger does not know (a load that crashed before its ledger write)."""
    for entity in ENTITIES:
        table = f"{RAW}.{entity.table}"
        orphans = spark.sql(f"select count(*) from {table} as r left anti join {LEDGER} as l "
                            f"on l.batch_id = r._batch_id").first()[0]  # type: ignore[index]
        if orphans:
            kept = spark.sql(f"select r.* from {table} as r left semi join {LEDGER} as l "
                             f"on l.batch_id = r._batch_id").localCheckpoint()
            kept.write.insertInto(table, overwrite=True)


# --------------------------------------------------------------------------- reading
def _csv_header(f: LandingFile) -> tuple[str, ...]:
    opener = gzip.open if f.compressed else open
    with opener(f.path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return tuple(next(csv.reader(fh), []))


def _layout(f: LandingFile) -> tuple[str, ...]:
    """Files read together must share a layout: the header of a CSV, the schema of a Parquet file."""
    if f.fmt == "csv":
        return ("csv", *_csv_header(f))
    if f.fmt == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(f.path)
        return ("parquet", *(f"{field.name}:{field.type}" for field in schema))
    return ("jsonl",)


def _read(spark: SparkSession, files: list[_Planned], layout: tuple[str, ...]) -> DataFrame:
    """The group's rows with ``_path`` (the file's URI) and ``_row`` (1-based row of its file)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType
    from pyspark.sql.window import Window

    paths = [str(p.file.path) for p in files]
    kind = layout[0]
    if kind == "parquet":
        df = spark.read.parquet(*paths)
        return (df.withColumn("_path", F.col("_metadata.file_path"))
                  .withColumn("_row", F.col("_metadata.row_index") + 1))
    if kind == "csv":
        schema = StructType([StructField(n, StringType()) for n in layout[1:]] + [StructField(CORRUPT, StringType())])
        # multiLine keeps each file in one partition, so reading order is file order
        df = spark.read.csv(paths, schema=schema, header=True, multiLine=True, quote='"', escape='"',
                            mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT, enforceSchema=True)
    else:
        df = spark.read.json(paths, primitivesAsString=True, mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT)
        if CORRUPT not in df.columns:
            df = df.withColumn(CORRUPT, F.lit(None).cast("string"))
        nested = [f.name for f in df.schema.fields if not isinstance(f.dataType, StringType)]
        for name in nested:  # objects and arrays stay JSON text, as in the DuckDB loader
            df = df.withColumn(name, F.to_json(F.col(name)))
    df = df.withColumn("_path", F.col("_metadata.file_path")).withColumn("_seq", F.monotonically_increasing_id())
    order = Window.partitionBy("_path").orderBy("_seq")
    return df.withColumn("_row", F.row_number().over(order)).drop("_seq")


def _local_path(uri: str) -> str:
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(uri).path)


@dataclass
class _Verdict:
    rows: int
    rejection: Rejected | None
    warnings: list[str]


def _judge(spark: SparkSession, entity: Entity, view: str,
           fmt: str) -> tuple[dict[str, str], list[str], dict[str, _Verdict], _Verdict]:
    """Validate every file of the group in one aggregation: conversions, a verdict per file URI
    and the verdict for a file without data rows (a header-only CSV loads nothing but is fine)."""
    columns = {f.name: f.dataType.simpleString() for f in spark.table(view).schema.fields
               if f.name not in ("_path", "_row", CORRUPT, "_metadata")}
    try:
        sources = source_columns(entity, columns)
        missing_columns = None
    except Rejected as rejected:
        sources, missing_columns = {}, rejected
    conv = {name: conversion(entity.column(name), src, columns[src], SPARK) for name, src in sources.items()}
    checks: list[tuple[Column, str]] = []
    aggs = ["_path", "count(*) as n"]
    has_corrupt = CORRUPT in spark.table(view).columns
    if has_corrupt:
        aggs += [f"count_if({CORRUPT} is not null) as corrupt_n", f"min(case when {CORRUPT} is not null then _row end) as corrupt_row"]
    for col in entity.columns:
        if col.name not in conv:
            continue
        src = qi(sources[col.name])
        bad = bad_value_condition(col, src, f"({conv[col.name]})")
        if bad is None:
            continue
        i = len(checks)
        checks.append((col, src))
        aggs += [f"count_if({bad}) as bad_{i}", f"min(case when {bad} then _row end) as first_{i}",
                 f"min_by(cast({src} as string), case when {bad} then _row end) as value_{i}"]
    enum_cols = [c for c in entity.columns if c.enum and c.name in conv]
    for j, col in enumerate(enum_cols):
        src = qi(sources[col.name])
        val = f"lower({src})" if col.case_insensitive else src
        known = ", ".join(_lit(v) for v in col.enum)
        aggs.append(f"array_sort(collect_set(case when {val} not in ({known}) then {val} end)) as unknown_{j}")
    extra = extra_columns(entity, columns)
    verdicts: dict[str, _Verdict] = {}
    for r in spark.sql(f"select {', '.join(aggs)} from {view} group by _path").collect():
        n = int(r["n"])
        rejection: Rejected | None = None
        if missing_columns:
            rejection = missing_columns
        elif has_corrupt and r["corrupt_n"]:
            rejection = Rejected(f"malformed {fmt} file: row {r['corrupt_row']} does not parse",
                                 row=int(r["corrupt_row"]), count=int(r["corrupt_n"]))
        else:
            bad = [i for i in range(len(checks)) if r[f"bad_{i}"]]
            if bad:
                # the aggregation read each bad column's first value already
                values = {checks[i][0].name: r[f"value_{i}"] for i in bad}
                rejection = first_bad_value(fmt, entity, [(r[f"first_{i}"], checks[i][0], r[f"bad_{i}"]) for i in bad],
                                            lambda _row, col, values=values: values[col.name])
        warnings = [unknown_values_warning(col, r[f"unknown_{j}"]) for j, col in enumerate(enum_cols) if r[f"unknown_{j}"]]
        if extra:
            warnings.append(drift_warning(extra))
        verdicts[r["_path"]] = _Verdict(n, rejection, warnings)
    no_rows = missing_columns or (Rejected("empty file: no records") if fmt == "jsonl" else None)
    return conv, extra, verdicts, _Verdict(0, no_rows, [])


# --------------------------------------------------------------------------- loading
def _ledger_rows(spark: SparkSession, rows: list[tuple]) -> None:
    if rows:
        spark.createDataFrame(rows, schema=LEDGER_SCHEMA).write.insertInto(LEDGER)


def _settle(p: _Planned, loaded_at: dt.datetime, *, rows: int = 0, warnings: list[str] | None = None,
            rejection: Rejected | None = None) -> tuple[tuple, FileResult]:
    """One file's ledger row and result: loaded with its row count, or quarantined with the reason."""
    f = p.file
    base = (p.batch_id, f.relpath, f.entity.source, f.entity.name, p.digest, f.size)
    if rejection is None:
        noted = json.dumps(warnings, ensure_ascii=False) if warnings else None
        return ((*base, rows, loaded_at, "loaded", "loaded", None, None, None, noted, f.modified_ns),
                FileResult(f.relpath, f.entity.table, "loaded", rows, p.batch_id, "loaded", warnings or []))
    r = rejection
    return ((*base, None, loaded_at, "quarantined", r.reason, r.column, r.row, r.count, None, f.modified_ns),
            FileResult(f.relpath, f.entity.table, "quarantined", 0, p.batch_id, r.reason,
                       column=r.column, row=r.row, bad_rows=r.count))


def _load_group(spark: SparkSession, entity: Entity, files: list[_Planned], layout: tuple[str, ...],
                loaded_at: dt.datetime) -> list[FileResult]:
    from pyspark.sql import functions as F

    fmt = layout[0]
    df = _read(spark, files, layout)
    view = f"_landing_{entity.table}"
    df.createOrReplaceTempView(view)
    conv, extra, verdicts, no_rows = _judge(spark, entity, view, fmt)
    # Spark names files by URI (``file:/...``); key the plan by Spark's own spelling
    by_path = {str(p.file.path.resolve()): p for p in files}
    by_uri = {uri: by_path[_local_path(uri)] for uri in verdicts}
    by_uri.update({p.file.path.resolve().as_uri(): p for p in files if p not in by_uri.values()})
    good = [uri for uri in verdicts if verdicts[uri].rejection is None]
    if good:
        mapping = spark.createDataFrame([(u, by_uri[u].file.relpath, by_uri[u].batch_id) for u in good],
                                        "_path string, _relpath string, _batch bigint")
        rows = df.join(F.broadcast(mapping), "_path")
        table = f"{RAW}.{entity.table}"
        # columns outside the contract are kept as text, as on DuckDB: added to the table
        # (after the lineage columns) the first time a file brings them
        known = set(spark.table(table).columns)
        added = [name for name in extra if name not in known]
        if added:
            spark.sql(f"alter table {table} add columns ({', '.join(f'{qi(n)} string' for n in added)})")
        by_name = {c.name: F.expr(conv[c.name]).cast(SPARK_TYPES[c.type]) if c.name in conv
                   else F.lit(None).cast(SPARK_TYPES[c.type]) for c in entity.columns}
        by_name.update({LINEAGE[0]: F.col("_relpath"), LINEAGE[1]: F.col("_batch"),
                        LINEAGE[2]: F.lit(loaded_at).cast("timestamp"), LINEAGE[3]: F.col("_row").cast("bigint")})
        by_name.update({name: F.col(qi(name)).cast("string") for name in extra})
        # insertInto is positional: every column of the table, in its order
        select = [by_name.get(name, F.lit(None).cast("string")).alias(name) for name in spark.table(table).columns]
        rows.select(*select).write.insertInto(table)
    settled = []
    for uri, p in sorted(by_uri.items(), key=lambda kv: kv[1].batch_id):
        verdict = verdicts.get(uri, no_rows)
        settled.append(_settle(p, loaded_at, rows=verdict.rows, warnings=verdict.warnings, rejection=verdict.rejection))
    _ledger_rows(spark, [row for row, _ in settled])
    results = [result for _, result in settled]
    spark.catalog.dropTempView(view)
    return results


def load_landing_spark(spark: SparkSession, landing: Path, *, entities: Iterable[str] | None = None) -> LoadReport:
    """Load every new file under ``landing`` into Spark's ``raw`` database."""
    ensure_tables(spark)
    _remove_orphans(spark)
    found = discover(Path(landing))
    exports = [f for f in found.files if f.entity.feeds]
    if exports:  # the adapters write through DuckDB: convert on the DuckDB side first
        found = Discovery([f for f in found.files if not f.entity.feeds], [*found.warnings, *(
            f"{f.relpath}: exports of {f.entity.source} load with `laer refresh` (DuckDB) only; set aside on Spark"
            for f in exports)])
    # the latest status of every path the ledger knows: a withdrawn file that comes back is
    # judged again, like a new delivery
    latest = {r[0]: tuple(r[1]) for r in spark.sql(
        f"select path, max_by(struct(status, source, entity, content_hash, size_bytes), batch_id) "
        f"from {LEDGER} group by path").collect()}
    seen = {(r[0], r[1]) for r in spark.sql(f"select path, content_hash from {LEDGER} where status <> 'withdrawn'")
            .collect() if latest[r[0]][0] != "withdrawn"}
    last_batch = int(spark.sql(f"select coalesce(max(batch_id), 0) from {LEDGER}").first()[0])  # type: ignore[index]
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    groups: dict[tuple[str, tuple[str, ...]], list[_Planned]] = defaultdict(list)
    results: list[FileResult] = []
    for f, digest, batch_id in plan_batches(found.files, entities, seen, last_batch):
        if batch_id is None:
            results.append(FileResult(f.relpath, f.entity.table, "skipped", message="already seen with this content"))
            continue
        p = _Planned(f, digest, batch_id)
        # what the DuckDB loader rejects before or while reading, found the same way here: a
        # path Spark would expand as a pattern, a header that is none or names a column twice,
        # and a text file that is not UTF-8 or not well formed (Spark would read past it)
        problem = path_problem(f) or (header_problem(csv_header_line(f), f.entity) if f.fmt == "csv" else None)
        if problem is None and f.fmt in ("csv", "jsonl"):
            problem = (malformed_reason := reader_problem(f)) and f"malformed {f.fmt} file: {malformed_reason}"
        if problem:
            row, result = _settle(p, loaded_at, rejection=Rejected(problem))
            _ledger_rows(spark, [row])
            results.append(result)
            continue
        try:
            groups[(f.entity.table, _layout(f))].append(p)
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            row, result = _settle(p, loaded_at, rejection=Rejected(malformed(f, exc)))
            _ledger_rows(spark, [row])
            results.append(result)
    by_table = {e.table: e for e in ENTITIES}
    for (table, layout), files in groups.items():
        if layout == ("csv",):  # no header row at all
            settled = [_settle(p, loaded_at, rejection=Rejected("empty file: no header row")) for p in files]
            _ledger_rows(spark, [row for row, _ in settled])
            results += [result for _, result in settled]
            continue
        results += _load_group(spark, by_table[table], files, layout, loaded_at)
    _record_withdrawals(spark, latest, {f.relpath for f in found.files}, entities, loaded_at)
    results.sort(key=lambda r: (r.batch_id or 0, r.relpath))
    return LoadReport(results, found.warnings)


def _record_withdrawals(spark: SparkSession, latest: dict[str, tuple], present: set[str],
                        entities: Iterable[str] | None, loaded_at: dt.datetime) -> None:
    """A quarantined file no longer in the landing folder is withdrawn (as in the DuckDB
    loader's ``record_withdrawals``); loaded files that disappear keep their rows."""
    wanted = set(entities) if entities is not None else None
    gone = sorted((path, last) for path, last in latest.items()
                  if last[0] == "quarantined" and path not in present
                  and (wanted is None or f"{last[1]}__{last[2]}" in wanted))
    if gone:
        top = int(spark.sql(f"select coalesce(max(batch_id), 0) from {LEDGER}").first()[0])  # type: ignore[index]
        _ledger_rows(spark, [(top + i, path, source, entity, digest, size, None, loaded_at, "withdrawn",
                              "no longer in the landing folder", None, None, None, None, None)
                             for i, (path, (_, source, entity, digest, size)) in enumerate(gone, start=1)])
