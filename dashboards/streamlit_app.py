"""The LAER dashboard (Streamlit): revenue, customer success and funnel on the published
marts. Start it with ``laer dashboard --warehouse <warehouse>`` (README, "Dashboard")."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="LAER", page_icon="📈", layout="wide")
pages = [
    st.Page("views/revenue.py", title="Revenue", default=True),  # served at /
    st.Page("views/customer_success.py", title="Customer success", url_path="customer_success"),
    st.Page("views/funnel.py", title="Funnel", url_path="funnel"),
]
st.navigation(pages).run()
