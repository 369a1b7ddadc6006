"""The leadership report: headline numbers equal kpi_monthly; it renders offline in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from laer.report import format as fmt
from laer.report.data import HEADLINES
from tests.conftest import CHROMIUM_OFFLINE, ROOT, SHARED, chromium, copy_project, rendered_dom

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def report(shared_warehouse: Path) -> Path:
    path = shared_warehouse / "reports" / SHARED.end_date.isoformat() / "index.html"
    assert path.exists(), "the refresh job writes the report after publishing"
    assert (shared_warehouse / "reports" / "latest").resolve() == path.parent
    return path


def test_every_headline_number_matches_kpi_monthly(report: Path, marts) -> None:
    html = report.read_text(encoding="utf-8")
    cols = [k for k, *_ in HEADLINES]
    rows = marts.execute(f"select month, {', '.join(cols)} from main.kpi_monthly order by month desc").fetchall()
    current, previous = dict(zip(["month", *cols], rows[0], strict=True)), dict(zip(["month", *cols], rows[1], strict=True))
    tiles = dict(re.findall(r'<div class="tile" data-kpi="([a-z_]+)" data-value="([^"]*)"', html))
    assert set(tiles) == set(cols)
    for key, _label, kind, _ in HEADLINES:
        expected = current[key]
        if expected is None:
            assert tiles[key] == "", key
        else:
            assert Decimal(tiles[key]) == Decimal(str(expected)), key
        tile = re.search(rf'data-kpi="{key}".*?<div class="value">([^<]*)</div>.*?vs last month <b[^>]*>([^<]*)</b>', html, re.S)
        assert tile is not None
        assert tile.group(1) == fmt.FORMATTERS[kind](expected)
        assert tile.group(2) == fmt.change(expected, previous[key], kind)
    mrr = float(current["mrr"])
    assert fmt.money(mrr).startswith("$") and fmt.money(1_234_567) == "$1.2M" and fmt.pct(0.0432) == "4.3 %"


def test_sections_leadership_asked_for(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    for section in ("headline", "mrr-movements", "mrr-trend", "retention-trend", "cohort-logo", "cohort-revenue",
                    "laer-stages", "funnel", "health", "health-backtest", "at-risk", "early-warnings", "renewals", "churn",
                    "by-dimension", "data-quality"):
        assert f'id="{section}"' in html, section
    # everything inline: no external script, stylesheet or image
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    assert "<script src=" not in html


def test_the_renewals_and_churn_tables_show_ten_rows_and_totals_equal_to_the_marts(report: Path, marts) -> None:
    html = report.read_text(encoding="utf-8")
    n, due, forecast = marts.execute("select count(*), sum(subscription_mrr), sum(forecast_renewed_mrr) "
                                     "from main.fct_renewals_upcoming").fetchone()
    assert n > 10 and forecast is not None  # the test company has enough renewals, and measured terms
    renewals = re.search(r'<section id="renewals">.*?</section>', html, re.S).group(0)
    assert renewals.count("<tr>") == 1 + 10 + 1  # header, the first ten, the totals
    assert (f"All {n} renewals: {fmt.money(due)} MRR due, {fmt.money(forecast)} forecast to renew"
            in renewals.replace("&#39;", "'"))
    month, = marts.execute("select max(month) from main.kpi_monthly where not is_as_of_month").fetchone()
    accounts, lost, by_kpi = marts.execute(
        "select count(*), -sum(c.churned_mrr), -min(k.churned_mrr) from main.fct_churn_events c "
        "join main.kpi_monthly k using (month) where c.month = ?", [month]).fetchone()
    churn = re.search(r'<section id="churn">.*?</section>', html, re.S).group(0)
    assert lost == by_kpi  # every churned dollar of the month is in the churn events
    assert f"{accounts} account{'' if accounts == 1 else 's'}, {fmt.money(lost)} MRR lost in {month:%B %Y}" in churn


def test_the_health_section_shows_at_risk_unscored_and_stalled_mrr_and_the_back_test(report: Path, marts) -> None:
    html = report.read_text(encoding="utf-8")
    month, at_risk, unscored = marts.execute("select month, at_risk_mrr, unscored_mrr from main.kpi_monthly "
                                             "where not is_as_of_month order by month desc limit 1").fetchone()
    stalled, = marts.execute("select sum(stalled_accounts) from main.laer_stage_monthly where month = ?", [month]).fetchone()
    health = re.search(r'<section id="health">.*?</section>', html, re.S).group(0)
    tiles = dict(re.findall(r'data-section="health" data-kpi="(\w+)" data-value="([^"]*)"', health))
    assert Decimal(tiles["at_risk_mrr"]) == at_risk and Decimal(tiles["unscored_mrr"]) == unscored
    assert int(tiles["stalled_accounts"]) == stalled
    # the back-test table: the twelve latest months whose 90 days have passed, pooled per band
    rows = marts.execute("""
        select health_band, sum(accounts), sum(churned_within_90d) from main.fct_health_backtest_monthly
        where month in (select distinct month from main.fct_health_backtest_monthly
                        where outcome_is_final and month <= ? order by month desc limit 12)
        group by 1""", [month]).fetchall()
    cells = re.findall(r'<td class="band-(\w+)">\w+</td><td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>'
                       r'<td class="num">([\d.]+) %</td>', health)
    assert {band: (int(a.replace(",", "")), int(c.replace(",", ""))) for band, a, c, _ in cells} == \
        {band: (int(a), int(c)) for band, a, c in rows}
    for band, accounts, churned, rate in cells:
        assert rate == f"{int(churned.replace(',', '')) / int(accounts.replace(',', '')) * 100:.1f}", band
    # the at-risk table names the accounts red today, with the total of all of them
    n, red_mrr = marts.execute("select count(*), sum(current_mrr) from main.dim_accounts "
                               "where health_band = 'red' and current_mrr > 0").fetchone()
    at_risk_table = re.search(r'<section id="at-risk">.*?</section>', html, re.S).group(0)
    assert f"{n} account{'' if n == 1 else 's'} in the red band, {fmt.money(red_mrr)} MRR" in at_risk_table


def test_the_segment_plan_and_country_tables_equal_kpi_monthly_by_dimension(report: Path, marts) -> None:
    html = report.read_text(encoding="utf-8")
    section = re.search(r'<section id="by-dimension">.*?</section>', html, re.S).group(0)
    month, = marts.execute("select max(month) from main.kpi_monthly where not is_as_of_month").fetchone()
    segments = marts.execute("""select dimension_value, mrr, active_customers from main.kpi_monthly_by_dimension
                                where month = ? and dimension = 'segment' order by mrr desc, dimension_value""",
                             [month]).fetchall()
    first_table = section.split("<h3>")[1]
    shown = re.findall(r'<tr><td class="">([^<]+)</td><td class="num">([^<]+)</td><td class="num">([\d,]+)</td>',
                       first_table)
    assert shown == [(value, fmt.money(mrr), f"{customers:,}") for value, mrr, customers in segments]
    total, = marts.execute("select mrr from main.kpi_monthly where month = ?", [month]).fetchone()
    assert sum(mrr for _, mrr, _ in segments) == total


def test_mrr_movements_are_monthly_stacked_bars_of_kpi_monthly(shared_warehouse: Path, marts) -> None:
    from laer.report.charts import MOVEMENT_MONTHS, MOVEMENTS, cohort_heatmap, mrr_movements
    from laer.report.data import load

    d = load(shared_warehouse / "marts.duckdb", None)
    fig = mrr_movements(d)
    assert fig.layout.barmode == "relative"
    kpis = marts.execute(f"""select * from (select * from main.kpi_monthly where not is_as_of_month
                             order by month desc limit {MOVEMENT_MONTHS}) order by month""").df()
    bars = {trace.name: list(trace.y) for trace in fig.data if trace.type == "bar"}
    for column, label, _ in MOVEMENTS:
        assert bars[label] == [float(v) for v in kpis[column]], label
    assert all(v >= 0 for v in bars["New"]) and all(v <= 0 for v in bars["Churn"])
    heat = cohort_heatmap(d, "logo_retention", "Cohort logo retention").data[0]
    assert heat.texttemplate == "%{z:.0%}" and len(heat.y) == 12


def test_report_renders_offline_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    url = report.as_uri()
    dom = rendered_dom(url, tmp_path / "a")
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None, dom[:500]
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', root.group(0)))
    assert attrs.get("data-js-errors") == "0", attrs
    assert attrs.get("data-charts") == "7"
    assert attrs.get("data-charts-rendered") == "7"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "leadership-report.png"
    subprocess.run([chromium(), *CHROMIUM_OFFLINE, f"--user-data-dir={tmp_path / 'b'}", "--window-size=1400,4200",
                    f"--screenshot={shot}", url], capture_output=True, timeout=180, check=True)
    assert shot.stat().st_size > 50_000


def test_a_mart_turned_off_in_dbt_is_not_published_checked_or_reported(shared_warehouse: Path, tmp_path: Path) -> None:
    """`+enabled: false` on the growth marts (and their lines in the exposures) takes them out
    of the manifest's published marts; the report of marts without the funnel leaves that
    chart out and renders the rest."""
    import duckdb
    import yaml

    from laer.project import dbt_executable, published_marts
    from laer.report.build import render
    from laer.report.data import load

    project = tmp_path / "project"
    copy_project(project)
    config = project / "dbt_project.yml"
    config.write_text(config.read_text().replace("      +meta: {published: true}\n",
                                                 "      +meta: {published: true}\n      growth:\n        +enabled: false\n"))
    exposures = project / "models/marts/_exposures.yml"
    growth = ("fct_funnel_monthly", "fct_entry_plan_retention")
    text = yaml.safe_load(exposures.read_text())
    for exposure in text["exposures"]:
        exposure["depends_on"] = [d for d in exposure["depends_on"] if not any(g in d for g in growth)]
    exposures.write_text(yaml.safe_dump(text, sort_keys=False))
    env = {"DBT_PROFILES_DIR": str(project), "LAER_DUCKDB_PATH": str(tmp_path / "parse.duckdb")}
    subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(project), "--target-path", str(tmp_path / "target")],
                   env={**os.environ, **env}, check=True, cwd=project)
    marts = published_marts(tmp_path / "target" / "manifest.json")
    assert set(published_marts()) - set(marts) == set(growth) and len(marts) == len(published_marts()) - 2

    copy = tmp_path / "marts.duckdb"
    shutil.copyfile(shared_warehouse / "marts.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        for mart in growth:
            con.execute(f"drop table main.{mart}")
    html = render(load(copy, None))
    assert 'id="funnel"' not in html and 'id="mrr-movements"' in html
