"""Shared fixtures: a small generated company, and one refreshed warehouse per session."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest

from laer.generate import CompanyConfig, generate

ROOT = Path(__file__).resolve().parents[1]
# The company the behaviour and end-to-end tests share: big enough for its statistics to
# be stable, small enough to build in well under a minute.
SHARED = CompanyConfig(customers=700, months=24, seed=7, start=dt.date(2023, 1, 1))


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))


@pytest.fixture(scope="session")
def shared_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("shared") / "landing"
    generate(SHARED, landing)
    return landing


@pytest.fixture(scope="session")
def shared_refresh(shared_landing: Path, tmp_path_factory: pytest.TempPathFactory):
    """The shared company loaded, built, checked and published once through Dagster:
    (warehouse folder, the refresh's outcome)."""
    from orchestration.refresh import run_refresh
    from orchestration.settings import LaerSettings

    warehouse = tmp_path_factory.mktemp("shared_wh") / "warehouse"
    outcome = run_refresh(LaerSettings(landing_dir=str(shared_landing), warehouse_dir=str(warehouse),
                                       as_of=SHARED.end_date.isoformat()))
    assert outcome.success, outcome
    return warehouse, outcome


@pytest.fixture(scope="session")
def shared_warehouse(shared_refresh) -> Path:
    return shared_refresh[0]


@pytest.fixture()
def marts(shared_warehouse: Path):
    with duckdb.connect(str(shared_warehouse / "marts.duckdb"), read_only=True) as con:
        yield con
