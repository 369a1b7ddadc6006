"""Render the report and write ``<warehouse>/reports/<as-of>/index.html`` (+ ``reports/latest``)."""

from __future__ import annotations

import html
import json
import os
import uuid
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from laer.paths import Warehouse
from laer.report import format as fmt
from laer.report.charts import all_charts
from laer.report.data import HEADLINES, MONTH_TO_DATE_KPIS, TABLE_ROWS, ReportData, load

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html", "j2"]))


def _tiles(d: ReportData) -> list[dict[str, str]]:
    tiles: list[dict[str, str]] = []
    if d.current is None:  # no month has ended yet: month to date only
        return tiles
    for key, label, kind, higher_is_better in HEADLINES:
        cur = d.current.get(key)
        prev = d.previous.get(key) if d.previous else None
        ago = d.year_ago.get(key) if d.year_ago else None

        def cls(other: object, cur: object = cur, higher_is_better: bool = higher_is_better) -> str:
            if fmt._missing(cur) or fmt._missing(other) or float(cur) == float(other):  # type: ignore[arg-type]
                return ""
            up = float(cur) > float(other)  # type: ignore[arg-type]
            return "up" if up == higher_is_better else "down"

        tiles.append({
            "key": key, "label": label, "value": fmt.FORMATTERS[kind](cur),
            "raw": "" if fmt._missing(cur) else str(cur),
            "mom": fmt.change(cur, prev, kind), "yoy": fmt.change(cur, ago, kind),
            "mom_class": cls(prev), "yoy_class": cls(ago),
        })
    return tiles


