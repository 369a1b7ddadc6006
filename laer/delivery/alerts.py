"""The data team's alert for a refresh that failed or was blocked: every failed check
and step by name (LAER_ALERT_TO, and Slack when LAER_SLACK_WEBHOOK_URL is set)."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from laer.delivery.mail import MailSettings, post_to_slack, send


def alert_text(as_of: str, run_id: str, failures: Sequence[str]) -> str:
    lines = [f"The LAER refresh as of {as_of} (run {run_id[:8]}) did not publish: BI keeps reading the "
             f"previous marts, and no report or digest was sent.", "", "What failed:"]
    lines += [f"- {f}" for f in failures] or ["- (no check or step named a failure; see the run's log)"]
    return "\n".join(lines)


def send_alert(settings: MailSettings, as_of: str, run_id: str, failures: Sequence[str]) -> list[str]:
    """Alert by e-mail and Slack, whichever is configured; what was done, for the run log.
    Raises DeliveryError when a configured channel fails."""
    text = alert_text(as_of, run_id, failures)
    done = []
    if settings.can_mail and settings.alert_to:
        message = EmailMessage()
        message["Subject"] = f"LAER refresh as of {as_of} failed: {len(failures)} failure(s), nothing published"
        message["To"] = ", ".join(settings.alert_to)
        message.set_content(text)
        send(settings, [message])
        done.append(f"alert e-mailed to {', '.join(settings.alert_to)}")
    if settings.slack_webhook_url:
        post_to_slack(settings.slack_webhook_url, text)
        done.append("alert posted to Slack")
    return done or ["no alert sent: set LAER_SMTP_URL, LAER_MAIL_FROM and LAER_ALERT_TO (or LAER_SLACK_WEBHOOK_URL)"]
