"""Publish: the marts BI reads, replaced atomically once every blocking check passed."""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    DagsterEventType,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from laer import project
from laer.progress import stage
from laer.publish import publish_marts, published_as_of
from orchestration.assets.failures import fail_at_once_when_retrying_cannot_help
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings


def _check_summary(context: AssetExecutionContext) -> dict[str, object]:
    records = context.instance.all_logs(context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.event_specific_data for r in records  # type: ignore[union-attr]
                   if r.dagster_event is not None]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    return {"evaluated": len(evaluations), "passed": len(evaluations) - len(failed), "failed_non_blocking": failed}


def published_marts_asset(calendar: RefreshCalendar) -> AssetsDefinition:
    """The ``published_marts`` asset, partitioned by the company's days."""

    @asset(
        key=AssetKey(["published", "marts"]),
        deps=[AssetKey(["marts", m]) for m in project.published_marts()],
        group_name="publish",
        **calendar.partitioned_by_day(),
        kinds={"duckdb", "parquet"},
        retry_policy=RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL),
        pool="warehouse_writer",
        output_required=False,  # not yielded when newer marts are published: what follows is skipped
        description="marts.duckdb (DuckDB 1.1+ storage) and marts/<mart>.parquet under the warehouse folder, "
                    "switched in one atomic step; the previous version is kept as last_good.",
    )
    def published_marts(context: AssetExecutionContext, laer: LaerSettings) -> Iterator[MaterializeResult]:
        checks = _check_summary(context)
        laer = laer.for_run(context)
        newer = published_as_of(laer.warehouse)
        if newer is not None and newer > laer.as_of_date:
            # published marts only move forward: a backfilled or re-run earlier day rebuilds the
            # warehouse as of that day, but BI keeps the newer marts (and the report, the e-mail
            # and the digests after it are skipped)
            context.log.warning(f"not published: the published marts are as of {newer}, later than {laer.as_of_date}")
            return
        with fail_at_once_when_retrying_cannot_help(laer.warehouse), stage("publish") as publishing:
            result = publish_marts(laer.warehouse, as_of=laer.as_of_date, run_id=context.run.run_id, checks=checks,
                                   marts=project.published_marts())
            publishing.note = f"{len(result.row_counts)} marts"
        context.log.info(f"published {result.publish_id}: {sum(result.row_counts.values())} rows in "
                         f"{len(result.row_counts)} marts")
        yield MaterializeResult(metadata={"publish_id": result.publish_id, "as_of": laer.as_of_date,
                                          "row_counts": result.row_counts, "checks": checks,
                                          "path": str(laer.warehouse.marts_db)})

    return published_marts
