"""Raw: every landing entity appended to ``raw.<source>__<entity>`` by the landing loader."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Backoff,
    MaterializeResult,
    RetryPolicy,
    multi_asset,
)
from dagster_duckdb import DuckDBResource

from laer.contract import ENTITIES, EXPORTS
from laer.ingest.loader import LEDGER, FileResult, load_landing
from laer.progress import stage
from orchestration.assets.failures import fail_at_once_when_retrying_cannot_help
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings

LEDGER_KEY = AssetKey(["raw", "_load_ledger"])
FEEDS_KEY = AssetKey(["raw", "_load_ledger_feeds"])
LOADER_KEYS = (LEDGER_KEY, FEEDS_KEY)
RAW_SPECS = [
    AssetSpec(
        AssetKey(["raw", e.table]),
        description=f"Append-only raw `{e.source}/{e.name}` (every version, lineage columns).",
        group_name="raw",
        kinds={"duckdb"},
        metadata={"landing_folder": f"{e.source}/{e.name}", "key": e.key},
        skippable=True,
    )
    for e in ENTITIES
] + [AssetSpec(LEDGER_KEY, description="Load ledger: every landing file, loaded or quarantined.",
               group_name="raw", kinds={"duckdb"}, skippable=True),
      AssetSpec(FEEDS_KEY, description="What each export file (stripe/, hubspot/, segment/) wrote into which raw "
                "table: an export file loads every raw table its adapter feeds.",
                group_name="raw", kinds={"duckdb"}, skippable=True)]


def _file_counts(results: list[FileResult], table: str | None = None) -> dict[str, object]:
    """The files' outcomes for one raw table (an export file counts the rows it wrote into
    ``table``), or for the export files as a whole (``table`` None: objects read)."""
    return {
        "files_loaded": sum(r.status == "loaded" for r in results),
        "files_skipped": sum(r.status == "skipped" for r in results),
        "files_quarantined": sum(r.status == "quarantined" for r in results),
        "rows_loaded": sum(r.fed.get(table, 0) if r.fed and table else r.rows
                           for r in results if r.status == "loaded"),
        "quarantined": [f"{r.relpath}: {r.message}" for r in results if r.status == "quarantined"][:20],
    }


def landing_files_asset(calendar: RefreshCalendar) -> AssetsDefinition:
    """The ``landing_files`` asset, partitioned by the company's days."""

    @multi_asset(
        specs=RAW_SPECS,
        can_subset=True,
        name="landing_files",
        **calendar.partitioned_by_day(),
        retry_policy=RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL),
        pool="warehouse_writer",
    )
    def landing_files(context: AssetExecutionContext, laer: LaerSettings, duckdb: DuckDBResource):
        """Load new landing files (lexical order, one transaction each, bad files quarantined)."""
        selected = {k.path[-1] for k in context.selected_asset_keys if k not in LOADER_KEYS}
        results: list[FileResult] = []
        def on_plan(new: int, seen_before: int) -> None:
            loading.total = new
            loading.note = f"{seen_before} loaded before" if seen_before else ""
            loading.advance(0)

        def on_file(res: FileResult) -> None:
            results.append(res)
            if res.status != "skipped":
                loading.advance()
            if res.status == "quarantined":
                context.log.warning(f"quarantined {res.relpath}: {res.message}")
            elif res.status == "loaded" and res.warnings:
                context.log.warning(f"loaded {res.relpath} with warnings: {'; '.join(res.warnings)}")

        wh = laer.warehouse
        with fail_at_once_when_retrying_cannot_help(wh), stage("load files") as loading:
            wh.ensure()  # the first asset that writes the warehouse creates its folder
            with duckdb.get_connection() as con:
                report = load_landing(con, laer.landing, entities=selected, on_file=on_file, on_plan=on_plan,
                                      export_settings=laer.export_settings)
                counts = dict(con.execute(f"select path, row_count from {LEDGER} where status = 'loaded'").fetchall())
        for w in report.warnings:
            context.log.warning(w)
        # an export file (stripe/, hubspot/, segment/) counts for every raw table its adapter feeds
        feeds = {e.table: e.feeds for e in EXPORTS}
        exported = [r for r in results if r.entity in feeds]
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_string()):
            if key == LEDGER_KEY:
                metadata = {"files_in_ledger": len(counts), "quarantined_this_run": [r.relpath for r in report.quarantined],
                            "landing_warnings": report.warnings}
            else:
                table = key.path[-1]
                mine = exported if key == FEEDS_KEY else [r for r in results
                                                          if r.entity == table or table in feeds.get(r.entity, ())]
                metadata = _file_counts(mine, None if key == FEEDS_KEY else table)
            yield MaterializeResult(asset_key=key, metadata=metadata)

    return landing_files
