"""What failed in a refresh run, by name: read from the run's events in the instance.
`laer refresh` prints it; the run-failure sensor alerts the data team with it."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance


@dataclass
class RunFailures:
    blocking_checks: list[str] = field(default_factory=list)  # failed ERROR checks: they block the publish
    warning_checks: list[str] = field(default_factory=list)  # failed WARN checks
    steps: list[str] = field(default_factory=list)  # "step: cause"
    checks_evaluated: int = 0

    @property
    def blocking(self) -> list[str]:
        """Everything that stopped the run, checks first and the failed steps (the cause) last."""
        return [*(f"failed blocking check {c}" for c in self.blocking_checks),
                *(f"failed step {s}" for s in self.steps)]


def run_failures(instance: DagsterInstance, run_id: str) -> RunFailures:
    found = RunFailures()
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        if record.dagster_event is None:
            continue
        found.checks_evaluated += 1
        ev = record.dagster_event.event_specific_data
        if ev.passed:  # type: ignore[union-attr]
            continue
        meta = ev.metadata or {}  # type: ignore[union-attr]
        details = [str(x) for key in ("failed_blocking", "failed_warning") if key in meta for x in meta[key].value]
        label = f"{ev.asset_key.to_user_string()} · {ev.check_name}"  # type: ignore[union-attr]
        text = f"{label}: {'; '.join(details)}" if details else label
        blocking = ev.severity == AssetCheckSeverity.ERROR  # type: ignore[union-attr]
        (found.blocking_checks if blocking else found.warning_checks).append(text)
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event is None:
            continue
        failure = event.step_failure_data
        if failure.error is not None and failure.error.cls_name == "DagsterAssetCheckFailedError":
            continue  # a step failed by its own blocking checks: they are named above
        user = failure.user_failure_data  # a Failure raised on purpose: its description is the cause
        if user is not None and user.description:
            message = user.description
        else:
            message = failure.error.message.strip().splitlines()[0] if failure.error else "failed"
        found.steps.append(f"{event.step_key}: {message}")
    return found


def alert_data_team(as_of: str, run_id: str, failures: list[str]) -> list[str]:
    """Send the failure alert where the environment says (laer/delivery/alerts.py); what
    was done, or why nothing could be, for the run's log and `laer refresh`'s output."""
    from laer.delivery.alerts import send_alert
    from laer.delivery.mail import DeliveryError, MailSettings

    try:
        return send_alert(MailSettings.from_env(), as_of, run_id, failures)
    except DeliveryError as exc:
        return [f"the alert could not be sent: {exc}"]
