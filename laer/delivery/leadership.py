"""The leadership e-mail: the last complete month's KPIs as the headline, the unfinished
month beside them labelled "month to date", and two charts, all from the published marts.

E-mail-safe HTML: tables and inline styles, no script, no stylesheet, images embedded as
PNG parts referenced by ``cid:``. Every figure carries its exact value in ``data-value``
(what tests compare with ``kpi_monthly``).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import duckdb
import pandas as pd

from laer.delivery import charts
from laer.headline import money, pct
from laer.report.data import (
    MONTH_TO_DATE_KPIS,
    at_risk_accounts,
    is_published,
    missing_sources,
    split_at_last_complete_month,
    stalled_landings,
)
from laer.report.format import accounts

# key, label, kind: the last complete month
MONTH_KPIS = (
    ("mrr", "MRR", "money"), ("arr", "ARR", "money"), ("net_new_mrr", "Net new MRR", "money"),
    ("nrr_ttm", "NRR (trailing 12 months)", "pct"), ("grr_ttm", "GRR (trailing 12 months)", "pct"),
    ("logo_churn_rate", "Logo churn", "pct"), ("quick_ratio", "Quick ratio", "ratio"),
    ("active_customers", "Active customers", "count"), ("new_customers", "New customers", "count"),
    ("churned_customers", "Churned customers", "count"), ("at_risk_mrr", "At-risk MRR", "money"),
    ("unscored_mrr", "Unscored MRR (unmatched customers)", "money"),
    ("voluntary_churned_mrr", "Churned MRR, voluntary", "money"),
    ("involuntary_churned_mrr", "Churned MRR, failed payments", "money"),
    ("cac_payback_months", "CAC payback", "months"), ("nps", "NPS", "score"),
)
TREND_MONTHS = 12
AT_RISK_NAMED = 5  # the largest red accounts the e-mail names


@dataclass(frozen=True)
class Attention:
    """What needs someone's attention: accounts red today, stalled landings at the headline
    month's end, renewals due in 90 days with their forecast."""
    at_risk: pd.DataFrame  # every paying red account on the as-of date, largest MRR first
    stalled: dict[str, float] | None  # None when laer_stage_monthly is turned off
    renewals: dict[str, float] | None  # accounts, mrr_due, forecast; None when turned off
    churn_reasons: list[tuple[str, int]] | None = None  # the headline month's churns by what customers said


@dataclass(frozen=True)
class Headline:
    as_of: dt.date
    month: dict[str, object] | None  # kpi_monthly of the last complete month
    to_date: dict[str, object] | None  # kpi_monthly of the as-of month while it is unfinished
    trend: pd.DataFrame  # kpi_monthly of up to TREND_MONTHS complete months, oldest first
    missing_sources: list[str]  # "no usage data delivered (events, users)"
    attention: Attention | None = None


def load_headline(marts_db: Path) -> Headline:
    with duckdb.connect(str(marts_db), read_only=True) as con:
        as_of = dt.date.fromisoformat(str(con.execute("select as_of from main._publish_info").fetchone()[0]))
        kpis = con.execute("select * from main.kpi_monthly where month <= ? order by month",
                           [as_of.replace(day=1)]).df()
        missing = missing_sources(con)
        done, to_date = split_at_last_complete_month(kpis, as_of)
        done["month"] = pd.to_datetime(done["month"]).dt.date
        renewals = None
        if is_published(con, "fct_renewals_upcoming"):
            count, due, forecast = con.execute(
                "select count(*), coalesce(sum(subscription_mrr), 0), coalesce(sum(forecast_renewed_mrr), 0) "
                "from main.fct_renewals_upcoming").fetchone()  # type: ignore[misc]
            renewals = {"accounts": int(count), "mrr_due": float(due), "forecast": float(forecast)}
        reasons = None
        if is_published(con, "fct_churn_events") and not done.empty:
            reasons = [(str(r), int(n)) for r, n in con.execute(
                "select coalesce(cancellation_feedback, case when churn_type = 'involuntary' then 'failed payment' "
                "else 'not given' end) as reason, count(*) from main.fct_churn_events where month = ? "
                "group by 1 order by 2 desc, 1", [done["month"].iloc[-1]]).fetchall()]
        attention = Attention(
            churn_reasons=reasons,
            at_risk=at_risk_accounts(con),
            stalled=stalled_landings(con, done["month"].iloc[-1])
            if not done.empty and is_published(con, "laer_stage_monthly") else None,
            renewals=renewals)
    return Headline(as_of=as_of, month=done.iloc[-1].to_dict() if not done.empty else None, to_date=to_date,
                    trend=done.tail(TREND_MONTHS).reset_index(drop=True), missing_sources=missing, attention=attention)


