"""Turn the simulated company into record versions of every landing entity.

Each function returns a DataFrame whose columns are the contract's columns plus
``_ts``: the epoch second the version was exported (its batch is chosen from it).
Timestamp columns hold epoch seconds (nullable); the writer formats them.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from laer.generate import config as C
from laer.generate.company import Company
from laer.generate.config import DAY

FIRST = ("Anna", "José", "Zoë", "Łukasz", "Mei", "Oliver", "Chloé", "Søren", "Amara", "Raj",
         "Björn", "Lucía", "Noah", "Emma", "Hiroshi", "Fatima", "Liam", "Ines", "Mateo", "Ava")
LAST = ("Smith", "García", "Müller", "Nowak", "Chen", "O'Brien", "Dubois", "Jensen", "Okafor",
        "Patel", "Johansson", "Fernández", "Kim", "Rossi", "Tanaka", "Haddad", "Brown", "Silva")
NAME_A = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
          "Tyrell", "Cyberdyne", "Aperture", "Nordwind", "Müller", "Café", "Zenith", "Blue", "Orbit")
NAME_B = ("Labs", "Systems", "GmbH", "Analytics", "Logistics", "Health", "Retail", "Studios",
          "Holdings", "Software", "Partners", "& Co", "Group", "Dynamics")


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(words, dtype=object)[rng.integers(0, len(words), n)]


def accounts(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    a = co.accounts[~co.accounts.unmatched].reset_index(drop=True)
    n = len(a)
    created = co.epoch0 + a.created_day.to_numpy() * DAY + rng.integers(0, DAY, n)
    names = [f"{x} {y}" for x, y in zip(_pick(rng, NAME_A, n), _pick(rng, NAME_B, n), strict=True)]
    base = pd.DataFrame({
        "account_id": a.account_id, "name": [f"{nm} {i}" for nm, i in zip(names, a.idx, strict=True)],
        "domain": [f"{nm.split()[0].lower()}{i}.example" for nm, i in zip(names, a.idx, strict=True)],
        "industry": a.industry, "employee_count": a.employee_count, "country": a.country,
        "owner_id": a.owner_id, "csm_id": np.where(a.segment.to_numpy() == 0, None, a.csm_id),
        "created_at": created, "updated_at": created, "is_deleted": False, "_ts": created,
    })
    # a later CRM edit for some accounts: headcount grows, a CSM gets assigned
    edit = rng.random(n) < 0.3
    later = created + (rng.random(n) * np.maximum(DAY, (co.cfg.days * DAY + co.epoch0 - created))).astype(np.int64)
    upd = base[edit].copy()
    upd["employee_count"] = (upd.employee_count * rng.uniform(1.0, 1.3, len(upd))).round().astype(np.int64)
    upd["csm_id"] = a.csm_id[edit].to_numpy()
    upd["updated_at"] = upd["_ts"] = later[edit]
    # prospects that go nowhere are deleted from the CRM after a while (tombstones)
    gone = (a.path.to_numpy() == 3) & (rng.random(n) < 0.25)
    tomb = base[gone].copy()
    tomb["is_deleted"] = True
    tomb["updated_at"] = tomb["_ts"] = later[gone] + DAY
    return pd.concat([base, upd, tomb], ignore_index=True)


def contacts(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    a = co.accounts[~co.accounts.unmatched]
    k = 1 + rng.integers(0, 4, len(a))
    acc = np.repeat(a.account_id.to_numpy(), k)
    day = np.repeat(a.created_day.to_numpy(), k) + rng.integers(0, 60, k.sum())
    day = np.minimum(day, co.cfg.days - 1)
    n = acc.size
    first, last = _pick(rng, FIRST, n), _pick(rng, LAST, n)
    ts = co.epoch0 + day * DAY + rng.integers(0, DAY, n)
    return pd.DataFrame({
        "contact_id": [f"con_{i:07d}" for i in range(n)], "account_id": acc,
        "email": [f"{fn.lower()}.{ln.lower().replace(chr(39), '')}{i}@mail.example" for i, (fn, ln) in enumerate(zip(first, last, strict=True))],
        "first_name": first, "last_name": last,
        "title": _pick(rng, ("CEO", "VP Operations", "Head of Data", "Engineer", "Analyst", "CFO"), n),
        "created_at": ts, "updated_at": ts, "is_deleted": False, "_ts": ts,
    })


def _ascii(name: str) -> str:
    """A name as the ASCII letters of an e-mail address's local part (Chloé -> chloe)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name).lower() if ch.isascii() and ch.isalpha())


