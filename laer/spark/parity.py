"""Does Spark compute the same marts as DuckDB? Row-for-row comparison of published marts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Numbers are compared at 6 decimal places: money to a millionth of a unit (stricter than
# "to the cent"), ratios far below anything a dashboard shows.
PLACES = Decimal("0.000001")


def _normal(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _key(row: tuple) -> tuple:
    return tuple((v is None, "" if v is None else str(v) if not isinstance(v, Decimal) else f"{v:+025.6f}")
                 for v in row)


def normalised(rows: list[tuple]) -> list[tuple]:
    """Rows with comparable values, in a canonical order."""
    return sorted((tuple(_normal(v) for v in r) for r in rows), key=_key)


@dataclass(frozen=True)
class MartDifference:
    mart: str
    problem: str
    duckdb_only: list[tuple]
    spark_only: list[tuple]

    def __str__(self) -> str:
        lines = [f"{self.mart}: {self.problem}"]
        lines += [f"  duckdb only: {r}" for r in self.duckdb_only[:3]]
        lines += [f"  spark only:  {r}" for r in self.spark_only[:3]]
        return "\n".join(lines)


def compare_mart(mart: str, duck: duckdb.DuckDBPyConnection, spark: SparkSession, *,
                 duckdb_schema: str = "main", spark_schema: str = "marts",
                 ignore: tuple[str, ...] = ()) -> MartDifference | None:
    """None when the mart has the same columns and the same rows on both engines (the
    ``ignore`` columns aside: when files were loaded differs between two loads)."""
    relation = duck.sql(f"select * from {duckdb_schema}.{mart}")
    spark_df = spark.table(f"{spark_schema}.{mart}")
    duck_cols, spark_cols = list(relation.columns), list(spark_df.columns)
    if duck_cols != spark_cols:
        return MartDifference(mart, f"columns differ: duckdb {duck_cols} vs spark {spark_cols}", [], [])
    kept = [c for c in duck_cols if c not in ignore]
    relation = relation.select(*(f'"{c}"' for c in kept))
    spark_df = spark_df.select(*kept)
    left = normalised(relation.fetchall())
    right = normalised([tuple(r) for r in spark_df.collect()])
    if left == right:
        return None
    left_set, right_set = set(left), set(right)
    only_left = [r for r in left if r not in right_set]
    only_right = [r for r in right if r not in left_set]
    return MartDifference(mart, f"{len(left)} rows on duckdb, {len(right)} on spark; "
                                f"{len(only_left)} and {len(only_right)} rows differ", only_left, only_right)


def compare_published(marts_db: Path, spark: SparkSession, marts: list[str]) -> list[MartDifference]:
    """Every given mart of a published ``marts.duckdb`` (schema main) against Spark's ``marts``
    database, apart from the columns that say when files were loaded."""
    from laer.project import published_marts

    known = published_marts()
    with duckdb.connect(str(marts_db), read_only=True) as duck:
        differences = [compare_mart(m, duck, spark, ignore=known[m].load_time_columns if m in known else ())
                       for m in marts]
    return [d for d in differences if d is not None]
