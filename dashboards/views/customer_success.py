"""Customer success: health bands, accounts red today, early warnings, renewals due in 90
days, and CSM coverage by CSM."""

from __future__ import annotations

import marts
import plotly.graph_objects as go
import streamlit as st

from laer.report import format as fmt

BAND_COLORS = {"green": "#2bb673", "yellow": "#f5a623", "red": "#e5534b", "unscored": "#b0b7c3"}

st.title("Customer success")
bands = marts.read("""select health_band, count(*) as accounts, sum(current_mrr) as mrr from main.dim_accounts
                      where current_mrr > 0 group by 1""").set_index("health_band")
month = marts.read("select at_risk_mrr, unscored_mrr, mrr from main.kpi_monthly where not is_as_of_month "
                   "order by month desc limit 1")
left, mid, right = st.columns(3)
red_mrr = float(bands["mrr"].get("red", 0))
left.metric("Red today", fmt.money(red_mrr), f"{int(bands['accounts'].get('red', 0))} accounts", delta_color="off")
if not month.empty:
    mid.metric("At-risk MRR, last complete month", fmt.money(month["at_risk_mrr"].iloc[0]),
               fmt.pct(float(month["at_risk_mrr"].iloc[0] or 0) / float(month["mrr"].iloc[0])) + " of MRR",
               delta_color="off")
    right.metric("Unscored MRR (unmatched customers)", fmt.money(month["unscored_mrr"].iloc[0]))

health = go.Figure(go.Bar(x=[b for b in BAND_COLORS if b in bands.index],
                          y=[float(bands.loc[b, "mrr"]) for b in BAND_COLORS if b in bands.index],
                          marker_color=[BAND_COLORS[b] for b in BAND_COLORS if b in bands.index],
                          text=[f"{int(bands.loc[b, 'accounts'])} accounts" for b in BAND_COLORS if b in bands.index]))
health.update_layout(title="MRR by health band today", yaxis_tickformat="$~s", height=360)
coverage = marts.read("""select coalesce(csm_id, 'no CSM') as csm, count(*) as accounts,
                                sum(case when is_overdue then 1 else 0 end) as overdue
                         from main.fct_csm_coverage group by 1 order by overdue desc, accounts desc limit 20""")
csm = go.Figure()
csm.add_bar(x=coverage["csm"], y=coverage["accounts"] - coverage["overdue"], name="touched in time", marker_color="#5b8def")
csm.add_bar(x=coverage["csm"], y=coverage["overdue"], name="touch overdue", marker_color="#e5534b")
csm.update_layout(title="CSM coverage: the 20 CSMs with the most overdue accounts", barmode="stack", height=360)
a, b = st.columns(2)
a.plotly_chart(health, use_container_width=True)
b.plotly_chart(csm, use_container_width=True)

st.subheader("Early warnings, the last 14 days")
st.dataframe(marts.read("""select alert_date, account_id, csm_id, baseline_weekly_events, last_7d_events, drop_pct,
                                  mrr_at_risk from main.early_warnings
                           where alert_date > cast((select as_of from main._publish_info) as date) - interval 14 day
                           order by mrr_at_risk desc"""), hide_index=True, use_container_width=True)
st.subheader("Renewals due in the next 90 days")
st.dataframe(marts.read("""select term_end_date, account_id, segment, csm_id, subscription_mrr, forecast_renewed_mrr,
                                  health_band from main.fct_renewals_upcoming order by term_end_date, account_id"""),
             hide_index=True, use_container_width=True)