def _shown(value: object, kind: str) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "n/a"
    if kind == "money":
        return money(value)  # type: ignore[arg-type]
    if kind == "pct":
        return pct(value)  # type: ignore[arg-type]
    if kind == "ratio":
        return f"{float(value):.2f}×"  # type: ignore[arg-type]
    if kind == "months":
        return f"{float(value):.1f} months"  # type: ignore[arg-type]
    if kind == "score":
        return f"{float(value):+.0f}"  # type: ignore[arg-type]
    return f"{int(value):,}"  # type: ignore[call-overload]


def _exact(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)  # type: ignore[arg-type]


def _kpi_rows(row: dict[str, object], kpis: tuple[tuple[str, str, str], ...], period: str) -> str:
    cells = []
    for key, label, kind in kpis:
        cells.append(
            f'<tr><td style="padding:4px 12px 4px 0;color:#455a64;font-size:14px">{html.escape(label)}</td>'
            f'<td style="padding:4px 0;font-size:14px;font-weight:bold;text-align:right" data-period="{period}" '
            f'data-kpi="{key}" data-value="{html.escape(_exact(row.get(key)))}">{html.escape(_shown(row.get(key), kind))}'
            f"</td></tr>")
    return "".join(cells)


def _attention(h: Headline) -> tuple[str, list[str]]:
    """The e-mail's "needs attention" block (HTML, text lines); every figure with its exact value."""
    a = h.attention
    if a is None:
        return "", []
    cell = "padding:4px 12px 4px 0;font-size:14px"
    rows: list[tuple[str, str, str, str]] = []  # key, label, exact value, shown
    red_mrr = float(a.at_risk["current_mrr"].sum()) if not a.at_risk.empty else 0.0
    n = len(a.at_risk)
    rows.append(("at_risk_accounts", f"Red today ({h.as_of})", str(n),
                 f"{accounts(n)}, {money(red_mrr)} MRR"))
    if a.stalled is not None and h.month is not None:
        k = int(a.stalled["accounts"])
        rows.append(("stalled_accounts", f"Stalled landings ({_month_label(h.month['month'])})", str(k),
                     f"{accounts(k)}, {money(a.stalled['mrr'])} MRR, not activated"))
    if a.renewals is not None:
        r = a.renewals
        rows.append(("renewals_mrr_due", "Renewals due in 90 days", str(r["mrr_due"]),
                     f"{int(r['accounts']):,} terms, {money(r['mrr_due'])} MRR due, {money(r['forecast'])} forecast to renew"))
    if a.churn_reasons and h.month is not None:
        total = sum(n for _, n in a.churn_reasons)
        rows.append(("churned_accounts", f"Why customers left ({_month_label(h.month['month'])})", str(total),
                     ", ".join(f"{reason.replace('_', ' ')} {n}" for reason, n in a.churn_reasons)))
    parts = ['<h2 style="font-size:16px;margin:16px 0 4px 0">Needs attention</h2>',
             '<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">']
    parts += [f'<tr><td style="{cell};color:#455a64">{html.escape(label)}</td>'
              f'<td style="{cell};font-weight:bold" data-attention="{key}" data-value="{html.escape(exact)}">'
              f"{html.escape(shown)}</td></tr>" for key, label, exact, shown in rows]
    parts.append("</table>")
    text = ["Needs attention"] + [f"  {label}: {shown}" for _, label, _, shown in rows]
    if n:
        named = a.at_risk.head(AT_RISK_NAMED)
        items = [f"{r.account} ({r.segment}, CSM {r.csm_id or '–'}): {money(r.current_mrr)} MRR, health {float(r.health_score):.1f}"
                 for r in named.itertuples()]
        parts.append(f'<p style="font-size:14px;margin:8px 0 0 0">The largest red accounts:</p>'
                     f'<ul style="font-size:14px;margin:4px 0">{"".join(f"<li>{html.escape(i)}</li>" for i in items)}</ul>')
        text += ["  The largest red accounts:"] + [f"    {i}" for i in items]
    return "".join(parts), [*text, ""]


