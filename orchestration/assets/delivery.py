"""Delivery after each publish: the leadership e-mail and the CSM digests (marts.md §
Delivery). Its own asset after the report: a mail server that fails never blocks or undoes
the publish; this asset fails, naming the server and the reason, after retrying."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Failure,
    MaterializeResult,
    RetryPolicy,
    asset,
)
from dagster_duckdb import DuckDBResource

from laer.delivery.digests import csm_digests, read_staff
from laer.delivery.leadership import leadership_email
from laer.delivery.mail import DeliveryError, MailSettings, send
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings


def delivery_asset(calendar: RefreshCalendar, retry_seconds: float = 5.0) -> AssetsDefinition:
    """The ``delivery`` asset, partitioned by the company's days; a failed send is tried
    again after ``retry_seconds``, then after twice as long."""

    @asset(
        key=AssetKey(["published", "delivery"]),
        deps=[AssetKey(["published", "leadership_report"])],
        group_name="publish",
        **calendar.partitioned_by_day(),
        kinds={"email"},
        retry_policy=RetryPolicy(max_retries=2, delay=retry_seconds, backoff=Backoff.EXPONENTIAL),
        description="The leadership e-mail (LAER_REPORT_TO) and one digest per CSM with something to act on "
                    "(addresses from crm/users), through LAER_SMTP_URL. Unset: nothing sent, said in the log.",
    )
    def delivery(context: AssetExecutionContext, laer: LaerSettings, duckdb: DuckDBResource) -> MaterializeResult:
        laer = laer.for_run(context)
        mail = MailSettings.from_env()
        if not mail.can_mail:
            context.log.info(f"e-mail delivery is not configured ({mail.missing()} unset): nothing sent")
            return MaterializeResult(metadata={"sent": 0, "configured": False})
        wh = laer.warehouse
        messages = []
        if mail.report_to:
            report = wh.reports / laer.as_of_date / "index.html"
            messages.append(leadership_email(wh.marts_db, mail.report_to, report if report.exists() else None,
                                             mail.report_url))
        else:
            context.log.info("no leadership e-mail: LAER_REPORT_TO is unset")
        with duckdb.get_connection() as con:
            staff = read_staff(con)
        digests, unknown = csm_digests(wh.marts_db, staff)
        if unknown:
            context.log.warning(f"no digest for {len(unknown)} CSM(s) without an address in crm/users: "
                                f"{', '.join(unknown[:20])}")
        messages += digests
        try:
            send(mail, messages)
        except DeliveryError as exc:  # retried by the policy; the last attempt's message is the step's
            raise Failure(description=f"{exc} — the marts are published; send the leadership e-mail again with "
                                      f"`laer report --warehouse {wh.root} --send`") from exc
        context.log.info(f"sent the leadership e-mail to {len(mail.report_to)} and {len(digests)} CSM digest(s)")
        return MaterializeResult(metadata={"sent": len(messages), "leadership_to": len(mail.report_to),
                                           "csm_digests": len(digests), "csms_without_address": unknown})

    return delivery
