"""Everything the report shows, read from the published marts only (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

HEADLINES = (
    # key, label, kind (money | pct | ratio | months), higher_is_better
    ("mrr", "MRR", "money", True),
    ("arr", "ARR", "money", True),
    ("nrr_ttm", "NRR (trailing 12 mo)", "pct", True),
    ("grr_ttm", "GRR (trailing 12 mo)", "pct", True),
    ("logo_churn_rate", "Logo churn (monthly)", "pct", False),
    ("quick_ratio", "Quick ratio", "ratio", True),
    ("cac_payback_months", "CAC payback", "months", False),
    ("large_customer_share", "Large-customer share", "pct", True),
    ("nps", "NPS", "score", True),
)
TABLE_ROWS = 10  # the report's tables show the top rows and a line with the totals


# The unfinished as-of month, labelled "month to date": no ratio that needs a whole month
# (marts.md § v2, the unfinished month). key, label, kind
MONTH_TO_DATE_KPIS = (
    ("mrr", "MRR", "money"), ("net_new_mrr", "Net new MRR", "money"), ("new_customers", "New customers", "count"),
    ("churned_customers", "Churned customers", "count"), ("at_risk_mrr", "At-risk MRR", "money"),
)


def last_complete_month(as_of: dt.date) -> dt.date:
    """The first day of the last month that ended on or before ``as_of``."""
    first = as_of.replace(day=1)
    if (as_of + dt.timedelta(days=1)).month != as_of.month:
        return first
    return (first - dt.timedelta(days=1)).replace(day=1)


def split_at_last_complete_month(kpis: pd.DataFrame, as_of: dt.date) -> tuple[pd.DataFrame, dict[str, object] | None]:
    """``kpi_monthly`` rows up to the as-of month, split for a headline (marts.md v2, the
    unfinished month): the complete months, and the as-of month's row while it is
    unfinished (None on its last day: then it is complete)."""
    months = pd.to_datetime(kpis["month"])
    as_of_month = pd.Timestamp(as_of.replace(day=1))
    complete = pd.Timestamp(last_complete_month(as_of))
    unfinished = kpis[months == as_of_month] if complete != as_of_month else kpis.iloc[0:0]
    return (kpis[months <= complete].reset_index(drop=True),
            unfinished.iloc[0].to_dict() if not unfinished.empty else None)


class NoDataYet(ValueError):
    """The published marts hold no month on or before the report's day: nothing to report yet."""


@dataclass
class ReportData:
    as_of: str
    month: str  # the headline month: the last complete month ("July 2024")
    kpis: pd.DataFrame  # kpi_monthly up to the headline month (complete months only)
    current: dict[str, object] | None  # the headline month's row (None before a month has ended)
    previous: dict[str, object] | None
    year_ago: dict[str, object] | None
    cohorts: pd.DataFrame
    stages: pd.DataFrame
    funnel: pd.DataFrame | None  # None when fct_funnel_monthly is turned off in dbt
    at_risk: pd.DataFrame  # every paying red account on the as-of date (the report shows the top rows)
    stalled: dict[str, float] | None  # stalled landings at the headline month's end (None: mart turned off)
    backtest: pd.DataFrame | None  # the health score's back-test, pooled (health_backtest)
    slices: pd.DataFrame | None  # kpi_monthly_by_dimension of the headline month
    warnings: pd.DataFrame
    renewals: pd.DataFrame
    churn: pd.DataFrame | None  # the headline month's churn by type and feedback (None: mart turned off)
    quarantined: pd.DataFrame
    unmatched: pd.DataFrame
    publish_info: dict[str, object]
    missing_sources: list[str]  # "no usage data delivered (events, users)", one per source
    # the as-of month while it is unfinished, shown only as "month to date"
    month_to_date: dict[str, object] | None = None
    month_to_date_label: str = ""


