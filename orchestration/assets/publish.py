"""Publish: the marts BI reads, replaced atomically once every blocking check passed."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    Backoff,
    DagsterEventType,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from laer.publish import PUBLISHED_MARTS, publish_marts
from orchestration.assets.failures import fail_at_once_when_retrying_cannot_help
from orchestration.settings import LaerSettings


def _check_summary(context: AssetExecutionContext) -> dict[str, object]:
    records = context.instance.all_logs(context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.event_specific_data for r in records  # type: ignore[union-attr]
                   if r.dagster_event is not None]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed]
    return {"evaluated": len(evaluations), "passed": len(evaluations) - len(failed), "failed_non_blocking": failed}


@asset(
    key=AssetKey(["published", "marts"]),
    deps=[AssetKey(["marts", m]) for m in PUBLISHED_MARTS],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    retry_policy=RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL),
    pool="warehouse_writer",
    description="marts.duckdb (DuckDB 1.1+ storage) and marts/<mart>.parquet under the warehouse folder, "
                "switched in one atomic step; the previous version is kept as last_good.",
)
def published_marts(context: AssetExecutionContext, laer: LaerSettings) -> MaterializeResult:
    checks = _check_summary(context)
    with fail_at_once_when_retrying_cannot_help(laer.warehouse):
        result = publish_marts(laer.warehouse, as_of=laer.as_of_date, run_id=context.run.run_id, checks=checks)
    context.log.info(f"published {result.publish_id}: {sum(result.row_counts.values())} rows in "
                     f"{len(result.row_counts)} marts")
    return MaterializeResult(metadata={"publish_id": result.publish_id, "as_of": laer.as_of_date,
                                       "row_counts": result.row_counts, "checks": checks,
                                       "path": str(laer.warehouse.marts_db)})
