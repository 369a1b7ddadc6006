"""``laer spark build``: load the landing folder into Spark and build the dbt project there.

One process, one Spark session: the loader fills ``raw`` and dbt-spark's ``session``
method picks up the same session when dbt runs in-process (``dbtRunner``). The tables
and the Hive metastore stay in ``<warehouse>/spark`` for later runs, for
``dbt build --target spark`` from a shell, and for ``laer spark compare``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from laer.ingest.loader import LoadReport
from laer.paths import PROJECT_DIR
from laer.spark.loader import load_landing_spark
from laer.spark.session import spark_dir, spark_session


@dataclass(frozen=True)
class SparkBuild:
    load: LoadReport
    dbt_success: bool
    failed_nodes: list[str]


def spark_env(warehouse: Path) -> dict[str, str]:
    """Environment for dbt's ``spark`` output (profiles.yml) to meet the loader's session."""
    return {"LAER_WAREHOUSE_DIR": str(Path(warehouse).resolve()), "LAER_DBT_TARGET": "spark",
            "DBT_PROFILES_DIR": str(PROJECT_DIR)}


def build_on_spark(landing: Path, warehouse: Path, as_of: str | None, *, unit_tests: bool = False) -> SparkBuild:
    """Load new landing files into Spark's ``raw``, then ``dbt build --target spark``."""
    from dbt.cli.main import dbtRunner

    os.environ.update(spark_env(warehouse))
    # the as-of date reaches the SQL as in a DuckDB refresh (LaerSettings.dbt_environment):
    # LAER_DBT_AS_OF, read by macros/as_of.sql while executing; empty = the current date
    os.environ["LAER_DBT_AS_OF"] = as_of or ""
    spark = spark_session(warehouse)
    report = load_landing_spark(spark, landing)
    args = ["build", "--target", "spark", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(spark_dir(warehouse) / "dbt_target"),
            "--log-path", str(spark_dir(warehouse) / "dbt_logs")]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    result = dbtRunner().invoke(args)
    failed = [r.node.unique_id for r in (result.result or []) if str(r.status) in ("error", "fail")]
    return SparkBuild(report, bool(result.success), failed)
