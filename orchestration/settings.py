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
        """The warehouse's paths; the folder is created by the first asset that writes it
        (loading definitions creates nothing)."""
        return Warehouse(Path(self.warehouse_dir).resolve())

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir).resolve()

    @property
    def as_of_date(self) -> str:
        return self.as_of or dt.datetime.now(dt.UTC).date().isoformat()

    @property
    def dbt_environment(self) -> dict[str, str]:
        """What profiles.yml and ``macros/as_of.sql`` read from the environment in a refresh:
        the warehouse file, the target, the as-of date (dbt's partial parse is keyed on the
        profile they render, so a parse meant for a refresh must see the same values)."""
        return {"LAER_DUCKDB_PATH": str(self.warehouse.db), "LAER_DBT_TARGET": self.dbt_target,
                "LAER_DBT_AS_OF": self.as_of_date}
