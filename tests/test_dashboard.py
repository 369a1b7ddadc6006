"""The dashboard (Streamlit) on the published marts, opened in a real headless Chromium:
every page renders its charts without an error, its headline numbers are kpi_monthly's,
and after a publish a reload shows the new numbers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from laer.report import format as fmt
from tests.cdp import Browser
from tests.conftest import ROOT, published_copy

PAGES = {"": 3, "customer_success": 2, "funnel": 2}  # page's path (revenue is the default, at /) -> its charts
READY = ("(() => {{ const charts = document.querySelectorAll('.js-plotly-plot .main-svg').length;"
         " const running = document.querySelector('[data-testid=\"stStatusWidget\"]');"
         " const error = document.querySelector('[data-testid=\"stException\"]');"
         " return error ? 'error: ' + error.innerText : (charts >= {charts} && !running ? 'ready' : ''); }})()")
METRICS = ("Array.from(document.querySelectorAll('[data-testid=\"stMetric\"]')).map(m => "
           "[m.querySelector('[data-testid=\"stMetricLabel\"]').innerText, "
           "m.querySelector('[data-testid=\"stMetricValue\"]').innerText])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def dashboard(demo_warehouse: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`laer dashboard` on a warehouse folder holding a copy of the demo company's marts."""
    warehouse = published_copy(demo_warehouse, tmp_path / "warehouse")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "laer.cli", "dashboard", "--warehouse", str(warehouse),
                                "--port", str(port), "--address", "127.0.0.1"],
                               cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stdout.read().decode() if process.stdout else "no output") from None
                time.sleep(0.5)
        yield url, warehouse
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _publish_with_mrr_raised(warehouse: Path, by: int) -> None:
    """A new version of marts.duckdb switched in by one rename, as a publish does, whose last
    complete month has ``by`` more MRR."""
    new = warehouse / ".incoming.duckdb"
    shutil.copyfile(warehouse / "marts.duckdb", new)
    with duckdb.connect(str(new)) as con:
        con.execute(f"update main.kpi_monthly set mrr = mrr + {by}, arr = arr + {12 * by} "
                    "where month = (select max(month) from main.kpi_monthly where not is_as_of_month)")
    os.replace(new, warehouse / "marts.duckdb")


def test_every_dashboard_page_renders_kpi_monthly_and_follows_a_publish(dashboard, tmp_path: Path) -> None:
    url, warehouse = dashboard
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as marts:
        mrr, arr, nrr, grr, churn = marts.execute("""
            select mrr, arr, nrr_ttm, grr_ttm, logo_churn_rate from main.kpi_monthly where not is_as_of_month
            order by month desc limit 1""").fetchone()
        red_mrr, = marts.execute("select sum(current_mrr) from main.dim_accounts "
                                 "where health_band = 'red' and current_mrr > 0").fetchone()
    with Browser(tmp_path / "chromium") as browser:
        for page, charts in PAGES.items():
            browser.goto(f"{url}/{page}")
            assert browser.wait_for(READY.format(charts=charts)) == "ready", page
            if page == "":
                shown = dict(browser.evaluate(METRICS))
                assert shown == {"MRR": fmt.money(mrr), "ARR": fmt.money(arr), "NRR (12 mo)": fmt.pct(nrr),
                                 "GRR (12 mo)": fmt.pct(grr), "Logo churn": fmt.pct(churn),
                                 "Net MRR churn": shown["Net MRR churn"]}, shown
            if page == "customer_success":
                assert dict(browser.evaluate(METRICS))["Red today"] == fmt.money(red_mrr)
            browser.screenshot(tmp_path / f"{page or 'revenue'}.png")
        assert browser.errors == []
        # a publish while the dashboard runs: a reload reads the new version
        _publish_with_mrr_raised(warehouse, 2_000_000)
        browser.goto(f"{url}/")
        browser.wait_for(READY.format(charts=3))
        assert dict(browser.evaluate(METRICS))["MRR"] == fmt.money(float(mrr) + 2_000_000)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "revenue.png", artifacts / "dashboard-revenue.png")
