"""The daily refresh: each morning, the partition of the last complete day."""

from __future__ import annotations

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from orchestration.calendar import RefreshCalendar


def daily_refresh_schedule(calendar: RefreshCalendar) -> ScheduleDefinition:
    """The schedule of the company's calendar (its cron, in its time zone)."""

    @schedule(name="daily_refresh", job_name="refresh", cron_schedule=calendar.cron,
              execution_timezone=calendar.timezone, default_status=DefaultScheduleStatus.RUNNING,
              description="Refreshes the marts as of the last complete day (yesterday in LAER_TIMEZONE) at "
                          "LAER_REFRESH_CRON; one run per day (the day is the run key).")
    def daily_refresh(context: ScheduleEvaluationContext) -> RunRequest:
        day = calendar.last_complete_day(context.scheduled_execution_time)
        return RunRequest(run_key=day, partition_key=day, tags={"laer/trigger": "schedule"})

    return daily_refresh
