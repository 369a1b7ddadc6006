"""dbt: staging → intermediate → marts, with every dbt test as a Dagster asset check."""


import os
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from laer.progress import stage
from laer.project import ensure_manifest
from orchestration.calendar import RefreshCalendar
from orchestration.dbt_project import dbt_project
from orchestration.settings import LaerSettings


class LaerDbtTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse schemas: raw/<table>, staging/<model>, marts/<model>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


GUARANTEED_BY_SQL = "guaranteed_by_sql"
# constraints_hold re-checks a contract's column constraints (not_null, check): DuckDB
# enforces them when it builds the table, so a refresh there skips it; other engines run it
ENFORCED_BY_CONSTRAINTS = "enforced_by_constraints"
ENGINES_ENFORCING_CONSTRAINTS = {"duckdb"}


def refresh_exclusions(dbt_target: str) -> str:
    """The dbt selector of the data tests a refresh on ``dbt_target`` leaves out."""
    excluded = [f"tag:{GUARANTEED_BY_SQL}"]
    if dbt_target in ENGINES_ENFORCING_CONSTRAINTS:
        excluded.append(f"tag:{ENFORCED_BY_CONSTRAINTS}")
    return " ".join(excluded)


translator = LaerDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def warehouse_models_for(dbt_target: str, calendar: RefreshCalendar) -> AssetsDefinition:
    """The dbt models, seeds and tests as Dagster assets and asset checks, for a refresh on
    ``dbt_target`` (which data tests it leaves out depends on the engine), partitioned by
    the company's days."""

    @dbt_assets(
        manifest=ensure_manifest(),
        project=dbt_project,
        dagster_dbt_translator=translator,
        name="warehouse_models",
        **calendar.partitioned_by_day(),  # dagster-dbt's default backfill policy would build every day in one run
        pool="warehouse_writer",
        # data tests that only a change of SQL can fail (e.g. unique keys that dedupe_versions
        # guarantees), and those the engine's constraints enforce: CI runs them
        # (tests/test_dbt_unit.py); a refresh skips them
        exclude=refresh_exclusions(dbt_target),
    )
    def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, laer: LaerSettings):
        """`dbt build` of the selected models, seeds and tests for the run's as-of date.

        Each warehouse keeps its own dbt target folder (``<warehouse>/dbt_target``: artifacts,
        ``run_results.json``, dbt's log and partial parse). Runs of one warehouse never overlap,
        and what the parse reads stays the same from one run to the next — the warehouse path in
        the profile, no CLI vars (the as-of date reaches the SQL through ``LAER_DBT_AS_OF``, read
        at execution; ``macros/as_of.sql``) — so a daily run re-uses the last run's partial parse
        instead of parsing the whole project again.
        """
        laer = laer.for_run(context)
        os.environ.update(laer.dbt_environment)
        # unit tests prove the SQL, not the data: CI runs them (tests/test_dbt_unit.py), refreshes skip them
        args = ["build", "--exclude-resource-type", "unit_test"]
        with stage("dbt build"):  # laer refresh counts the nodes from dbt's output (laer.progress)
            invocation = dbt.cli(args, context=context, target_path=laer.warehouse.dbt_target)
            yield from invocation.stream()

    return warehouse_models