def _table(df: pd.DataFrame, columns: dict[str, tuple[str, str]], empty: str, total: str = "") -> Markup:
    """columns: name -> (header, kind) with kind in text | money | pct | num | date | band.
    The first TABLE_ROWS rows; ``total`` is a last line saying what all the rows add up to."""
    if df.empty:
        return Markup(f'<p class="empty">{html.escape(empty)}</p>')
    df = df.head(TABLE_ROWS)
    head = "".join(f'<th class="{"num" if k in ("money", "pct", "pct1", "dec1", "ratio", "num") else ""}">{html.escape(h)}</th>'
                   for h, k in columns.values())
    rows = []
    for _, r in df.iterrows():
        cells = []
        for col, (_h, kind) in columns.items():
            v = r[col]
            if kind == "money":
                text, css = fmt.money(v), "num"
            elif kind == "pct":
                text, css = ("–" if pd.isna(v) else f"{float(v):.0f} %"), "num"
            elif kind == "pct1":
                text, css = ("–" if pd.isna(v) else f"{float(v):.1f} %"), "num"
            elif kind == "dec1":
                text, css = ("–" if pd.isna(v) else f"{float(v):.1f}"), "num"
            elif kind == "ratio":
                text, css = ("–" if pd.isna(v) else f"{float(v):.1f}×"), "num"
            elif kind == "num":
                text, css = ("–" if pd.isna(v) else f"{float(v):,.0f}"), "num"
            elif kind == "date":
                text, css = ("–" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")), ""
            elif kind == "band":
                text, css = ("–" if pd.isna(v) else str(v)), f"band-{v}"
            else:
                text, css = ("–" if pd.isna(v) else str(v)), ""
            cells.append(f'<td class="{css}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = (f'<tfoot><tr><td colspan="{len(columns)}" class="total">{html.escape(total)}</td></tr></tfoot>'
            if total else "")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>{foot}</table>")


def _health(d: ReportData) -> dict[str, object]:
    """The health section: at-risk and unscored MRR of the headline month, stalled landings,
    and the back-test of the bands that put accounts at risk."""
    cur = d.current or {}
    mrr = float(cur.get("mrr") or 0)  # type: ignore[arg-type]
    at_risk, unscored = cur.get("at_risk_mrr"), cur.get("unscored_mrr")
    tiles = [
        {"key": "at_risk_mrr", "label": "At-risk MRR (red)", "raw": "" if fmt._missing(at_risk) else str(at_risk),
         "value": fmt.money(at_risk),
         "note": "–" if fmt._missing(at_risk) or not mrr else f"{float(at_risk) / mrr:.1%} of MRR"},  # type: ignore[arg-type]
        {"key": "unscored_mrr", "label": "Unscored MRR", "raw": "" if fmt._missing(unscored) else str(unscored),
         "value": fmt.money(unscored), "note": "paying, no score: unmatched billing customers"},
    ]
    if d.stalled is not None:
        tiles.append({"key": "stalled_accounts", "label": "Stalled landings", "raw": str(d.stalled["accounts"]),
                      "value": fmt.count(d.stalled["accounts"]),
                      "note": f"{fmt.money(d.stalled['mrr'])} MRR, not activated past the window"})
    backtest = Markup("")
    if d.backtest is not None:
        bt = d.backtest.assign(rate_pct=d.backtest["churn_rate"] * 100)
        backtest = _table(bt, {"health_band": ("Band on the month's first day", "band"), "accounts": ("Account-months", "num"),
                               "churned": ("Churned within 90 days", "num"), "rate_pct": ("Churn rate", "pct1"),
                               "lift": ("× green", "ratio")},
                          "No month's 90 days have passed yet.")
    n = len(d.at_risk)
    total = f"{fmt.accounts(n)} in the red band, {fmt.money(d.at_risk['current_mrr'].sum())} MRR" if n else ""
    return {"tiles": tiles, "backtest": backtest, "at_risk_total": total}


def _slices(d: ReportData) -> list[tuple[str, Markup]]:
    if d.slices is None:
        return []
    out = []
    for dimension, title in (("segment", "Segment"), ("plan", "Plan"), ("country", "Country")):
        df = d.slices[d.slices["dimension"] == dimension]
        total = (f"{len(df)} {title.lower()} values, {fmt.money(df['mrr'].sum())} MRR in all"
                 if len(df) > TABLE_ROWS else "")
        df = df.assign(logo_churn_pct=df["logo_churn_rate"] * 100, nrr_pct=df["nrr_ttm"] * 100)
        out.append((title, _table(df, {"dimension_value": (title, "text"), "mrr": ("MRR", "money"),
                                       "active_customers": ("Customers", "num"), "net_new_mrr": ("Net new", "money"),
                                       "logo_churn_pct": ("Logo churn", "pct1"), "nrr_pct": ("NRR", "pct"),
                                       "at_risk_mrr": ("At risk", "money")},
                                  f"No {title.lower()} has MRR in {d.month}.", total=total)))
    return out


def _month_to_date(d: ReportData) -> list[dict[str, str]]:
    """The unfinished month's figures, each labelled month to date (no ratio needing a whole month)."""
    if d.month_to_date is None:
        return []
    return [{"key": key, "label": label, "raw": "" if fmt._missing(d.month_to_date.get(key)) else str(d.month_to_date[key]),
             "value": fmt.FORMATTERS[kind](d.month_to_date.get(key))}
            for key, label, kind in MONTH_TO_DATE_KPIS]


def render(d: ReportData) -> str:
    charts = [(cid, Markup(fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{cid}",
                                       default_width="100%", config={"displaylogo": False, "responsive": True})))
              for cid, fig in all_charts(d)]
    checks = d.publish_info.get("checks")
    summary = json.loads(checks) if isinstance(checks, str) and checks else {}
    failed_warn = summary.get("failed_non_blocking", [])
    dq = {
        "checks": f"{summary.get('passed', '–')} / {summary.get('evaluated', '–')} passed" if summary else "–",
        "checks_note": f"{len(failed_warn)} warning(s): " + ", ".join(failed_warn[:3]) if failed_warn else "no warnings",
        "quarantined": len(d.quarantined),
        "unmatched": int(d.unmatched["customers"].iloc[0]),
        "unmatched_mrr": fmt.money(d.unmatched["mrr"].iloc[0]),
    }
    health = _health(d)
    tables = {
        "at_risk": _table(d.at_risk, {"account": ("Account", "text"), "segment": ("Segment", "text"), "csm_id": ("CSM", "text"),
                                      "current_mrr": ("MRR", "money"), "health_score": ("Health", "dec1"),
                                      "laer_stage": ("Stage", "text")}, "No paying account is in the red band.",
                          total=health["at_risk_total"]),  # type: ignore[arg-type]
        "warnings": _table(d.warnings, {"alert_date": ("Alert", "date"), "account": ("Account", "text"), "csm_id": ("CSM", "text"),
                                        "baseline_weekly_events": ("Events/week before", "num"), "last_7d_events": ("Last 7 days", "num"),
                                        "drop_pct": ("Drop", "pct"), "mrr_at_risk": ("MRR at risk", "money")},
                           "No sudden activity drops this week."),
        "renewals": _table(d.renewals, {"term_end_date": ("Term ends", "date"), "account": ("Account", "text"),
                                        "segment": ("Segment", "text"), "csm_id": ("CSM", "text"),
                                        "subscription_mrr": ("MRR due", "money"),
                                        "forecast_renewed_mrr": ("Forecast to renew", "money"),
                                        "health_band": ("Health", "band")},
                           "No annual term ends in the next 90 days.",
                           total=f"All {len(d.renewals)} renewals: {fmt.money(d.renewals['subscription_mrr'].sum())} MRR "
                                 f"due, {fmt.money(d.renewals['forecast_renewed_mrr'].sum())} forecast to renew "
                                 "(each at the dollar renewal rate observed for its health band)"
                           if not d.renewals.empty else ""),
        "churn": _table(d.churn, {"churn_type": ("Type", "text"), "feedback": ("What the customer said", "text"),
                                  "accounts": ("Accounts", "num"), "churned_mrr": ("MRR lost", "money")},
                        f"No account churned in {d.month}.",
                        total=f"{fmt.accounts(int(d.churn['accounts'].sum()))}, {fmt.money(d.churn['churned_mrr'].sum())} "
                              f"MRR lost in {d.month}" if d.churn is not None and not d.churn.empty else "")
        if d.churn is not None else Markup(""),
        "quarantined": _table(d.quarantined, {"path": ("Quarantined file", "text"), "reason": ("Reason", "text"),
                                              "quarantined_at": ("When", "date")}, "No file is in quarantine."),
    }
    return TEMPLATES.get_template("template.html.j2").render(
        d=d, tiles=_tiles(d), month_to_date=_month_to_date(d), charts=charts, tables=tables, dq=dq, plotly_js=Markup(get_plotlyjs()),
        health=health, slices=_slices(d),
        published_at=str(d.publish_info.get("published_at", ""))[:19], run_id=str(d.publish_info.get("run_id", ""))[:8])


def write_report(warehouse_dir: Path, as_of: str | None = None) -> Path:
    wh = Warehouse(Path(warehouse_dir).resolve())
    if not wh.marts_db.exists():
        raise FileNotFoundError(f"no published marts in {wh.root} (run laer refresh first)")
    data = load(wh.marts_db, as_of)
    out_dir = wh.reports / data.as_of
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".index.{uuid.uuid4().hex}.html"
    tmp.write_text(render(data), encoding="utf-8")
    os.replace(tmp, out_dir / "index.html")
    link = wh.reports / "latest"
    if link.is_symlink() and os.readlink(link) > data.as_of:
        return out_dir / "index.html"  # an older report never moves latest
    tmp_link = wh.reports / f".latest.{uuid.uuid4().hex}"
    os.symlink(data.as_of, tmp_link)
    os.replace(tmp_link, link)
    return out_dir / "index.html"
