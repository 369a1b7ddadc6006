"""Simulate the demo SaaS company: accounts, lifecycle and billing, vectorised over accounts.

The story the marts must find is decided here:

* leads arrive by source with different conversion rates;
* accounts land through a 14-day trial, a free plan, or sales-led (no trial);
* first-30-day activation (≥ 3 active users, ≥ 3 core features) doubles retention;
* expansions cluster 3–12 months after land, contractions are rarer;
* annual and quarterly plans churn only at term end; churn is often preceded by a
  fading of product activity (see ``usage.py``); some churned accounts return;
* a few per cent of accounts are large (ARR ≥ $100k), mostly enterprise;
* some billing customers have no CRM account (unmatched), some accounts have two.

Times are integer seconds since the Unix epoch; ``day`` values are offsets from the
start date. Every random draw comes from one seeded generator, in a fixed order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from laer.generate import config as C
from laer.generate.config import DAY, CompanyConfig

STATE_NONE, STATE_PAID, STATE_ENDED, STATE_FREE = 0, 1, 2, 3


@dataclass
class Company:
    """All simulated record versions, as DataFrames keyed like the landing contract."""

    cfg: CompanyConfig
    epoch0: int  # epoch seconds of the start date
    accounts: pd.DataFrame  # one row per CRM account + simulation attributes
    streams: pd.DataFrame  # one row per billing customer (paying stream)
    subscriptions: pd.DataFrame
    items: pd.DataFrame
    plans: pd.DataFrame
    churns: pd.DataFrame  # (stream, day, account_idx) of every churn of a primary stream


def _month_starts(cfg: CompanyConfig) -> np.ndarray:
    """Day offsets of each calendar month start (first = 0), plus the end sentinel."""
    starts = [0]
    d = C.add_months(cfg.start_date.replace(day=1), 1)
    while d <= cfg.end_date:
        starts.append((d - cfg.start_date).days)
        d = C.add_months(d, 1)
    starts.append(cfg.days)
    return np.array(starts, dtype=np.int64)


def build_plans() -> pd.DataFrame:
    rows = []
    for cur in C.CURRENCIES:
        f = C.PRICE_BOOK_FACTOR[cur]
        for t, tier in enumerate(C.TIERS):
            for cad, interval, count, _months, factor in C.CADENCES:
                rows.append({
                    "plan_id": f"{tier}-{cad}-{cur}", "product": "platform",
                    "plan_name": f"{tier.title()} ({cad})", "billing_interval": interval,
                    "interval_count": count,
                    "unit_amount": round(C.TIER_MONTHLY_USD[t] * factor * f * 100),
                    "currency": cur.upper() if cur == "gbp" else cur, "is_free": False,
                    "tier": t, "cadence": cad,
                })
        rows.append({
            "plan_id": f"free-{cur}", "product": "platform", "plan_name": "Free",
            "billing_interval": "month", "interval_count": 1, "unit_amount": 0, "currency": cur,
            "is_free": True, "tier": -1, "cadence": "monthly",
        })
        rows.append({
            "plan_id": f"analytics-addon-monthly-{cur}", "product": "analytics_addon",
            "plan_name": "Analytics add-on", "billing_interval": "month", "interval_count": 1,
            "unit_amount": round(C.ADDON_MONTHLY_USD * f * 100), "currency": cur,
            "is_free": False, "tier": -2, "cadence": "monthly",
        })
    return pd.DataFrame(rows)


def _accounts(cfg: CompanyConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.customers
    T = cfg.days
    seg = rng.choice(3, size=n, p=C.SEGMENT_SHARE)
    lo = np.array([5, 100, 1000])[seg]
    hi = np.array([99, 999, 20000])[seg]
    emp = np.minimum(hi, lo + np.floor(rng.pareto(1.6, n) * lo * 0.8)).astype(np.int64)
    # accounts are created throughout the window, a little more often later (growth)
    created = np.floor((T - 3) * rng.random(n) ** 0.8).astype(np.int64)
    countries = np.array([x[0] for x in C.COUNTRIES])
    currencies = np.array([x[1] for x in C.COUNTRIES])
    w = np.array([x[2] for x in C.COUNTRIES])
    ci = rng.choice(len(w), size=n, p=w / w.sum())
    engagement = rng.normal(0, 1, n) + np.array([0.0, 0.15, 0.3])[seg]
    # how the account lands: 0 trial, 1 free plan, 2 sales-led (no trial)
    p_path = np.array([[0.78, 0.18, 0.04], [0.60, 0.07, 0.33], [0.25, 0.0, 0.75]])[seg]
    u = rng.random(n)
    path = (u > p_path[:, 0]).astype(np.int64) + (u > p_path[:, 0] + p_path[:, 1])
    # 3: a prospect that never signs up (CRM only)
    path = np.where(rng.random(n) < 0.06, 3, path)
    activated = engagement + rng.normal(0, 0.35, n) > 0.0
    sources = np.array(list(C.LEAD_SOURCE_MIX))
    conv = np.array([v[1] * v[0] for v in C.LEAD_SOURCE_MIX.values()])
    src = rng.choice(len(sources), size=n, p=conv / conv.sum())
    src = np.where(path == 2, np.where(rng.random(n) < 0.6, 5, src), src)  # sales-led: outbound
    owner = rng.integers(1, 13, n)
    csm_pool = np.array([40, 12, 6])[seg]
    csm = np.array([0, 100, 200])[seg] + rng.integers(0, 1 << 30, n) % csm_pool
    return pd.DataFrame({
        "idx": np.arange(n),
        "account_id": [f"acc_{i:06d}" for i in range(n)],
        "segment": seg, "employee_count": emp, "created_day": created,
        "country": countries[ci], "currency": currencies[ci], "engagement": engagement,
        "path": path, "activated": activated, "source": sources[src],
        "industry": np.array(C.INDUSTRIES)[rng.integers(0, len(C.INDUSTRIES), n)],
        "owner_id": [f"rep_{o:02d}" for o in owner],
        "csm_id": [f"csm_{x:03d}" for x in csm],
        "signup_day": np.minimum(T - 1, created + rng.integers(0, 6, n)),
        # ~2.5 % of paying companies exist only in billing (unmatched)
        "unmatched": rng.random(n) < 0.025,
    })


def _seats(seg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    median = np.array([8.0, 30.0, 80.0])[seg]
    return np.maximum(3, np.round(median * rng.lognormal(0, 0.55, seg.size))).astype(np.int64)


class _Ledger:
    """Collects subscriptions and item versions as the month loop creates them."""

    def __init__(self) -> None:
        self.items: list[dict[str, np.ndarray]] = []
        self.n_items = 0

    def open_items(self, stream: np.ndarray, sub: np.ndarray, plan: np.ndarray, qty: np.ndarray,
                   disc: np.ndarray, ts: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n_items, self.n_items + stream.size)
        self.n_items += stream.size
        self.items.append({"item": ids, "stream": stream, "sub": sub, "plan": plan, "qty": qty,
                           "disc": disc, "start": ts})
        return ids

    def frame(self) -> pd.DataFrame:
        if not self.items:
            return pd.DataFrame(columns=["item", "stream", "sub", "plan", "qty", "disc", "start"])
        return pd.concat([pd.DataFrame(x) for x in self.items], ignore_index=True)


def simulate(cfg: CompanyConfig) -> Company:
    rng = np.random.default_rng(cfg.seed)
    T = cfg.days
    epoch0 = int(dt.datetime.combine(cfg.start_date, dt.time(), dt.UTC).timestamp())
    plans = build_plans()
    acc = _accounts(cfg, rng)
    n = len(acc)

    # --- billing streams: one per account, a second for some mid/enterprise accounts
    second = (acc.segment.to_numpy() >= 1) & (rng.random(n) < 0.06) & (acc.path.to_numpy() == 2)
    signs_up = acc.path.to_numpy() != 3
    s_acc = np.concatenate([np.flatnonzero(signs_up), np.flatnonzero(second)])
    S = s_acc.size
    seg = acc.segment.to_numpy()[s_acc]
    is_second = np.arange(S) >= int(signs_up.sum())
    start_day = acc.signup_day.to_numpy()[s_acc] + np.where(is_second, rng.integers(60, 420, S), 0)
    path = np.where(is_second, 2, acc.path.to_numpy()[s_acc])
    activated = acc.activated.to_numpy()[s_acc]
    cur_idx = np.array([C.CURRENCIES.index(x) for x in acc.currency.to_numpy()[s_acc]])

    # plan lookup: plan row index by (currency, tier, cadence)
    plan_ix = {(r.currency.lower(), r.tier, r.cadence): i for i, r in enumerate(plans.itertuples())}
    cad_names = [x[0] for x in C.CADENCES]

    def plan_index(cur: np.ndarray, tier: np.ndarray, cad: np.ndarray) -> np.ndarray:
        return np.array([plan_ix[(C.CURRENCIES[c], int(t), cad_names[k])] for c, t, k in zip(cur, tier, cad, strict=True)], dtype=np.int64)

    tier = np.where(seg == 0, (rng.random(S) < 0.3).astype(int),
                    np.where(seg == 1, 1 + (rng.random(S) < 0.15), 2 - (rng.random(S) < 0.2)))
    cad = np.where(rng.random(S) < np.array([0.22, 0.5, 0.75])[seg],
                   2, np.where(rng.random(S) < 0.15, 1, 0))
    cad = np.where(is_second, 0, cad)
    term_months = np.array([c[3] for c in C.CADENCES])[cad]
    qty = _seats(seg, rng)
    qty = np.where(is_second, np.maximum(3, qty // 4), qty)
    disc = rng.choice(np.array([0.0, 10.0, 15.0, 20.0]), size=S, p=[0.62, 0.2, 0.1, 0.08])
    disc = np.where(cad == 2, np.maximum(disc, rng.choice([0.0, 5.0, 10.0], size=S)), disc)
    trial_convert = rng.random(S) < np.where(activated, 0.62, 0.16)
    base_churn = np.array([0.030, 0.017, 0.009])[seg] * np.where(activated, 0.55, 1.9)

    ledger = _Ledger()
    sub_rows: list[dict[str, np.ndarray]] = []
    n_subs = 0

    def new_subs(idx: np.ndarray, created_ts: np.ndarray, trial_end_ts: np.ndarray | None) -> np.ndarray:
        nonlocal n_subs
        ids = np.arange(n_subs, n_subs + idx.size)
        n_subs += idx.size
        sub_rows.append({"sub": ids, "stream": idx, "created": created_ts,
                         "trial_start": created_ts if trial_end_ts is not None else np.full(idx.size, -1),
                         "trial_end": trial_end_ts if trial_end_ts is not None else np.full(idx.size, -1)})
        return ids

    def tod(k: int) -> np.ndarray:  # time of day, business hours
        return rng.integers(8 * 3600, 19 * 3600, k)

    state = np.full(S, STATE_NONE, dtype=np.int64)
    cur_sub = np.full(S, -1)
    cur_item = np.full(S, -1)
    addon_item = np.full(S, -1)
    cur_plan = plan_index(cur_idx, tier, cad)
    cur_qty = qty.copy()
    cur_disc = disc.copy()
    paid_start = np.full(S, -1)  # day the current paid period began (term anchor)
    first_paid = np.full(S, -1)
    last_change = np.full(S, -1)  # day of the last item change
    churn_day = np.full(S, -1)  # last churn day
    churn_events: list[tuple[np.ndarray, np.ndarray]] = []
    ends: dict[int, int] = {}  # item -> end ts
    sub_end: dict[int, tuple[int, int, bool]] = {}  # sub -> (canceled ts, ended ts, voluntary)
    addon_start = start_day + rng.integers(30, 400, S)
    addon_wanted = (rng.random(S) < 0.12) & (seg >= 1)
    free_plan = np.array([plan_ix[(C.CURRENCIES[c], -1, "monthly")] for c in cur_idx])
    addon_plan = np.array([plan_ix[(C.CURRENCIES[c], -2, "monthly")] for c in cur_idx])

    def end_item(items: np.ndarray, ts: np.ndarray) -> None:
        for i, t in zip(items.tolist(), ts.tolist(), strict=True):
            if i >= 0:
                ends[i] = t

    months = _month_starts(cfg)
    for m in range(len(months) - 1):
        m0, m1 = months[m], months[m + 1]
        # ---- landings this month
        land = np.flatnonzero((start_day >= m0) & (start_day < m1))
        if land.size:
            ts = epoch0 + start_day[land] * DAY + tod(land.size)
            p = path[land]
            trial = land[p == 0]
            if trial.size:
                t0 = ts[p == 0]
                t_end = t0 + C.TRIAL_DAYS * DAY
                subs = new_subs(trial, t0, t_end)
                cur_sub[trial] = subs
                cur_item[trial] = ledger.open_items(trial, subs, cur_plan[trial], cur_qty[trial], cur_disc[trial], t0)
                conv = trial_convert[trial]
                lost = trial[~conv]
                for s_, t in zip(subs[~conv].tolist(), t_end[~conv].tolist(), strict=True):
                    sub_end[s_] = (t, t, True)
                end_item(cur_item[lost], t_end[~conv])
                state[lost] = STATE_ENDED
                won = trial[conv]
                state[won] = STATE_PAID
                paid_start[won] = start_day[won] + C.TRIAL_DAYS
                first_paid[won] = paid_start[won]
                last_change[won] = paid_start[won]
            free = land[p == 1]
            if free.size:
                subs = new_subs(free, ts[p == 1], None)
                cur_sub[free] = subs
                cur_item[free] = ledger.open_items(free, subs, free_plan[free], np.ones(free.size, np.int64), np.zeros(free.size), ts[p == 1])
                state[free] = STATE_FREE
                last_change[free] = start_day[free]
            direct = land[p == 2]
            if direct.size:
                subs = new_subs(direct, ts[p == 2], None)
                cur_sub[direct] = subs
                cur_item[direct] = ledger.open_items(direct, subs, cur_plan[direct], cur_qty[direct], cur_disc[direct], ts[p == 2])
                state[direct] = STATE_PAID
                paid_start[direct] = start_day[direct]
                first_paid[direct] = start_day[direct]
                last_change[direct] = start_day[direct]

        def pick_day(idx: np.ndarray, m0: int = m0, m1: int = m1) -> np.ndarray:
            lo_ = np.maximum(m0, last_change[idx] + 1)
            return lo_ + np.floor(rng.random(idx.size) * np.maximum(0, m1 - lo_)).astype(np.int64)

        # ---- free plan upgrades (rare)
        fr = np.flatnonzero((state == STATE_FREE) & (last_change < m1 - 1))
        up = fr[rng.random(fr.size) < np.where(activated[fr], 0.012, 0.002)]
        if up.size:
            d = pick_day(up)
            ts = epoch0 + d * DAY + tod(up.size)
            end_item(cur_item[up], ts)
            cur_item[up] = ledger.open_items(up, cur_sub[up], cur_plan[up], cur_qty[up], cur_disc[up], ts)
            state[up] = STATE_PAID
            paid_start[up] = d
            first_paid[up] = np.where(first_paid[up] < 0, d, first_paid[up])
            last_change[up] = d

        # ---- paying streams: churn, expansion, contraction, add-on
        paying = np.flatnonzero((state == STATE_PAID) & (last_change < m1 - 1))
        if paying.size:
            age_m = (m1 - first_paid[paying]) / 30.44
            tm = term_months[paying]
            months_in = np.floor((m1 - 1 - paid_start[paying]) / 30.44).astype(np.int64)
            at_term_end = (tm == 1) | ((months_in + 1) % tm == 0) & (months_in >= 0)
            p_churn = 1 - (1 - base_churn[paying]) ** tm
            # renewals of annual/quarterly terms happen on the anniversary
            churn = at_term_end & (rng.random(paying.size) < p_churn) & (age_m > 0.5)
            u = rng.random(paying.size)
            exp_h = np.where((age_m >= 3) & (age_m < 12), 0.05, np.where(age_m < 3, 0.01, 0.016))
            exp_h = exp_h * np.where(activated[paying], 1.4, 0.5)
            expand = ~churn & (u < exp_h)
            contract = ~churn & ~expand & (u < exp_h + 0.009)
            # churn
            ch = paying[churn]
            if ch.size:
                lo_ = np.maximum(m0, last_change[ch] + 1)
                anchor = paid_start[ch] + np.round((months_in[churn] + 1) * 30.44).astype(np.int64)
                d = np.where(tm[churn] > 1, np.clip(anchor, lo_, m1 - 1),
                             lo_ + np.floor(rng.random(ch.size) * np.maximum(1, m1 - lo_)).astype(np.int64))
                d = np.minimum(d, m1 - 1)
                ts = epoch0 + d * DAY + tod(ch.size)
                voluntary = rng.random(ch.size) > 0.12
                for s_, t, v in zip(cur_sub[ch].tolist(), ts.tolist(), voluntary.tolist(), strict=True):
                    sub_end[s_] = (t - int(rng.integers(1, 25)) * DAY if v else t, t, v)
                end_item(cur_item[ch], ts)
                end_item(addon_item[ch], ts)
                addon_item[ch] = -1
                state[ch] = STATE_ENDED
                churn_day[ch] = d
                churn_events.append((ch, d))
                last_change[ch] = d
            # expansion (more seats, sometimes a tier up) and contraction
            for mask, lo_f, hi_f in ((expand, 1.15, 1.7), (contract, 0.55, 0.9)):
                ix = paying[mask]
                if not ix.size:
                    continue
                d = pick_day(ix)
                ok = d < m1
                ix, d = ix[ok], d[ok]
                ts = epoch0 + d * DAY + tod(ix.size)
                f = lo_f + (hi_f - lo_f) * rng.random(ix.size)
                cur_qty[ix] = np.maximum(1, np.round(cur_qty[ix] * f)).astype(np.int64)
                if lo_f > 1:
                    up_tier = (rng.random(ix.size) < 0.15) & (tier[ix] < 2)
                    tier[ix] = tier[ix] + up_tier
                    cur_plan[ix] = plan_index(cur_idx[ix], tier[ix], cad[ix])
                end_item(cur_item[ix], ts)
                cur_item[ix] = ledger.open_items(ix, cur_sub[ix], cur_plan[ix], cur_qty[ix], cur_disc[ix], ts)
                last_change[ix] = d
            # add-on product as a second item on the same subscription
            ad = paying[~churn & addon_wanted[paying] & (addon_item[paying] < 0)
                        & (addon_start[paying] >= m0) & (addon_start[paying] < m1)]
            if ad.size:
                ts = epoch0 + addon_start[ad] * DAY + tod(ad.size)
                addon_item[ad] = ledger.open_items(ad, cur_sub[ad], addon_plan[ad], np.ones(ad.size, np.int64), np.zeros(ad.size), ts)

        # ---- reactivation: a churned stream returns on a new monthly subscription
        back = np.flatnonzero((state == STATE_ENDED) & (churn_day >= 0) & (churn_day < m0 - 20)
                              & (m0 - churn_day < 540))
        back = back[rng.random(back.size) < 0.03]
        if back.size:
            d = m0 + np.floor(rng.random(back.size) * (m1 - m0)).astype(np.int64)
            ts = epoch0 + d * DAY + tod(back.size)
            cad[back] = 0
            term_months[back] = 1
            cur_plan[back] = plan_index(cur_idx[back], tier[back], cad[back])
            cur_qty[back] = np.maximum(3, np.round(cur_qty[back] * 0.8)).astype(np.int64)
            subs = new_subs(back, ts, None)
            cur_sub[back] = subs
            cur_item[back] = ledger.open_items(back, subs, cur_plan[back], cur_qty[back], cur_disc[back], ts)
            state[back] = STATE_PAID
            paid_start[back] = d
            last_change[back] = d

    items = ledger.frame()
    items["end"] = items["item"].map(ends).astype("Int64")
    subs = pd.concat([pd.DataFrame(x) for x in sub_rows], ignore_index=True)
    ended = subs["sub"].map(lambda s: sub_end.get(s, (None, None, None)))
    subs["canceled"] = pd.array([e[0] for e in ended], dtype="Int64")
    subs["ended"] = pd.array([e[1] for e in ended], dtype="Int64")
    subs["voluntary"] = [e[2] for e in ended]
    subs["trial_start"] = subs["trial_start"].where(subs["trial_start"] >= 0).astype("Int64")
    subs["trial_end"] = subs["trial_end"].where(subs["trial_end"] >= 0).astype("Int64")

    streams = pd.DataFrame({
        "stream": np.arange(S), "account_idx": s_acc, "is_second": is_second,
        "start_day": start_day, "cur_idx": cur_idx, "cadence": cad,
        "first_paid_day": first_paid, "churn_day": churn_day,
    })
    churns = pd.DataFrame({
        "stream": np.concatenate([e[0] for e in churn_events]) if churn_events else np.zeros(0, np.int64),
        "day": np.concatenate([e[1] for e in churn_events]) if churn_events else np.zeros(0, np.int64),
    })
    churns["account_idx"] = s_acc[churns["stream"].to_numpy()]
    churns = churns[~is_second[churns["stream"].to_numpy()]].reset_index(drop=True)
    acc["last_churn_day"] = acc["idx"].map(churns.groupby("account_idx").day.max()).fillna(-1).astype(np.int64)
    # seats the company was sized for (drives its number of product users)
    acc["seats"] = acc["idx"].map(pd.Series(qty[~is_second], index=s_acc[~is_second])).fillna(3).astype(np.int64)
    last_end = subs.assign(e=subs["ended"].fillna(epoch0 + T * DAY)).merge(
        streams[["stream", "account_idx"]], on="stream").groupby("account_idx").e.max()
    acc["active_until_day"] = ((acc["idx"].map(last_end).fillna(epoch0) - epoch0) // DAY).astype(np.int64)
    return Company(cfg, epoch0, acc, streams, subs, items, plans, churns)
