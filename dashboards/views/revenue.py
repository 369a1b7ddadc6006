"""Revenue: the last complete month's KPIs, MRR movements, retention and cohorts, for the
whole company or one segment, plan or country."""

from __future__ import annotations

import marts
import streamlit as st

from laer.report import charts
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

left, right = st.columns(2)
left.plotly_chart(charts.movements_figure(k), use_container_width=True)
right.plotly_chart(charts.retention_figure(k), use_container_width=True)

segment = value if dimension == "segment" else "all"
cohorts = marts.read("""select cohort_month, months_since_land, revenue_retention from main.cohort_retention
                        where segment = ? order by cohort_month, months_since_land""", [segment])
if not cohorts.empty:
    st.plotly_chart(charts.cohort_figure(cohorts, "revenue_retention", f"Cohort revenue retention ({segment})"),
                    use_container_width=True)
