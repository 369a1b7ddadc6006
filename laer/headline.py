"""Headline KPIs read from the published marts (read-only)."""

from __future__ import annotations

import datetime as dt
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


def headline_kpis(marts_db: Path) -> tuple[str, dict[str, str]]:
    """(title, KPIs): MRR, ARR, NRR, GRR, logo churn, at-risk MRR and active customers of
    the last complete month, and the unfinished as-of month's MRR labelled month to date."""
    from laer.report.data import last_complete_month

    with duckdb.connect(str(marts_db), read_only=True) as con:
        as_of = dt.date.fromisoformat(str(con.execute("select as_of from main._publish_info").fetchone()[0]))  # type: ignore[index]
        complete = last_complete_month(as_of)
        row = con.execute(
            "select month, mrr, arr, nrr_ttm, grr_ttm, logo_churn_rate, at_risk_mrr, active_customers "
            "from main.kpi_monthly where month <= ? order by month desc limit 1", [complete]).fetchone()
        to_date = con.execute("select mrr from main.kpi_monthly where month = ?", [as_of.replace(day=1)]).fetchone() \
            if complete != as_of.replace(day=1) else None
    kpis: dict[str, str] = {}
    title = f"no complete month yet as of {as_of}"
    if row is not None:
        month, mrr, arr, nrr, grr, churn, at_risk, active = row
        title = f"{month:%B %Y} (last complete month; as of {as_of})"
        kpis = {"MRR": money(mrr), "ARR": money(arr), "NRR (12 mo)": pct(nrr), "GRR (12 mo)": pct(grr),
                "Logo churn": pct(churn), "At-risk MRR": money(at_risk), "Active customers": f"{active:,}"}
    if to_date is not None:
        kpis[f"MRR, {as_of:%B} to date"] = money(to_date[0])
    return title, kpis
