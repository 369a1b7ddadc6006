"""Where mail goes and how it is sent: settings from the environment only, SMTP with
STARTTLS when the server offers it."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit


class DeliveryError(Exception):
    """Mail could not be sent; the message says to where and why (never a password)."""


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(",") if a.strip())


@dataclass(frozen=True)
class MailSettings:
    """``LAER_SMTP_URL`` (``smtp://host:port``; ``smtps://`` for TLS from the start),
    ``LAER_SMTP_USER``, ``LAER_SMTP_PASSWORD``, ``LAER_MAIL_FROM``, ``LAER_REPORT_TO`` and
    ``LAER_ALERT_TO`` (comma-separated), ``LAER_SLACK_WEBHOOK_URL``, and ``LAER_REPORT_URL``
    (where the report is served: the e-mail links it instead of attaching it)."""

    smtp_url: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    report_to: tuple[str, ...] = ()
    alert_to: tuple[str, ...] = ()
    slack_webhook_url: str = ""
    report_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        return cls(smtp_url=env.get("LAER_SMTP_URL", "").strip(), smtp_user=env.get("LAER_SMTP_USER", ""),
                   smtp_password=env.get("LAER_SMTP_PASSWORD", ""), mail_from=env.get("LAER_MAIL_FROM", "").strip(),
                   report_to=_addresses(env.get("LAER_REPORT_TO", "")),
                   alert_to=_addresses(env.get("LAER_ALERT_TO", "")),
                   slack_webhook_url=env.get("LAER_SLACK_WEBHOOK_URL", "").strip(),
                   report_url=env.get("LAER_REPORT_URL", "").strip())

    @property
    def can_mail(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    def missing(self) -> str:
        """What is unset for mail to go out, as the run log says it (empty when nothing)."""
        unset = [name for name, value in (("LAER_SMTP_URL", self.smtp_url), ("LAER_MAIL_FROM", self.mail_from))
                 if not value]
        return ", ".join(unset)


def send(settings: MailSettings, messages: Sequence[EmailMessage]) -> None:
    """Send every message in one SMTP session (From is set here); raises DeliveryError."""
    if not messages:
        return
    url = urlsplit(settings.smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise DeliveryError(f"LAER_SMTP_URL must look like smtp://host:port, not {settings.smtp_url!r}")
    port = url.port or (465 if url.scheme == "smtps" else 25)
    where = f"{url.scheme}://{url.hostname}:{port}"
    try:
        if url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, port, timeout=30,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(url.hostname, port, timeout=30)
        with server:
            server.ehlo()
            if url.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=ssl.create_default_context())
                server.ehlo()
            if settings.smtp_user:
                server.login(settings.smtp_user, settings.smtp_password)
            for message in messages:
                del message["From"]
                message["From"] = settings.mail_from
                server.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"the mail server {where} refused the login of LAER_SMTP_USER "
                            f"{settings.smtp_user!r}: {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the mail server {where} refused the recipients {', '.join(exc.recipients)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DeliveryError(f"cannot send mail through {where}: {reason}") from exc


def post_to_slack(webhook_url: str, text: str) -> None:
    """Post ``text`` to a Slack incoming webhook; raises DeliveryError."""
    request = urllib.request.Request(webhook_url, data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except OSError as exc:
        host = urlsplit(webhook_url).hostname
        raise DeliveryError(f"cannot post to the Slack webhook at {host}: {exc}") from exc
