"""The semantic layer (dbt MetricFlow) answers from the published marts what kpi_monthly says."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from laer.cli import main
from laer.paths import Warehouse
from laer.semantic import semantic_project
from tests.conftest import published_copy

MONTHLY = ("mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr",
           "net_new_mrr", "active_customers", "new_customers", "churned_customers", "logo_churn_rate",
           "gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr_ttm", "grr_ttm", "arpa", "quick_ratio",
           "at_risk_mrr", "activation_rate", "trial_conversion_rate", "large_customer_share")
RATIOS = {"logo_churn_rate", "gross_mrr_churn_rate", "net_mrr_churn_rate", "nrr_ttm", "grr_ttm", "quick_ratio",
          "activation_rate", "trial_conversion_rate", "large_customer_share"}


@pytest.fixture(scope="module")
def published(shared_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse folder holding a copy of the shared company's published marts only."""
    return published_copy(shared_warehouse, tmp_path_factory.mktemp("semantic") / "warehouse")


def query(warehouse: Path, out: Path, *arguments: str) -> list[dict[str, str]]:
    assert main(["metrics", "--warehouse", str(warehouse), "query", *arguments, "--csv", str(out)]) == 0
    with out.open(newline="") as f:
        return list(csv.DictReader(f))


def _value(text: str) -> Decimal | None:
    return None if text in ("", "None") else Decimal(text)


def test_the_semantic_manifest_defines_the_leadership_metrics_and_dimensions(published: Path) -> None:
    manifest = json.loads((semantic_project(Warehouse(published)) / "target" / "semantic_manifest.json").read_text())
    metrics = {m["name"] for m in manifest["metrics"]}
    assert set(MONTHLY) <= metrics
    models = {m["name"]: m for m in manifest["semantic_models"]}
    assert {"mrr_movements", "leadership_kpis", "accounts", "account_days"} <= set(models)
    dimensions = {d["name"] for m in models.values() for d in m["dimensions"]}
    assert {"segment", "plan", "country", "laer_stage", "health_band", "stage_that_day"} <= dimensions
    # the relations are the published marts (marts.duckdb, schema main), not the working warehouse
    relation = models["mrr_movements"]["node_relation"]
    assert (relation["database"], relation["schema_name"], relation["alias"]) == ("marts", "main", "fct_mrr_monthly")


def test_mf_query_by_month_equals_kpi_monthly(published: Path, marts, tmp_path: Path) -> None:
    rows = query(published, tmp_path / "monthly.csv", "--metrics", ",".join(MONTHLY), "--group-by",
                 "metric_time__month", "--order", "metric_time__month")
    kpis = marts.execute(f"select month, {', '.join(MONTHLY)} from main.kpi_monthly order by month").fetchall()
    answers = {r["metric_time__month"][:10]: r for r in rows}
    assert len(answers) == len(kpis) > 20
    for month, *expected in kpis:
        got = answers[month.isoformat()]
        for name, want in zip(MONTHLY, expected, strict=True):
            value = _value(got[name])
            if want is None:
                assert value is None, (month, name, value)
            elif name in RATIOS:
                assert value is not None and abs(value - Decimal(str(want))) < Decimal("0.000001"), (month, name, value, want)
            else:  # money to the cent (ARPA rounds in kpi_monthly), counts exactly
                assert value is not None and abs(value - Decimal(str(want))) <= Decimal("0.005"), (month, name, value, want)


def test_mf_query_by_quarter_reads_stocks_at_the_end_and_adds_flows(published: Path, marts, tmp_path: Path) -> None:
    rows = query(published, tmp_path / "quarterly.csv", "--metrics", "mrr,new_mrr,new_customers,nrr_ttm",
                 "--group-by", "metric_time__quarter", "--order", "metric_time__quarter")
    kpis = marts.execute("""
        select date_trunc('quarter', month) as quarter, arg_max(mrr, month), sum(new_mrr), sum(new_customers),
               arg_max(nrr_ttm, month)
        from main.kpi_monthly group by 1 order by 1""").fetchall()
    assert [(r["metric_time__quarter"][:10], _value(r["mrr"]), _value(r["new_mrr"]), int(r["new_customers"]))
            for r in rows] == [(str(q)[:10], m, n, c) for q, m, n, c, _ in kpis]
    assert all(_value(r["nrr_ttm"]) == (None if nrr is None else Decimal(str(nrr)))
               for r, (*_, nrr) in zip(rows, kpis, strict=True))


def test_mf_query_by_segment_and_by_day(published: Path, marts, tmp_path: Path) -> None:
    last, = marts.execute("select max(month) from main.kpi_monthly where not is_as_of_month").fetchone()
    rows = query(published, tmp_path / "plan.csv", "--metrics", "mrr,churned_mrr", "--group-by",
                 "metric_time__month,account__segment", "--where",
                 f"{{{{ TimeDimension('metric_time', 'month') }}}} = '{last.isoformat()}'")
    slices = dict(marts.execute("""select dimension_value, mrr from main.kpi_monthly_by_dimension
                                   where month = ? and dimension = 'segment' and mrr > 0""", [last]).fetchall())
    assert {r["account__segment"]: _value(r["mrr"]) for r in rows if _value(r["mrr"])} == slices
    days = query(published, tmp_path / "daily.csv", "--metrics", "daily_mrr", "--group-by", "metric_time__day",
                 "--order", "metric_time__day")
    by_day = {r["metric_time__day"][:10]: _value(r["daily_mrr"]) for r in days}
    month_end_mrr = dict(marts.execute("""select last_day(month), mrr from main.kpi_monthly
                                          where not is_as_of_month""").fetchall())
    assert all(by_day[day.isoformat()] == mrr for day, mrr in month_end_mrr.items() if day.isoformat() in by_day)
    assert sum(day.isoformat() in by_day for day in month_end_mrr) >= 20
