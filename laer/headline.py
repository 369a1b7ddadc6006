"""Headline KPIs read from the published marts (read-only)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def money(v: float | None) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"${v / div:,.1f}{suffix}"
    return f"${v:,.0f}"


def pct(v: float | None) -> str:
    return "n/a" if v is None else f"{float(v) * 100:.1f} %"


def headline_kpis(marts_db: Path) -> dict[str, str]:
    """MRR, ARR, NRR, GRR, logo churn and at-risk MRR of the as-of month."""
    with duckdb.connect(str(marts_db), read_only=True) as con:
        row = con.execute(
            "select mrr, arr, nrr_ttm, grr_ttm, logo_churn_rate, at_risk_mrr, active_customers "
            "from main.kpi_monthly order by month desc limit 1").fetchone()
    if row is None:
        return {}
    mrr, arr, nrr, grr, churn, at_risk, active = row
    return {"MRR": money(mrr), "ARR": money(arr), "NRR (12 mo)": pct(nrr), "GRR (12 mo)": pct(grr),
            "Logo churn": pct(churn), "At-risk MRR": money(at_risk), "Active customers": f"{active:,}"}
