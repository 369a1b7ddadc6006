"""The company's day: the refresh's daily partitions and the last complete day.

A refresh computes every mart *as of* one day. Runs that Dagster starts — the schedule,
the landing sensor, a backfill from the UI or ``dagster job backfill`` — are runs of one
daily partition, whose key is that day. The day is the company's (``LAER_TIMEZONE``,
default UTC), and the schedule and the sensor ask for the **last complete day**:
yesterday, in that time zone, when the exports end. ``laer refresh --as-of`` runs without a
partition and uses its own date.

The calendar is part of the settings (``LaerSettings.calendar``: ``LAER_TIMEZONE``,
``LAER_FIRST_DAY`` — the first partition, default 2020-01-01 — and ``LAER_REFRESH_CRON``,
the schedule, default ``0 6 * * *`` in that time zone); ``build_definitions`` hands it to
the assets, the job and the schedule it builds.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dagster import BackfillPolicy, BetaWarning, DailyPartitionsDefinition


@dataclass(frozen=True)
class RefreshCalendar:
    timezone: str = "UTC"
    first_day: str = "2020-01-01"
    cron: str = "0 6 * * *"

    def partitions(self) -> DailyPartitionsDefinition:
        # end_offset=1: today's partition exists too (a manual run as of today, as
        # `laer refresh` does by default); the schedule and the sensor never ask for it
        return DailyPartitionsDefinition(start_date=self.first_day, timezone=self.timezone, end_offset=1)

    def today(self, now: dt.datetime | None = None) -> str:
        """The company's current day (in its time zone)."""
        return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(self.timezone)).date().isoformat()

    def why_not_a_day(self, day: str, now: dt.datetime | None = None) -> str | None:
        """Why ``day`` has no partition (before ``first_day``, or after today in the company's
        time zone), or None when it has one."""
        today = self.today(now)
        if day < self.first_day:
            return (f"{day} is before the first day the refresh computes (LAER_FIRST_DAY={self.first_day}); "
                    f"set LAER_FIRST_DAY to an earlier day")
        if day > today:
            return f"{day} is after today ({today} in {self.timezone}): there is no data for it yet"
        return None

    def last_complete_day(self, at: dt.datetime) -> str:
        """The day before ``at``'s day in the company's time zone (``at`` must be aware)."""
        return (at.astimezone(ZoneInfo(self.timezone)).date() - dt.timedelta(days=1)).isoformat()

    def partitioned_by_day(self) -> dict[str, Any]:
        """What every asset of the refresh is partitioned by: one day, and one day per run
        (a backfill replays its days in order, each as of its own day)."""
        return {"partitions_def": self.partitions(), "backfill_policy": BackfillPolicy.multi_run(1)}


# dagster-dbt gives its assets a policy of one run for all days; the other assets say theirs
# with a parameter Dagster 1.13 still calls beta, which it would warn about at every load
warnings.filterwarnings("ignore", category=BetaWarning, message="Parameter `backfill_policy`")
