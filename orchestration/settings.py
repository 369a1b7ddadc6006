"""The one place the orchestration is configured: folders and the as-of date."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from dagster import ConfigurableResource

from laer.paths import Warehouse


class LaerSettings(ConfigurableResource):
    """Where the landing files are, where the warehouse lives, and which day is "today"."""

    landing_dir: str
    warehouse_dir: str
    as_of: str = ""  # YYYY-MM-DD; empty = the current date (UTC)
    dbt_target: str = "duckdb"

    @classmethod
    def from_env(cls) -> LaerSettings:
        return cls(
            landing_dir=os.environ.get("LAER_LANDING_DIR", "landing"),
            warehouse_dir=os.environ.get("LAER_WAREHOUSE_DIR", "warehouse"),
            as_of=os.environ.get("LAER_AS_OF", ""),
            dbt_target=os.environ.get("LAER_DBT_TARGET", "duckdb"),
        )

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(Path(self.warehouse_dir).resolve()).ensure()

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir).resolve()

    @property
    def as_of_date(self) -> str:
        return self.as_of or dt.datetime.now(dt.UTC).date().isoformat()
