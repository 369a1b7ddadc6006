"""Run the refresh job in-process and explain the outcome (what `laer refresh` prints)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance

from laer.ingest.loader import LEDGER
from laer.publish import current_publish, published_as_of
from orchestration.assets.raw import LEDGER_KEY
from orchestration.assets.report import REPORT_KEY
from orchestration.definitions import build_definitions
from orchestration.run_failures import alert_data_team, run_failures
from orchestration.settings import LaerSettings


@dataclass
class RefreshOutcome:
    success: bool
    run_id: str
    as_of: str
    published: bool
    publish_path: Path | None
    report_path: Path | None = None
    report_skipped: str | None = None  # why no report was written (no data yet as of the day)
    # the as-of date of the newer marts that stay published when this run was of an earlier day
    superseded_by: str | None = None
    alerts: list[str] = field(default_factory=list)  # how the data team was told of a failure
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    step_failures: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    # files loaded with warnings (schema drift, unknown enum values) and landing files ignored
    load_warnings: list[str] = field(default_factory=list)
    missing_fx: list[str] = field(default_factory=list)
    checks_evaluated: int = 0
    step_seconds: dict[str, float] = field(default_factory=dict)
    # step key -> (first start, last end) in epoch seconds, for the steps that finished
    step_windows: dict[str, tuple[float, float]] = field(default_factory=dict)


def run_refresh(settings: LaerSettings) -> RefreshOutcome:
    """Load, build, validate and (only when every blocking check passed) publish."""
    wh = settings.warehouse
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    before = current_publish(wh)
    defs = build_definitions(settings)
    job = defs.resolve_job_def("refresh")
    # the outcome says what went wrong (laer refresh prints it, the cause last): Dagster's
    # own console log would print each warning and failure again, with tracebacks
    logging.getLogger("dagster").setLevel(logging.CRITICAL)
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, partition_key=settings.as_of_date,
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        failures = run_failures(instance, result.run_id)
        windows = _step_windows(instance, result.run_id)
    outcome = RefreshOutcome(success=result.success, run_id=result.run_id, as_of=settings.as_of_date,
                             published=False, publish_path=None, checks_evaluated=failures.checks_evaluated,
                             step_windows=windows, blocking_failures=failures.blocking_checks,
                             warnings=failures.warning_checks, step_failures=failures.steps)
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key == LEDGER_KEY:
            ignored = event.step_materialization_data.materialization.metadata.get("landing_warnings")
            outcome.load_warnings.extend(ignored.value if ignored else [])  # type: ignore[arg-type]
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key == REPORT_KEY:
            why = event.step_materialization_data.materialization.metadata.get("why")
            outcome.report_skipped = str(why.value) if why else None
        if event.event_type == DagsterEventType.STEP_SUCCESS and event.step_key:
            outcome.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
    after = current_publish(wh)
    outcome.published = after is not None and after != before
    outcome.publish_path = wh.marts_db if outcome.published else None
    report = wh.reports / settings.as_of_date / "index.html"
    outcome.report_path = report if outcome.published and report.exists() else None
    outcome.quarantined, drift, outcome.missing_fx = _diagnostics(wh.db, started)
    outcome.load_warnings.extend(drift)
    if not outcome.published and result.success:
        outcome.superseded_by = published_as_of(wh)  # the run was of an earlier day than BI reads
    outcome.success = result.success and (outcome.published or outcome.superseded_by is not None)
    if failures.blocking:  # blocked, or a step failed (delivery, after a publish): tell the data team
        outcome.alerts = alert_data_team(settings.as_of_date, result.run_id, failures.blocking)
    return outcome


def _step_windows(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """When each step ran: its first start (a retried step starts again) to its last end."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    kinds = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
    for record in instance.all_logs(run_id, of_type=kinds):
        if record.step_key is None or record.dagster_event is None:
            continue
        if record.dagster_event.event_type == DagsterEventType.STEP_START:
            starts.setdefault(record.step_key, record.timestamp)
        else:
            ends[record.step_key] = record.timestamp
    return {key: (starts[key], end) for key, end in ends.items() if key in starts}


def _diagnostics(db: Path, since: dt.datetime) -> tuple[list[str], list[str], list[str]]:
    """Files quarantined and files loaded with warnings since ``since``; missing FX rates."""
    if not db.exists():
        return [], [], []
    quarantined: list[str] = []
    loaded_with_warnings: list[str] = []
    missing: list[str] = []
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.IOException:  # another process writes it: the failed step says so
        return [], [], []
    with con:
        tables = {r[0] for r in con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if LEDGER in tables:
            quarantined = [f"{p}: {m}" for p, m in con.execute(
                f"select path, message from {LEDGER} where status = 'quarantined' and loaded_at >= ? order by path",
                [since]).fetchall()]
            # one line per warning: the first file that had it, and how many more did
            loaded_with_warnings = [
                f"{first}{f' (and {n - 1} more file(s))' if n > 1 else ''}: {warning}"
                for warning, first, n in con.execute(
                    f"select w.warning, min(l.path), count(*) from {LEDGER} l, "
                    f"unnest(from_json(l.warnings, '[\"varchar\"]')) as w(warning) "
                    f"where l.status = 'loaded' and l.warnings is not null and l.loaded_at >= ? "
                    f"group by w.warning order by min(l.path), w.warning", [since]).fetchall()]
        if "intermediate.int_billing__subscription_items_priced" in tables:
            missing = [f"{cur}: no rate on or before {day} ({n} item(s) need one)" for cur, day, n in con.execute(
                "select currency, min(started_date), count(*) from intermediate.int_billing__subscription_items_priced "
                "where is_missing_fx_rate group by currency order by currency").fetchall()]
    return quarantined, loaded_with_warnings, missing
