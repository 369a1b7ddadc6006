"""Headline KPIs read from the published marts (read-only)."""

from __future__ import annotations

from pathlib import Path


def _missing(v: object) -> bool:
    """None, or a null read through pandas (NaN)."""
    return v is None or v != v


def money(v: float | None) -> str:
    if _missing(v):
        return "n/a"
    v = float(v)
    sign = "−" if v < 0 else ""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{sign}${abs(v) / div:,.1f}{suffix}"
    return f"{sign}${abs(v):,.0f}"


def pct(v: float | None) -> str:
    return "n/a" if _missing(v) else f"{float(v) * 100:.1f} %"


def headline_kpis(marts_db: Path) -> tuple[str, dict[str, str]]:
    """(title, KPIs): MRR, ARR, NRR, GRR, logo churn, at-risk MRR and active customers of
    the last complete month, and the unfinished as-of month's MRR labelled month to date
    (the leadership e-mail's headline, laer.delivery.leadership.load_headline)."""
    from laer.delivery.leadership import load_headline

    h = load_headline(marts_db)
    kpis: dict[str, str] = {}
    title = f"no complete month yet as of {h.as_of}"
    if h.month is not None:
        m = h.month
        title = f"{m['month']:%B %Y} (last complete month; as of {h.as_of})"
        kpis = {"MRR": money(m["mrr"]), "ARR": money(m["arr"]), "NRR (12 mo)": pct(m["nrr_ttm"]),  # type: ignore[arg-type]
                "GRR (12 mo)": pct(m["grr_ttm"]), "Logo churn": pct(m["logo_churn_rate"]),  # type: ignore[arg-type]
                "At-risk MRR": money(m["at_risk_mrr"]), "Active customers": f"{m['active_customers']:,}"}  # type: ignore[arg-type]
    if h.to_date is not None:
        kpis[f"MRR, {h.as_of:%B} to date"] = money(h.to_date["mrr"])  # type: ignore[arg-type]
    return title, kpis

