"""Product users and usage events, streamed one day at a time (bounded memory).

Events for a day are drawn for all live accounts at once (Poisson counts, then
``np.repeat``); no Python loop runs per event. Files are written per *received* day,
so late events land in a later file, and a few events are delivered twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from laer.generate import config as C
from laer.generate.company import Company
from laer.generate.config import DAY

EVENT_SCHEMA = pa.schema([
    ("event_id", pa.string()), ("user_id", pa.string()), ("account_id", pa.string()),
    ("event_name", pa.string()), ("feature", pa.string()), ("occurred_at", pa.timestamp("s", tz="UTC")),
    ("received_at", pa.timestamp("s", tz="UTC")), ("properties", pa.string()),
])
LATE_SHARE = 0.01
DUPLICATE_SHARE = 0.001
ONBOARDING_DAYS = 30
# most churners fade before they leave: over the last DECAY_DAYS before the churn, the share
# of their users still active and their event rate fall towards zero (rate x share^2), so
# seat adoption, feature breadth and recency — what the health score reads — all decline
DECAY_DAYS = 60
DECAYING_CHURNER_SHARE = 0.8


def _users_per_account(co: Company) -> tuple[pd.DataFrame, np.ndarray]:
    a = co.accounts
    adoption = np.clip(0.55 + 0.15 * a.engagement.to_numpy(), 0.2, 0.95)
    n_users = np.maximum(1, np.round(a.seats.to_numpy() * adoption)).astype(np.int64)
    n_users = np.where(a.unmatched.to_numpy() | (a.path.to_numpy() == 3), 0, n_users)
    return a, n_users


def users(co: Company, rng: np.random.Generator) -> pd.DataFrame:
    a, n_users = _users_per_account(co)
    acc = np.repeat(np.arange(len(a)), n_users)
    offset = np.repeat(np.cumsum(n_users) - n_users, n_users)
    uid = np.arange(acc.size)
    day = a.signup_day.to_numpy()[acc] + np.where(uid - offset < 3, 0, rng.integers(0, 45, acc.size))
    day = np.minimum(day, co.cfg.days - 1)
    ts = co.epoch0 + day * DAY + rng.integers(0, DAY, acc.size)
    return pd.DataFrame({
        "user_id": [f"usr_{u:08d}" for u in uid], "account_id": a.account_id.to_numpy()[acc],
        "email": [f"user{u}@mail.example" for u in uid],
        "role": np.where(uid == offset, "admin", rng.choice(np.array(["member", "viewer"]), acc.size, p=[0.8, 0.2])),
        "created_at": ts, "updated_at": ts, "is_deleted": False, "_ts": ts,
    })


def _alive_changes(co: Company) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per day: accounts whose product access starts / ends (any subscription)."""
    s = co.subscriptions.merge(co.streams[["stream", "account_idx"]], on="stream")
    start = ((s.created.to_numpy() - co.epoch0) // DAY).astype(np.int64)
    end = ((s.ended.fillna(co.epoch0 + co.cfg.days * DAY).to_numpy(dtype="int64") - co.epoch0) // DAY)
    acc = s.account_idx.to_numpy()
    ups: dict[int, np.ndarray] = {}
    downs: dict[int, np.ndarray] = {}
    for store, days in ((ups, start), (downs, end)):
        order = np.argsort(days, kind="stable")
        d_sorted, a_sorted = days[order], acc[order]
        cuts = np.flatnonzero(np.diff(d_sorted)) + 1
        for d_chunk, a_chunk in zip(np.split(d_sorted, cuts), np.split(a_sorted, cuts), strict=True):
            if d_chunk.size:
                store[int(d_chunk[0])] = a_chunk
    return ups, downs


def write_events(co: Company, out_dir: Path, rng: np.random.Generator,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write ``usage/events/<received-day>.parquet``; returns the number of rows written."""
    a, n_users = _users_per_account(co)
    user_offset = np.cumsum(n_users) - n_users
    n_acc = len(a)
    account_ids = pa.array(a.account_id.to_numpy(), pa.string())
    activated = a.activated.to_numpy()
    signup = a.signup_day.to_numpy()
    churn = a.last_churn_day.to_numpy()
    fades = rng.random(n_acc) < DECAYING_CHURNER_SHARE
    engaged = np.ones(n_acc)  # per account, the share of its users still active today
    base_rate = 0.375 * n_users.astype(float) ** 0.9 * np.exp(0.25 * a.engagement.to_numpy())
    free = a.path.to_numpy() == 1
    base_rate = np.where(free, base_rate * 0.4, base_rate)
    features = pa.array(C.FEATURES, pa.string())
    ups, downs = _alive_changes(co)
    alive = np.zeros(n_acc, dtype=np.int64)
    pending: dict[int, list[pa.Table]] = defaultdict(list)
    out_dir.mkdir(parents=True, exist_ok=True)
    seq = 0
    written = 0
    start = np.datetime64(co.cfg.start_date, "D")
    for d in range(co.cfg.days):
        if d in ups:
            np.add.at(alive, ups[d], 1)
        if d in downs:
            np.add.at(alive, downs[d], -1)
        live = np.flatnonzero((alive > 0) & (n_users > 0))
        weekday = (start + d).astype("datetime64[D]").item().weekday()
        rate = base_rate[live] * (0.3 if weekday >= 5 else 1.0)
        age = d - signup[live]
        rate = rate * np.where(age < ONBOARDING_DAYS, 1.5, 1.0)
        to_churn = churn[live] - d
        fading = fades[live] & (churn[live] >= 0) & (to_churn > 0) & (to_churn <= DECAY_DAYS)
        engaged[live] = np.where(fading, to_churn / DECAY_DAYS, 1.0)
        rate = rate * engaged[live] ** 2
        k = rng.poisson(rate)
        total = int(k.sum())
        if total:
            acc = np.repeat(live, k)
            early_narrow = ~activated[acc] & (d - signup[acc] < ONBOARDING_DAYS)
            pool = np.where(early_narrow, np.minimum(2, n_users[acc]), n_users[acc])
            pool = np.maximum(1, np.ceil(pool * engaged[acc])).astype(np.int64)
            user = user_offset[acc] + np.floor(rng.random(total) * pool).astype(np.int64)
            n_feat = np.where(early_narrow, 3, np.where(activated[acc], len(C.FEATURES), 4))
            feat = np.floor(rng.random(total) ** 1.3 * n_feat).astype(np.int64)
            kind = rng.random(total)
            name = np.where(kind < 0.08, "session_started", np.where(kind < 0.2, "page_viewed", "feature_used"))
            occurred = co.epoch0 + d * DAY + np.sort(rng.integers(0, DAY, total))
            late = rng.random(total) < LATE_SHARE
            delay = np.where(late, rng.integers(1, 6, total) * DAY, rng.integers(1, 300, total))
            received = occurred + delay
            ids = pc.binary_join_element_wise("ev_", pc.cast(pa.array(np.arange(seq, seq + total)), pa.string()), "")
            seq += total
            feature_col = pc.if_else(pa.array(name == "session_started"), pa.scalar(None, pa.string()),
                                     pc.take(features, pa.array(feat)))
            table = pa.table({
                "event_id": ids,
                "user_id": pc.binary_join_element_wise("usr_", pc.utf8_lpad(pc.cast(pa.array(user), pa.string()), 8, "0"), ""),
                "account_id": pc.take(account_ids, pa.array(acc)),
                "event_name": pa.array(name, pa.string()), "feature": feature_col,
                "occurred_at": pa.array(occurred, pa.timestamp("s", tz="UTC")),
                "received_at": pa.array(received, pa.timestamp("s", tz="UTC")),
                "properties": pa.array(np.where(kind < 0.5, '{"client": "web"}', '{"client": "desktop"}'), pa.string()),
            }, schema=EVENT_SCHEMA)
            recv_day = (received - co.epoch0) // DAY
            for rd in np.unique(recv_day):
                pending[int(rd)].append(table.filter(pa.array(recv_day == rd)))
            dup = rng.random(total) < DUPLICATE_SHARE
            if dup.any():
                again = table.filter(pa.array(dup))
                again = again.set_column(6, "received_at", pc.add(again["received_at"], pa.scalar(np.timedelta64(DAY, "s"))))
                pending[d + 1].append(again)
        today = pending.pop(d, [])
        if today:
            t = pa.concat_tables(today)
            day_name = str(start + d)
            pq.write_table(t, out_dir / f"{day_name}.parquet", compression="zstd")
            written += t.num_rows
        if progress:
            progress(1)
    return written
