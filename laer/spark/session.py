"""One Spark configuration for the loader and for dbt-spark's ``session`` method.

The loader and ``dbt build --target spark`` run in separate processes; they meet in a
Hive metastore (embedded Derby) and a table folder under ``<warehouse>/spark``. The
``spark`` output of ``profiles.yml`` passes the same settings as
``server_side_parameters`` (a test keeps the two equal).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_dir(warehouse_dir: Path) -> Path:
    """Where the local Spark warehouse lives: metastore, tables, Derby's log."""
    return Path(warehouse_dir).resolve() / "spark"


def spark_settings(warehouse_dir: Path) -> dict[str, str]:
    """Session settings shared by the loader and dbt-spark (``server_side_parameters``)."""
    base = spark_dir(warehouse_dir)
    return {
        "spark.master": f"local[{os.environ.get('LAER_SPARK_CORES', '*')}]",
        "spark.sql.warehouse.dir": str(base / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={base / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={base}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.shuffle.partitions": os.environ.get("LAER_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def spark_session(warehouse_dir: Path) -> SparkSession:
    """The process's Spark session with Hive support (what dbt-spark's session method builds)."""
    from pyspark.sql import SparkSession

    spark_dir(warehouse_dir).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("laer").enableHiveSupport()
    for key, value in spark_settings(warehouse_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
