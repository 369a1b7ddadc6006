"""Stripe's own objects into the contract's billing tables (landing.md v2, "Exports as the
source systems write them").

``stripe/events/`` holds Event objects: each ``data.object`` is the object as it stood at the
event's ``created``, which becomes the version's ``updated_at``. ``stripe/<resource>/`` holds
list-endpoint snapshots for a first backfill. What maps where, and why, is in
DECISIONLOG.md ("Stripe objects"); the rules a reader needs most:

* a subscription's ``items.data[]`` give subscription items, one version per price period
  (:mod:`laer.ingest.exports.timeline`): a change of price, quantity or discount ends the
  version at the event's instant and starts the next;
* coupons: ``percent_off``, or ``amount_off`` as a share of the items' amount, for
  ``duration`` ``forever`` (until removed) or ``repeating`` (until the discount's ``end``);
  a ``once`` coupon discounts one invoice and never moves MRR;
* a metered price carries no MRR (its items load with quantity 0); a paused collection
  that voids or writes off invoices (``pause_collection.behavior`` ``void`` or
  ``mark_uncollectible``), and a ``paused`` subscription, carry none until they resume;
* ``cancellation_details.reason`` and ``.feedback`` are the contract's words already.

A customer belongs to the CRM account named by its ``metadata.account_id`` (the key is the
setting ``LAER_STRIPE_ACCOUNT_KEY``, :class:`ExportSettings`), else to the one CRM account
whose domain is its e-mail's domain (among the accounts loaded when the customer loads),
else it is unmatched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import duckdb
import orjson

from laer.contract import entity
from laer.ingest.exports.objects import Bad, Obj, Rows, Skipped, read_objects
from laer.ingest.exports.timeline import Segment, Version, item_of, merge, reconcile
from laer.ingest.files import LandingFile
from laer.ingest.rules import latest_versions_sql

# the event families the contract names; anything else in stripe/events/ is reported
FAMILIES = ("customer.", "price.", "product.", "invoice.", "charge.", "refund.")
# objects of those families the billing tables have no place for
UNUSED_OBJECTS = ("tax_id", "source", "card", "bank_account", "cash_balance", "dispute",
                  "invoiceitem", "customer_balance_transaction", "payment_method")
SNAPSHOT_OBJECTS = {"customers": "customer", "prices": "price", "products": "product", "subscriptions": "subscription",
                    "invoices": "invoice", "charges": "charge", "refunds": "refund"}
STATUSES = {"incomplete_expired": "incomplete"}
PAUSING = ("void", "mark_uncollectible")  # keep_as_draft still bills: the MRR stays
HUNDRED = Decimal(100)
# Webhooks of API versions from 2025-03-31 name a subscription's discounts by id only; their
# objects come in `customer.discount.*` events, perhaps in an earlier file. The adapter keeps
# every discount it has seen here (inside the load's transaction), to resolve ids later.
DISCOUNTS = "raw._stripe_discounts"


def _months_later(t: dt.datetime, months: int) -> dt.datetime:
    month = t.month - 1 + months
    year, month = t.year + month // 12, month % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return t.replace(year=year, month=month, day=min(t.day, days[month - 1]))


class StripeFile:
    """One file of ``stripe/``: read, checked and mapped, with the state it needs from the
    warehouse (the item versions loaded before, the CRM accounts' domains)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, f: LandingFile, account_key: str = "account_id"):
        self.con, self.f = con, f
        self.rows = Rows()
        self.skipped = Skipped()
        self.account_key = account_key
        self._domains: dict[str, str | None] | None = None
        self.items: dict[str, dict[str, list[Version]]] = {}  # subscription -> item -> versions
        self.observed: dict[str, dt.datetime] = {}  # subscription -> its latest observation
        self.changed: dict[str, Version] = {}
        self.item_times: dict[str, tuple[dt.datetime, int]] = {}
        self.file_time = dt.datetime.fromtimestamp(f.modified_ns / 1e9, dt.UTC).replace(tzinfo=None)
        self.discounts: dict[str, tuple[dt.datetime, dict[str, Any]]] = {}  # id -> (seen at, object)
        self.fresh: set[str] = set()  # the discounts this file delivered

    # ------------------------------------------------------------------ reading
    def run(self) -> Rows:
        objects = list(read_objects(self.f))
        self.rows.objects = len(objects)
        if self.f.entity.name == "events":
            work = [self._event(o) for o in objects]
        else:
            work = [self._snapshot(o) for o in objects]
        todo = sorted((w for w in work if w is not None), key=lambda w: (w[1], w[0].line))
        for obj, at, kind, _ in todo:
            if kind == "discount":
                self._remember_discount(obj.data, at)
        todo = [w for w in todo if w[2] != "discount"]
        self._load_item_state({o.text("id") for o, _, kind, _ in todo if kind == "subscription"})
        for obj, at, kind, event_type in todo:
            getattr(self, f"_map_{kind}")(obj, at, event_type)
        for v in self.changed.values():
            at, line = self.item_times[v.id]
            self.rows.add("billing__subscription_items", line, {
                "subscription_item_id": v.id, "subscription_id": v.subscription_id, "plan_id": v.plan_id,
                "quantity": v.quantity, "discount_percent": v.discount_percent, "started_at": v.started_at,
                "ended_at": v.ended_at, "updated_at": at})
        self._save_discounts()
        self.rows.warnings += self.skipped.warnings()
        return self.rows

    def _event(self, e: Obj) -> tuple[Obj, dt.datetime, str, str] | None:
        e.text("id", required=True)
        event_type = e.text("type", required=True) or ""
        created = e.epoch("created", required=True)
        data = e.child("data", required=True)
        assert data is not None and created is not None
        obj = data.child("object", required=True)
        assert obj is not None
        if not event_type.startswith(FAMILIES):
            self.skipped.note(f"event type {event_type!r} is not one the contract maps", e.line, e.at("type"))
            return None
        kind = obj.text("object") or ""
        if kind == "product":  # a product's name reaches no table: plans name their product by id
            return None
        if kind in UNUSED_OBJECTS:
            self.skipped.note(f"{kind} objects have no billing table", e.line, obj.at("object"))
            return None
        if kind not in (*SNAPSHOT_OBJECTS.values(), "discount"):
            self.skipped.note(f"unknown object {kind!r} in a {event_type} event", e.line, obj.at("object"))
            return None
        obj.text("id", required=True)
        return obj, created, kind, event_type

    def _snapshot(self, o: Obj) -> tuple[Obj, dt.datetime, str, str] | None:
        kind = SNAPSHOT_OBJECTS[self.f.entity.name]
        o.text("id", required=True)
        found = o.text("object")
        if found is not None and found != kind:
            raise o.bad("object", f"expected a {kind} in stripe/{self.f.entity.name}/, found {found!r}")
        if kind == "product":
            return None
        return o, self._snapshot_time(o), kind, ""

    def _snapshot_time(self, o: Obj) -> dt.datetime:
        """A snapshot is a version as of its object's latest past timestamp (else the file's)."""
        times = [o.epoch(k) for k in ("created", "canceled_at", "ended_at", "current_period_start", "start_date")]
        transitions = o.child("status_transitions")
        if transitions is not None:
            times += [transitions.epoch(k) for k in transitions.data]
        past = [t for t in times if t is not None and t <= self.file_time]
        return max(past) if past else self.file_time

    # ------------------------------------------------------------------ customers
    def _account_of(self, c: Obj) -> str | None:
        metadata = c.child("metadata")
        named = metadata.text(self.account_key) if metadata is not None else None
        if named:
            return named
        email = c.text("email") or ""
        domain = email.rsplit("@", 1)[1].lower() if "@" in email else ""
        return self._crm_domains().get(domain) if domain else None

    def _crm_domains(self) -> dict[str, str | None]:
        """Domain -> the one CRM account with it (None when several share it)."""
        if self._domains is None:
            self._domains = {}
            latest = latest_versions_sql(entity("crm", "accounts"), ("account_id", "domain", "is_deleted"))
            for domain, accounts in self.con.execute(
                    f"select lower(domain), list(distinct account_id) from ({latest}) "
                    "where coalesce(is_deleted, false) = false and domain is not null group by 1").fetchall():
                self._domains[domain] = accounts[0] if len(accounts) == 1 else None
        return self._domains

    def _map_customer(self, c: Obj, at: dt.datetime, event_type: str) -> None:
        created = c.epoch("created") or at
        self.rows.add("billing__customers", c.line, {
            "customer_id": c.text("id"), "account_id": self._account_of(c), "email": c.text("email"),
            "currency": c.text("currency"), "created_at": created, "updated_at": max(at, created),
            "is_deleted": event_type == "customer.deleted" or bool(c.flag("deleted"))})

    # ------------------------------------------------------------------ prices
    def _plan(self, p: Obj, at: dt.datetime, *, on_item: bool) -> dict[str, Any] | None:
        """The plan row of a recurring price; a one-time price has none (on a subscription
        item it rejects the file)."""
        recurring = p.child("recurring")
        if recurring is None:
            if on_item:
                raise p.bad("recurring", "a subscription item's price must be recurring (no recurring object)")
            return None
        amount = p.integer("unit_amount")
        if amount is None:
            exact = p.decimal("unit_amount_decimal")
            if exact is None:
                raise p.bad("unit_amount", "missing: tiered and custom prices are not supported")
            amount = int(exact.to_integral_value())
        product = p.text("product", required=True)
        name = p.text("nickname") or p.text("lookup_key")
        expanded = p.child("product") if isinstance(p.get("product"), dict) else None
        return {
            "plan_id": p.text("id", required=True), "product": product,
            "plan_name": name or (expanded.text("name") if expanded else None) or p.text("id"),
            "billing_interval": recurring.text("interval", required=True),
            "interval_count": recurring.integer("interval_count") or 1,
            "unit_amount": amount, "currency": p.text("currency", required=True),
            "is_free": amount == 0, "updated_at": max(at, p.epoch("created") or at),
            "_metered": recurring.text("usage_type") == "metered",
        }

    def _add_plan(self, plan: dict[str, Any], line: int) -> None:
        self.rows.add("billing__plans", line, {k: v for k, v in plan.items() if not k.startswith("_")})

    def _map_price(self, p: Obj, at: dt.datetime, event_type: str) -> None:
        plan = self._plan(p, at, on_item=False)
        if plan is None:
            self.skipped.note("one-time prices are not plans", p.line, p.at("recurring"))
            return
        self._add_plan(plan, p.line)

    # ------------------------------------------------------------------ subscriptions
    def _load_item_state(self, subscriptions: set[str | None]) -> None:
        """The item versions loaded before for the file's subscriptions, and when each
        subscription was last observed."""
        ids = sorted(s for s in subscriptions if s)
        if not ids:
            return
        self.con.execute("create or replace temp table _stripe_subs (id varchar)")
        self.con.executemany("insert into _stripe_subs values (?)", [[i] for i in ids])
        versions = latest_versions_sql(
            entity("billing", "subscription_items"),
            ("subscription_item_id", "subscription_id", "plan_id", "quantity", "discount_percent", "started_at",
             "ended_at"),
            where="subscription_id in (select id from _stripe_subs) and _source_file like 'stripe/%'")
        for vid, sub, plan, qty, pct, start, end in self.con.execute(
                f"{versions} order by started_at, subscription_item_id").fetchall():
            item = item_of(vid)
            self.items.setdefault(sub, {}).setdefault(item, []).append(
                Version(vid, item, sub, plan, int(qty), Decimal(pct or 0), start, end))
        self.observed.update(self.con.execute(
            "select subscription_id, max(updated_at) from raw.billing__subscriptions "
            "where subscription_id in (select id from _stripe_subs) and _source_file like 'stripe/%' "
            "group by 1").fetchall())
        self.con.execute("drop table _stripe_subs")

    def _map_subscription(self, s: Obj, at: dt.datetime, event_type: str) -> None:
        sid = s.text("id")
        assert sid is not None
        first_item = next(iter(s.children("items")), None)
        period = s if s.has("current_period_start") else first_item
        details = s.child("cancellation_details")
        status = s.text("status", required=True) or ""
        self.rows.add("billing__subscriptions", s.line, {
            "subscription_id": sid, "customer_id": s.text("customer", required=True),
            "status": STATUSES.get(status, status), "created_at": s.epoch("created", required=True),
            "trial_start": s.epoch("trial_start"), "trial_end": s.epoch("trial_end"),
            "current_period_start": period.epoch("current_period_start") if period else None,
            "current_period_end": period.epoch("current_period_end") if period else None,
            "cancel_at_period_end": s.flag("cancel_at_period_end"), "canceled_at": s.epoch("canceled_at"),
            "ended_at": s.epoch("ended_at"), "updated_at": at,
            "cancellation_reason": details.text("reason") if details else None,
            "cancellation_feedback": details.text("feedback") if details else None})
        last = self.observed.get(sid)
        if last is not None and at < last:
            self.skipped.note("item changes older than the subscription's latest known state", s.line, s.at("items"))
            return
        self.observed[sid] = at
        self._observe_items(s, sid, at, snapshot=not event_type)

    def _observe_items(self, s: Obj, sid: str, at: dt.datetime, *, snapshot: bool) -> None:
        items = s.children("items")
        terms: dict[str, tuple[Obj, dict[str, Any], int]] = {}
        for it in items:
            price = it.child("price") or it.child("plan")
            if price is None:
                raise it.bad("price", "missing")
            plan = self._plan(price, at, on_item=True)
            assert plan is not None
            self._add_plan(plan, s.line)
            quantity = 0 if plan["_metered"] else (it.integer("quantity") or 0)
            terms[it.text("id", required=True) or ""] = (it, plan, quantity)
        gross = {iid: Decimal(plan["unit_amount"]) * qty for iid, (_, plan, qty) in terms.items()}
        shared = self._discounts(s, at, sum(gross.values(), Decimal(0)))
        pause = s.child("pause_collection")
        paused_until: dt.datetime | bool | None = False  # False: not paused
        if s.text("status") == "paused":
            paused_until = None
        elif pause is not None and pause.text("behavior") in PAUSING:
            paused_until = pause.epoch("resumes_at")
        known = self.items.setdefault(sid, {})
        for iid in sorted(set(known) | set(terms)):
            versions = known.setdefault(iid, [])
            desired: list[Segment] = []
            if iid in terms:
                it, plan, quantity = terms[iid]
                start = min(at, it.epoch("created") or at) if snapshot and not versions else at
                discounts = shared + self._discounts(it, at, gross[iid])
                desired = self._segments(start, plan["plan_id"], quantity, discounts, paused_until)
            for v in reconcile(versions, desired, at, iid, sid):
                self.changed[v.id] = v
                self.item_times[v.id] = (at, s.line)

    def _discounts(self, holder: Obj, at: dt.datetime,
                   gross: Decimal) -> list[tuple[dt.datetime | None, dt.datetime | None, Decimal]]:
        """(start, end, percent) of each discount that moves MRR; ``gross`` is what an
        amount-off coupon is a share of."""
        found: list[Obj] = []
        one = holder.child("discount")
        if one is not None:
            found.append(one)
        raw = holder.get("discounts")
        if isinstance(raw, list):
            for i, d in enumerate(raw):
                where = f"{holder.at('discounts')}[{i}]"
                if isinstance(d, str):  # an id: the object came in a customer.discount.* event
                    known = self._discount(d)
                    if known is None:
                        self.skipped.note("discounts named by an id never delivered in a customer.discount.* event "
                                          "(not applied)", holder.line, where)
                        continue
                    d = known
                if not isinstance(d, dict):
                    raise Bad(holder.line, where, "expected a discount object or its id")
                if not (one is not None and d.get("id") == one.get("id")):
                    found.append(Obj(d, holder.line, where))
        out = []
        for d in found:
            source = d.child("source")
            coupon = d.child("coupon") or (source.child("coupon") if source else None)
            if coupon is None:
                raise d.bad("coupon", "missing")
            duration = coupon.text("duration") or "forever"
            if duration == "once":
                continue
            start = d.epoch("start")
            end = d.epoch("end")
            if duration == "repeating" and end is None:
                months = coupon.integer("duration_in_months")
                if months is None:
                    raise coupon.bad("duration_in_months", "missing on a repeating coupon without a discount end")
                end = _months_later(start or at, months)
            percent = coupon.decimal("percent_off")
            if percent is None:
                off = coupon.integer("amount_off")
                if off is None:
                    raise coupon.bad("percent_off", "a coupon needs percent_off or amount_off")
                percent = min(HUNDRED, Decimal(off) * HUNDRED / gross) if gross else Decimal(0)
            out.append((start, end, percent))
        return out

    def _remember_discount(self, d: dict[str, Any], at: dt.datetime) -> None:
        seen = self.discounts.get(d["id"])
        if seen is None or seen[0] <= at:
            self.discounts[d["id"]] = (at, d)
            self.fresh.add(d["id"])

    def _discount(self, discount_id: str) -> dict[str, Any] | None:
        if discount_id not in self.discounts:
            self.con.execute(f"create table if not exists {DISCOUNTS} (discount_id varchar, discount varchar, "
                             "seen_at timestamp)")
            found = self.con.execute(f"select discount, seen_at from {DISCOUNTS} where discount_id = ? "
                                     "order by seen_at desc limit 1", [discount_id]).fetchone()
            if found is None:
                return None
            self.discounts[discount_id] = (found[1], orjson.loads(found[0]))
        return self.discounts[discount_id][1]

    def _save_discounts(self) -> None:
        if self.fresh:
            self.con.execute(f"create table if not exists {DISCOUNTS} (discount_id varchar, discount varchar, "
                             "seen_at timestamp)")
            self.con.executemany(f"insert into {DISCOUNTS} values (?, ?, ?)",
                                 [[k, orjson.dumps(self.discounts[k][1]).decode(), self.discounts[k][0]]
                                  for k in sorted(self.fresh)])

    @staticmethod
    def _segments(start: dt.datetime, plan_id: str, quantity: int,
                  discounts: Iterable[tuple[dt.datetime | None, dt.datetime | None, Decimal]],
                  paused_until: dt.datetime | bool | None) -> list[Segment]:
        discounts = list(discounts)
        cuts = {start} | {t for d in discounts for t in d[:2] if t is not None and t > start}
        if isinstance(paused_until, dt.datetime) and paused_until > start:
            cuts.add(paused_until)
        bounds = sorted(cuts)
        out = []
        for lo, hi in zip(bounds, [*bounds[1:], None], strict=True):
            if paused_until is None or (isinstance(paused_until, dt.datetime) and lo < paused_until):
                continue  # collection paused: no MRR until it resumes
            percent = sum((p for s, e, p in discounts if (s is None or s <= lo) and (e is None or lo < e)), Decimal(0))
            out.append(Segment(lo, hi, plan_id, quantity, min(HUNDRED, percent)))
        return merge(out)

    # ------------------------------------------------------------------ money
    def _map_invoice(self, i: Obj, at: dt.datetime, event_type: str) -> None:
        iid = i.text("id")
        parent = i.child("parent")
        details = parent.child("subscription_details") if parent else None
        transitions = i.child("status_transitions")
        discount = sum((d.integer("amount") or 0 for d in i.children("total_discount_amounts")), 0)
        tax = i.integer("tax")
        if tax is None:
            tax = sum((t.integer("amount") or 0 for t in i.children("total_taxes") or i.children("total_tax_amounts")), 0)
        self.rows.add("billing__invoices", i.line, {
            "invoice_id": iid, "customer_id": i.text("customer", required=True),
            "subscription_id": i.text("subscription") or (details.text("subscription") if details else None),
            "status": i.text("status", required=True), "currency": i.text("currency", required=True),
            "subtotal": i.integer("subtotal", required=True), "discount": discount, "tax": tax,
            "total": i.integer("total", required=True), "amount_paid": i.integer("amount_paid"),
            "period_start": i.epoch("period_start"), "period_end": i.epoch("period_end"),
            "created_at": i.epoch("created", required=True),
            "paid_at": transitions.epoch("paid_at") if transitions else None, "updated_at": at})
        for line in i.children("lines"):
            self._map_line(line, iid)

    def _map_line(self, ln: Obj, invoice_id: str | None) -> None:
        parent = ln.child("parent")
        item_details = parent.child("subscription_item_details") if parent else None
        pricing = ln.child("pricing")
        price_details = pricing.child("price_details") if pricing else None
        price = ln.child("price") or ln.child("plan")
        recurring = price.child("recurring") if price else None
        proration = ln.flag("proration") or bool(item_details and item_details.flag("proration"))
        kind = "proration" if proration else "usage" if recurring and recurring.text("usage_type") == "metered" \
            else "subscription" if ln.text("type") == "subscription" or (item_details is not None) else "one_time"
        period = ln.child("period")
        discounts = sum((d.integer("amount") or 0 for d in ln.children("discount_amounts")), 0)
        self.rows.add("billing__invoice_lines", ln.line, {
            "invoice_line_id": ln.text("id", required=True), "invoice_id": invoice_id,
            "subscription_item_id": ln.text("subscription_item") or (
                item_details.text("subscription_item") if item_details else None),
            "plan_id": (price.text("id") if price else None) or (price_details.text("price") if price_details else None),
            "line_type": kind, "amount": (ln.integer("amount", required=True) or 0) - discounts,
            "currency": ln.text("currency", required=True), "quantity": ln.integer("quantity"),
            "period_start": period.epoch("start") if period else None,
            "period_end": period.epoch("end") if period else None})

    def _map_charge(self, c: Obj, at: dt.datetime, event_type: str) -> None:
        customer = c.text("customer")
        if customer is None:
            self.skipped.note("charges without a customer", c.line, c.at("customer"))
        else:
            status = c.text("status", required=True)
            self.rows.add("billing__payments", c.line, {
                "payment_id": c.text("id"), "invoice_id": c.text("invoice"), "customer_id": customer,
                "amount": c.integer("amount", required=True), "currency": c.text("currency", required=True),
                "status": status, "created_at": c.epoch("created", required=True),
                "failure_reason": c.text("failure_code") or c.text("failure_message")})
        for r in c.children("refunds"):
            self._map_refund(r, at, event_type, charge=c.text("id"))

    def _map_refund(self, r: Obj, at: dt.datetime, event_type: str, charge: str | None = None) -> None:
        payment = r.text("charge") or charge
        if payment is None:
            self.skipped.note("refunds without a charge", r.line, r.at("charge"))
            return
        self.rows.add("billing__refunds", r.line, {
            "refund_id": r.text("id", required=True), "payment_id": payment,
            "amount": r.integer("amount", required=True), "currency": r.text("currency", required=True),
            "reason": r.text("reason"), "created_at": r.epoch("created", required=True)})


def adapt(con: duckdb.DuckDBPyConnection, f: LandingFile, account_key: str = "account_id") -> Rows:
    return StripeFile(con, f, account_key).run()


__all__ = ["Bad", "adapt"]
