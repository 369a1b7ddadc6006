"""The leadership report, written after every successful publish."""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from laer.progress import stage
from laer.report import write_report
from laer.report.data import NoDataYet
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings

REPORT_KEY = AssetKey(["published", "leadership_report"])


def leadership_report_asset(calendar: RefreshCalendar) -> AssetsDefinition:
    """The ``leadership_report`` asset, partitioned by the company's days."""

    @asset(
        key=REPORT_KEY,
        deps=[AssetKey(["published", "marts"])],
        group_name="publish",
        **calendar.partitioned_by_day(),
        kinds={"html", "plotly"},
        description="Self-contained HTML report (headline KPIs, MRR bridge, trends, cohorts, LAER stages, funnel, "
                    "at-risk accounts, early warnings, renewals, data quality) under <warehouse>/reports/<as-of>/.",
    )
    def leadership_report(context: AssetExecutionContext, laer: LaerSettings) -> MaterializeResult:
        laer = laer.for_run(context)
        with stage("report") as writing:
            try:
                path = write_report(laer.warehouse.root, as_of=laer.as_of_date)
            except NoDataYet as exc:  # the marts are published; a day before the data has no report
                writing.note = "no data yet"
                context.log.warning(str(exc))
                return MaterializeResult(metadata={"written": False, "why": str(exc)})
        context.log.info(f"report written: {path}")
        return MaterializeResult(metadata={"written": True, "path": str(path), "size_bytes": path.stat().st_size})

    return leadership_report
