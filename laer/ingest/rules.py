"""The landing contract's load rules, once, rendered per SQL dialect.

Both loaders — DuckDB's (:mod:`laer.ingest.loader`) and Spark's
(:mod:`laer.spark.loader`) — read files with their engine's own readers and then ask this
module how to turn each column into its contract type, which values are bad, what a
rejection says, and which columns the raw tables and the load ledger have. A
:class:`Dialect` holds the few spellings that differ between the engines (type names,
regular-expression matching, reading a timestamp with an offset as UTC, quoting).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from laer.contract import MONEY_LIMIT, ColType, Column, Entity
from laer.ingest.files import LandingFile

LINEAGE = ("_source_file", "_batch_id", "_loaded_at", "_row_number")
LINEAGE_TYPES = (ColType.STRING, ColType.INT, ColType.TIMESTAMP, ColType.INT)

# The load ledger, one row per landing file judged: (column, type, required)
LEDGER_COLUMNS: tuple[tuple[str, ColType, bool], ...] = (
    ("batch_id", ColType.INT, True),
    ("path", ColType.STRING, True),
    ("source", ColType.STRING, True),
    ("entity", ColType.STRING, True),
    ("content_hash", ColType.STRING, True),
    ("size_bytes", ColType.INT, True),
    ("row_count", ColType.INT, False),
    ("loaded_at", ColType.TIMESTAMP, True),
    ("status", ColType.STRING, True),  # loaded | quarantined | withdrawn
    ("message", ColType.STRING, False),
    ("error_column", ColType.STRING, False),
    ("error_row", ColType.INT, False),
    ("error_count", ColType.INT, False),
    ("warnings", ColType.STRING, False),  # JSON list of warnings (drift, unknown enum values)
    ("modified_ns", ColType.INT, False),  # the file's modification time when hashed
)

TYPE_WORDS = {
    ColType.INT: "an integer",
    ColType.BOOL: "a boolean (true/false)",
    ColType.TIMESTAMP: "an ISO-8601 timestamp",
    ColType.DATE: "a date (YYYY-MM-DD)",
    ColType.DECIMAL: "a decimal number",
    ColType.STRING: "text",
}
MONEY_WORDS = "an amount in minor units (a whole number of cents under 10^15)"

# What a reader's column type is, whatever the engine calls it
TEXT, INT, WIDE_INT, BOOL, DATE, TIMESTAMP, TIMESTAMP_TZ, DECIMAL, FLOAT, OTHER = (
    "text", "int", "wide_int", "bool", "date", "timestamp", "timestamp_tz", "decimal", "float", "other")

DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"


class Rejected(Exception):
    """The file breaks the landing contract; nothing of it is loaded."""

    def __init__(self, reason: str, column: str | None = None, row: int | None = None, count: int | None = None):
        super().__init__(reason)
        self.reason, self.column, self.row, self.count = reason, column, row, count


@dataclass(frozen=True)
class Dialect:
    name: str
    types: dict[ColType, str]
    family: Callable[[str], str]  # a reader's column type -> TEXT, INT, …
    qi: Callable[[str], str]  # quote an identifier
    lit: Callable[[str], str]  # a string literal
    full_match: Callable[[str, str], str]  # SQL: does the whole value match the pattern
    prefix_match: Callable[[str, str], str]  # SQL: does the value start with the pattern
    utc_timestamp: Callable[[str], str]  # SQL: text (with or without an offset) as a UTC timestamp
    utc_from_zoned: Callable[[str], str]  # SQL: a timestamp-with-time-zone value as a UTC timestamp

    def column_ddl(self, name: str, type_: ColType, not_null: bool = False) -> str:
        return f"{self.qi(name)} {self.types[type_]}" + (" not null" if not_null else "")

    def raw_table_columns(self, entity: Entity, *, lineage_not_null: bool = False) -> list[str]:
        """The raw table of an entity: its contract columns, then the lineage columns."""
        return ([self.column_ddl(c.name, c.type) for c in entity.columns]
                + [self.column_ddl(n, t, lineage_not_null) for n, t in zip(LINEAGE, LINEAGE_TYPES, strict=True)])

    def ledger_columns(self, *, constraints: bool = False) -> list[str]:
        cols = [self.column_ddl(n, t, constraints and required) for n, t, required in LEDGER_COLUMNS]
        if constraints:
            cols[0] = f"{self.qi('batch_id')} {self.types[ColType.INT]} primary key"
        return cols


def _duckdb_family(src_type: str) -> str:
    t = src_type.upper()
    if t in ("VARCHAR", "JSON") or t.startswith("VARCHAR"):
        return TEXT
    if "WITH TIME ZONE" in t:
        return TIMESTAMP_TZ
    if t.startswith("TIMESTAMP"):
        return TIMESTAMP
    if t.startswith("DECIMAL"):
        return DECIMAL
    return {"BIGINT": INT, "INTEGER": INT, "SMALLINT": INT, "TINYINT": INT, "UINTEGER": INT, "USMALLINT": INT,
            "UTINYINT": INT, "UBIGINT": WIDE_INT, "HUGEINT": WIDE_INT, "UHUGEINT": WIDE_INT, "BOOLEAN": BOOL,
            "DATE": DATE, "DOUBLE": FLOAT, "FLOAT": FLOAT}.get(t, OTHER)


def _spark_family(src_type: str) -> str:
    t = src_type.lower()
    if t.startswith("decimal"):
        return DECIMAL
    return {"string": TEXT, "bigint": INT, "int": INT, "smallint": INT, "tinyint": INT, "boolean": BOOL,
            "date": DATE, "timestamp": TIMESTAMP, "timestamp_ntz": TIMESTAMP, "double": FLOAT,
            "float": FLOAT}.get(t, OTHER)


def _contract_types(text: str) -> dict[ColType, str]:
    return {ColType.STRING: text, ColType.INT: "bigint", ColType.BOOL: "boolean", ColType.TIMESTAMP: "timestamp",
            ColType.DATE: "date", ColType.DECIMAL: "decimal(18,8)"}


def _sql_string(escape_backslash: bool) -> Callable[[str], str]:
    def lit(s: str) -> str:
        if escape_backslash:
            s = s.replace("\\", "\\\\")
            return "'" + s.replace("'", "\\'") + "'"
        return "'" + s.replace("'", "''") + "'"
    return lit


DUCKDB = Dialect(
    name="duckdb",
    types=_contract_types("varchar"),
    family=_duckdb_family,
    qi=lambda name: '"' + name.replace('"', '""') + '"',
    lit=_sql_string(escape_backslash=False),
    full_match=lambda v, p: f"regexp_full_match({v}, '{p}')",
    prefix_match=lambda v, p: f"regexp_matches({v}, '^{p}')",
    utc_timestamp=lambda v: f"timezone('UTC', try_cast({v} as timestamptz))",
    utc_from_zoned=lambda x: f"timezone('UTC', {x})",
)

# Spark's session time zone is UTC (profiles.yml, laer/spark/session.py): a timestamp read
# from text with an offset is that instant in UTC, as DuckDB's above.
SPARK = Dialect(
    name="spark",
    types=_contract_types("string"),
    family=_spark_family,
    qi=lambda name: "`" + name.replace("`", "``") + "`",
    lit=_sql_string(escape_backslash=True),
    full_match=lambda v, p: f"{v} rlike '^{p}$'",
    prefix_match=lambda v, p: f"{v} rlike '^{p}'",
    utc_timestamp=lambda v: f"try_cast({v} as timestamp)",
    utc_from_zoned=lambda x: f"cast({x} as timestamp)",
)


# --------------------------------------------------------------------------- conversions
def native_conversion(col: Column, src: str, src_type: str, d: Dialect) -> str | None:
    """SQL for a column whose reader type already is the contract type: a conversion that
    cannot fail (what lets a Parquet file load without a row-by-row check), else None."""
    fam, x = d.family(src_type), d.qi(src)
    if col.type is ColType.STRING:
        return x if fam == TEXT else f"cast({x} as {d.types[ColType.STRING]})"
    if col.type is ColType.TIMESTAMP and fam == TIMESTAMP_TZ:
        return d.utc_from_zoned(x)
    # a number beyond decimal(18,8) fails the load loudly here, as a Parquet file's
    # statistics cannot tell; the checked path (conversion) reads it as a bad value
    native = {ColType.TIMESTAMP: (TIMESTAMP, DATE), ColType.INT: (INT,), ColType.BOOL: (BOOL,), ColType.DATE: (DATE,),
              ColType.DECIMAL: (INT, DECIMAL, FLOAT)}
    if fam in native.get(col.type, ()):
        return f"cast({x} as {d.types[col.type]})"
    return None


def conversion(col: Column, src: str, src_type: str, d: Dialect) -> str:
    """SQL turning column ``src`` (of reader type ``src_type``) into the contract type: NULL
    where the value does not parse or, for money, lies beyond the contract's limit."""
    return within_money_limit(col, _plain_conversion(col, src, src_type, d))


