"""Plotly figures of the report (rendered with plotly.js inlined once in the page)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from laer.report.data import ReportData

STAGE_ORDER = ("prospect", "land", "adopt", "expand", "renew", "churned")
STAGE_COLORS = {"prospect": "#b0b7c3", "land": "#5b8def", "adopt": "#2bb673", "expand": "#16a085",
                "renew": "#f5a623", "churned": "#e5534b"}
LAYOUT = {"margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "height": 340, "template": "plotly_white",
          "font": {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 12}}


def _f(v: object) -> float:
    return 0.0 if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


MOVEMENTS = (  # column, label, colour: gains stack above zero, losses below (ChartMogul style)
    ("new_mrr", "New", "#2bb673"), ("expansion_mrr", "Expansion", "#16a085"), ("reactivation_mrr", "Reactivation", "#5b8def"),
    ("contraction_mrr", "Contraction", "#f5a623"), ("churned_mrr", "Churn", "#e5534b"),
)
MOVEMENT_MONTHS = 18


def mrr_movements(d: ReportData) -> go.Figure:
    return movements_figure(d.kpis)


def movements_figure(kpis: pd.DataFrame) -> go.Figure:
    """The MRR movements of each month of ``kpis`` (kpi_monthly or a slice of it; the last
    MOVEMENT_MONTHS) as one stacked bar, with net new MRR as a line."""
    k = kpis.tail(MOVEMENT_MONTHS)
    fig = go.Figure()
    for column, label, color in MOVEMENTS:
        fig.add_bar(x=k["month"], y=k[column].astype(float), name=label, marker_color=color,
                    hovertemplate=f"{label}: %{{y:$,.0f}}<extra></extra>")
    fig.add_scatter(x=k["month"], y=k["net_new_mrr"].astype(float), name="Net new MRR", mode="lines+markers",
                    line={"color": "#1d2433", "width": 2}, hovertemplate="Net new: %{y:$,.0f}<extra></extra>")
    fig.update_layout(title="MRR movements by month", barmode="relative", yaxis_tickformat="$~s",
                      legend={"orientation": "h", "y": -0.2}, **LAYOUT)
    return fig


def mrr_trend(d: ReportData) -> go.Figure:
    k = d.kpis
    fig = go.Figure()
    fig.add_bar(x=k["month"], y=k["net_new_mrr"].astype(float), name="Net new MRR", marker_color="#9ec5fe", yaxis="y2")
    fig.add_scatter(x=k["month"], y=k["mrr"].astype(float), name="MRR", mode="lines+markers", line={"color": "#1f4fd1", "width": 3})
    fig.add_scatter(x=k["month"], y=k["arr"].astype(float) / 12, name="ARR ÷ 12", mode="lines", line={"dash": "dot", "color": "#7a8699"}, visible="legendonly")
    fig.update_layout(title="MRR and ARR", yaxis={"tickprefix": "$", "title": "MRR"},
                      yaxis2={"overlaying": "y", "side": "right", "tickprefix": "$", "showgrid": False, "title": "Net new"},
                      legend={"orientation": "h", "y": -0.2}, **LAYOUT)
    return fig


def retention_trend(d: ReportData) -> go.Figure:
    return retention_figure(d.kpis)


def retention_figure(kpis: pd.DataFrame) -> go.Figure:
    """NRR and GRR, trailing 12 months, of ``kpis`` (kpi_monthly or a slice of it)."""
    k = kpis.dropna(subset=["nrr_ttm"])
    fig = go.Figure()
    fig.add_scatter(x=k["month"], y=k["nrr_ttm"].astype(float), name="NRR", mode="lines+markers", line={"color": "#16a085"})
    fig.add_scatter(x=k["month"], y=k["grr_ttm"].astype(float), name="GRR", mode="lines+markers", line={"color": "#f5a623"})
    fig.update_layout(title="Net and gross revenue retention (trailing 12 months)", yaxis_tickformat=".0%",
                      legend={"orientation": "h", "y": -0.2}, **LAYOUT)
    return fig


COHORTS_SHOWN = 12  # the latest cohorts, over their first year: every cell carries its number


def cohort_heatmap(d: ReportData, column: str, title: str) -> go.Figure:
    return cohort_figure(d.cohorts, column, title)


def cohort_figure(cohorts: pd.DataFrame, column: str, title: str) -> go.Figure:
    """``column`` of cohort_retention rows (cohort_month, months_since_land) as a heatmap of the
    latest COHORTS_SHOWN cohorts over their first year, a number in every cell."""
    pivot = cohorts.pivot(index="cohort_month", columns="months_since_land", values=column).sort_index()
    pivot = pivot.tail(COHORTS_SHOWN)[[m for m in pivot.columns if m <= COHORTS_SHOWN]]
    labels = [pd.Timestamp(m).strftime("%Y-%m") for m in pivot.index]
    values = pivot.astype(float).to_numpy()
    fig = go.Figure(go.Heatmap(z=values, x=list(pivot.columns), y=labels, colorscale="Blues", zmin=0,
                               zmax=1.2 if column == "revenue_retention" else 1, hoverongaps=False,
                               colorbar={"tickformat": ".0%"}, texttemplate="%{z:.0%}", textfont={"size": 10},
                               hovertemplate="cohort %{y}, month %{x}: %{z:.1%}<extra></extra>"))
    fig.update_layout(title=f"{title} — the last {COHORTS_SHOWN} cohorts, first year", xaxis_title="months since land",
                      xaxis={"dtick": 1}, yaxis={"autorange": "reversed"}, **{**LAYOUT, "height": 420})
    return fig


def stage_distribution(d: ReportData) -> go.Figure:
    fig = go.Figure()
    for stage in STAGE_ORDER:
        s = d.stages[d.stages["stage"] == stage]
        fig.add_scatter(x=s["month"], y=s["accounts"], name=stage, stackgroup="one", mode="lines",
                        line={"width": 0.5, "color": STAGE_COLORS[stage]})
    fig.update_layout(title="LAER stage of every account at month end", yaxis_title="accounts",
                      legend={"orientation": "h", "y": -0.2}, **LAYOUT)
    return fig


def funnel_by_source(d: ReportData) -> go.Figure:
    assert d.funnel is not None
    f = d.funnel.copy()
    fig = go.Figure()
    for col, label, color in (("accounts", "lead → account", "#9ec5fe"), ("trials", "lead → trial", "#5b8def"),
                              ("paying", "lead → paying", "#1f4fd1")):
        rate = f[col].astype(float) / f["leads"].replace(0, pd.NA).astype(float)
        fig.add_bar(x=f["lead_source"], y=rate, name=label, marker_color=color,
                    text=[f"{r:.0%}" if pd.notna(r) else "" for r in rate], textposition="outside")
    fig.update_layout(title="Funnel conversion by lead source (all leads to date)", yaxis_tickformat=".0%", barmode="group",
                      legend={"orientation": "h", "y": -0.2}, **LAYOUT)
    return fig


def all_charts(d: ReportData) -> list[tuple[str, go.Figure]]:
    return [
        *([("mrr-movements", mrr_movements(d))] if d.current is not None else []),
        ("mrr-trend", mrr_trend(d)),
        ("retention-trend", retention_trend(d)),
        ("laer-stages", stage_distribution(d)),
        ("cohort-logo", cohort_heatmap(d, "logo_retention", "Cohort logo retention")),
        ("cohort-revenue", cohort_heatmap(d, "revenue_retention", "Cohort revenue retention")),
        *([("funnel", funnel_by_source(d))] if d.funnel is not None else []),
    ]
