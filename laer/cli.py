"""`laer`: the command line of the LAER warehouse (see docs/contract/marts.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from laer.fast_exit import exit_after_cleanup

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestration.refresh import RefreshOutcome
    from orchestration.settings import LaerSettings

console = Console(highlight=False, soft_wrap=True)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


EXPORT_FORMATS = ("stripe", "hubspot", "segment")


def _formats(text: str) -> tuple[str, ...]:
    """``contract``, or a comma-separated choice of the source systems' export shapes."""
    chosen = tuple(dict.fromkeys(w.strip().lower() for w in text.split(",") if w.strip()))
    if chosen == ("contract",):
        return ()
    unknown = [w for w in chosen if w not in EXPORT_FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"not a format: {', '.join(unknown) or repr(text)} "
                                         f"(contract, or any of {', '.join(EXPORT_FORMATS)} separated by commas)")
    return chosen


FORMAT_HELP = ("contract (the landing contract's own files), or any of stripe, hubspot, segment separated by commas: "
               "billing as Stripe events, CRM as HubSpot objects, usage as Segment calls (the rest in the contract's files)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


DEMO_MARKER = ".laer-demo"


class LaerParser(argparse.ArgumentParser):
    """Bad arguments: one line naming the command and what is wrong, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default after its help (unless it has none or says its own); the
    example in the epilog kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _folder(path: str, what: str) -> Path | str:
    """``path`` as a folder that exists, or the one line that says why it is not one."""
    p = Path(path)
    if p.is_file():
        return f"{what} {p} is a file, not a folder"
    if not p.is_dir():
        return f"{what} {p} does not exist"
    return p


def cmd_generate(args: argparse.Namespace) -> int:
    from laer.generate import CompanyConfig, generate

    cfg = CompanyConfig(customers=args.customers, months=args.months, seed=args.seed, start=args.start)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        console.print(f"[red]{out} is not empty[/red]: pass --force to overwrite it")
        return 2
    if out.exists() and args.force:
        console.print(f"--force: removing {sum(1 for p in out.rglob('*') if p.is_file()):,} file(s) in {out}")
        shutil.rmtree(out)
    with Progress(TextColumn("[bold]generate[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def tick(what: str, step: int, total: int) -> None:
            progress.update(task, description=what, completed=step, total=total)

        summary = generate(cfg, out, tick, formats=args.format)
    rows = sum(summary.rows.values())
    shape = f" as {', '.join(args.format)} exports" if args.format else ""
    console.print(f"generated {cfg.customers:,} customers over {cfg.months} months "
                  f"({cfg.start_date} → {summary.as_of}){shape}: {summary.files:,} files, {rows:,} records, "
                  f"{summary.rows['usage/events']:,} usage events → {out}")
    console.print(f"as-of date of this data: {summary.as_of}")
    return 0


def _refresh(landing: Path, warehouse: Path, days: list[str | None]) -> int:
    """Refresh as of each day in order (None: today), stopping at the first that fails."""
    from laer.paths import Warehouse
    from laer.preflight import WarehouseUnavailable, check_not_held, prepare_folder, refresh_lock

    wh = Warehouse(warehouse.resolve())
    try:  # what retrying cannot fix fails now, before anything starts
        prepare_folder(wh)
        with refresh_lock(wh):  # held for the whole refresh
            check_not_held(wh)
            return _refresh_days(landing, warehouse, days)
    except NotADirectoryError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    except WarehouseUnavailable as exc:
        console.print(f"[red]refresh not started[/red]: {exc}")
        return 1


def _refresh_days(landing: Path, warehouse: Path, days: list[str | None]) -> int:
    from laer.quality.worker import validation_worker

    # Great Expectations imports in its worker process while Dagster and dbt import here
    with validation_worker():
        from orchestration.refresh import run_refresh
        from orchestration.settings import LaerSettings

        # the company's calendar from the environment (LAER_TIMEZONE, LAER_FIRST_DAY); the
        # refresh itself is DuckDB's (Spark: laer spark build)
        runs = [LaerSettings.from_env(landing_dir=str(landing), warehouse_dir=str(warehouse), as_of=day or "",
                                      dbt_target="duckdb") for day in days]
        for settings in runs:
            if problem := settings.calendar.why_not_a_day(settings.as_of_date):
                console.print(f"[red]--as-of {problem}[/red]")
                return 2
        for settings in runs:
            outcome = _run_with_progress(settings, run_refresh)
            code = _print_outcome(outcome)
            if code != 0:
                return code
    return 0


def _run_with_progress(settings: LaerSettings, run: Callable[[LaerSettings], RefreshOutcome]) -> RefreshOutcome:
    """Run one refresh showing its stages (files loaded of N, dbt nodes of N, checks, publish)
    with elapsed time; dbt's own output goes to <warehouse>/logs/last-refresh.log."""
    import contextlib
    import sys

    from laer.progress import ConsoleReporter, DbtLines, open_log, reporting

    log_path = settings.warehouse.root / "logs" / "last-refresh.log"
    screen = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    screen.print(f"refresh as of {settings.as_of_date}")
    with open_log(log_path) as log, ConsoleReporter(screen, prefix="  ") as reporter, reporting(reporter), \
            contextlib.redirect_stdout(DbtLines(log)):  # type: ignore[type-var]
        outcome = run(settings)
    if not outcome.success:
        screen.print(f"dbt's output: {log_path}")
    return outcome


def _print_outcome(outcome: RefreshOutcome) -> int:
    """What a refresh did, the cause of a failure last; its exit code."""
    for q in outcome.quarantined:
        console.print(f"[yellow]quarantined[/yellow] {q}")
    for w in [*outcome.load_warnings, *outcome.warnings]:
        console.print(f"[yellow]warning[/yellow] {w}")
    if outcome.published:
        console.print(f"[green]published[/green] {outcome.publish_path} (as of {outcome.as_of}; "
                      f"{outcome.checks_evaluated} checks evaluated)")
        if outcome.report_path:
            console.print(f"report written: {outcome.report_path}")
        elif outcome.report_skipped:
            console.print(f"no report: {outcome.report_skipped}")
    elif outcome.superseded_by:
        console.print(f"[yellow]not published[/yellow]: the published marts are as of {outcome.superseded_by}, "
                      f"later than {outcome.as_of}; BI keeps reading them (the warehouse was rebuilt as of "
                      f"{outcome.as_of}; the next refresh of a later day builds on it)")
    else:
        console.print(f"[red]refresh blocked[/red] (as of {outcome.as_of}) — nothing was published; "
                      f"BI keeps reading the previous marts")
    for a in outcome.alerts:
        console.print(f"alert: {a}")
    # the cause last: a failed step (what stopped the run) after the checks that failed
    for f in outcome.blocking_failures:
        console.print(f"[red]failed blocking check[/red] {f}")
    for cur in outcome.missing_fx:
        console.print(f"[red]missing FX rate[/red] {cur}")
    for s in outcome.step_failures:
        console.print(f"[red]failed step[/red] {s}")
    return 0 if outcome.success and not outcome.step_failures else 1


def cmd_refresh(args: argparse.Namespace) -> int:
    landing = _folder(args.landing, "--landing")
    if isinstance(landing, str):
        console.print(f"[red]{landing}[/red]")
        return 2
    return _refresh(landing, Path(args.warehouse), [args.as_of.isoformat() if args.as_of else None])


def cmd_backfill(args: argparse.Namespace) -> int:
    landing = _folder(args.landing, "--landing")
    if isinstance(landing, str):
        console.print(f"[red]{landing}[/red]")
        return 2
    if args.to < args.from_:
        console.print(f"[red]--to {args.to} is before --from {args.from_}[/red]")
        return 2
    days = [(args.from_ + dt.timedelta(days=i)).isoformat() for i in range((args.to - args.from_).days + 1)]
    return _refresh(landing, Path(args.warehouse), days)


def _has_published_marts(warehouse: str) -> bool:
    """Whether ``warehouse`` holds published marts; if not, says so in one line."""
    if (Path(warehouse) / "marts.duckdb").exists():
        return True
    console.print(f"[red]no published marts in {warehouse}[/red]: run laer refresh first")
    return False


def cmd_report(args: argparse.Namespace) -> int:
    from laer.paths import Warehouse
    from laer.publish import published_as_of
    from laer.report import write_report
    from laer.report.data import NoDataYet

    if not _has_published_marts(args.warehouse):
        return 2
    published = published_as_of(Warehouse(Path(args.warehouse).resolve()))
    if args.as_of and published and args.as_of.isoformat() != published:
        # a report says "as of D" only over the marts of D
        console.print(f"[red]the published marts are as of {published}[/red]: a report as of {args.as_of} needs "
                      f"marts as of that day (laer refresh --as-of {args.as_of}); laer report without --as-of "
                      f"reports {published}")
        return 2
    try:
        path = write_report(Path(args.warehouse), as_of=args.as_of.isoformat() if args.as_of else None)
    except NoDataYet as exc:
        console.print(str(exc))
        return 1
    console.print(f"report written: {path}")
    return _send_leadership_email(Path(args.warehouse), path) if args.send else 0


def _send_leadership_email(warehouse: Path, report: Path) -> int:
    from laer.delivery.leadership import leadership_email
    from laer.delivery.mail import DeliveryError, MailSettings, send

    mail = MailSettings.from_env()
    if not mail.can_mail or not mail.report_to:
        unset = ", ".join(filter(None, [mail.missing(), "" if mail.report_to else "LAER_REPORT_TO"]))
        console.print(f"[red]nothing sent[/red]: set {unset} (see README, Delivery)")
        return 2
    try:
        send(mail, [leadership_email(warehouse / "marts.duckdb", mail.report_to, report, mail.report_url)])
    except DeliveryError as exc:
        console.print(f"[red]the leadership e-mail was not sent[/red]: {exc}")
        return 1
    console.print(f"leadership e-mail sent to {', '.join(mail.report_to)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from laer.generate import CompanyConfig, generate
    from laer.headline import headline_kpis

    root = Path(args.dir).resolve()
    landing, warehouse = root / "landing", root / "warehouse"
    marker = root / DEMO_MARKER
    earlier = [p for p in (landing, warehouse) if p.exists()]
    if earlier and not marker.exists():  # delete only what an earlier demo made
        console.print(f"[red]{root} already holds {' and '.join(p.name + '/' for p in earlier)}, not made by "
                      f"laer demo[/red]: choose another --dir (or delete them yourself)")
        return 2
    if earlier:
        console.print(f"replacing the earlier demo in {root} (landing/, warehouse/)")
    for p in earlier:
        shutil.rmtree(p)
    root.mkdir(parents=True, exist_ok=True)
    marker.write_text("landing/ and warehouse/ here were made by laer demo, which replaces them on its next run\n")
    cfg = CompanyConfig(customers=args.customers, months=args.months, seed=args.seed)
    with console.status(f"generating the demo company ({cfg.customers:,} customers, {cfg.months} months)"):
        summary = generate(cfg, landing, formats=args.format)
    console.print(f"demo company: {summary.files:,} landing files, {summary.rows['usage/events']:,} usage events "
                  f"→ {landing}")
    code = _refresh(landing, warehouse, [summary.as_of])
    if code != 0:
        return code
    report = warehouse / "reports" / summary.as_of / "index.html"  # written by the refresh job
    title, kpis = headline_kpis(warehouse / "marts.duckdb")
    console.print()
    console.print(f"[bold]Headline KPIs — {title}[/bold]")
    for label, value in kpis.items():
        console.print(f"  {label:<22} {value}")
    console.print()
    console.print(f"published marts  {warehouse / 'marts.duckdb'}  (schema main; Parquet in {warehouse / 'marts'})")
    console.print(f"data docs        {warehouse / 'data_docs'}  (Great Expectations)")
    console.print(f"dbt docs         {warehouse / 'dbt_docs' / 'index.html'}  (models, columns, lineage)")
    console.print(f"report           {report}")
    console.print(f"Dagster UI       DAGSTER_HOME=$PWD/.dagster_home LAER_LANDING_DIR={landing} "
                  f"LAER_WAREHOUSE_DIR={warehouse} bin/dagster-dev")
    from laer.delivery.mail import MailSettings

    mail = MailSettings.from_env()
    if mail.can_mail:
        console.print(f"e-mail           sent through {mail.smtp_url}: leadership to "
                      f"{', '.join(mail.report_to) or '(LAER_REPORT_TO unset)'}, CSM digests to crm/users")
    else:
        console.print("e-mail           not sent: set LAER_SMTP_URL and LAER_MAIL_FROM (and LAER_REPORT_TO) — "
                      "see the README, Delivery")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from laer.paths import Warehouse
    from laer.semantic import run_metricflow

    if not _has_published_marts(args.warehouse):
        return 2
    return run_metricflow(Warehouse(Path(args.warehouse).resolve()), args.mf_arguments or ["list", "metrics"])


def cmd_dashboard(args: argparse.Namespace) -> int:
    import subprocess
    import sys

    from laer.paths import PROJECT_DIR

    if not _has_published_marts(args.warehouse):
        return 2
    warehouse = Path(args.warehouse).resolve()
    streamlit = Path(sys.executable).with_name("streamlit")
    console.print(f"dashboard on the published marts of {warehouse}: http://{args.address}:{args.port}")
    return subprocess.run(
        [str(streamlit), "run", str(PROJECT_DIR / "dashboards" / "streamlit_app.py"), "--server.headless", "true",
         "--server.address", args.address, "--server.port", str(args.port), "--browser.gatherUsageStats", "false",
         "--client.toolbarMode", "viewer"],
        env={**os.environ, "LAER_WAREHOUSE_DIR": str(warehouse)}).returncode


def cmd_spark_build(args: argparse.Namespace) -> int:
    from laer.spark.build import build_on_spark

    built = build_on_spark(Path(args.landing), Path(args.warehouse), args.as_of.isoformat() if args.as_of else None,
                           unit_tests=args.unit_tests)
    counts = {s: len(built.load.by_status(s)) for s in ("loaded", "skipped", "quarantined")}
    console.print("spark load: " + ", ".join(f"{n:,} {s}" for s, n in counts.items()))
    for r in built.load.quarantined:
        console.print(f"  [yellow]quarantined[/yellow] {r.relpath}: {r.message}")
    if not built.dbt_success:
        console.print(f"[red]dbt build on Spark failed[/red]: {', '.join(built.failed_nodes) or 'see the dbt log'}")
        return 1
    console.print(f"dbt build on Spark succeeded; tables in {Path(args.warehouse).resolve() / 'spark'}")
    return 0


def cmd_spark_compare(args: argparse.Namespace) -> int:
    from laer.project import published_marts
    from laer.spark.parity import compare_published
    from laer.spark.session import spark_session

    marts = args.mart or list(published_marts())
    differences = compare_published(Path(args.duckdb), spark_session(Path(args.warehouse)), marts)
    for d in differences:
        console.print(f"[red]differs[/red] {d}")
    console.print(f"{len(marts) - len(differences)} of {len(marts)} marts equal row for row on DuckDB and Spark")
    return 1 if differences else 0


def build_parser() -> argparse.ArgumentParser:
    parser = LaerParser(prog="laer", description="SaaS lifecycle (LAER) warehouse.", formatter_class=_HelpFormatter,
                        epilog="example:\n  laer demo\n  laer refresh --landing exports --warehouse warehouse")
    parser.add_argument("--version", action="version", version=f"laer {version('laer-warehouse')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, example: str, **kwargs: object) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=summary, formatter_class=_HelpFormatter,
                              epilog=f"example:\n  {example}", **kwargs)  # type: ignore[arg-type]

    p = command("demo", "generate the demo company, refresh, report and print the headline KPIs",
                "laer demo --customers 500 --months 24")
    p.add_argument("--dir", default=os.environ.get("LAER_DEMO_DIR", "demo"),
                   help="folder for landing/ and warehouse/ (LAER_DEMO_DIR)")
    p.add_argument("--customers", type=_positive, default=2000, help="customers of the demo company")
    p.add_argument("--months", type=_positive, default=36, help="months of history")
    p.add_argument("--seed", type=int, default=42, help="random seed (the same seed, the same company)")
    p.add_argument("--format", type=_formats, default=(), metavar="FORMATS", help=FORMAT_HELP)
    p.set_defaults(func=cmd_demo)

    p = command("generate", "write a deterministic synthetic SaaS company in the landing contract",
                "laer generate --out exports --customers 200 --months 12")
    p.add_argument("--out", required=True, help="landing folder to write")
    p.add_argument("--customers", type=_positive, default=2000, help="customers of the company")
    p.add_argument("--months", type=_positive, default=36, help="months of history")
    p.add_argument("--seed", type=int, default=42, help="random seed (the same seed, the same files)")
    p.add_argument("--start", type=_date, default=None, help="first day (default: so that the data ends today)")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty --out folder")
    p.add_argument("--format", type=_formats, default=(), metavar="FORMATS", help=FORMAT_HELP)
    p.set_defaults(func=cmd_generate)

    p = command("refresh", "load new landing files, build, validate, publish",
                "laer refresh --landing exports --warehouse warehouse --as-of 2026-12-06")
    p.add_argument("--landing", required=True, help="the landing folder (landing contract)")
    p.add_argument("--warehouse", required=True, help="the warehouse folder (created if missing)")
    p.add_argument("--as-of", type=_date, default=None, help="fixes 'today' (default: the current date)")
    p.set_defaults(func=cmd_refresh)

    p = command("backfill", "refresh as of every day from --from to --to, in order (as a Dagster backfill of "
                            "the refresh's daily partitions)",
                "laer backfill --landing exports --warehouse warehouse --from 2026-11-01 --to 2026-11-30")
    p.add_argument("--landing", required=True, help="the landing folder (landing contract)")
    p.add_argument("--warehouse", required=True, help="the warehouse folder (created if missing)")
    p.add_argument("--from", dest="from_", type=_date, required=True, help="first day (YYYY-MM-DD)")
    p.add_argument("--to", type=_date, required=True, help="last day (YYYY-MM-DD)")
    p.set_defaults(func=cmd_backfill)

    p = command("report", "write the leadership report from the published marts",
                "laer report --warehouse warehouse --send")
    p.add_argument("--warehouse", required=True, help="the warehouse folder of laer refresh")
    p.add_argument("--as-of", type=_date, default=None,
                   help="refuse unless the published marts are as of this day (default: their day)")
    p.add_argument("--send", action="store_true",
                   help="also e-mail the published marts' headline to LAER_REPORT_TO (LAER_SMTP_URL, LAER_MAIL_FROM)")
    p.set_defaults(func=cmd_report)

    p = command("metrics", "ask the semantic layer (dbt MetricFlow's `mf`) about the published marts",
                "laer metrics --warehouse warehouse query --metrics mrr,nrr_ttm --group-by metric_time__quarter")
    p.add_argument("--warehouse", required=True, help="the warehouse folder of laer refresh")
    p.add_argument("mf_arguments", nargs=argparse.REMAINDER,
                   help="what to pass to mf (default: list metrics); see `laer metrics --warehouse W --help`")
    p.set_defaults(func=cmd_metrics)

    p = command("dashboard", "serve the dashboard (Streamlit) on the published marts, read-only",
                "laer dashboard --warehouse demo/warehouse")
    p.add_argument("--warehouse", required=True, help="the warehouse folder of laer refresh")
    p.add_argument("--port", type=_positive, default=8501, help="port to serve on")
    p.add_argument("--address", default="localhost", help="address to serve on (0.0.0.0 for everyone)")
    p.set_defaults(func=cmd_dashboard)

    spark = command("spark", "run the same dbt project on Spark (needs `pip install -e .[spark]` and Java)",
                    "laer spark build --landing exports --warehouse spark_warehouse")
    spark_sub = spark.add_subparsers(dest="spark_command", required=True, metavar="COMMAND")
    p = spark_sub.add_parser("build", help="load new landing files into Spark's raw database, then dbt build there",
                             formatter_class=_HelpFormatter,
                             epilog="example:\n  laer spark build --landing exports --warehouse spark_warehouse")
    p.add_argument("--landing", required=True, help="the landing folder (landing contract)")
    p.add_argument("--warehouse", required=True, help="Spark keeps its tables and metastore in WAREHOUSE/spark")
    p.add_argument("--as-of", type=_date, default=None, help="fixes 'today' (default: the current date)")
    p.add_argument("--unit-tests", action="store_true", help="also run the dbt unit tests on Spark")
    p.set_defaults(func=cmd_spark_build)
    p = spark_sub.add_parser("compare", help="compare the Spark marts with a DuckDB file, row for row",
                             formatter_class=_HelpFormatter,
                             epilog="example:\n  laer spark compare --warehouse spark_warehouse "
                                    "--duckdb warehouse/marts.duckdb")
    p.add_argument("--warehouse", required=True, help="the --warehouse of `laer spark build`")
    p.add_argument("--duckdb", required=True, help="a published marts.duckdb (the --warehouse of `laer refresh` + /marts.duckdb)")
    p.add_argument("--mart", action="append", help="only this mart (repeatable; default: every published mart)")
    p.set_defaults(func=cmd_spark_compare)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def run() -> None:
    """The `laer` executable: ``main`` with the arguments given, then an exit that skips
    tearing down every imported module (laer/fast_exit.py)."""
    exit_after_cleanup(main())


if __name__ == "__main__":
    run()
