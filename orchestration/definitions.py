"""The one Dagster ``Definitions`` of the project (``dagster dev -m orchestration.definitions``)."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    in_process_executor,
)

from laer.project import dbt_executable
from orchestration.assets.delivery import delivery_asset
from orchestration.assets.docs import dbt_docs_asset
from orchestration.assets.publish import published_marts_asset
from orchestration.assets.raw import landing_files_asset
from orchestration.assets.report import leadership_report_asset
from orchestration.assets.warehouse_models import warehouse_models_for
from orchestration.checks.expectations import (
    GreatExpectationsResource,
    mart_expectations,
    raw_expectations,
)
from orchestration.dbt_project import LaerDbtCliResource, dbt_project
from orchestration.duckdb_resource import WarehouseDuckDB
from orchestration.schedules import daily_refresh_schedule
from orchestration.sensors import landing_sensor, refresh_failure_alert
from orchestration.settings import LaerSettings

# Runs that write the warehouse never overlap: the job runs its steps in one process, one
# after another, and carries a tag the run queue limits to one run at a time
# (orchestration/dagster.yaml); the writing assets also share the `warehouse_writer` pool.
WRITER_TAGS = {"laer/warehouse": "writer"}


def build_definitions(settings: LaerSettings | None = None) -> Definitions:
    """The project's definitions for ``settings`` (the environment's when not given): the
    assets and the job partitioned by the company's days, its schedule, the resources."""
    settings = settings or LaerSettings.from_env()
    calendar = settings.calendar
    refresh_job = define_asset_job(
        "refresh",
        selection=AssetSelection.all(),
        executor_def=in_process_executor,
        tags=WRITER_TAGS,
        partitions_def=calendar.partitions(),
        description="Load new landing files, dbt build, Great Expectations checks, publish, leadership report, "
                    "e-mail delivery.",
    )
    return Definitions(
        assets=[landing_files_asset(calendar), warehouse_models_for(settings.dbt_target, calendar),
                published_marts_asset(calendar), dbt_docs_asset(calendar), leadership_report_asset(calendar),
                delivery_asset(calendar, settings.delivery_retry_seconds)],
        asset_checks=[raw_expectations, mart_expectations],
        jobs=[refresh_job],
        schedules=[daily_refresh_schedule(calendar)],
        sensors=[landing_sensor, refresh_failure_alert],
        resources={
            "laer": settings,
            "duckdb": WarehouseDuckDB(database=str(settings.warehouse.db)),
            "gx": GreatExpectationsResource(),
            "dbt": LaerDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable(), target=settings.dbt_target),
        },
    )


defs = build_definitions()