def staff(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    """The company's own users: every CSM and sales rep the accounts name, and leadership."""
    csms = sorted(set(co.accounts.csm_id.dropna()))
    reps = sorted(set(co.accounts.owner_id.dropna()))
    leaders = ["lead_ceo", "lead_cro", "lead_vpcs"]
    ids = [*csms, *reps, *leaders]
    roles = ["csm"] * len(csms) + ["sales"] * len(reps) + ["leadership"] * len(leaders)
    n = len(ids)
    first, last = _pick(rng, FIRST, n), _pick(rng, LAST, n)
    ts = np.full(n, co.epoch0, dtype=np.int64)
    return pd.DataFrame({
        "user_id": ids,
        "email": [f"{_ascii(fn)}.{_ascii(ln)}.{uid.replace('_', '')}@staff.example"
                  for fn, ln, uid in zip(first, last, ids, strict=True)],
        "name": [f"{fn} {ln}" for fn, ln in zip(first, last, strict=True)],
        "role": roles, "updated_at": ts, "is_deleted": False, "_ts": ts,
    })


def leads(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    a = co.accounts[~co.accounts.unmatched]
    n = len(a)
    conv_ts = co.epoch0 + a.created_day.to_numpy() * DAY + rng.integers(0, DAY, n)
    lead_ts = np.maximum(co.epoch0, conv_ts - rng.gamma(2.0, 9.0, n).astype(np.int64) * DAY)
    won_v1 = pd.DataFrame({
        "lead_id": [f"lead_{i:07d}" for i in range(n)], "email": [f"lead{i}@mail.example" for i in range(n)],
        "company_name": a.account_id.to_numpy(), "source": a.source.to_numpy(), "status": "new",
        "created_at": lead_ts, "converted_at": None, "converted_account_id": None,
        "updated_at": lead_ts, "_ts": lead_ts,
    })
    won_v2 = won_v1.assign(status="converted", converted_at=conv_ts,
                           converted_account_id=a.account_id.to_numpy(), updated_at=conv_ts, _ts=conv_ts)
    # leads that never convert, so that each source converts at its own rate
    per_src = a.source.value_counts()
    rows = []
    for src, (_share, p) in C.LEAD_SOURCE_MIX.items():
        rows.append(np.full(round(per_src.get(src, 0) * (1 - p) / p), src, dtype=object))
    src = np.concatenate(rows)
    m = src.size
    ts = co.epoch0 + (rng.random(m) * (co.cfg.days - 1) * DAY).astype(np.int64)
    lost_v1 = pd.DataFrame({
        "lead_id": [f"lead_{i:07d}" for i in range(n, n + m)],
        "email": [f"lead{i}@mail.example" for i in range(n, n + m)],
        "company_name": [f"Prospect {i}" for i in range(m)], "source": src, "status": "new",
        "created_at": ts, "converted_at": None, "converted_account_id": None, "updated_at": ts, "_ts": ts,
    })
    later = np.minimum(ts + rng.integers(2, 40, m) * DAY, co.epoch0 + (co.cfg.days - 1) * DAY)
    lost_v2 = lost_v1.assign(status=np.where(rng.random(m) < 0.7, "disqualified", "working"),
                             updated_at=later, _ts=later)
    return pd.concat([won_v1, won_v2, lost_v1, lost_v2], ignore_index=True)


def customers(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    first_sub = co.subscriptions.groupby("stream").created.min()
    s = co.streams[co.streams.stream.isin(first_sub.index)]  # a stream that never started has no customer
    acc = co.accounts.set_index("idx").loc[s.account_idx]
    ts = first_sub.reindex(s.stream).to_numpy() - rng.integers(60, 3600, len(s))
    unmatched = acc.unmatched.to_numpy()
    account_id = np.where(unmatched, np.where(rng.random(len(s)) < 0.5, None,
                                              "acc_unknown_" + acc.account_id.str[4:].to_numpy()),
                          acc.account_id.to_numpy())
    cur = np.array(C.CURRENCIES)[s.cur_idx.to_numpy()]
    return pd.DataFrame({
        "customer_id": [f"cus_{i:07d}" for i in s.stream], "account_id": account_id,
        "email": [f"billing{i}@mail.example" for i in s.stream],
        "currency": np.where(rng.random(len(s)) < 0.2, np.char.upper(cur.astype(str)), cur),
        "created_at": ts, "updated_at": ts, "is_deleted": False, "_ts": ts,
    })


def plans(co: Company) -> pd.DataFrame:
    p = co.plans.drop(columns=["tier", "cadence"]).copy()
    p["updated_at"] = p["_ts"] = co.epoch0
    return p


def subscriptions(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    s = co.subscriptions
    ids = [f"sub_{i:07d}" for i in s["sub"]]
    cust = [f"cus_{i:07d}" for i in s.stream]
    trial_end = s.trial_end.to_numpy(dtype=float, na_value=np.nan)
    has_trial = ~np.isnan(trial_end)
    created = s.created.to_numpy()
    base = pd.DataFrame({
        "subscription_id": ids, "customer_id": cust,
        "status": np.where(has_trial, "trialing", "active"), "created_at": created,
        "trial_start": s.trial_start, "trial_end": s.trial_end,
        "current_period_start": created, "current_period_end": created + 30 * DAY,
        "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
        "updated_at": created, "_ts": created,
    })
    out = [base]
    ended = s.ended.to_numpy(dtype=float, na_value=np.nan)
    canceled = s.canceled.to_numpy(dtype=float, na_value=np.nan)
    converted = has_trial & ~(ended == trial_end)
    v = base[converted].assign(status="active", updated_at=s.trial_end[converted], _ts=s.trial_end[converted])
    out.append(v)
    # cancellation requested before the end: still counts until ended_at
    req = ~np.isnan(canceled) & (canceled < ended)
    voluntary = s.voluntary.fillna(True).to_numpy(dtype=bool)
    v = base[req].assign(
        status=np.where(voluntary[req], "active", "past_due"),
        cancel_at_period_end=voluntary[req], canceled_at=s.canceled[req].to_numpy(dtype="int64"),
        updated_at=s.canceled[req].to_numpy(dtype="int64"), _ts=s.canceled[req].to_numpy(dtype="int64"))
    out.append(v)
    done = ~np.isnan(ended)
    e = s.ended[done].to_numpy(dtype="int64")
    # landing v2: why it ended. Involuntary churners end `unpaid` after their last invoice
    # failed (billing_money); the others asked to cancel, and most of them said why
    involuntary = ~voluntary[done]
    feedback = _pick(rng, C.CANCELLATION_FEEDBACK_MIX, int(done.sum()))
    said = rng.random(int(done.sum())) < C.CANCELLATION_FEEDBACK_SHARE
    v = base[done].assign(status=np.where(involuntary, "unpaid", "canceled"),
                          canceled_at=s.canceled[done].to_numpy(dtype="int64"), ended_at=e, updated_at=e, _ts=e,
                          cancellation_reason=np.where(involuntary, "payment_failed", "cancellation_requested"),
                          cancellation_feedback=np.where(~involuntary & said, feedback, None))
    out.append(v)
    return pd.concat(out, ignore_index=True)


def subscription_items(co: Company) -> pd.DataFrame:
    it = co.items
    base = pd.DataFrame({
        "subscription_item_id": [f"si_{i:07d}" for i in it["item"]],
        "subscription_id": [f"sub_{i:07d}" for i in it["sub"]],
        "plan_id": co.plans.plan_id.to_numpy()[it.plan.to_numpy()], "quantity": it.qty,
        "discount_percent": it.disc, "started_at": it.start, "ended_at": None,
        "updated_at": it.start, "_ts": it.start,
    })
    done = it.end.notna().to_numpy()
    e = it.end[done].to_numpy(dtype="int64")
    return pd.concat([base, base[done].assign(ended_at=e, updated_at=e, _ts=e)], ignore_index=True)


def billing_money(co: Company, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Invoices (with lines), payments and refunds, one invoice per subscription term."""
    end_ts = co.epoch0 + co.cfg.days * DAY
    s = co.subscriptions
    paid_from = s.trial_end.fillna(s.created).to_numpy(dtype="int64")
    until = s.ended.fillna(end_ts).to_numpy(dtype="int64")
    cad = co.streams.cadence.to_numpy()[s.stream.to_numpy()]
    term_days = np.array([30.44, 91.31, 365.25])[cad]
    term_months = np.array([1, 3, 12])[cad]
    k = np.maximum(0, np.ceil((until - paid_from) / (term_days * DAY))).astype(np.int64)
    sub = np.repeat(s["sub"].to_numpy(), k)
    j = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    ps = np.repeat(paid_from, k) + (j * np.repeat(term_days, k) * DAY).astype(np.int64)
    per = pd.DataFrame({"sub": sub, "k": j, "ps": ps, "pe": ps + (np.repeat(term_days, k) * DAY).astype(np.int64),
                        "tm": np.repeat(term_months, k), "stream": np.repeat(s.stream.to_numpy(), k)})
    per = per[per.ps < until.max()]
    per["invoice_id"] = [f"in_{i:08d}" for i in range(len(per))]
    it = co.items.assign(end=co.items.end.fillna(end_ts + DAY))
    lines = per.merge(it[["sub", "item", "plan", "qty", "disc", "start", "end"]], on="sub")
    lines = lines[(lines.start <= lines.ps) & (lines.end > lines.ps)]
    pl = co.plans
    months_per_interval = np.where(pl.billing_interval == "year", 12, 1) * pl.interval_count
    unit = pl.unit_amount.to_numpy()[lines.plan.to_numpy()]
    mpi = months_per_interval.to_numpy()[lines.plan.to_numpy()]
    gross = np.round(unit * lines.qty.to_numpy() * lines.tm.to_numpy() / mpi).astype(np.int64)
    lines = lines.assign(gross=gross, disc_amt=np.round(gross * lines.disc.to_numpy() / 100).astype(np.int64))
    lines = lines[lines.gross > 0]
    cur = np.array(C.CURRENCIES)[co.streams.cur_idx.to_numpy()]
    inv = lines.groupby(["invoice_id", "sub", "stream", "ps", "pe"], as_index=False).agg(
        subtotal=("gross", "sum"), discount=("disc_amt", "sum"))
    inv["currency"] = cur[inv.stream.to_numpy()]
    inv["tax"] = np.where(inv.currency == "usd", 0, np.round((inv.subtotal - inv.discount) * 0.2)).astype(np.int64)
    inv["total"] = inv.subtotal - inv.discount + inv.tax
    n = len(inv)
    fails = rng.random(n) < 0.04
    paid_at = inv.ps.to_numpy() + rng.integers(0, 2 * DAY, n) + np.where(fails, 3 * DAY, 0)
    # involuntary churn: the last invoice of such a subscription is never paid
    invol = s.set_index("sub").voluntary.eq(False)
    last_of_sub = ~inv.duplicated("sub", keep="last").to_numpy()
    unpaid = last_of_sub & invol.reindex(inv["sub"]).fillna(False).to_numpy(dtype=bool)
    paid_at = np.where(unpaid | (paid_at > end_ts - 1), -1, paid_at)
    ids_cust = np.array([f"cus_{i:07d}" for i in inv.stream])
    ids_sub = np.array([f"sub_{i:07d}" for i in inv["sub"]])
    v1 = pd.DataFrame({
        "invoice_id": inv.invoice_id, "customer_id": ids_cust, "subscription_id": ids_sub,
        "status": "open", "currency": inv.currency, "subtotal": inv.subtotal, "discount": inv.discount,
        "tax": inv.tax, "total": inv.total, "amount_paid": 0, "period_start": inv.ps, "period_end": inv.pe,
        "created_at": inv.ps, "paid_at": None, "updated_at": inv.ps, "_ts": inv.ps,
    })
    paid = paid_at > 0
    v2 = v1[paid].assign(status="paid", amount_paid=inv.total[paid].to_numpy(), paid_at=paid_at[paid],
                         updated_at=paid_at[paid], _ts=paid_at[paid])
    gone = unpaid
    v3 = v1[gone].assign(status="uncollectible", updated_at=inv.ps[gone].to_numpy() + 20 * DAY,
                         _ts=np.minimum(end_ts - 1, inv.ps[gone].to_numpy() + 20 * DAY))
    invoices = pd.concat([v1, v2, v3], ignore_index=True)

    ln = pd.DataFrame({
        "invoice_line_id": [f"il_{i:08d}" for i in range(len(lines))],
        "invoice_id": lines.invoice_id.to_numpy(),
        "subscription_item_id": [f"si_{i:07d}" for i in lines["item"]],
        "plan_id": pl.plan_id.to_numpy()[lines.plan.to_numpy()], "line_type": "subscription",
        "amount": lines.gross.to_numpy() - lines.disc_amt.to_numpy(),
        "currency": cur[lines.stream.to_numpy()], "quantity": lines.qty.to_numpy(),
        "period_start": lines.ps.to_numpy(), "period_end": lines.pe.to_numpy(), "_ts": lines.ps.to_numpy(),
    })
    # one-time onboarding fee on the first invoice of enterprise customers (never MRR)
    first = inv[inv.duplicated("sub") == False]  # noqa: E712
    seg = co.accounts.set_index("idx").segment.reindex(co.streams.account_idx.to_numpy()).to_numpy()
    first = first[seg[first.stream.to_numpy()] == 2]
    onboarding = pd.DataFrame({
        "invoice_line_id": [f"il_{i:08d}" for i in range(len(lines), len(lines) + len(first))],
        "invoice_id": first.invoice_id.to_numpy(), "subscription_item_id": None, "plan_id": None,
        "line_type": "one_time", "amount": 250_000, "currency": first.currency.to_numpy(),
        "quantity": 1, "period_start": None, "period_end": None, "_ts": first.ps.to_numpy(),
    })
    invoice_lines = pd.concat([ln, onboarding], ignore_index=True)

    # payments: a failed attempt first for some, then success; refunds for a few
    pay_ok = pd.DataFrame({
        "invoice_id": inv.invoice_id[paid].to_numpy(), "customer_id": ids_cust[paid],
        "amount": inv.total[paid].to_numpy(), "currency": inv.currency[paid].to_numpy(),
        "status": "succeeded", "created_at": paid_at[paid], "failure_reason": None,
    })
    failed = fails | unpaid
    pay_fail = pd.DataFrame({
        "invoice_id": inv.invoice_id[failed].to_numpy(), "customer_id": ids_cust[failed],
        "amount": inv.total[failed].to_numpy(), "currency": inv.currency[failed].to_numpy(),
        "status": "failed", "created_at": inv.ps[failed].to_numpy() + 3600,
        "failure_reason": np.where(rng.random(int(failed.sum())) < 0.6, "card_declined", "insufficient_funds"),
    })
    payments = pd.concat([pay_fail, pay_ok], ignore_index=True).sort_values(["created_at", "invoice_id"], kind="stable")
    payments = payments[payments.created_at < end_ts].reset_index(drop=True)
    payments.insert(0, "payment_id", [f"py_{i:08d}" for i in range(len(payments))])
    payments["_ts"] = payments.created_at
    ok = payments[payments.status == "succeeded"]
    ref = ok[rng.random(len(ok)) < 0.015]
    r_ts = np.minimum(end_ts - 1, ref.created_at.to_numpy() + rng.integers(1, 30, len(ref)) * DAY)
    refunds = pd.DataFrame({
        "refund_id": [f"re_{i:07d}" for i in range(len(ref))], "payment_id": ref.payment_id.to_numpy(),
        "amount": np.round(ref.amount.to_numpy() * rng.choice([0.25, 0.5, 1.0], len(ref))).astype(np.int64),
        "currency": ref.currency.to_numpy(),
        "reason": rng.choice(np.array(["requested_by_customer", "duplicate", "service_issue"]), len(ref)),
        "created_at": r_ts, "_ts": r_ts,
    })
    return {"invoices": invoices, "invoice_lines": invoice_lines, "payments": payments, "refunds": refunds}


def fx_rates(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    days = np.arange(co.cfg.days)
    frames = []
    for cur in ("eur", "gbp"):
        walk = C.FX_START[cur] * np.exp(np.cumsum(rng.normal(0, 0.003, days.size)))
        frames.append(pd.DataFrame({
            "rate_date": co.epoch0 + days * DAY, "currency": cur.upper(),
            "usd_per_unit": np.round(walk, 6), "_ts": co.epoch0 + days * DAY + 6 * 3600,
        }))
    return pd.concat(frames, ignore_index=True).sort_values(["rate_date", "currency"], kind="stable")


def marketing_spend(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    a = co.accounts[~co.accounts.unmatched]
    start = np.datetime64(co.cfg.start_date, "D")
    month = (start + a.created_day.to_numpy()).astype("datetime64[M]")
    months = np.arange(start.astype("datetime64[M]"), (start + co.cfg.days - 1).astype("datetime64[M]") + 1)
    won = pd.crosstab(month, a.source.to_numpy()).reindex(index=months, columns=list(C.LEAD_SOURCE_MIX), fill_value=0)
    # the sales team's cost of the deals closed, by the segment of each, in the month the account
    # first pays (landing v2: cost_type sales)
    streams = co.streams[~co.streams.is_second & (co.streams.first_paid_day >= 0)]
    first_paid = a.idx.map(streams.groupby("account_idx").first_paid_day.min())
    paid = a[first_paid.notna().to_numpy()]
    paid_month = (start + first_paid.dropna().to_numpy(dtype=np.int64)).astype("datetime64[M]")
    sales_cost = np.asarray(C.SALES_COST_BY_SEGMENT, dtype=float)[paid.segment.to_numpy()]
    sold = pd.crosstab(paid_month, paid.source.to_numpy(), values=sales_cost, aggfunc="sum").reindex(
        index=months, columns=list(C.LEAD_SOURCE_MIX)).fillna(0.0)
    m_epoch = (months.astype("datetime64[D]") - np.datetime64("1970-01-01")).astype(np.int64) * DAY
    rows = []
    for src in C.LEAD_SOURCE_MIX:
        # proportional to the accounts won, at any scale (no fixed floor that would dominate
        # the CAC of a small company)
        amount = won[src].to_numpy() * C.CAC_BY_SOURCE[src] * rng.uniform(0.8, 1.2, len(months))
        rows.append(pd.DataFrame({"month": m_epoch, "channel": src, "amount": np.round(amount * 100).astype(np.int64),
                                  "currency": "usd", "cost_type": "marketing", "_ts": np.maximum(co.epoch0, m_epoch)}))
    for src in C.LEAD_SOURCE_MIX:
        amount = sold[src].to_numpy() * rng.uniform(0.9, 1.1, len(months))
        rows.append(pd.DataFrame({"month": m_epoch, "channel": src, "amount": np.round(amount * 100).astype(np.int64),
                                  "currency": "usd", "cost_type": "sales", "_ts": np.maximum(co.epoch0, m_epoch)}))
    return pd.concat(rows, ignore_index=True).sort_values(["month", "channel", "cost_type"], kind="stable")


def crm_engagement(co: Company, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """CSM activities (cadence by tier), NPS responses and support tickets while alive."""
    a = co.accounts[~co.accounts.unmatched & (co.accounts.path != 3)]
    alive_from = a.signup_day.to_numpy()
    alive_to = np.minimum(co.cfg.days, a.active_until_day.to_numpy())
    span = np.maximum(0, alive_to - alive_from)
    seg = a.segment.to_numpy()
    end_ts = co.epoch0 + co.cfg.days * DAY

    def spread(per_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = rng.poisson(span / per_days)
        idx = np.repeat(np.arange(len(a)), k)
        day = np.repeat(alive_from, k) + (rng.random(k.sum()) * np.repeat(span, k)).astype(np.int64)
        return idx, co.epoch0 + day * DAY + rng.integers(8 * 3600, 18 * 3600, k.sum())

    touch_every = np.array([95.0, 40.0, 18.0])[seg]
    i, ts = spread(touch_every)
    types = rng.choice(np.array(["call", "meeting", "email", "qbr", "training", "webinar"]), i.size,
                       p=[0.3, 0.2, 0.3, 0.08, 0.1, 0.02])
    activities = pd.DataFrame({
        "activity_id": [f"act_{x:08d}" for x in range(i.size)], "account_id": a.account_id.to_numpy()[i],
        "type": types, "owner_id": a.csm_id.to_numpy()[i], "occurred_at": ts, "_ts": ts,
    }).sort_values(["occurred_at", "activity_id"], kind="stable")

    i, ts = spread(np.full(len(a), 120.0))
    eng = a.engagement.to_numpy()[i]
    day = (ts - co.epoch0) // DAY
    churn_day = a.last_churn_day.to_numpy()[i]
    near_churn = (churn_day >= 0) & (day > churn_day - 60) & (day <= churn_day)
    score = np.clip(np.round(7.2 + 1.6 * eng + rng.normal(0, 1.5, i.size) - 3 * near_churn), 0, 10).astype(np.int64)
    nps = pd.DataFrame({
        "response_id": [f"nps_{x:07d}" for x in range(i.size)], "account_id": a.account_id.to_numpy()[i],
        "contact_id": None, "score": score,
        "comment": np.where(score >= 9, "Love it — great product", np.where(score <= 6, "Too expensive, hard to onboard", None)),
        "responded_at": ts, "_ts": ts,
    }).sort_values(["responded_at", "response_id"], kind="stable")

    i, ts = spread(np.array([120.0, 45.0, 15.0])[seg])
    resolved = ts + rng.integers(1, 96, i.size) * 3600
    open_ = resolved >= end_ts
    v1 = pd.DataFrame({
        "ticket_id": [f"tic_{x:07d}" for x in range(i.size)], "account_id": a.account_id.to_numpy()[i],
        "priority": rng.choice(np.array(["low", "normal", "high", "urgent"]), i.size, p=[0.3, 0.5, 0.15, 0.05]),
        "status": "open", "created_at": ts, "resolved_at": None, "updated_at": ts, "_ts": ts,
    })
    v2 = v1[~open_].assign(status="solved", resolved_at=resolved[~open_], updated_at=resolved[~open_], _ts=resolved[~open_])
    tickets = pd.concat([v1, v2], ignore_index=True)
    return {"activities": activities, "nps_responses": nps, "support_tickets": tickets}


def opportunities(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    """New-business opps for sales-led landings, expansion opps, renewal opps of annual terms."""
    end_ts = co.epoch0 + co.cfg.days * DAY
    s = co.streams.merge(co.accounts[["idx", "account_id", "segment", "path", "unmatched", "owner_id", "currency"]],
                         left_on="account_idx", right_on="idx")
    s = s[~s.unmatched]
    it = co.items.merge(co.plans[["unit_amount", "billing_interval", "interval_count"]], left_on="plan", right_index=True)
    months = np.where(it.billing_interval == "year", 12, 1) * it.interval_count
    it["arr"] = (it.unit_amount * it.qty * (1 - it.disc / 100) / months * 12).round().astype(np.int64)
    first_item = it.drop_duplicates("stream").set_index("stream")
    rows = []
    sl = s[(s.path == 2) | (s.segment >= 1)]
    close = first_item.start.reindex(sl.stream).to_numpy()
    rows.append(pd.DataFrame({"account_id": sl.account_id.to_numpy(), "type": "new_business",
                              "amount": first_item.arr.reindex(sl.stream).to_numpy(), "currency": sl.currency.to_numpy(),
                              "owner_id": sl.owner_id.to_numpy(), "created": close - rng.integers(20, 70, len(sl)) * DAY,
                              "close": close, "won": True}))
    # expansions on mid-market/enterprise: the items after the first, with more seats
    nxt = it[it.duplicated("stream")].merge(s[["stream", "account_id", "segment", "currency", "owner_id"]], on="stream")
    prev_qty = it.groupby("sub").qty.shift(1).reindex(nxt.index)
    nxt = nxt[(nxt.segment >= 1) & (nxt.qty.to_numpy() > prev_qty.fillna(np.inf).to_numpy())]
    rows.append(pd.DataFrame({"account_id": nxt.account_id.to_numpy(), "type": "expansion", "amount": nxt.arr.to_numpy(),
                              "currency": nxt.currency.to_numpy(), "owner_id": nxt.owner_id.to_numpy(),
                              "created": nxt.start.to_numpy() - rng.integers(10, 45, len(nxt)) * DAY,
                              "close": nxt.start.to_numpy(), "won": True}))
    # open expansion pipeline on some current enterprise customers
    # renewals: one opportunity per annual term end, opened 90 days before it
    annual = s[s.cadence == 2]
    paid0 = co.epoch0 + annual.first_paid_day.to_numpy() * DAY
    stop = np.where(annual.churn_day.to_numpy() >= 0, co.epoch0 + annual.churn_day.to_numpy() * DAY + DAY, end_ts + 120 * DAY)
    valid = annual.first_paid_day.to_numpy() >= 0
    annual, paid0, stop = annual[valid], paid0[valid], stop[valid]
    k = np.maximum(0, np.floor((stop - paid0) / (365.25 * DAY)).astype(np.int64))
    idx = np.repeat(np.arange(len(annual)), k)
    j = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 1
    term_end = paid0[idx] + (j * 365.25 * DAY).astype(np.int64)
    churned_here = (annual.churn_day.to_numpy()[idx] >= 0) & (np.abs(stop[idx] - DAY - term_end) < 40 * DAY)
    rows.append(pd.DataFrame({"account_id": annual.account_id.to_numpy()[idx], "type": "renewal",
                              "amount": first_item.arr.reindex(annual.stream.to_numpy()[idx]).to_numpy(),
                              "currency": annual.currency.to_numpy()[idx], "owner_id": annual.owner_id.to_numpy()[idx],
                              "created": term_end - 90 * DAY, "close": term_end, "won": ~churned_here}))
    o = pd.concat(rows, ignore_index=True)
    o = o[o.created < end_ts].reset_index(drop=True)
    n = len(o)
    ids = [f"opp_{x:07d}" for x in range(n)]
    close_date = (o.close.to_numpy() // DAY) * DAY
    v1 = pd.DataFrame({"opportunity_id": ids, "account_id": o.account_id, "type": o.type, "stage": "discovery",
                       "amount": o.amount, "currency": o.currency, "close_date": close_date, "owner_id": o.owner_id,
                       "created_at": o.created, "updated_at": o.created, "is_deleted": False, "_ts": o.created})
    closed = o.close.to_numpy() < end_ts
    v2 = v1[closed].assign(stage=np.where(o.won[closed], "closed_won", "closed_lost"),
                           updated_at=o.close[closed].to_numpy(), _ts=o.close[closed].to_numpy())
    return pd.concat([v1, v2], ignore_index=True)