def is_published(con: duckdb.DuckDBPyConnection, mart: str) -> bool:
    """Whether the marts hold ``mart`` (a mart can be turned off in dbt: its section is left out)."""
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = 'main' "
                            "and table_name = ?", [mart]).fetchone()[0])  # type: ignore[index]


def missing_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sources with entities never delivered, in dq_source_deliveries' words."""
    rows = con.execute("select source, list(entity order by entity) from main.dq_source_deliveries "
                       "where not is_delivered group by source order by source").fetchall()
    return [f"no {source} data delivered ({', '.join(entities)})" for source, entities in rows]


def account_label(accounts: str, account_id: str) -> str:
    """SQL naming an account for people: its CRM name, or "unmatched billing customer <id>"
    (``accounts``: an alias of dim_accounts)."""
    return (f"case when {accounts}.is_unmatched then 'unmatched billing customer ' || replace({account_id}, 'unmatched:', '') "
            f"else coalesce({accounts}.account_name, {account_id}) end")


AT_RISK_ACCOUNTS_SQL = f"""
    select a.account_id, {account_label('a', 'a.account_id')} as account, a.segment, a.csm_id,
           a.current_mrr, a.health_score, a.laer_stage
    from main.dim_accounts as a where a.health_band = 'red' and a.current_mrr > 0
    order by a.current_mrr desc, a.account_id"""


def at_risk_accounts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every paying account in the red band on the as-of date, largest MRR first."""
    return con.execute(AT_RISK_ACCOUNTS_SQL).df()


def stalled_landings(con: duckdb.DuckDBPyConnection, month: object) -> dict[str, float]:
    """Accounts still `land` past the activation window without activating, at ``month``'s end."""
    accounts, mrr = con.execute("select coalesce(sum(stalled_accounts), 0), coalesce(sum(stalled_mrr), 0) "
                                "from main.laer_stage_monthly where month = ?", [month]).fetchone()  # type: ignore[misc]
    return {"accounts": int(accounts), "mrr": float(mrr)}


def health_backtest(con: duckdb.DuckDBPyConnection, month: object, months: int = 12) -> pd.DataFrame:
    """The health score's back-test pooled over the last ``months`` months up to ``month`` whose 90
    days have passed: per band, accounts, churned within 90 days, the rate and its lift over green."""
    df = con.execute("""
        select health_band, sum(accounts) as accounts, sum(churned_within_90d) as churned
        from main.fct_health_backtest_monthly
        where month in (select distinct month from main.fct_health_backtest_monthly
                        where outcome_is_final and month <= ? order by month desc limit ?)
        group by health_band""", [month, months]).df()
    df["churn_rate"] = df["churned"] / df["accounts"]
    green = df.loc[df["health_band"] == "green", "churn_rate"]
    df["lift"] = df["churn_rate"] / float(green.iloc[0]) if not green.empty and float(green.iloc[0]) > 0 else float("nan")
    order = {"red": 0, "yellow": 1, "green": 2, "unscored": 3}
    return df.sort_values("health_band", key=lambda b: b.map(order)).reset_index(drop=True)