def _month_label(month: object) -> str:
    return pd.Timestamp(month).strftime("%B %Y")  # type: ignore[arg-type]


def subject(headline: Headline) -> str:
    if headline.month is None:
        return f"LAER report as of {headline.as_of}: no complete month yet"
    return (f"LAER report as of {headline.as_of}: MRR {money(headline.month['mrr'])} "  # type: ignore[arg-type]
            f"({_month_label(headline.month['month'])})")


CHARTS = (("mrr-movements", "MRR movements by month", charts.movements_png),
          ("retention", "NRR and GRR, trailing 12 months", charts.retention_png))


def leadership_email(marts_db: Path, recipients: tuple[str, ...], report: Path | None, report_url: str = "") -> EmailMessage:
    """The e-mail of the marts published in ``marts_db``; the report attached, or linked
    when ``report_url`` says where reports are served."""
    h = load_headline(marts_db)
    font = "font-family:Helvetica,Arial,sans-serif;color:#263238"
    parts = [f'<div style="{font};max-width:680px">',
             f'<h1 style="font-size:20px;margin:0 0 4px 0">LAER report as of {h.as_of}</h1>']
    text = [f"LAER report as of {h.as_of}", ""]
    if h.missing_sources:
        note = "; ".join(h.missing_sources).capitalize() + ": the figures that need them show –."
        parts.append(f'<p style="font-size:14px">{html.escape(note)}</p>')
        text += [note, ""]
    if h.month is not None:
        label = _month_label(h.month["month"])
        parts += [f'<h2 style="font-size:16px;margin:16px 0 4px 0">{label}</h2>',
                  f'<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">'
                  f'{_kpi_rows(h.month, MONTH_KPIS, "month")}</table>']
        text += [label] + [f"  {lbl}: {_shown(h.month.get(k), kind)}" for k, lbl, kind in MONTH_KPIS] + [""]
    else:
        parts.append('<p style="font-size:14px">No month is complete yet.</p>')
    if h.to_date is not None:
        label = f"{_month_label(h.to_date['month'])}, month to date (to {h.as_of})"
        parts += [f'<h2 style="font-size:16px;margin:16px 0 4px 0">{html.escape(label)}</h2>',
                  f'<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">'
                  f'{_kpi_rows(h.to_date, MONTH_TO_DATE_KPIS, "month_to_date")}</table>']
        text += [label] + [f"  {lbl}: {_shown(h.to_date.get(k), kind)}" for k, lbl, kind in MONTH_TO_DATE_KPIS] + [""]
    attention_html, attention_text = _attention(h)
    parts.append(attention_html)
    text += attention_text
    images: list[tuple[str, bytes]] = []
    if not h.trend.empty:
        for name, alt, draw in CHARTS:
            cid = make_msgid(idstring=name, domain="laer.local")
            images.append((cid, draw(h.trend)))
            parts.append(f'<p style="margin:16px 0 0 0"><img src="cid:{cid[1:-1]}" width="{charts.WIDTH}" '
                         f'height="{charts.HEIGHT}" alt="{html.escape(alt)}" style="display:block;border:0"></p>')
    if report_url:
        link = f"{report_url.rstrip('/')}/{h.as_of}/index.html"
        parts.append(f'<p style="font-size:14px"><a href="{html.escape(link)}">The full report</a></p>')
        text.append(f"The full report: {link}")
    elif report is not None:
        parts.append('<p style="font-size:14px">The full report is attached (open it in a browser).</p>')
        text.append("The full report is attached (open it in a browser).")
    parts.append("</div>")

    message = EmailMessage()
    message["Subject"] = subject(h)
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join(text))
    message.add_alternative("<!DOCTYPE html><html><body>" + "".join(parts) + "</body></html>", subtype="html")
    body = message.get_payload()[1]  # type: ignore[index]
    for cid, png in images:
        body.add_related(png, maintype="image", subtype="png", cid=cid)
    if report is not None and not report_url:
        # base64 of the file's bytes: the report arrives byte for byte (a text part's lines
        # would be re-ended with CRLF on the way)
        message.add_attachment(report.read_bytes(), maintype="text", subtype="html", params={"charset": "utf-8"},
                               filename=f"laer-report-{h.as_of}.html")
    return message
