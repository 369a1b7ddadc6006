"""Knobs and fixed catalogues of the synthetic demo company."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DAY = 86_400


@dataclass(frozen=True)
class CompanyConfig:
    customers: int = 2_000
    months: int = 36
    seed: int = 42
    start: dt.date | None = None  # default: the data ends today
    # the last `daily_window_days` are delivered as nightly batches, older history as
    # monthly backfill batches
    daily_window_days: int = 30

    @property
    def start_date(self) -> dt.date:
        if self.start is not None:
            return self.start
        return add_months(dt.date.today(), -self.months) + dt.timedelta(days=1)

    @property
    def end_date(self) -> dt.date:
        """Last generated day (inclusive): the natural as-of date of the data."""
        return add_months(self.start_date, self.months) - dt.timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARE = (0.68, 0.26, 0.06)
INDUSTRIES = ("software", "fintech", "healthcare", "retail", "manufacturing", "education", "media", "logistics")
# country, currency, weight
COUNTRIES = (
    ("US", "usd", 0.52), ("CA", "usd", 0.05), ("GB", "gbp", 0.12), ("DE", "eur", 0.11),
    ("FR", "eur", 0.07), ("NL", "eur", 0.04), ("ES", "eur", 0.03), ("AU", "usd", 0.04),
    ("BR", "usd", 0.02),
)
# lead source -> (share of leads, probability a lead becomes an account)
LEAD_SOURCE_MIX = {
    "paid_ads": (0.30, 0.10),
    "content": (0.20, 0.16),
    "event": (0.10, 0.24),
    "referral": (0.10, 0.45),
    "organic": (0.20, 0.20),
    "outbound": (0.10, 0.12),
}
# marketing spend per new account acquired, USD, by channel
CAC_BY_SOURCE = {"paid_ads": 2600, "content": 900, "event": 3800, "referral": 400, "organic": 150, "outbound": 5200}
# what voluntary churners say when they cancel (landing v2 cancellation_feedback), drawn
# uniformly from this tuple (a word repeated is more likely), and how many say anything
CANCELLATION_FEEDBACK_MIX = (("too_expensive",) * 6 + ("missing_features",) * 4 + ("switched_service",) * 3
                             + ("unused",) * 3 + ("customer_service", "too_complex", "low_quality", "other"))
CANCELLATION_FEEDBACK_SHARE = 0.6
# sales cost per deal closed (salaries, commissions and tools of the sales team), USD, by
# segment, booked in the month the account first pays: with marketing it makes the fully
# loaded CAC (landing v2 cost_type `sales`), a payback of 12-18 months as public SaaS medians
SALES_COST_BY_SEGMENT = (3800, 14500, 48000)

TIERS = ("starter", "growth", "enterprise")
TIER_MONTHLY_USD = (29, 49, 79)  # list price per seat and month
# billing cadences: (name, interval, interval_count, months per term, price factor per term)
CADENCES = (
    ("monthly", "month", 1, 1, 1.0),
    ("quarterly", "month", 3, 3, 2.85),
    ("annual", "year", 1, 12, 10.0),
)
CURRENCIES = ("usd", "eur", "gbp")
PRICE_BOOK_FACTOR = {"usd": 1.0, "eur": 1.0, "gbp": 0.85}
ADDON_MONTHLY_USD = 199
FX_START = {"eur": 1.08, "gbp": 1.26}

FEATURES = ("dashboards", "reports", "sharing", "integrations", "alerts", "automations", "exports", "api")
CORE_FEATURES = ("dashboards", "reports", "integrations", "alerts", "automations")
TRIAL_DAYS = 14
