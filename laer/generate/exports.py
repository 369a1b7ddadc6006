"""The demo company as Stripe, HubSpot and Segment would export it (landing.md v2).

:func:`write_exports` takes the company's records in the contract's shape and writes the
ones a format covers as that system's objects instead — batched like the contract's files
(monthly backfill files, then nightly ones), so the same days load the same history:

* ``stripe``: Event objects in ``stripe/events/`` — ``customer.created``, ``price.created``,
  ``customer.subscription.created/updated/deleted`` at every instant a subscription or its
  items change (items with their price expanded, each discount as an expanded item-level
  discount), ``invoice.finalized/paid/marked_uncollectible`` with their lines,
  ``charge.succeeded/failed`` and ``refund.created``. FX rates stay in ``billing/fx_rates``.
* ``hubspot``: companies, contacts, deals and owners in ``hubspot/<object>/``; leads,
  activities, NPS and tickets stay in the contract's ``crm/`` folders.
* ``segment``: ``identify`` and ``group`` calls for the product's users, ``track`` calls for
  its events, in ``segment/laer-demo/``.

The adapters (:mod:`laer.ingest.exports`) turn these back into the same rows, so the demo
publishes the same marts either way (tests/test_exports.py holds it to the cent).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from laer.generate.writer import batch_names, gzipped
from laer.ingest.exports.hubspot import ZERO_DECIMAL_CURRENCIES

FORMATS = ("stripe", "hubspot", "segment")
STRIPE_FRAMES = ("billing/customers", "billing/plans", "billing/subscriptions", "billing/subscription_items",
                 "billing/invoices", "billing/invoice_lines", "billing/payments", "billing/refunds")
HUBSPOT_FRAMES = ("crm/accounts", "crm/contacts", "crm/opportunities", "crm/users")
SEGMENT_FRAMES = ("usage/users",)
COVERS = {"stripe": STRIPE_FRAMES, "hubspot": HUBSPOT_FRAMES, "segment": SEGMENT_FRAMES}
SEGMENT_SOURCE = "laer-demo"


def _v(value: Any) -> Any:
    """A frame's value as JSON wants it: None for missing, plain ints and floats."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _rows(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for rec in df.to_dict("records"):
        yield {k: _v(v) for k, v in rec.items()}


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return np.datetime_as_string(np.datetime64(int(seconds), "s"), unit="s") + "Z"


