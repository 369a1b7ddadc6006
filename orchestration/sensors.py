"""Start a refresh when a new delivery has landed, once it has stopped arriving; alert the
data team when a refresh fails."""

from __future__ import annotations

import datetime as dt
import json
import time

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from laer.ingest.pending import LedgerBusy, pending_files
from orchestration.run_failures import alert_data_team, run_failures
from orchestration.settings import LaerSettings


@sensor(job_name="refresh", minimum_interval_seconds=30, default_status=DefaultSensorStatus.STOPPED,
        description="Requests one refresh (of the last complete day) for landing files the load ledger has "
                    "not seen, once no file of the delivery was written for LAER_SENSOR_QUIET_SECONDS "
                    "(default 60). Stopped until turned on: a first start over a full landing folder "
                    "would refresh everything in it.")
def landing_sensor(context: SensorEvaluationContext, laer: LaerSettings) -> RunRequest | SkipReason:
    if not laer.landing.is_dir():
        return SkipReason(f"landing folder {laer.landing} does not exist")
    try:
        pending = pending_files(laer.landing, laer.warehouse.db)
    except LedgerBusy:
        return SkipReason("a refresh is writing the warehouse; new files are looked at once it is done")
    if not pending.files:
        return SkipReason("no landing file that the load ledger has not seen")
    now = time.time()
    quiet_for = now - pending.newest_ns / 1e9
    if quiet_for < laer.sensor_quiet_seconds:  # the delivery has not settled yet
        return SkipReason(f"{len(pending.files)} new file(s), the last written {quiet_for:.0f} s ago: waiting "
                          f"until none was written for {laer.sensor_quiet_seconds:.0f} s")
    requested = json.loads(context.cursor).get("requested") if context.cursor else None
    if requested == pending.signature:
        return SkipReason(f"a refresh for these {len(pending.files)} new file(s) was requested already")
    context.update_cursor(json.dumps({"requested": pending.signature}))
    day = laer.calendar.last_complete_day(dt.datetime.fromtimestamp(now, dt.UTC))
    return RunRequest(run_key=f"delivery-{pending.signature}", partition_key=day,
                      tags={"laer/trigger": "landing_sensor", "laer/new_files": str(len(pending.files))})


@run_failure_sensor(name="refresh_failure_alert", monitored_jobs=None, default_status=DefaultSensorStatus.RUNNING,
                    description="E-mails LAER_ALERT_TO (and posts to LAER_SLACK_WEBHOOK_URL) when a refresh run "
                                "fails or is blocked, naming each failed check and step.")
def refresh_failure_alert(context: RunFailureSensorContext) -> None:
    run = context.dagster_run
    if run.job_name != "refresh":
        return
    failures = run_failures(context.instance, run.run_id)
    day = run.tags.get("dagster/partition", "today")
    for line in alert_data_team(day, run.run_id, failures.blocking or [f"run: {context.failure_event.message}"]):
        context.log.info(line)
