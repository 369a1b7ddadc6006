"""The one Dagster ``Definitions`` of the project (``dagster dev -m orchestration.definitions``)."""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from orchestration.assets.publish import published_marts
from orchestration.assets.raw import landing_files
from orchestration.assets.report import leadership_report
from orchestration.assets.warehouse_models import warehouse_models
from orchestration.checks.expectations import (
    GreatExpectationsResource,
    mart_expectations,
    raw_expectations,
)
from orchestration.dbt_project import LaerDbtCliResource, dbt_executable, dbt_project
from orchestration.duckdb_resource import WarehouseDuckDB
from orchestration.sensors import landing_sensor
from orchestration.settings import LaerSettings

# Runs that write the warehouse never overlap: the job runs its steps in one process, one
# after another, and carries a tag the run queue limits to one run at a time
# (orchestration/dagster.yaml); the writing assets also share the `warehouse_writer` pool.
WRITER_TAGS = {"laer/warehouse": "writer"}

refresh_job = define_asset_job(
    "refresh",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    tags=WRITER_TAGS,
    description="Load new landing files, dbt build, Great Expectations checks, publish, leadership report.",
)

daily_refresh = ScheduleDefinition(
    name="daily_refresh",
    job=refresh_job,
    cron_schedule=os.environ.get("LAER_REFRESH_CRON", "0 6 * * *"),
    execution_timezone=os.environ.get("LAER_REFRESH_TIMEZONE", "UTC"),
    default_status=DefaultScheduleStatus.RUNNING,
)


def build_definitions(settings: LaerSettings | None = None) -> Definitions:
    settings = settings or LaerSettings.from_env()
    return Definitions(
        assets=[landing_files, warehouse_models, published_marts, leadership_report],
        asset_checks=[raw_expectations, mart_expectations],
        jobs=[refresh_job],
        schedules=[daily_refresh],
        sensors=[landing_sensor],
        resources={
            "laer": settings,
            "duckdb": WarehouseDuckDB(database=str(settings.warehouse.db)),
            "gx": GreatExpectationsResource(),
            "dbt": LaerDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable(), target=settings.dbt_target),
        },
    )


defs = build_definitions()