class Batches:
    """Objects grouped into the contract's batch files by the day they were exported."""

    def __init__(self, epoch0: int, last_day: int, daily_from_day: int, start: np.datetime64):
        self.epoch0, self.last_day, self.daily_from, self.start = epoch0, last_day, daily_from_day, start
        self.files = 0

    def write(self, folder: Path, stamped: Iterable[tuple[int, dict[str, Any]]], suffix: str = "") -> None:
        items = [(int(ts), obj) for ts, obj in stamped if (int(ts) - self.epoch0) // 86400 <= self.last_day]
        if not items:
            return
        items.sort(key=lambda x: x[0])
        names = batch_names(np.array([ts for ts, _ in items], dtype=np.int64), self.epoch0, self.daily_from, self.start)
        folder.mkdir(parents=True, exist_ok=True)
        by_name: dict[str, list[str]] = {}
        for name, (_, obj) in zip(names, items, strict=True):
            by_name.setdefault(str(name), []).append(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        for name, lines in by_name.items():
            (folder / f"{name}{suffix}.jsonl.gz").write_bytes(gzipped(("\n".join(lines) + "\n").encode()))
            self.files += 1


# ------------------------------------------------------------------------------ Stripe
def _price(p: dict[str, Any]) -> dict[str, Any]:
    return {"id": p["plan_id"], "object": "price", "active": True, "billing_scheme": "per_unit",
            "created": p["updated_at"], "currency": p["currency"].lower(), "livemode": False, "metadata": {},
            "nickname": p["plan_name"], "product": p["product"],
            "recurring": {"interval": p["billing_interval"], "interval_count": p["interval_count"],
                          "usage_type": "licensed"},
            "type": "recurring", "unit_amount": p["unit_amount"]}


def _subscription_events(subs: pd.DataFrame, items: pd.DataFrame,
                         prices: dict[str, dict[str, Any]]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(instant, event type, subscription object) at every instant a subscription or one
    of its items changes."""
    latest_items = items.sort_values("updated_at", kind="stable").drop_duplicates("subscription_item_id", keep="last")
    by_sub = {k: list(_rows(g)) for k, g in latest_items.groupby("subscription_id", sort=False)}
    for sid, versions in subs.sort_values("updated_at", kind="stable").groupby("subscription_id", sort=False):
        vs = list(_rows(versions))
        its = by_sub.get(sid, [])
        ended = vs[-1]["ended_at"]
        instants = sorted({v["updated_at"] for v in vs} | {i["started_at"] for i in its}
                          | {i["ended_at"] for i in its if i["ended_at"] is not None})
        instants = [t for t in instants if t >= vs[0]["created_at"] and (ended is None or t <= ended)]
        for n, t in enumerate(instants):
            v = [x for x in vs if x["updated_at"] <= t][-1]
            live = [i for i in its if i["started_at"] <= t and (i["ended_at"] is None or i["ended_at"] > t)]
            kind = "created" if n == 0 else "deleted" if v["ended_at"] is not None and v["ended_at"] <= t else "updated"
            yield t, f"customer.subscription.{kind}", {
                "id": sid, "object": "subscription", "customer": v["customer_id"], "status": v["status"],
                "created": v["created_at"], "start_date": v["created_at"], "trial_start": v["trial_start"],
                "trial_end": v["trial_end"], "current_period_start": v["current_period_start"],
                "current_period_end": v["current_period_end"], "cancel_at_period_end": bool(v["cancel_at_period_end"]),
                "canceled_at": v["canceled_at"], "ended_at": v["ended_at"],
                "cancellation_details": {"reason": v.get("cancellation_reason"),
                                         "feedback": v.get("cancellation_feedback"), "comment": None},
                "pause_collection": None, "livemode": False, "metadata": {},
                "items": {"object": "list", "has_more": False, "total_count": len(live), "data": [{
                    "id": i["subscription_item_id"], "object": "subscription_item", "created": i["started_at"],
                    "price": prices[i["plan_id"]], "quantity": i["quantity"], "subscription": sid,
                    "discounts": [{
                        "id": f"di_{i['subscription_item_id']}", "object": "discount", "start": i["started_at"],
                        "end": None, "subscription": sid, "subscription_item": i["subscription_item_id"],
                        "coupon": {"id": f"off{i['discount_percent']:g}", "object": "coupon",
                                   "percent_off": i["discount_percent"], "amount_off": None, "duration": "forever"},
                    }] if i["discount_percent"] else []} for i in live]}}


def _invoice_events(invoices: pd.DataFrame,
                    lines: pd.DataFrame) -> Iterator[tuple[int, str, dict[str, Any], int]]:
    """(instant, event type, invoice object, export instant) of every invoice version: a
    version exported before its own time (the contract's ``_ts`` < ``updated_at``) goes into
    the batch of its export day, as in the contract's layout."""
    kinds = {"open": "finalized", "paid": "paid", "uncollectible": "marked_uncollectible", "void": "voided",
             "draft": "created"}
    by_invoice = {k: list(_rows(g)) for k, g in lines.groupby("invoice_id", sort=False)}
    for v in _rows(invoices):
        its = by_invoice.get(v["invoice_id"], [])
        yield v["updated_at"], f"invoice.{kinds[v['status']]}", {
            "id": v["invoice_id"], "object": "invoice", "customer": v["customer_id"], "subscription": v["subscription_id"],
            "status": v["status"], "currency": v["currency"], "subtotal": v["subtotal"], "tax": v["tax"],
            "total": v["total"], "amount_paid": v["amount_paid"], "period_start": v["period_start"],
            "period_end": v["period_end"], "created": v["created_at"],
            "status_transitions": {"paid_at": v["paid_at"]},
            "total_discount_amounts": [{"amount": v["discount"], "discount": None}] if v["discount"] else [],
            "lines": {"object": "list", "has_more": False, "total_count": len(its), "data": [{
                "id": ln["invoice_line_id"], "object": "line_item", "amount": ln["amount"], "currency": ln["currency"],
                "discount_amounts": [], "proration": False, "quantity": ln["quantity"],
                "type": "subscription" if ln["line_type"] == "subscription" else "invoiceitem",
                "subscription_item": ln["subscription_item_id"],
                "price": {"id": ln["plan_id"], "object": "price"} if ln["plan_id"] else None,
                "period": {"start": ln["period_start"], "end": ln["period_end"]}} for ln in its]}}, v["_ts"]


def write_stripe(frames: dict[str, pd.DataFrame], landing: Path, batches: Batches) -> None:
    # (instant, event type, object, export instant: the day's batch it goes into)
    events: list[tuple[int, str, dict[str, Any], int]] = []
    for c in _rows(frames["billing/customers"]):
        events.append((c["_ts"], "customer.created", {
            "id": c["customer_id"], "object": "customer", "email": c["email"], "currency": c["currency"].lower(),
            "created": c["created_at"], "livemode": False,
            "metadata": {"account_id": c["account_id"]} if c["account_id"] else {}}, c["_ts"]))
    prices = {p["plan_id"]: _price(p) for p in _rows(frames["billing/plans"])}
    events += [(p["created"], "price.created", p, p["created"]) for p in prices.values()]
    events += [(t, kind, obj, t) for t, kind, obj in _subscription_events(
        frames["billing/subscriptions"], frames["billing/subscription_items"], prices)]
    events += _invoice_events(frames["billing/invoices"], frames["billing/invoice_lines"])
    for p in _rows(frames["billing/payments"]):
        events.append((p["created_at"], f"charge.{p['status']}", {
            "id": p["payment_id"], "object": "charge", "customer": p["customer_id"], "invoice": p["invoice_id"],
            "amount": p["amount"], "currency": p["currency"], "status": p["status"], "created": p["created_at"],
            "failure_code": p["failure_reason"], "refunds": {"object": "list", "data": [], "has_more": False}},
            p["created_at"]))
    for r in _rows(frames["billing/refunds"]):
        events.append((r["created_at"], "refund.created", {
            "id": r["refund_id"], "object": "refund", "charge": r["payment_id"], "amount": r["amount"],
            "currency": r["currency"], "reason": r["reason"], "created": r["created_at"], "status": "succeeded"},
            r["created_at"]))
    batches.write(landing / "stripe" / "events", [
        (exported, {"id": f"evt_{n + 1:09d}", "object": "event", "api_version": "2024-06-20", "created": ts,
                    "type": kind, "livemode": False, "data": {"object": obj}})
        for n, (ts, kind, obj, exported) in enumerate(sorted(events, key=lambda e: e[0]))])


# ----------------------------------------------------------------------------- HubSpot
def _major_units(amount: int | None, currency: str | None) -> str | None:
    if amount is None:
        return None
    if (currency or "").lower() in ZERO_DECIMAL_CURRENCIES:
        return str(amount)
    return f"{amount / 100:.2f}"


def _hubspot(oid: str, props: dict[str, Any], created: int, updated: int, deleted: bool,
             **extra: Any) -> dict[str, Any]:
    return {"id": oid, "properties": {k: v for k, v in props.items() if v is not None},
            "createdAt": _iso(created), "updatedAt": _iso(updated), "archived": bool(deleted), **extra}


def write_hubspot(frames: dict[str, pd.DataFrame], landing: Path, batches: Batches) -> None:
    folder = landing / "hubspot"
    batches.write(folder / "companies", ((a["_ts"], _hubspot(a["account_id"], {
        "name": a["name"], "domain": a["domain"], "industry": a["industry"],
        "numberofemployees": None if a["employee_count"] is None else str(int(a["employee_count"])),
        "country": a["country"], "hubspot_owner_id": a["owner_id"], "csm_owner_id": a["csm_id"]},
        a["created_at"], a["updated_at"], a["is_deleted"])) for a in _rows(frames["crm/accounts"])))
    batches.write(folder / "contacts", ((c["_ts"], _hubspot(c["contact_id"], {
        "email": c["email"], "firstname": c["first_name"], "lastname": c["last_name"], "jobtitle": c["title"],
        "associatedcompanyid": c["account_id"]}, c["created_at"], c["updated_at"], c["is_deleted"]))
        for c in _rows(frames["crm/contacts"])))
    types = {"new_business": "newbusiness", "expansion": "existingbusiness"}
    stages = {"closed_won": "closedwon", "closed_lost": "closedlost"}
    batches.write(folder / "deals", ((d["_ts"], _hubspot(d["opportunity_id"], {
        "dealname": f"{d['account_id']} {d['type']}", "dealtype": types.get(d["type"], d["type"]),
        "dealstage": stages.get(d["stage"], d["stage"]), "amount": _major_units(d["amount"], d["currency"]),
        "deal_currency_code": d["currency"].upper() if d["currency"] else None,
        "closedate": _iso(d["close_date"]), "hubspot_owner_id": d["owner_id"]},
        d["created_at"], d["updated_at"], d["is_deleted"],
        associations={"companies": {"results": [{"id": d["account_id"], "type": "deal_to_company"}]}}))
        for d in _rows(frames["crm/opportunities"])))
    owners = []
    for u in _rows(frames["crm/users"]):
        first, _, last = (u["name"] or "").partition(" ")
        owners.append((u["_ts"], {"id": u["user_id"], "email": u["email"], "firstName": first or None,
                                  "lastName": last or None, "teams": [{"name": u["role"]}] if u["role"] else [],
                                  "createdAt": _iso(u["updated_at"]), "updatedAt": _iso(u["updated_at"]),
                                  "archived": bool(u["is_deleted"])}))
    batches.write(folder / "owners", owners)


# ----------------------------------------------------------------------------- Segment
def write_segment_users(frames: dict[str, pd.DataFrame], landing: Path, batches: Batches) -> None:
    calls = []
    for u in _rows(frames["usage/users"]):
        at = _iso(u["updated_at"])
        calls.append((u["_ts"], {"type": "identify", "messageId": f"idf-{u['user_id']}-{u['updated_at']}",
                                 "userId": u["user_id"], "timestamp": at,
                                 "traits": {"email": u["email"], "role": u["role"], "createdAt": _iso(u["created_at"])}}))
        calls.append((u["_ts"], {"type": "group", "messageId": f"grp-{u['user_id']}-{u['updated_at']}",
                                 "userId": u["user_id"], "groupId": u["account_id"], "timestamp": at, "traits": {}}))
    batches.write(landing / "segment" / SEGMENT_SOURCE, calls, suffix="_users")


def events_to_segment(parquet_dir: Path, landing: Path) -> int:
    """Each ``<received-day>.parquet`` of usage events as ``track`` calls in
    ``segment/laer-demo/<received-day>_events.jsonl.gz``; returns the files written."""
    out = landing / "segment" / SEGMENT_SOURCE
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    files = 0
    for f in sorted(parquet_dir.glob("*.parquet")):
        target = out / f"{f.stem}_events.jsonl.gz"
        con.execute(f"""
            copy (
                select 'track' as "type", event_id as "messageId", user_id as "userId", event_name as "event",
                       json_merge_patch(coalesce(try_cast(properties as json), '{{}}'),
                                        json_object('feature', feature)) as "properties",
                       strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ') as "timestamp",
                       strftime(received_at, '%Y-%m-%dT%H:%M:%SZ') as "receivedAt",
                       {{'groupId': account_id}} as "context"
                from read_parquet('{f}', file_row_number = true) order by file_row_number
            ) to '{target}' (format json, compression gzip)""")
        files += 1
    con.close()
    return files
