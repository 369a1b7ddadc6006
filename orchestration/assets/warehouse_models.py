"""dbt: staging → intermediate → marts, with every dbt test as a Dagster asset check."""


import json
import os
import shutil
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.dbt_project import dbt_project, ensure_manifest
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


translator = LaerDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_vars(laer: LaerSettings) -> str:
    return json.dumps({"as_of": laer.as_of_date})


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="warehouse_models",
    pool="warehouse_writer",
)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, laer: LaerSettings):
    """`dbt build` of the selected models, seeds and tests for the run's as-of date."""
    os.environ["LAER_DUCKDB_PATH"] = str(laer.warehouse.db)
    os.environ["LAER_DBT_TARGET"] = laer.dbt_target
    # unit tests prove the SQL, not the data: CI runs them (tests/test_dbt_unit.py), refreshes skip them
    args = ["build", "--vars", dbt_vars(laer), "--exclude-resource-type", "unit_test"]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    # the per-node timings of the last build stay with the warehouse (benchmarks read them)
    laer.warehouse.dbt_target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(invocation.target_path / "run_results.json", laer.warehouse.dbt_target / "run_results.json")
