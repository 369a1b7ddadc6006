"""Funnel: leads to paying customers by lead source, and CAC by channel."""

from __future__ import annotations

import marts
import plotly.graph_objects as go
import streamlit as st

st.title("Funnel")
funnel = marts.read("""select lead_source, sum(leads) as leads, sum(converted_leads) as accounts, sum(trials) as trials,
                              sum(paying_customers) as paying
                       from main.fct_funnel_monthly group by 1 having sum(leads) > 0 order by paying desc""")
conversion = go.Figure()
for column, label in (("accounts", "lead → account"), ("trials", "lead → trial"), ("paying", "lead → paying")):
    conversion.add_bar(x=funnel["lead_source"], y=funnel[column] / funnel["leads"], name=label)
conversion.update_layout(title="Conversion by lead source, all leads to date", yaxis_tickformat=".0%",
                         barmode="group", height=380)
cac = marts.read("""select lead_source, sum(spend) / nullif(sum(new_customers), 0) as cac, sum(new_customers) as customers
                    from main.fct_funnel_monthly
                    where month > (select max(month) from main.kpi_monthly where not is_as_of_month) - interval 12 month
                      and month <= (select max(month) from main.kpi_monthly where not is_as_of_month)
                    group by 1 order by cac""")
by_channel = go.Figure(go.Bar(x=cac["lead_source"], y=cac["cac"].astype(float),
                              text=[f"{int(n)} customers" for n in cac["customers"]]))
by_channel.update_layout(title="CAC by channel, the last 12 complete months (marketing and sales cost)",
                         yaxis_tickprefix="$", height=380)
left, right = st.columns(2)
left.plotly_chart(conversion, use_container_width=True)
right.plotly_chart(by_channel, use_container_width=True)