def load(marts_db: Path, as_of: str | None) -> ReportData:
    with duckdb.connect(str(marts_db), read_only=True) as con:
        info = con.execute("select * from main._publish_info").df().iloc[0].to_dict()
        as_of = as_of or str(info["as_of"])
        kpis = con.execute("select * from main.kpi_monthly where month <= date_trunc('month', cast(? as date)) order by month",
                           [as_of]).df()
        if kpis.empty:
            billing = [m for m in missing_sources(con) if m.startswith("no billing data")]
            why = "no billing data has been delivered" if billing and "subscriptions" in billing[0] \
                else "no subscription had started by that day"
            raise NoDataYet(f"no data yet as of {as_of}: {why}; nothing to report")
        # the headline is the last complete month; the as-of month, while unfinished, is
        # only "month to date" (and stays out of the charts)
        kpis, to_date = split_at_last_complete_month(kpis, dt.date.fromisoformat(as_of))
        cur = kpis.iloc[-1] if not kpis.empty else None
        month = cur["month"] if cur is not None else pd.Timestamp(last_complete_month(dt.date.fromisoformat(as_of)))

        def row(offset: int) -> dict[str, object] | None:
            idx = len(kpis) - 1 - offset
            return kpis.iloc[idx].to_dict() if idx >= 0 else None

        year_ago = kpis[pd.to_datetime(kpis["month"]) == (pd.Timestamp(month) - pd.DateOffset(months=12))]
        week_start = (pd.Timestamp(as_of) - pd.Timedelta(days=6)).date()
        return ReportData(
            as_of=as_of,
            month=pd.Timestamp(month).strftime("%B %Y"),
            kpis=kpis,
            current=cur.to_dict() if cur is not None else None,
            previous=row(1),
            year_ago=year_ago.iloc[0].to_dict() if not year_ago.empty else None,
            cohorts=con.execute("select cohort_month, months_since_land, logo_retention, revenue_retention "
                                "from main.cohort_retention where segment = 'all' and cohort_month <= ? "
                                "order by cohort_month, months_since_land", [month]).df(),
            stages=con.execute("select month, stage, accounts, mrr from main.laer_stage_monthly where month <= ? "
                               "order by month, stage", [month]).df(),
            funnel=con.execute("""select lead_source, sum(leads) as leads, sum(converted_leads) as accounts,
                                         sum(trials) as trials, sum(paying_customers) as paying
                                  from main.fct_funnel_monthly where month <= ? group by 1 order by paying desc""", [month]).df()
            if is_published(con, "fct_funnel_monthly") else None,
            at_risk=at_risk_accounts(con),
            stalled=stalled_landings(con, month) if is_published(con, "laer_stage_monthly") else None,
            backtest=health_backtest(con, month) if is_published(con, "fct_health_backtest_monthly") else None,
            slices=con.execute("""select dimension, dimension_value, mrr, active_customers, net_new_mrr, logo_churn_rate,
                                         net_mrr_churn_rate, nrr_ttm, grr_ttm, at_risk_mrr
                                  from main.kpi_monthly_by_dimension where month = ?
                                  order by dimension, mrr desc, dimension_value""", [month]).df()
            if is_published(con, "kpi_monthly_by_dimension") else None,
            warnings=con.execute("""select w.alert_date, w.account_id, coalesce(a.account_name, w.account_id) as account,
                                           w.csm_id, w.baseline_weekly_events, w.last_7d_events, w.drop_pct, w.mrr_at_risk
                                    from main.early_warnings w left join main.dim_accounts a using (account_id)
                                    where w.alert_date between ? and ? order by w.mrr_at_risk desc, w.account_id""",
                                 [week_start, as_of]).df(),
            renewals=con.execute(f"""select r.term_end_date, r.account_id, {account_label('a', 'r.account_id')} as account,
                                           r.segment, r.csm_id, r.subscription_mrr, r.forecast_renewed_mrr, r.health_band
                                    from main.fct_renewals_upcoming r left join main.dim_accounts a using (account_id)
                                    order by r.term_end_date, r.account_id""").df(),
            churn=con.execute("""select churn_type, coalesce(cancellation_feedback, 'not given') as feedback,
                                        count(*) as accounts, -sum(churned_mrr) as churned_mrr
                                 from main.fct_churn_events where month = ? group by all
                                 order by churned_mrr desc, churn_type, feedback""", [month]).df()
            if is_published(con, "fct_churn_events") else None,
            quarantined=con.execute("select path, reason, quarantined_at from main.dq_quarantined_files order by path").df(),
            unmatched=con.execute("select count(*) as customers, coalesce(sum(current_mrr), 0) as mrr "
                                  "from main.dq_unmatched_customers").df(),
            publish_info=info,
            missing_sources=missing_sources(con),
            month_to_date=to_date,
            month_to_date_label=f"{pd.Timestamp(as_of):%B %Y}, month to date (to {as_of})",
        )
