"""The CSM digest: one e-mail per CSM with something to act on in their accounts, as of
the published marts' day — new early warnings, accounts turning red, renewals due within
90 days, overdue touches. A CSM with none of these gets nothing.

Addresses come from ``crm/users`` (staging, never a mart); accounts are named by the
account (company) name of ``dim_accounts``.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import duckdb

from laer.headline import money

RENEWAL_DAYS = 90


@dataclass(frozen=True)
class Staff:
    email: str
    name: str | None


@dataclass
class Digest:
    csm_id: str
    warnings: list[tuple] = field(default_factory=list)  # (account, drop %, MRR at risk)
    turned_red: list[tuple] = field(default_factory=list)  # (account, health score, MRR)
    renewals: list[tuple] = field(default_factory=list)  # (account, term end, subscription MRR, band)
    overdue: list[tuple] = field(default_factory=list)  # (account, days since last touch, max days)

    @property
    def is_empty(self) -> bool:
        return not (self.warnings or self.turned_red or self.renewals or self.overdue)


QUERIES = {
    "warnings": """select w.csm_id, coalesce(a.account_name, w.account_id), w.drop_pct, w.mrr_at_risk
                   from main.early_warnings w left join main.dim_accounts a using (account_id)
                   where w.alert_date = ? and w.csm_id is not null order by w.mrr_at_risk desc, 2""",
    "turned_red": """select a.csm_id, coalesce(a.account_name, d.account_id), d.health_score, d.mrr
                     from main.fct_account_health_daily d
                     join main.dim_accounts a using (account_id)
                     left join main.fct_account_health_daily y
                       on y.account_id = d.account_id and y.date = d.date - interval 1 day
                     where d.date = ? and d.health_band = 'red' and coalesce(y.health_band, '') <> 'red'
                       and a.csm_id is not null
                     order by d.mrr desc, 2""",
    "renewals": """select r.csm_id, coalesce(a.account_name, r.account_id), r.term_end_date, r.subscription_mrr,
                          r.health_band
                   from main.fct_renewals_upcoming r left join main.dim_accounts a using (account_id)
                   where r.term_end_date between ? and ? + interval 90 day and r.csm_id is not null
                   order by r.term_end_date, 2""",
    "overdue": """select c.csm_id, coalesce(a.account_name, c.account_id), c.days_since_last_touch,
                         c.max_days_between_touches
                  from main.fct_csm_coverage c left join main.dim_accounts a using (account_id)
                  where c.is_overdue and c.csm_id is not null
                  order by c.days_since_last_touch desc nulls first, 2""",
}


def load_digests(marts_db: Path) -> tuple[dt.date, dict[str, Digest]]:
    """The as-of day of the published marts and every CSM's digest (empty ones included)."""
    digests: dict[str, Digest] = {}
    with duckdb.connect(str(marts_db), read_only=True) as con:
        as_of = dt.date.fromisoformat(str(con.execute("select as_of from main._publish_info").fetchone()[0]))
        for part, sql in QUERIES.items():
            params = [as_of, as_of] if part == "renewals" else [] if part == "overdue" else [as_of]
            for csm_id, *row in con.execute(sql, params).fetchall():
                getattr(digests.setdefault(csm_id, Digest(csm_id)), part).append(tuple(row))
    return as_of, digests


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    th = "".join(f'<th style="text-align:left;padding:4px 10px 4px 0;font-size:13px;color:#455a64">{h}</th>'
                 for h in header)
    body = "".join("<tr>" + "".join(f'<td style="padding:3px 10px 3px 0;font-size:13px">{html.escape(c)}</td>'
                                    for c in r) + "</tr>" for r in rows)
    return (f'<h2 style="font-size:15px;margin:16px 0 4px 0">{html.escape(title)} ({len(rows)})</h2>'
            f'<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse">'
            f"<tr>{th}</tr>{body}</table>")


def sections(d: Digest) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    """(title, header, rows as text) of the digest's non-empty parts."""
    parts = [
        ("New early warnings", ("Account", "Activity drop", "MRR at risk"),
         [(a, f"{float(p):.0f} %", money(m)) for a, p, m in d.warnings]),
        ("Turned red today", ("Account", "Health score", "MRR"),
         [(a, f"{float(s):.0f}", money(m)) for a, s, m in d.turned_red]),
        (f"Renewals due within {RENEWAL_DAYS} days", ("Account", "Term ends", "MRR", "Health"),
         [(a, str(t), money(m), b or "n/a") for a, t, m, b in d.renewals]),
        ("Overdue touches", ("Account", "Days since last touch", "Touch every"),
         [(a, "never touched" if n is None else f"{n} days", f"{mx} days") for a, n, mx in d.overdue]),
    ]
    return [p for p in parts if p[2]]


def digest_email(d: Digest, to: Staff, as_of: dt.date) -> EmailMessage:
    greeting = f"Hello {to.name}," if to.name else "Hello,"
    found = sections(d)
    html_parts = ['<div style="font-family:Helvetica,Arial,sans-serif;color:#263238;max-width:680px">',
                  f'<p style="font-size:14px">{html.escape(greeting)} your accounts as of {as_of}:</p>']
    text = [greeting, f"Your accounts as of {as_of}:", ""]
    for title, header, rows in found:
        html_parts.append(_table(title, header, rows))
        text += [f"{title} ({len(rows)})"] + ["  " + " · ".join(r) for r in rows] + [""]
    html_parts.append("</div>")
    message = EmailMessage()
    counts = ", ".join(f"{title.lower()}: {len(rows)}" for title, _, rows in found)
    message["Subject"] = f"Your accounts as of {as_of} — {counts}"
    message["To"] = to.email
    message.set_content("\n".join(text))
    message.add_alternative("<!DOCTYPE html><html><body>" + "".join(html_parts) + "</body></html>", subtype="html")
    return message


def csm_digests(marts_db: Path, staff: Mapping[str, Staff]) -> tuple[list[EmailMessage], list[str]]:
    """The digests to send, and the CSMs with something to say but no address in crm/users."""
    as_of, digests = load_digests(marts_db)
    messages, unknown = [], []
    for csm_id in sorted(digests):
        d = digests[csm_id]
        if d.is_empty:
            continue
        if csm_id not in staff:
            unknown.append(csm_id)
            continue
        messages.append(digest_email(d, staff[csm_id], as_of))
    return messages, unknown


def read_staff(con: duckdb.DuckDBPyConnection) -> dict[str, Staff]:
    """CSM id -> address from the working warehouse's staging (crm/users; empty before it delivers)."""
    rows = con.execute("select user_id, email, user_name from staging.stg_crm__users "
                       "where email is not null").fetchall()
    return {user_id: Staff(email, name) for user_id, email, name in rows}
