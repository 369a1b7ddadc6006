"""Revenue: the last complete month's KPIs, MRR movements, retention and cohorts, for the
whole company or one segment, plan or country."""

from __future__ import annotations

import marts
import plotly.graph_objects as go
import streamlit as st

from laer.report import format as fmt

st.title("Revenue")
dimension = st.sidebar.selectbox("Slice", ["company", "segment", "plan", "country"], key="dimension")
value = None
if dimension != "company":
    value = st.sidebar.selectbox(dimension.capitalize(), marts.dimension_values(dimension), key="value")
k = marts.kpis(None if dimension == "company" else dimension, value)
if k.empty:
    st.info("No month has ended yet.")
    st.stop()
cur, prev = k.iloc[-1], (k.iloc[-2] if len(k) > 1 else None)
st.caption(f"{cur['month']:%B %Y}, the last complete month, against the month before · published marts as of {marts.as_of()}"
           + ("" if value is None else f" · {dimension} = {value}"))


tiles = (("mrr", "MRR", "money"), ("arr", "ARR", "money"), ("nrr_ttm", "NRR (12 mo)", "pct"),
         ("grr_ttm", "GRR (12 mo)", "pct"), ("logo_churn_rate", "Logo churn", "pct"),
         ("net_mrr_churn_rate", "Net MRR churn", "pct"))
for column, (key, label, kind) in zip(st.columns(len(tiles)), tiles, strict=True):
    change = fmt.change(cur[key], None if prev is None else prev[key], kind)
    column.metric(label, fmt.FORMATTERS[kind](cur[key]), None if change == "–" else change,
                  delta_color="inverse" if key in ("logo_churn_rate", "net_mrr_churn_rate") else "normal")

recent = k.tail(18)
movements = go.Figure()
for key, label, color in (("new_mrr", "New", "#2bb673"), ("expansion_mrr", "Expansion", "#16a085"),
                          ("reactivation_mrr", "Reactivation", "#5b8def"), ("contraction_mrr", "Contraction", "#f5a623"),
                          ("churned_mrr", "Churn", "#e5534b")):
    movements.add_bar(x=recent["month"], y=recent[key].astype(float), name=label, marker_color=color)
movements.add_scatter(x=recent["month"], y=recent["net_new_mrr"].astype(float), name="Net new MRR",
                      line={"color": "#1d2433"})
movements.update_layout(title="MRR movements by month", barmode="relative", yaxis_tickformat="$~s", height=380)
retention = go.Figure()
retained = k.dropna(subset=["nrr_ttm"])
retention.add_scatter(x=retained["month"], y=retained["nrr_ttm"].astype(float), name="NRR")
retention.add_scatter(x=retained["month"], y=retained["grr_ttm"].astype(float), name="GRR")
retention.update_layout(title="Revenue retention, trailing 12 months", yaxis_tickformat=".0%", height=380)
left, right = st.columns(2)
left.plotly_chart(movements, use_container_width=True)
right.plotly_chart(retention, use_container_width=True)

segment = value if dimension == "segment" else "all"
cohorts = marts.read("""select cohort_month, months_since_land, revenue_retention from main.cohort_retention
                        where segment = ? and months_since_land <= 12 order by cohort_month""", [segment])
if not cohorts.empty:
    pivot = cohorts.pivot(index="cohort_month", columns="months_since_land", values="revenue_retention").tail(12)
    heat = go.Figure(go.Heatmap(z=pivot.astype(float).to_numpy(), x=list(pivot.columns),
                                y=[f"{m:%Y-%m}" for m in pivot.index], colorscale="Blues", zmin=0, zmax=1.2,
                                texttemplate="%{z:.0%}", hoverongaps=False))
    heat.update_layout(title=f"Cohort revenue retention ({segment}), the last 12 cohorts", height=420,
                       yaxis={"autorange": "reversed"}, xaxis_title="months since land")
    st.plotly_chart(heat, use_container_width=True)
