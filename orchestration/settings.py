"""The one place the orchestration is configured: folders, the as-of date, the company's
calendar. ``LaerSettings.from_env`` is the only reader of the environment; everything
else receives the settings (a Dagster resource, or ``build_definitions(settings)``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from dagster import ConfigurableResource

from laer.ingest.exports.settings import ExportSettings
from laer.paths import Warehouse
from orchestration.calendar import RefreshCalendar


class HasPartition(Protocol):
    """What an asset's or a check's execution context says about the run's partition."""

    @property
    def has_partition_key(self) -> bool: ...

    @property
    def partition_key(self) -> str: ...


class LaerSettings(ConfigurableResource):
    """Where the landing files are, where the warehouse lives, and which day is "today"."""

    landing_dir: str
    warehouse_dir: str
    as_of: str = ""  # YYYY-MM-DD; empty = the company's current day (in `timezone`)
    dbt_target: str = "duckdb"
    # the landing sensor waits until no file of a delivery was written for this long
    sensor_quiet_seconds: float = 60.0
    # the company's calendar: its time zone, the first daily partition, the schedule
    timezone: str = "UTC"
    first_day: str = "2020-01-01"
    refresh_cron: str = "0 6 * * *"
    # exports as the source systems write them (stripe/, hubspot/): the Stripe customer's
    # metadata key naming its CRM account, and the HubSpot company property naming its CSM
    stripe_account_key: str = "account_id"
    hubspot_csm_property: str = "csm_owner_id"
    # write dbt's static docs site after each publish that changed the project (off: the
    # refresh skips it; the marts and the report do not need it)
    dbt_docs: bool = True
    # the e-mail delivery tries again after this many seconds, then twice as many
    delivery_retry_seconds: float = 5.0

    @classmethod
    def from_env(cls, **overrides: object) -> LaerSettings:
        """The settings from ``LAER_*`` environment variables, then ``overrides``."""
        env = {
            "landing_dir": os.environ.get("LAER_LANDING_DIR", "landing"),
            "warehouse_dir": os.environ.get("LAER_WAREHOUSE_DIR", "warehouse"),
            "as_of": os.environ.get("LAER_AS_OF", ""),
            "dbt_target": os.environ.get("LAER_DBT_TARGET", "duckdb"),
            "sensor_quiet_seconds": float(os.environ.get("LAER_SENSOR_QUIET_SECONDS", "60")),
            "timezone": os.environ.get("LAER_TIMEZONE", "UTC"),
            "first_day": os.environ.get("LAER_FIRST_DAY", "2020-01-01"),
            "refresh_cron": os.environ.get("LAER_REFRESH_CRON", "0 6 * * *"),
            "stripe_account_key": os.environ.get("LAER_STRIPE_ACCOUNT_KEY", "account_id"),
            "hubspot_csm_property": os.environ.get("LAER_HUBSPOT_CSM_PROPERTY", "csm_owner_id"),
            "dbt_docs": os.environ.get("LAER_DBT_DOCS", "1").strip().lower() not in ("0", "false", "no", "off"),
            "delivery_retry_seconds": float(os.environ.get("LAER_DELIVERY_RETRY_SECONDS", "5")),
        }
        return cls(**{**env, **overrides})  # type: ignore[arg-type]

    def replaced(self, **changes: object) -> LaerSettings:
        """These settings with ``changes``."""
        return LaerSettings(**{**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    @property
    def calendar(self) -> RefreshCalendar:
        return RefreshCalendar(timezone=self.timezone, first_day=self.first_day, cron=self.refresh_cron)

    @property
    def warehouse(self) -> Warehouse:
        """The warehouse's paths; the folder is created by the first asset that writes it
        (loading definitions creates nothing)."""
        return Warehouse(Path(self.warehouse_dir).resolve())

    def for_run(self, context: HasPartition) -> LaerSettings:
        """These settings for one run: a partitioned run (scheduled, started by the sensor,
        backfilled) computes the day of its partition; any other run, ``as_of``."""
        if not context.has_partition_key:
            return self
        return self.replaced(as_of=context.partition_key)

    @property
    def export_settings(self) -> ExportSettings:
        return ExportSettings(stripe_account_key=self.stripe_account_key, hubspot_csm_property=self.hubspot_csm_property)

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir).resolve()

    @property
    def as_of_date(self) -> str:
        return self.as_of or self.calendar.today()

    @property
    def dbt_environment(self) -> dict[str, str]:
        """What profiles.yml and ``macros/as_of.sql`` read from the environment in a refresh:
        the warehouse file, the target, the as-of date (dbt's partial parse is keyed on the
        profile they render, so a parse meant for a refresh must see the same values)."""
        return {"LAER_DUCKDB_PATH": str(self.warehouse.db), "LAER_DBT_TARGET": self.dbt_target,
                "LAER_DBT_AS_OF": self.as_of_date}
