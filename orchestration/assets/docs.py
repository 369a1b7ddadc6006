"""dbt's docs site, beside the Great Expectations Data Docs: what every model and column
means, its lineage and tests, for the BI developer (and the exposures that point here)."""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from laer.progress import stage
from laer.project import write_dbt_docs
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings

DBT_DOCS_KEY = AssetKey(["published", "dbt_docs"])


def dbt_docs_asset(calendar: RefreshCalendar) -> AssetsDefinition:
    """The ``dbt_docs`` asset, partitioned by the company's days."""

    @asset(
        key=DBT_DOCS_KEY,
        deps=[AssetKey(["published", "marts"])],
        group_name="publish",
        **calendar.partitioned_by_day(),
        kinds={"dbt", "html"},
        pool="warehouse_writer",
        description="dbt's static docs site (models, columns, lineage, tests, exposures; one HTML file) under "
                    "<warehouse>/dbt_docs/index.html, written again when the project changed.",
    )
    def dbt_docs(context: AssetExecutionContext, laer: LaerSettings) -> MaterializeResult:
        laer = laer.for_run(context)
        if not laer.dbt_docs:
            context.log.info("dbt docs: off (LAER_DBT_DOCS=0)")
            return MaterializeResult(metadata={"written": False})
        with stage("dbt docs"):
            site = write_dbt_docs(laer.warehouse, laer.dbt_environment, laer.dbt_target)
        context.log.info(f"dbt docs: {site}")
        return MaterializeResult(metadata={"written": True, "path": str(site), "size_bytes": site.stat().st_size})

    return dbt_docs