def _plain_conversion(col: Column, src: str, src_type: str, d: Dialect) -> str:
    fam, x = d.family(src_type), d.qi(src)
    typed_source = {ColType.INT: (WIDE_INT,), ColType.DECIMAL: (INT, WIDE_INT, DECIMAL, FLOAT)}
    if fam in typed_source.get(col.type, ()):
        return f"try_cast({x} as {d.types[col.type]})"
    native = native_conversion(col, src, src_type, d)
    if native is not None:
        return native
    v = f"trim({x if fam == TEXT else f'cast({x} as {d.types[ColType.STRING]})'})"
    if col.type is ColType.INT:
        return f"case when {d.full_match(v, '[+-]?[0-9]+')} then try_cast({v} as bigint) end"
    if col.type is ColType.BOOL:
        return bool_from_text(v)
    if col.type is ColType.TIMESTAMP:
        return f"case when {d.prefix_match(v, DATE_PATTERN)} then {d.utc_timestamp(v)} end"
    if col.type is ColType.DATE:
        return f"case when {d.full_match(v, DATE_PATTERN)} then try_cast({v} as date) end"
    if col.type is ColType.DECIMAL:
        return f"try_cast({v} as {d.types[ColType.DECIMAL]})"
    raise AssertionError(col.type)


def bool_from_text(v: str) -> str:
    """SQL (DuckDB and Spark alike) reading the contract's boolean spellings; NULL otherwise."""
    return (f"case lower({v}) when 'true' then true when 't' then true when '1' then true "
            f"when 'false' then false when 'f' then false when '0' then false end")


