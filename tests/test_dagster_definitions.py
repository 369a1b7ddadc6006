"""The Dagster Definitions: graph, checks, schedule, sensor, and an executed refresh."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from dagster import AssetKey

from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings


def test_definitions_hold_the_whole_graph(tmp_path: Path) -> None:
    from orchestration.definitions import build_definitions

    defs = build_definitions(LaerSettings(landing_dir=str(tmp_path), warehouse_dir=str(tmp_path / "wh")))
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for key in (["raw", "billing__subscription_items"], ["staging", "stg_billing__subscription_items"],
                ["intermediate", "int_billing__account_mrr_intervals"], ["marts", "kpi_monthly"], ["published", "marts"]):
        assert AssetKey(key) in keys
    check_names = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert ("marts/kpi_monthly", "gx_kpi_monthly") in check_names
    assert ("marts/dim_accounts", "pii_and_anomaly_guards") in check_names
    assert ("raw/billing__subscription_items", "gx_billing__subscription_items") in check_names
    assert any(name.startswith("mrr_changes_reconcile") for _, name in check_names)  # a dbt test as a check
    job = defs.resolve_job_def("refresh")
    assert job.tags["laer/warehouse"] == "writer"
    assert job.executor_def.name == "in_process"
    assert defs.resolve_schedule_def("daily_refresh").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("landing_sensor").job_name == "refresh"
    assert graph.get(AssetKey(["published", "marts"])).parent_keys >= {AssetKey(["marts", "kpi_monthly"])}


def test_the_refresh_job_ran_checks_and_published(shared_warehouse: Path) -> None:
    # shared_warehouse was built by executing the Definitions' refresh job in-process
    manifest = next((shared_warehouse / "publishes").glob("*/publish.json"))
    data = json.loads(manifest.read_text())
    # every asset check of the job ran: the dbt data tests a refresh keeps and the GX suites
    from orchestration.assets.warehouse_models import warehouse_models_for
    from orchestration.checks.expectations import mart_expectations, raw_expectations

    every_check = {*warehouse_models_for("duckdb", RefreshCalendar()).check_keys, *raw_expectations.check_keys, *mart_expectations.check_keys}
    assert data["checks"]["evaluated"] == len(every_check) >= 120
    assert data["checks"]["passed"] >= data["checks"]["evaluated"] - len(data["checks"]["failed_non_blocking"])
    assert data["row_counts"]["kpi_monthly"] == 24
    assert (shared_warehouse / "data_docs" / "marts" / "index.html").exists()


def test_a_duckdb_refresh_leaves_out_only_the_tests_duckdb_constraints_or_the_sql_guarantee() -> None:
    from orchestration.assets.warehouse_models import refresh_exclusions, warehouse_models_for

    assert refresh_exclusions("duckdb") == "tag:guaranteed_by_sql tag:enforced_by_constraints"
    assert refresh_exclusions("spark") == "tag:guaranteed_by_sql"
    checks = {key.name for key in warehouse_models_for("duckdb", RefreshCalendar()).check_keys}
    assert any(n.startswith("constraints_hold_") for n in (k.name for k in warehouse_models_for("spark", RefreshCalendar()).check_keys))
    assert not [name for name in checks if name.startswith("constraints_hold_")]
    # the incremental account-day marts keep their column data tests
    assert {"not_null_fct_laer_stage_daily_account_id", "not_null_fct_laer_stage_daily_laer_stage"} <= checks


def test_the_refresh_reports_when_each_step_ran(shared_refresh) -> None:
    # what the benchmark splits its memory samples by: one window per step, in the order
    # the in-process executor ran them, each as long as the step's own duration
    _, outcome = shared_refresh
    chain = ["landing_files", "raw_expectations", "warehouse_models", "mart_expectations",
             "published__marts", "published__leadership_report"]
    windows = outcome.step_windows
    assert set(windows) == set(outcome.step_seconds) >= set(chain)
    for earlier, later in itertools.pairwise(chain):
        assert windows[earlier][1] <= windows[later][0], (earlier, later)
    for step, (start, end) in windows.items():
        assert abs((end - start) - outcome.step_seconds[step]) < 1.0, step


def test_dbt_resource_knows_the_dbt_version_without_a_subprocess_or_an_adapter(monkeypatch, tmp_path: Path) -> None:
    import inspect
    import re
    import subprocess
    from functools import cached_property

    from dagster_dbt import DbtCliResource
    from packaging.version import Version

    from laer.project import dbt_executable
    from orchestration.dbt_project import LaerDbtCliResource, dbt_project

    # what dagster-dbt would have learnt from `dbt --version`, asked here by hand
    printed = subprocess.run([dbt_executable(), "--version"], capture_output=True, text=True, check=True).stdout
    expected = Version(re.search(r"(\d+\.\d+\.\d+)", printed).group(1))  # type: ignore[union-attr]
    # the two members overridden still exist in the pinned dagster-dbt and are what cli() reads
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source and "self._initialize_dbt_core_adapter(" in source

    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"ran a subprocess: {args}")

    monkeypatch.setattr("dagster_dbt.core.resource.check_output", no_subprocess)
    resource = LaerDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    assert resource._cli_version == expected
    assert resource._initialize_dbt_core_adapter(["build"]) is None
    # another executable is still asked (the subprocess is what dagster-dbt does)
    (tmp_path / "dbt").symlink_to(dbt_executable())
    other = LaerDbtCliResource(project_dir=dbt_project, dbt_executable=str(tmp_path / "dbt"))
    try:
        other._cli_version  # noqa: B018
    except AssertionError as exc:
        assert str(tmp_path / "dbt") in str(exc)
    else:
        raise AssertionError("another dbt executable was not asked for its version")
