"""Delivery through a real SMTP server on localhost: the leadership e-mail, the CSM
digests, the data team's alerts, and a mail server that fails after the publish."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller

from laer.cli import main
from laer.delivery.digests import Staff, csm_digests, load_digests, sections
from laer.headline import money
from laer.report.data import HEADLINES
from tests.conftest import SMALL, copy_small, rendered_dom

LAER = str(Path(sys.executable).with_name("laer"))


class Inbox:
    """An SMTP server's received mail: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


MAIL_ENV = {"LAER_MAIL_FROM": "laer@company.example", "LAER_REPORT_TO": "ceo@company.example, cfo@company.example",
            "LAER_ALERT_TO": "data-team@company.example"}
LEADERSHIP = ["ceo@company.example", "cfo@company.example"]


@contextlib.contextmanager
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on localhost, and the environment that points laer at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("LAER_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    for name, value in MAIL_ENV.items():
        monkeypatch.setenv(name, value)
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture()
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_server(monkeypatch) as inbox:
        yield inbox


def html_part(message: EmailMessage) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


MID_MONTH = "2024-08-20"


@pytest.fixture(scope="module")
def mid_month(small_built: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """The small company refreshed as of the 20th of its last month with mail configured:
    (warehouse, what the SMTP server received)."""
    root = tmp_path_factory.mktemp("mid_month")
    shutil.copytree(small_built / "landing", root / "landing")
    with pytest.MonkeyPatch.context() as monkeypatch, smtp_server(monkeypatch) as inbox:
        assert main(["refresh", "--landing", str(root / "landing"), "--warehouse", str(root / "warehouse"),
                     "--as-of", MID_MONTH]) == 0
    return root / "warehouse", inbox.received


def test_the_leadership_email_headlines_the_last_complete_month_with_png_charts(mid_month) -> None:
    warehouse, received = mid_month
    (message,) = [m for rcpt, m in received if rcpt == LEADERSHIP]
    assert message["From"] == "laer@company.example"
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        kpis = {str(r["month"])[:10]: r for r in con.execute("select * from main.kpi_monthly").df().to_dict("records")}
    july, august = kpis["2024-07-01"], kpis["2024-08-01"]
    assert message["Subject"] == f"LAER report as of {MID_MONTH}: MRR {money(july['mrr'])} (July 2024)"
    body = html_part(message)
    assert "<script" not in body.lower() and "javascript:" not in body.lower()
    # the headline is July, the last complete month: every figure is kpi_monthly's
    figures = re.findall(r'data-period="(\w+)" data-kpi="(\w+)" data-value="([^"]*)">([^<]*)<', body)
    month = {k: (v, shown) for p, k, v, shown in figures if p == "month"}
    assert set(month) == {"mrr", "arr", "net_new_mrr", "nrr_ttm", "grr_ttm", "logo_churn_rate", "quick_ratio",
                          "active_customers", "new_customers", "churned_customers", "at_risk_mrr", "unscored_mrr",
                          "cac_payback_months",
                          "voluntary_churned_mrr", "involuntary_churned_mrr", "nps"}
    for key, (value, _) in month.items():
        expected = july[key]
        assert (value == "" and (expected is None or expected != expected)) or float(value) == float(expected), key
    assert month["mrr"][1] == money(july["mrr"]) and month["active_customers"][1] == f"{july['active_customers']:,}"
    # August so far, labelled month to date, without the ratios a whole month needs
    assert "August 2024, month to date (to 2024-08-20)" in body
    to_date = {k: v for p, k, v, _ in figures if p == "month_to_date"}
    assert set(to_date) == {"mrr", "net_new_mrr", "new_customers", "churned_customers", "at_risk_mrr"}
    assert all(float(v) == float(august[k]) for k, v in to_date.items())
    # what needs attention: red accounts today, July's stalled landings, renewals due in 90 days
    attention = dict(re.findall(r'data-attention="(\w+)" data-value="([^"]*)"', body))
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        red, = con.execute("select count(*) from main.dim_accounts where health_band = 'red' and current_mrr > 0").fetchone()
        stalled, = con.execute("select sum(stalled_accounts) from main.laer_stage_monthly where month = '2024-07-01'").fetchone()
        due, = con.execute("select coalesce(sum(subscription_mrr), 0) from main.fct_renewals_upcoming").fetchone()
        largest, = con.execute("select account_name from main.dim_accounts where health_band = 'red' and current_mrr > 0 "
                               "order by current_mrr desc, account_id limit 1").fetchone()
        churned, = con.execute("select count(*) from main.fct_churn_events where month = '2024-07-01'").fetchone()
    assert attention == {"at_risk_accounts": str(red), "stalled_accounts": str(stalled), "renewals_mrr_due": str(float(due)),
                         **({"churned_accounts": str(churned)} if churned else {})}
    assert red > 0 and largest in body
    # two PNG charts of the size the <img> tags state, embedded by Content-ID
    images = {p["Content-ID"].strip("<>"): p.get_content() for p in message.walk() if p.get_content_type() == "image/png"}
    assert len(images) == 2
    for cid, data in images.items():
        assert png_size(data) == (640, 300)
        assert f'<img src="cid:{cid}" width="640" height="300"' in body
    (report,) = [p for p in message.walk() if p.get_filename()]
    assert report.get_filename() == f"laer-report-{MID_MONTH}.html"
    assert report.get_payload(decode=True) == (warehouse / "reports" / MID_MONTH / "index.html").read_bytes()


def test_a_mid_month_report_headlines_the_last_complete_month_and_labels_the_rest_month_to_date(
        mid_month, tmp_path: Path) -> None:
    """The report as of 20 August, read in a real browser: its headline tiles are July's,
    August appears only as labelled month-to-date figures, and the charts stop at July."""
    warehouse, _ = mid_month
    dom = rendered_dom((warehouse / "reports" / MID_MONTH / "index.html").as_uri(), tmp_path / "browser")
    root = re.search(r"<html[^>]*>", dom)
    assert root is not None, dom[:500]
    attrs = dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', root.group(0)))
    assert attrs.get("data-js-errors") == "0" and attrs.get("data-charts") == attrs.get("data-charts-rendered")
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        kpis = {str(r["month"])[:10]: r for r in con.execute("select * from main.kpi_monthly").df().to_dict("records")}
    july, august = kpis["2024-07-01"], kpis["2024-08-01"]
    assert "Headline KPIs — July 2024 (the last complete month)" in dom
    headline = dict(re.findall(r'<div class="tile" data-kpi="([a-z_]+)" data-value="([^"]*)"', dom))
    assert set(headline) == {k for k, *_ in HEADLINES}
    for key, value in headline.items():
        expected = july[key]
        assert (value == "" and (expected is None or expected != expected)) or float(value) == float(expected), key
    assert "August 2024, month to date (to 2024-08-20)" in dom
    to_date = re.findall(r'data-period="month_to_date" data-kpi="([a-z_]+)" data-value="([^"]*)">\s*'
                         r'<div class="label">[^<]*<span class="mtd">month to date</span>', dom)
    assert {k for k, _ in to_date} == {"mrr", "net_new_mrr", "new_customers", "churned_customers", "at_risk_mrr"}
    assert all(float(v) == float(august[k]) for k, v in to_date)
    # no ratio that needs a whole month is shown for August, and the MRR trend ends in July
    assert not re.search(r'data-period="month_to_date" data-kpi="(logo_churn_rate|quick_ratio|cac|cac_payback_months|'
                         r'refund_rate)"', dom)
    assert "2024-08-01" not in re.search(r'id="mrr-trend".*?</section>', dom, re.S).group(0)


def test_report_send_mails_the_published_headline_on_demand(mid_month, smtp) -> None:
    warehouse, _ = mid_month
    proc = subprocess.run([LAER, "report", "--warehouse", str(warehouse), "--send"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "leadership e-mail sent to ceo@company.example, cfo@company.example"
    ((rcpt, message),) = smtp.received
    assert rcpt == LEADERSHIP and message["Subject"].startswith(f"LAER report as of {MID_MONTH}: MRR ")


def _hand_made_marts(path: Path) -> None:
    """Four CSMs as of 2026-12-06, each with a hand-chosen case (see the test)."""
    with duckdb.connect(str(path)) as con:
        con.execute("""
            create table main._publish_info as select '2026-12-06' as as_of;
            create table main.dim_accounts as select * from (values
                ('acc_1', 'Acme 1', 'csm_a'), ('acc_2', 'Acme 2', 'csm_a'), ('acc_3', 'Bolt 3', 'csm_b'),
                ('acc_4', 'Cora 4', 'csm_c'), ('acc_5', 'Cora 5', 'csm_c'), ('acc_6', 'Cora 6', 'csm_c'),
                ('acc_7', 'Dune 7', 'csm_d'), ('acc_8', 'Nobody 8', null)) t(account_id, account_name, csm_id);
            create table main.early_warnings as select * from (values
                ('acc_1', date '2026-12-06', 62.4, 1200.0, 'csm_a'),   -- new today
                ('acc_2', date '2026-12-05', 70.0, 300.0, 'csm_a'),    -- yesterday's: not new
                ('acc_7', date '2026-12-06', 55.0, 90.0, 'csm_d'),     -- a CSM without an address
                ('acc_8', date '2026-12-06', 80.0, 50.0, null))        -- no CSM
                t(account_id, alert_date, drop_pct, mrr_at_risk, csm_id);
            create table main.fct_account_health_daily as select * from (values
                ('acc_3', date '2026-12-05', 'red', 30.0, 100.0), ('acc_3', date '2026-12-06', 'red', 31.0, 100.0),
                ('acc_4', date '2026-12-05', 'yellow', 45.0, 500.0), ('acc_4', date '2026-12-06', 'red', 35.0, 500.0))
                t(account_id, date, health_band, health_score, mrr);
            create table main.fct_renewals_upcoming as select * from (values
                ('acc_3', 'csm_b', date '2027-03-07', 100.0, 'red'),    -- 91 days: not yet
                ('acc_5', 'csm_c', date '2027-03-06', 800.0, 'green'),  -- 90 days: due
                ('acc_4', 'csm_c', date '2026-12-06', 500.0, 'red'))    -- today: due
                t(account_id, csm_id, term_end_date, subscription_mrr, health_band);
            create table main.fct_csm_coverage as select * from (values
                ('acc_3', 'csm_b', false, 10, 30), ('acc_6', 'csm_c', true, null, 30))
                t(account_id, csm_id, is_overdue, days_since_last_touch, max_days_between_touches);
        """)


def test_csm_digests_hold_exactly_the_new_warnings_red_turns_due_renewals_and_overdue_touches(tmp_path) -> None:
    marts = tmp_path / "marts.duckdb"
    _hand_made_marts(marts)
    as_of, digests = load_digests(marts)
    assert as_of == dt.date(2026, 12, 6)
    assert [s[2] for s in sections(digests["csm_a"])] == [[("Acme 1", "62 %", "$1.2k")]]
    assert "csm_b" not in digests  # red for two days, a renewal 91 days out, a touch not overdue
    assert [(t, rows) for t, _, rows in sections(digests["csm_c"])] == [
        ("Turned red today", [("Cora 4", "35", "$500")]),
        ("Renewals due within 90 days", [("Cora 4", "2026-12-06", "$500", "red"), ("Cora 5", "2027-03-06", "$800", "green")]),
        ("Overdue touches", [("Cora 6", "never touched", "30 days")]),
    ]
    staff = {"csm_a": Staff("ana@company.example", "Ana"), "csm_b": Staff("bo@company.example", "Bo"),
             "csm_c": Staff("cy@company.example", None)}
    messages, unknown = csm_digests(marts, staff)
    assert unknown == ["csm_d"]
    assert [m["To"] for m in messages] == ["ana@company.example", "cy@company.example"]  # Bo gets nothing
    assert messages[1]["Subject"] == ("Your accounts as of 2026-12-06 — turned red today: 1, "
                                      "renewals due within 90 days: 2, overdue touches: 1")
    body = html_part(messages[1])
    assert "<script" not in body and "Cora 6" in body and "never touched" in body


def test_a_refresh_sends_one_digest_to_each_csm_with_news_and_none_to_the_others(mid_month) -> None:
    warehouse, received = mid_month
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        staff = dict(con.execute("select user_id, email from staging.stg_crm__users").fetchall())
    _, digests = load_digests(warehouse / "marts.duckdb")
    with_news = {staff[c] for c, d in digests.items() if not d.is_empty}
    digest_to = sorted(rcpt[0] for rcpt, m in received if m["Subject"].startswith("Your accounts"))
    assert digest_to == sorted(with_news) and len(received) == len(digest_to) + 1  # and the leadership e-mail
    csms = {e for u, e in staff.items() if u.startswith("csm_")}
    assert csms - with_news, "every CSM had news: the case of a CSM who gets nothing is not shown"


def test_a_blocked_refresh_sends_no_report_and_one_alert_naming_the_check(small_built, tmp_path, smtp, capsys) -> None:
    landing, warehouse = copy_small(small_built, tmp_path / "company")
    before = (warehouse / "current").resolve()
    (landing / "billing/subscription_items/zz_negative.csv").write_text(
        "subscription_item_id,subscription_id,plan_id,quantity,discount_percent,started_at,ended_at,updated_at\n"
        "si_neg_1,sub_0000001,growth-monthly-usd,-4,0,2024-08-06T10:00:00Z,,2024-08-06T10:00:00Z\n")
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--as-of", SMALL.end_date.isoformat()]) == 1
    out = capsys.readouterr().out
    assert (warehouse / "current").resolve() == before
    ((rcpt, alert),) = smtp.received
    assert rcpt == ["data-team@company.example"]
    assert alert["Subject"] == f"LAER refresh as of {SMALL.end_date} failed: 1 failure(s), nothing published"
    text = alert.get_content()
    assert "- failed blocking check raw/billing__subscription_items · gx_billing__subscription_items: " in text
    assert "expect_column_values_to_be_between(quantity)" in text
    assert "alert: alert e-mailed to data-team@company.example" in out


def test_the_failure_sensor_alerts_for_a_blocked_run_of_the_dagster_daemon(small_built, tmp_path, smtp) -> None:
    from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context

    from orchestration.definitions import build_definitions
    from orchestration.sensors import refresh_failure_alert
    from orchestration.settings import LaerSettings

    landing, warehouse = copy_small(small_built, tmp_path / "company")
    (landing / "billing/plans/zz_chf.csv").write_text(
        "plan_id,product,plan_name,billing_interval,interval_count,unit_amount,currency,is_free,updated_at\n"
        "growth-monthly-chf,platform,Growth CHF,month,1,4500,CHF,false,2024-08-01T00:00:00Z\n")
    (landing / "billing/subscription_items/zz_chf.csv").write_text(
        "subscription_item_id,subscription_id,plan_id,quantity,discount_percent,started_at,ended_at,updated_at\n"
        "si_chf_1,sub_0000001,growth-monthly-chf,3,0,2024-08-05T10:00:00Z,,2024-08-05T10:00:00Z\n")
    defs = build_definitions(LaerSettings(landing_dir=str(landing), warehouse_dir=str(warehouse)))
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, partition_key=SMALL.end_date.isoformat(), raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
        context = build_run_status_sensor_context(
            sensor_name="refresh_failure_alert", dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=failure).for_run_failure()
        refresh_failure_alert(context)
    ((rcpt, alert),) = smtp.received
    assert rcpt == ["data-team@company.example"]
    text = alert.get_content()
    assert text.startswith(f"The LAER refresh as of {SMALL.end_date} (run {result.run_id[:8]}) did not publish")
    assert re.search(r"- failed blocking check .*no_missing_fx_rate", text)


def test_a_refused_mail_server_leaves_the_publish_and_fails_delivery_naming_the_server(small_built, tmp_path,
                                                                                         monkeypatch, capsys) -> None:
    landing, warehouse = copy_small(small_built, tmp_path / "company")
    before = (warehouse / "current").resolve()
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("LAER_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("LAER_MAIL_FROM", "laer@company.example")
    monkeypatch.setenv("LAER_REPORT_TO", "ceo@company.example")
    monkeypatch.setenv("LAER_DELIVERY_RETRY_SECONDS", "0.5")  # it is tried three times: 0.5 s, then 1 s apart
    (landing / "crm/activities/zz_new.csv").write_text(
        "activity_id,account_id,type,occurred_at\nact_new,acc_000001,call,2024-08-30T10:00:00Z\n")
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--as-of", SMALL.end_date.isoformat()]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert (warehouse / "current").resolve() != before  # published all the same
    assert f"published {warehouse.resolve() / 'marts.duckdb'} (as of {SMALL.end_date};" in "\n".join(lines)
    assert lines[-1] == (f"failed step published__delivery: cannot send mail through smtp://127.0.0.1:{port}: Connection refused — "
                         f"the marts are published; send the leadership e-mail again with "
                         f"`laer report --warehouse {warehouse.resolve()} --send`")


def test_without_mail_settings_nothing_is_sent_and_report_send_says_what_to_set(mid_month) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAER_")}
    proc = subprocess.run([LAER, "report", "--warehouse", str(mid_month[0]), "--send"], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 2
    assert proc.stdout.strip().splitlines()[-1] == (
        "nothing sent: set LAER_SMTP_URL, LAER_MAIL_FROM, LAER_REPORT_TO (see README, Delivery)")


def test_an_alert_goes_to_slack_when_a_webhook_is_set(monkeypatch) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from laer.delivery.alerts import send_alert
    from laer.delivery.mail import MailSettings

    posted: list[dict] = []

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = MailSettings(slack_webhook_url=f"http://127.0.0.1:{server.server_port}/hook")
        done = send_alert(settings, "2026-12-06", "abcdef1234", ["failed step published__marts: disk full"])
    finally:
        server.shutdown()
    assert done == ["alert posted to Slack"]
    assert posted == [{"text": "The LAER refresh as of 2026-12-06 (run abcdef12) did not publish: BI keeps reading "
                               "the previous marts, and no report or digest was sent.\n\nWhat failed:\n"
                               "- failed step published__marts: disk full"}]