def within_money_limit(col: Column, expr: str) -> str:
    """``expr`` as it is, or NULL (a bad value) when ``col`` is money beyond MONEY_LIMIT."""
    return f"case when abs({expr}) < {MONEY_LIMIT} then {expr} end" if col.money else expr


# --------------------------------------------------------------------------- judging
def source_columns(entity: Entity, names: Iterable[str]) -> dict[str, str]:
    """Contract column -> the file's column carrying it (header names match trimmed and
    case-insensitively); rejects a file without a required column."""
    names = list(names)
    by_lower = {k.strip().lower(): k for k in names}
    missing = [c.name for c in entity.required if c.name not in by_lower]
    if missing:
        raise Rejected(f"missing required column(s): {', '.join(missing)} (columns found: {', '.join(names) or 'none'})",
                       column=missing[0])
    return {c.name: by_lower[c.name] for c in entity.columns if c.name in by_lower}


def extra_columns(entity: Entity, names: Iterable[str]) -> list[str]:
    """The file's columns outside the contract (kept as text, reported as drift)."""
    known = {c.name for c in entity.columns}
    return [k for k in names if k.strip().lower() not in known]


def bad_value_condition(col: Column, src: str, typed: str) -> str | None:
    """SQL true on a row whose value of ``col`` breaks the contract (``src``: the file's
    value, ``typed``: its conversion), or None when no value can (optional text)."""
    if col.required:
        return f"({src} is null or {typed} is null)"
    if col.type is ColType.STRING:
        return None
    return f"({src} is not null and {typed} is null)"


def bad_value(fmt: str, first_row: int, col: Column, count: int, value: object, also_bad: list[str]) -> Rejected:
    """The rejection naming the first bad row and column of a file. Never the value itself:
    the reason is published (dq_quarantined_files), and a value may be anything, an e-mail
    address included."""
    line = f" (line {first_row + 1})" if fmt == "csv" else ""
    kind = MONEY_WORDS if col.money else TYPE_WORDS[col.type]
    what = "is required but empty" if value is None else f"is not {kind}"
    others = f"; also bad: {', '.join(sorted(set(also_bad)))}" if also_bad else ""
    return Rejected(f"row {first_row}{line}, column {col.name}: the value {what}; "
                    f"{count} row(s) bad in this column{others}", column=col.name, row=int(first_row), count=int(count))


def first_bad_value(fmt: str, entity: Entity, failures: list[tuple[int, Column, int]],
                    value_at: Callable[[int, Column], object]) -> Rejected:
    """The rejection for a file with bad values: ``failures`` holds, per bad column, (first
    bad row, column, bad rows); the first row wins, then contract order. ``value_at(row,
    column)`` gives the file's value there (read for the winner only: empty or not)."""
    order = [c.name for c in entity.columns]
    failures = sorted(failures, key=lambda x: (x[0], order.index(x[1].name)))
    first, col, count = failures[0]
    return bad_value(fmt, first, col, count, value_at(first, col), [x[1].name for x in failures[1:]])


def unknown_values_warning(col: Column, unknown: list[str]) -> str:
    return f"column {col.name}: unknown value(s) {', '.join(map(repr, unknown[:5]))} kept"


def drift_warning(extra: Iterable[str]) -> str:
    return f"schema drift: extra column(s) {', '.join(extra)} kept in raw"


def malformed(f: LandingFile, exc: BaseException) -> str:
    """The reason for a file its reader could not parse: the reader's first line, naming the
    file by its landing-relative path (the reason is published in ``dq_quarantined_files``,
    where the machine's folders have no place)."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"malformed {f.fmt} file: {first.replace(str(f.path), f.relpath)}"


def latest_versions_sql(entity: Entity, columns: Iterable[str], d: Dialect = DUCKDB, where: str | None = None) -> str:
    """The latest version of each record of an entity's raw table (landing.md, "CDC"): the
    highest version column (nulls last), then the latest batch, then the latest row — the
    rule dbt's staging models apply with ``dedupe_versions`` (macros/lifecycle/). What the
    raw Great Expectations suites check, before dbt has built anything, and the state the
    exports' adapters read back. ``where`` keeps only some records before ranking (a
    condition every version of a record meets alike, such as one on its key)."""
    order = ([f"{d.qi(entity.version_column)} desc nulls last"] if entity.version_column else []) + [
        "_batch_id desc", "_row_number desc"]
    key = ", ".join(d.qi(k) for k in entity.key.split(","))
    cols = ", ".join(d.qi(c) for c in columns)
    only = f" where {where}" if where else ""
    return (f"select {cols} from (select *, row_number() over (partition by {key} order by {', '.join(order)}) "
            f"as _version_rank from raw.{entity.table}{only}) as versions where _version_rank = 1")
