"""Landing contract v2 as data: the one place the loader, the generator and the docs read.

Mirrors ``docs/contract/landing.md``. Each entity lists its columns with a logical
type, whether the column is required (the header must carry it) and, for enumerated
columns, the known values (an unknown value is a warning, never a rejection).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColType(StrEnum):
    STRING = "string"
    INT = "int"  # integers, money in minor units included
    BOOL = "bool"
    TIMESTAMP = "timestamp"  # ISO-8601; without offset = UTC; stored as UTC
    DATE = "date"  # YYYY-MM-DD
    DECIMAL = "decimal"  # exact decimal (fx rates)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColType = ColType.STRING
    required: bool = False
    enum: tuple[str, ...] = ()
    # lower-case the value before comparing with ``enum`` (currencies)
    case_insensitive: bool = False
    # an amount of money in minor units: an integer under MONEY_LIMIT in size
    money: bool = False


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    key: str
    columns: tuple[Column, ...]
    # column ordering versions of a record (CDC); None = append-only facts
    version_column: str | None = "updated_at"
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # an export folder (stripe/, hubspot/, segment/): the raw tables its adapter writes;
    # empty for the contract's own entities, whose files load into their one raw table
    feeds: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """Raw table name inside the ``raw`` schema."""
        return f"{self.source}__{self.name}"

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


S, INT, B, T, D, N = (
    ColType.STRING,
    ColType.INT,
    ColType.BOOL,
    ColType.TIMESTAMP,
    ColType.DATE,
    ColType.DECIMAL,
)


def c(name: str, type_: ColType = S, *, req: bool = False, enum: tuple[str, ...] = (), ci: bool = False) -> Column:
    return Column(name, type_, req, enum, ci)


# Money in minor units beyond this (10^13 major units) is no real amount, and would overflow
# the warehouse's money type (decimal(18,2) after conversion): the file is rejected at load.
MONEY_LIMIT = 10**15


def m(name: str, *, req: bool = False) -> Column:
    """An amount of money in minor units (cents)."""
    return Column(name, ColType.INT, req, money=True)


LEAD_SOURCES = ("paid_ads", "content", "event", "referral", "organic", "outbound")
LEAD_STATUSES = ("new", "working", "qualified", "converted", "disqualified")
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
ACTIVITY_TYPES = ("call", "meeting", "email", "qbr", "training")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
USER_ROLES = ("sales", "csm", "leadership")
BILLING_INTERVALS = ("day", "week", "month", "year")
SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "paused", "canceled", "unpaid", "incomplete")
INVOICE_STATUSES = ("draft", "open", "paid", "void", "uncollectible")
LINE_TYPES = ("subscription", "proration", "one_time", "usage")
PAYMENT_STATUSES = ("succeeded", "failed", "pending")
# v2: why a subscription ended (Stripe's words) and what the customer said
CANCELLATION_REASONS = ("cancellation_requested", "payment_failed", "payment_disputed")
CANCELLATION_FEEDBACK = ("too_expensive", "missing_features", "switched_service", "unused", "customer_service",
                         "too_complex", "low_quality", "other")
# v2: marketing (the default when absent) or sales; both make the fully loaded acquisition cost
COST_TYPES = ("marketing", "sales")
# ISO-4217 codes the demo and the tests use; others are accepted with a warning.
KNOWN_CURRENCIES = ("usd", "eur", "gbp", "cad", "aud", "jpy", "chf", "sek", "nok", "dkk", "inr", "brl")

CUR = c("currency", S, enum=KNOWN_CURRENCIES, ci=True)
CUR_REQ = c("currency", S, req=True, enum=KNOWN_CURRENCIES, ci=True)

ENTITIES: tuple[Entity, ...] = (
    # ---------------------------------------------------------------- crm
    Entity("crm", "accounts", "account_id", (
        c("account_id", req=True), c("name", req=True), c("domain"), c("industry"),
        c("employee_count", INT), c("country"), c("owner_id"), c("csm_id"),
        c("created_at", T, req=True), c("updated_at", T, req=True), c("is_deleted", B),
    )),
    Entity("crm", "contacts", "contact_id", (
        c("contact_id", req=True), c("account_id", req=True), c("email"), c("first_name"),
        c("last_name"), c("title"), c("created_at", T, req=True), c("updated_at", T, req=True),
        c("is_deleted", B),
    )),
    Entity("crm", "leads", "lead_id", (
        c("lead_id", req=True), c("email"), c("company_name"),
        c("source", req=True, enum=LEAD_SOURCES), c("status", req=True, enum=LEAD_STATUSES),
        c("created_at", T, req=True), c("converted_at", T), c("converted_account_id"),
        c("updated_at", T, req=True),
    )),
    Entity("crm", "opportunities", "opportunity_id", (
        c("opportunity_id", req=True), c("account_id", req=True),
        c("type", req=True, enum=OPPORTUNITY_TYPES), c("stage", req=True), m("amount"), CUR,
        c("close_date", D), c("owner_id"), c("created_at", T, req=True), c("updated_at", T, req=True),
        c("is_deleted", B),
    )),
    Entity("crm", "activities", "activity_id", (
        c("activity_id", req=True), c("account_id", req=True),
        c("type", req=True, enum=ACTIVITY_TYPES), c("owner_id"), c("occurred_at", T, req=True),
    ), version_column=None),
    Entity("crm", "nps_responses", "response_id", (
        c("response_id", req=True), c("account_id", req=True), c("contact_id"),
        c("score", INT, req=True), c("comment"), c("responded_at", T, req=True),
    ), version_column=None),
    Entity("crm", "support_tickets", "ticket_id", (
        c("ticket_id", req=True), c("account_id", req=True), c("priority", enum=TICKET_PRIORITIES),
        c("status"), c("created_at", T, req=True), c("resolved_at", T), c("updated_at", T, req=True),
    )),
    # the company's own staff: who owner_id and csm_id are, and where their digests go
    # (v2; e-mail addresses and names never reach a mart)
    Entity("crm", "users", "user_id", (
        c("user_id", req=True), c("email", req=True), c("name"), c("role", enum=USER_ROLES),
        c("updated_at", T, req=True), c("is_deleted", B),
    )),
    # ------------------------------------------------------------ billing
    Entity("billing", "customers", "customer_id", (
        c("customer_id", req=True), c("account_id"), c("email"), CUR,
        c("created_at", T, req=True), c("updated_at", T, req=True), c("is_deleted", B),
    )),
    Entity("billing", "plans", "plan_id", (
        c("plan_id", req=True), c("product", req=True), c("plan_name", req=True),
        c("billing_interval", req=True, enum=BILLING_INTERVALS), c("interval_count", INT, req=True),
        m("unit_amount", req=True), CUR_REQ, c("is_free", B), c("updated_at", T, req=True),
    )),
    Entity("billing", "subscriptions", "subscription_id", (
        c("subscription_id", req=True), c("customer_id", req=True),
        c("status", req=True, enum=SUBSCRIPTION_STATUSES), c("created_at", T, req=True),
        c("trial_start", T), c("trial_end", T), c("current_period_start", T),
        c("current_period_end", T), c("cancel_at_period_end", B), c("canceled_at", T),
        c("ended_at", T), c("updated_at", T, req=True),
        c("cancellation_reason", enum=CANCELLATION_REASONS, ci=True),
        c("cancellation_feedback", enum=CANCELLATION_FEEDBACK, ci=True),
    )),
    Entity("billing", "subscription_items", "subscription_item_id", (
        c("subscription_item_id", req=True), c("subscription_id", req=True), c("plan_id", req=True),
        c("quantity", INT, req=True), c("discount_percent", N), c("started_at", T, req=True),
        c("ended_at", T), c("updated_at", T, req=True),
    )),
    Entity("billing", "invoices", "invoice_id", (
        c("invoice_id", req=True), c("customer_id", req=True), c("subscription_id"),
        c("status", req=True, enum=INVOICE_STATUSES), CUR_REQ, m("subtotal", req=True),
        m("discount"), m("tax"), m("total", req=True), m("amount_paid"),
        c("period_start", T), c("period_end", T), c("created_at", T, req=True), c("paid_at", T),
        c("updated_at", T, req=True),
    )),
    Entity("billing", "invoice_lines", "invoice_line_id", (
        c("invoice_line_id", req=True), c("invoice_id", req=True), c("subscription_item_id"),
        c("plan_id"), c("line_type", req=True, enum=LINE_TYPES), m("amount", req=True), CUR_REQ,
        c("quantity", INT), c("period_start", T), c("period_end", T),
    ), version_column=None),
    Entity("billing", "payments", "payment_id", (
        c("payment_id", req=True), c("invoice_id"), c("customer_id", req=True),
        m("amount", req=True), CUR_REQ, c("status", req=True, enum=PAYMENT_STATUSES),
        c("created_at", T, req=True), c("failure_reason"),
    ), version_column=None),
    Entity("billing", "refunds", "refund_id", (
        c("refund_id", req=True), c("payment_id", req=True), m("amount", req=True), CUR_REQ,
        c("reason"), c("created_at", T, req=True),
    ), version_column=None),
    Entity("billing", "fx_rates", "rate_date,currency", (
        c("rate_date", D, req=True), CUR_REQ, c("usd_per_unit", N, req=True),
    ), version_column=None),
    # -------------------------------------------------------------- usage
    Entity("usage", "users", "user_id", (
        c("user_id", req=True), c("account_id", req=True), c("email"), c("role"),
        c("created_at", T, req=True), c("updated_at", T, req=True), c("is_deleted", B),
    )),
    Entity("usage", "events", "event_id", (
        c("event_id", req=True), c("user_id", req=True), c("account_id", req=True),
        c("event_name", req=True), c("feature"), c("occurred_at", T, req=True), c("received_at", T),
        c("properties"),
    ), version_column=None),
    # ------------------------------------------------------------ finance
    Entity("finance", "marketing_spend", "month,channel,cost_type", (
        c("month", D, req=True), c("channel", req=True, enum=LEAD_SOURCES),
        m("amount", req=True), CUR_REQ, c("cost_type", enum=COST_TYPES, ci=True),
    ), version_column=None),
)


def _export(source: str, name: str, feeds: str, description: str) -> Entity:
    return Entity(source, name, "id", (), version_column=None, description=description,
                  feeds=tuple(f"{feeds.split('/')[0]}__{t}" for t in feeds.split("/")[1].split(",")))


# v2: exports as the source systems write them (landing.md, "Exports as the source systems
# write them"): JSON objects per line, turned into the contract's raw tables by an adapter
# (laer.ingest.exports) inside the same ledgered, quarantining load
_STRIPE_BILLING = "billing/customers,plans,subscriptions,subscription_items,invoices,invoice_lines,payments,refunds"
EXPORTS: tuple[Entity, ...] = (
    _export("stripe", "events", _STRIPE_BILLING, "Stripe Event objects"),
    _export("stripe", "customers", "billing/customers", "Stripe Customer objects (list snapshot)"),
    _export("stripe", "prices", "billing/plans", "Stripe Price objects (list snapshot)"),
    _export("stripe", "products", "billing/plans", "Stripe Product objects (list snapshot)"),
    _export("stripe", "subscriptions", "billing/subscriptions,subscription_items,plans",
            "Stripe Subscription objects with items expanded (list snapshot)"),
    _export("stripe", "invoices", "billing/invoices,invoice_lines", "Stripe Invoice objects (list snapshot)"),
    _export("stripe", "charges", "billing/payments,refunds", "Stripe Charge objects (list snapshot)"),
    _export("stripe", "refunds", "billing/refunds", "Stripe Refund objects (list snapshot)"),
    _export("hubspot", "companies", "crm/accounts", "HubSpot CRM v3 company objects"),
    _export("hubspot", "contacts", "crm/contacts", "HubSpot CRM v3 contact objects"),
    _export("hubspot", "deals", "crm/opportunities", "HubSpot CRM v3 deal objects"),
    _export("hubspot", "owners", "crm/users", "HubSpot CRM v3 owner objects"),
    _export("segment", "messages", "usage/events,users", "Segment track, identify and group messages"),
)
# Segment's S3 destination writes <source id>/<day>/<file>: every file under segment/ is a
# file of messages, however deep
SEGMENT = EXPORTS[-1]

BY_PATH: dict[tuple[str, str], Entity] = {(e.source, e.name): e for e in (*ENTITIES, *EXPORTS)}
SOURCES: tuple[str, ...] = ("crm", "billing", "usage", "finance")
EXPORT_SUFFIXES: tuple[str, ...] = (".jsonl", ".jsonl.gz")
FILE_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz")


def is_wanted(e: Entity, tables: set[str] | None) -> bool:
    """Does loading only ``tables`` (None: all) take the files of ``e``? An export folder's
    files are taken when any raw table they feed is."""
    return tables is None or e.table in tables or not tables.isdisjoint(e.feeds)


def entity(source: str, name: str) -> Entity:
    return BY_PATH[(source, name)]
