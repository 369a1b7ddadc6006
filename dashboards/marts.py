"""The dashboard's only door to data: the published marts, opened read-only for each page
load, so a page shows the version published when it was (re)loaded — never a half-written
one, and the new one after the next publish (see README, "Across a publish")."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pandas as pd

MARTS_DB = "marts.duckdb"


def marts_path() -> Path:
    """``$LAER_WAREHOUSE_DIR/marts.duckdb`` (``laer dashboard --warehouse`` sets it)."""
    return Path(os.environ.get("LAER_WAREHOUSE_DIR", "demo/warehouse")) / MARTS_DB


def read(sql: str, params: list[object] | None = None) -> pd.DataFrame:
    with duckdb.connect(str(marts_path()), read_only=True) as con:
        return con.execute(sql, params or []).df()


def as_of() -> dt.date:
    return pd.Timestamp(read("select as_of from main._publish_info")["as_of"].iloc[0]).date()


def kpis(dimension: str | None = None, value: str | None = None) -> pd.DataFrame:
    """The complete months of kpi_monthly, or of one slice of kpi_monthly_by_dimension."""
    if dimension is None:
        return read("select * from main.kpi_monthly where not is_as_of_month order by month")
    return read("select * from main.kpi_monthly_by_dimension where not is_as_of_month and dimension = ? "
                "and dimension_value = ? order by month", [dimension, value])


def dimension_values(dimension: str) -> list[str]:
    return list(read("select dimension_value from main.kpi_monthly_by_dimension where dimension = ? "
                     "group by 1 order by sum(mrr) desc", [dimension])["dimension_value"])
