"""Great Expectations suites as blocking Dagster asset checks on the assets they guard.

Raw suites run after the load and before dbt; mart suites (plus the PII and anomaly
guards every mart gets) run after dbt and before the publish. A failed blocking
expectation fails its check with ERROR severity, which stops everything downstream in
the run; warning expectations report WARN and never block. Great Expectations itself runs
in the run's validation worker (``GreatExpectationsResource``; laer/quality/worker.py).
"""


from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    ConfigurableResource,
    InitResourceContext,
    MetadataValue,
    multi_asset_check,
)
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from laer.progress import stage
from laer.project import published_marts
from laer.quality.checks import previous_row_counts, submit_mart_guards, submit_suite
from laer.quality.expectations import BLOCKING, SuiteOutcome, SuiteSpec, load_suites
from laer.quality.worker import RemoteValidator, ValidationWorker, active_worker
from orchestration.settings import LaerSettings

SUITES = load_suites()
GUARD_NAME = "pii_and_anomaly_guards"


class GreatExpectationsResource(ConfigurableResource):
    """The run's Great Expectations: a worker process started when the run's resources are
    set up (or the one a ``validation_worker()`` block around the run already started, as
    ``laer refresh`` does before importing Dagster), so importing GX overlaps the load.
    Teardown waits for the Data Docs the checks sent, then stops a worker it started."""

    _worker: ValidationWorker | None = PrivateAttr(default=None)
    _owned: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        shared = active_worker()
        self._owned = shared is None
        self._worker = shared or ValidationWorker()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._worker is None:
            return
        for error in self._worker.wait_for_docs():
            context.log.warning(f"Great Expectations Data Docs not written: {error!r}")  # type: ignore[union-attr]
        if self._owned:
            self._worker.close()
        self._worker = None

    def validator(self, docs_dir: Path) -> RemoteValidator:
        if self._worker is None:
            raise RuntimeError("GreatExpectationsResource used outside a run (no worker set up)")
        return self._worker.validator(docs_dir)


def check_name(suite: SuiteSpec) -> str:
    return "gx_" + suite.name.split(".", 1)[1].replace(".", "_")


def _spec(suite: SuiteSpec) -> AssetCheckSpec:
    blocking = any(e.severity == BLOCKING for e in suite.expectations)
    lines = [f"- `{e.label}` ({e.severity}): {e.why}" for e in suite.expectations]
    return AssetCheckSpec(check_name(suite), asset=AssetKey(list(suite.asset)), blocking=blocking,
                          description=f"Great Expectations suite `{suite.name}`:\n" + "\n".join(lines))


def to_check_result(name: str, asset: AssetKey, outcomes: Iterable[SuiteOutcome]) -> AssetCheckResult:
    results = [o for s in outcomes for o in s.outcomes]
    blocking = [o for o in results if o.blocks]
    failed = [o for o in results if not o.success]
    return AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(results),
            "failed_blocking": [f"{o.suite}: {o.expectation} — {o.detail}" for o in blocking],
            "failed_warning": [f"{o.suite}: {o.expectation} — {o.detail}" for o in failed if not o.blocks],
            "raised": sum(o.raised for o in results),
            "summary": MetadataValue.md("\n".join(
                f"- {'✅' if o.success else ('⛔' if o.blocks else '⚠️')} `{o.suite}` {o.expectation}: {o.detail or 'ok'}"
                for o in results)),
        },
    )


def _run(context: AssetCheckExecutionContext, laer: LaerSettings, duckdb: DuckDBResource,
         gx: GreatExpectationsResource, suites: list[SuiteSpec], docs: str, guards: bool) -> Iterator[AssetCheckResult]:
    selected = {(k.asset_key, k.name) for k in context.selected_asset_check_keys}
    laer = laer.for_run(context)
    validator = gx.validator(laer.warehouse.data_docs / docs)
    marts = list(PUBLISHED)
    previous = previous_row_counts(laer.warehouse.marts_db, marts) if guards else {}
    # every frame is queried here while the worker validates the ones before it; the
    # results are then reported in order
    queued: list[tuple[str, AssetKey, list[Future[SuiteOutcome]]]] = []
    with duckdb.get_connection() as con:
        for suite in suites:
            key = AssetKey(list(suite.asset))
            if (key, check_name(suite)) in selected:
                queued.append((check_name(suite), key, [submit_suite(con, suite, laer.as_of_date, validator)]))
        if guards:
            for mart in marts:
                key = AssetKey(["marts", mart])
                if (key, GUARD_NAME) in selected:
                    queued.append((GUARD_NAME, key, submit_mart_guards(con, mart, validator, previous)))
    with stage("raw checks" if docs == "raw" else "mart checks", total=len(queued)) as checking:
        for name, key, futures in queued:
            yield to_check_result(name, key, [f.result() for f in futures])
            checking.advance()
    validator.write_docs()  # rendered in the worker while the run goes on


RAW_SUITES = [s for s in SUITES if s.asset[0] == "raw"]
# the marts dbt publishes, and their suites (a mart switched off in dbt has no checks)
PUBLISHED = list(published_marts())
MART_SUITES = [s for s in SUITES if s.asset[0] == "marts" and s.asset[1] in PUBLISHED]


@multi_asset_check(specs=[_spec(s) for s in RAW_SUITES], can_subset=True, name="raw_expectations")
def raw_expectations(context: AssetCheckExecutionContext, laer: LaerSettings, duckdb: DuckDBResource,
                     gx: GreatExpectationsResource):
    yield from _run(context, laer, duckdb, gx, RAW_SUITES, "raw", guards=False)


@multi_asset_check(
    specs=[_spec(s) for s in MART_SUITES] + [
        AssetCheckSpec(GUARD_NAME, asset=AssetKey(["marts", m]), blocking=True,
                       description="No PII column names or e-mail-like values (blocking); row count within ±50 % "
                                   "of the previous publish (warning).")
        for m in PUBLISHED
    ],
    can_subset=True,
    name="mart_expectations",
)
def mart_expectations(context: AssetCheckExecutionContext, laer: LaerSettings, duckdb: DuckDBResource,
                      gx: GreatExpectationsResource):
    yield from _run(context, laer, duckdb, gx, MART_SUITES, "marts", guards=True)
