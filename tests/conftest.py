"""Shared fixtures: a small generated company, and one refreshed warehouse per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from laer.generate import CompanyConfig, generate

ROOT = Path(__file__).resolve().parents[1]
# The company the behaviour and end-to-end tests share: big enough for its statistics to
# be stable, small enough to build in well under a minute.
SHARED = CompanyConfig(customers=700, months=24, seed=7, start=dt.date(2023, 1, 1))
# A smaller company for tests that refresh again and again (deliveries, faults, processes)
SMALL = CompanyConfig(customers=150, months=8, seed=3, start=dt.date(2024, 1, 1))


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("DAGSTER_HOME", str(tmp_path_factory.mktemp("dagster_home")))
    # dbt's docs site is tested on the shared warehouse (which turns it on); elsewhere a
    # refresh would spend seconds writing a site no test reads
    os.environ.setdefault("LAER_DBT_DOCS", "0")


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
                                       as_of=SHARED.end_date.isoformat(), dbt_docs=True))
    assert outcome.success, outcome
    return warehouse, outcome


@pytest.fixture(scope="session")
def shared_warehouse(shared_refresh) -> Path:
    return shared_refresh[0]


@pytest.fixture()
def marts(shared_warehouse: Path):
    with duckdb.connect(str(shared_warehouse / "marts.duckdb"), read_only=True) as con:
        yield con


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company exactly as `laer demo` makes it (2,000 customers, 36 months to today)."""
    from laer.cli import main

    root = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", "--dir", str(root)]) == 0
    return root / "warehouse"


@pytest.fixture(params=["test company", "demo company"])
def company_marts(request: pytest.FixtureRequest):
    """The published marts of the test company (700 customers) and of `laer demo`'s."""
    warehouse = request.getfixturevalue("shared_warehouse" if request.param == "test company" else "demo_warehouse")
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        yield con


@pytest.fixture(scope="session")
def small_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company generated and refreshed once: a folder with landing/ and warehouse/."""
    from laer.cli import main

    root = tmp_path_factory.mktemp("small_built")
    generate(SMALL, root / "landing")
    assert main(["refresh", "--landing", str(root / "landing"), "--warehouse", str(root / "warehouse"),
                 "--as-of", SMALL.end_date.isoformat()]) == 0
    return root


def published_copy(warehouse: Path, into: Path) -> Path:
    """A warehouse folder ``into`` holding only a copy of ``warehouse``'s published marts."""
    into.mkdir(parents=True)
    shutil.copyfile(warehouse / "marts.duckdb", into / "marts.duckdb")
    return into


def copy_project(into: Path) -> Path:
    """A copy of the dbt project (config, profiles, models, macros, seeds, generic tests) to
    edit in a test without touching the real one."""
    into.mkdir(parents=True)
    for part in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, into / part)
    return into


def copy_small(small_built: Path, into: Path) -> tuple[Path, Path]:
    """A private copy of the built small company: (landing, warehouse)."""
    shutil.copytree(small_built, into, symlinks=True)  # the publish links are relative
    return into / "landing", into / "warehouse"


def processes_in_session(sid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process in session ``sid``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getsid(int(pid)) != sid:
                continue
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        found.append((int(pid), cmd))
    return found


# headless Chromium kept off the network: every page under test is self-contained
CHROMIUM_OFFLINE = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=20000")


def chromium() -> str:
    """Debian's chromium (bin/test installs it); a missing browser fails in CI, skips elsewhere."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: bin/test installs Debian's chromium")
        pytest.skip("chromium is not installed (bin/test installs it)")
    return browser


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran, from a real headless Chromium."""
    return subprocess.run([chromium(), *CHROMIUM_OFFLINE, f"--user-data-dir={profile}", "--dump-dom", url],
                          capture_output=True, text=True, timeout=180).stdout
