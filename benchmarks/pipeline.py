"""Pipeline benchmark (issue 7): not a test, a measurement with a scale knob.

    python benchmarks/pipeline.py --customers 20000 [--months 36]

1. generates a company and withholds its last day of files;
2. cold: a full refresh (load, dbt build, checks, publish, report) into an empty warehouse;
3. warm: delivers the withheld day and refreshes again (incremental);
4. baseline: benchmarks/baseline.sql, one hand-written DuckDB script computing
   fct_mrr_monthly, kpi_monthly and daily usage per account straight from the files;
5. ratio per headline mart, the pipeline's transformation time ÷ the baseline's time for
   the same mart (kpi_monthly includes the fct_mrr_monthly section it builds on):
   - alone: after the warm run, the mart and every model upstream of it rebuilt from raw
     by themselves (``dbt run --select +mart --full-refresh``, dbt's elapsed time), from
     the same files the baseline reads: what producing that mart costs;
   - cold and warm: the dbt execution time of the mart and everything upstream of it in
     the refreshes (run_results.json × the manifest's lineage). In a full build two dbt
     threads run other models beside the mart's, so these node times include the time
     those took from it (an event scan beside another takes twice as long).

With ``--keep`` the work folder (company, warehouses, a copy of the cold warehouse) stays;
``--rewarm DIR`` then restores that cold copy (and brings its dbt partial parse up to
the current project, as the daily run of unchanged code finds it) and measures the warm
refresh, the baseline and the marts built alone again, without generating or building cold (what a change to
the incremental path needs to be re-measured at 100,000 accounts). ``--recold DIR``
re-uses the kept company only: cold, warm and baseline are measured again with the
current code (a change to the models' code makes the first refresh after it a full
rebuild of the account-day marts, so a cold copy built by other code cannot measure a
warm run of this code).

``--warm-runs N`` runs the warm refresh N times, each from the same cold warehouse and
the same withheld day (the cold copy is restored before each), and prints every run, the
fastest and the median: this machine's speed moves by a third within an hour, so one warm
run says little about the code. The stage table shows the median run.

The cold refresh, the warm refresh and the baseline start from a stated page cache:
``--cache hot`` (the default) reads the files each one reads into it first (the landing
files for the cold refresh and the baseline, the warehouse file for the warm refresh: a
daily run on a machine that keeps them in memory), ``--cache cold`` drops the kernel's
page cache first (needs root; a daily run on a machine that did other work since), so
that what a run reads from disk is measured, not whatever the previous step left cached.

Each phase runs in its own process; wall time per stage comes from Dagster's step
events. Memory is reported two ways: per stage, the resident memory of the refresh
process and its dbt child summed, sampled every 50 ms from the benchmark's own process
(not inside the measured one, whose Python the sampling slowed) and split by the steps'
start and end (what the machine must hold at once); per phase, the largest single
process's peak (``ru_maxrss`` of the process and its waited children: the dbt child
alone, usually).
The dbt project is parsed before the clock starts (a Dagster code location parses it
once, at load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE.parent / "target" / "manifest.json"
# headline mart -> baseline sections that compute it
HEADLINE = {"fct_mrr_monthly": ["fct_mrr_monthly"], "kpi_monthly": ["fct_mrr_monthly", "kpi_monthly"],
            "int_usage__account_daily": ["int_usage__account_daily"]}
STAGES = {"landing_files": "load", "raw_expectations": "raw checks", "warehouse_models": "dbt build",
          "mart_expectations": "mart checks", "published__marts": "publish", "published__leadership_report": "report"}


def run(cmd: list[str], memory: TreeMemory | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in GB (process and waited descendants), stdout. With
    ``memory``, the process tree's resident memory is sampled while it runs."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        if memory is not None:
            memory.start(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if memory is not None:
            memory.stop()
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{text[-3000:]}\n{errors[-3000:]}")
    return seconds, usage.ru_maxrss / 1024 / 1024, text


class TreeMemory:
    """Resident memory of a process plus its descendants (the refresh and its dbt build),
    summed and sampled every ``interval`` seconds on a daemon thread of the benchmark's
    own process (Linux ``/proc``). A process's peak RSS (``ru_maxrss``) is the most one
    process held; this is what the refresh held at once, parent and dbt together, and it
    can be split by step. Sampling inside the measured process cost it ≈ 3 s of a 48 s
    daily refresh at 100,000 accounts (≈ 4 ms of Python a sample, holding the GIL the
    refresh's Python needs); from here it costs the refresh nothing but a share of a core."""

    PAGE = os.sysconf("SC_PAGE_SIZE")

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._root = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory", daemon=True)

    def start(self, root: int) -> None:
        self._root = root
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), sum(self._rss(pid) for pid in self._tree(self._root))))
            self._stop.wait(self.interval)

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, todo = [], [pid]
        while todo:
            current = todo.pop()
            pids.append(current)
            for task in Path(f"/proc/{current}/task").glob("*/children"):
                try:
                    todo.extend(int(child) for child in task.read_text().split())
                except OSError:
                    continue  # the process ended between the listing and the read
        return pids

    @classmethod
    def _rss(cls, pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * cls.PAGE
        except (OSError, IndexError, ValueError):
            return 0

    def peak_gb(self, start: float, end: float) -> float:
        """The largest sample taken from ``start`` to ``end`` (epoch seconds), in GB."""
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0) / 1024**3


def phase_refresh(landing: str, warehouse: str, as_of: str) -> None:
    from laer.quality.worker import validation_worker

    with validation_worker():  # as `laer refresh` does (laer/cli.py)
        from orchestration.refresh import run_refresh
        from orchestration.settings import LaerSettings

        outcome = run_refresh(LaerSettings(landing_dir=landing, warehouse_dir=warehouse, as_of=as_of))
    print(json.dumps({"success": outcome.success, "steps": outcome.step_seconds, "windows": outcome.step_windows,
                      "failures": outcome.step_failures + outcome.blocking_failures + outcome.missing_fx}))
    if not outcome.success:
        sys.exit(1)


def refresh_outcome(stdout: str, memory: TreeMemory) -> dict:
    """A refresh phase's last line, with the memory sampled while each step ran."""
    outcome = json.loads(stdout.strip().splitlines()[-1])
    outcome["step_peak_gb"] = {key: memory.peak_gb(*window) for key, window in outcome.pop("windows").items()}
    outcome["peak_gb_sampled"] = memory.peak_gb(0, float("inf"))
    return outcome


def parse_for_warehouse(landing: Path, wh: Path, as_of: str) -> None:
    """dbt's partial parse in the warehouse's own dbt target, with what the refresh gives
    dbt (its settings' environment and target): the warm refresh then starts as the daily
    run of unchanged code does. Without it, a cold copy kept by other code makes the warm
    refresh parse the changed files inside its clock."""
    from laer.project import parse_project
    from orchestration.settings import LaerSettings

    settings = LaerSettings(landing_dir=str(landing), warehouse_dir=str(wh), as_of=as_of)
    parse_project(settings.warehouse.dbt_target, settings.dbt_environment, settings.dbt_target)


def run_baseline(landing: str, as_of: str, db: str) -> dict[str, float]:
    """Run baseline.sql into the DuckDB file ``db`` section by section: seconds per section
    (tests/test_benchmark_baseline.py checks that its tables equal the pipeline's marts)."""
    import duckdb

    sql = (HERE / "baseline.sql").read_text().replace("{landing}", landing).replace("{as_of}", as_of)
    sql = sql.replace("{seeds}", str(HERE.parent / "seeds"))
    parts = re.split(r"^-- mart: (\w+)$", sql, flags=re.M)
    seconds: dict[str, float] = {}
    with duckdb.connect(db) as con:
        con.execute(parts[0])
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            t = time.perf_counter()
            con.execute(body)
            seconds[name] = time.perf_counter() - t
    return seconds


def uncovered_columns(marts_db: Path, baseline_db: Path) -> dict[str, list[str]]:
    """Columns of the headline marts the baseline script does not compute (a KPI added since)."""
    import duckdb

    query = "select column_name from information_schema.columns where table_schema = 'main' and table_name = ?"
    left_out = {}
    with duckdb.connect(str(marts_db), read_only=True) as marts, duckdb.connect(str(baseline_db), read_only=True) as base:
        for mart in ("fct_mrr_monthly", "kpi_monthly"):
            ours = [r[0] for r in marts.execute(query, [mart]).fetchall()]
            theirs = {r[0] for r in base.execute(query, [mart]).fetchall()}
            if missing := [c for c in ours if c not in theirs]:
                left_out[mart] = missing
    return left_out


def phase_baseline(landing: str, as_of: str, db: str) -> None:
    print(json.dumps(run_baseline(landing, as_of, db)))


def lineage_alone_seconds(landing: Path, wh: Path, as_of: str, mart: str) -> float:
    """dbt's elapsed seconds rebuilding ``mart`` and every model upstream of it from raw,
    by themselves (``dbt run --select +mart --full-refresh``) in the warehouse ``wh``, with
    the refresh's target and environment."""
    from laer.project import run_dbt
    from orchestration.settings import LaerSettings

    settings = LaerSettings(landing_dir=str(landing), warehouse_dir=str(wh), as_of=as_of)
    target = wh / "dbt_target_lineage"
    run_dbt(["run", "--select", f"+{mart}", "--full-refresh"], target, settings.dbt_environment, settings.dbt_target)
    return float(json.loads((target / "run_results.json").read_text())["elapsed_time"])


def slowest_nodes(run_results: Path, n: int = 10) -> list[tuple[str, float]]:
    results = json.loads(run_results.read_text())["results"]
    ranked = sorted(((r["unique_id"], r["execution_time"]) for r in results), key=lambda x: -x[1])
    return ranked[:n]


def lineage_seconds(run_results: Path, mart: str) -> float:
    """dbt execution seconds of the model ``mart`` and of every model and seed upstream of it."""
    manifest = json.loads(MANIFEST.read_text())
    timings = {r["unique_id"]: r["execution_time"] for r in json.loads(run_results.read_text())["results"]}
    parents = manifest["parent_map"]
    todo, seen = [f"model.laer.{mart}"], set()
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += parents.get(node, [])
    return sum(timings.get(n, 0.0) for n in seen if n.split(".")[0] in ("model", "seed"))


def _gb(outcome: dict, step: str | None) -> str:
    """A phase's sampled peak for one step (None: the whole refresh), or "-" when the phase
    was measured before the benchmark sampled it (a kept cold.json)."""
    value = outcome.get("peak_gb_sampled") if step is None else outcome.get("step_peak_gb", {}).get(step)
    return "-" if value is None else f"{value:.2f}G"


def _files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.rglob("*") if f.is_file())


def _settle_cache(mode: str, *files: Path) -> None:
    """Start the next measurement from a stated page cache: ``files`` read into it (hot) or
    the whole cache dropped (cold); dirty pages are written first either way."""
    os.sync()
    if mode == "cold":
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        except OSError as exc:
            raise SystemExit(f"--cache cold needs root (writing /proc/sys/vm/drop_caches): {exc}") from exc
        return
    for f in files:
        with f.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def _loaded_files(wh: Path, day: str) -> int:
    """How many files with ``day`` in their path the warehouse's load ledger holds as loaded."""
    import duckdb

    with duckdb.connect(str(wh / "warehouse.duckdb"), read_only=True) as con:
        return int(con.execute("select count(*) from raw._load_ledger where status = 'loaded' and path like ?",
                               [f"%{day}%"]).fetchone()[0])  # type: ignore[index]


def _restore_cold(cold_copy: Path, wh: Path, landing: Path, as_of: str) -> None:
    """Put the kept cold warehouse back in place of ``wh`` and bring its dbt partial parse up
    to the current project (with the withheld day moved out of ``landing``)."""
    shutil.rmtree(wh)
    subprocess.run(["cp", "-a", str(cold_copy), str(wh)], check=True)
    parse_for_warehouse(landing, wh, as_of)


def _move_tree(source: Path, target: Path, pattern: str) -> None:
    """Move the files under ``source`` matching ``pattern`` to the same relative paths under ``target``
    (a rename: modification times are kept)."""
    for f in sorted(source.rglob(pattern)):
        if f.is_file():
            dest = target / f.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(f, dest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder: company, warehouses and a copy of the cold warehouse")
    parser.add_argument("--rewarm", metavar="DIR",
                        help="a folder kept by --keep: restore its cold warehouse and measure only warm + baseline")
    parser.add_argument("--recold", metavar="DIR",
                        help="a folder kept by --keep: re-use its company, measure cold, warm and baseline again")
    parser.add_argument("--warm-runs", type=int, default=1, metavar="N",
                        help="run the warm refresh N times from the same cold warehouse; report each, fastest, median")
    parser.add_argument("--cache", choices=["hot", "cold"], default="hot",
                        help="page cache at the start of each refresh and of the baseline (cold: dropped, needs root)")
    parser.add_argument("--phase", choices=["refresh", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--args", nargs="*", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.warm_runs < 1:
        parser.error("--warm-runs must be at least 1")
    if a.phase == "refresh":
        # ends the process as the `laer` executable does (laer/fast_exit.py)
        from laer.fast_exit import exit_after_cleanup

        phase_refresh(*a.args)
        exit_after_cleanup(0)
    if a.phase == "baseline":
        return phase_baseline(*a.args)

    from laer.generate import CompanyConfig, generate
    from laer.project import ensure_manifest

    kept_dir = a.rewarm or a.recold
    work = Path(kept_dir) if kept_dir else Path(tempfile.mkdtemp(prefix="laer-pipeline-"))
    landing, next_day, wh, cold_copy = work / "landing", work / "next_day", work / "warehouse", work / "warehouse_cold"
    me = [sys.executable, str(Path(__file__).resolve())]
    try:
        cfg = CompanyConfig(a.customers, a.months, a.seed, dt.date(2023, 1, 1))
        if kept_dir:
            kept = json.loads((work / "company.json").read_text())
            cfg = CompanyConfig(kept["customers"], kept["months"], kept["seed"], dt.date.fromisoformat(kept["start"]))
        last, day_before = cfg.end_date.isoformat(), (cfg.end_date - dt.timedelta(days=1)).isoformat()
        # the project is parsed once, as a Dagster code location does when it loads, not per refresh
        ensure_manifest()
        if a.rewarm:
            _move_tree(landing, next_day, f"*{last}*")
            _restore_cold(cold_copy, wh, landing, last)
            kept_cold = json.loads((work / "cold.json").read_text())
            cold, cold_s, cold_gb = kept_cold["outcome"], kept_cold["seconds"], kept_cold["peak_gb"]
        else:
            if a.recold:
                for folder in (wh, cold_copy):
                    shutil.rmtree(folder, ignore_errors=True)
            else:
                t = time.perf_counter()
                summary = generate(cfg, landing)
                print(f"generated {a.customers:,} customers × {a.months} months: {summary.rows['usage/events']:,} "
                      f"events in {time.perf_counter() - t:.0f}s")
                (work / "company.json").write_text(json.dumps(
                    {"customers": cfg.customers, "months": cfg.months, "seed": cfg.seed, "start": cfg.start.isoformat()}))
            _move_tree(landing, next_day, f"*{last}*")
            # the files it reads start in the same stated page cache as the baseline's
            _settle_cache(a.cache, *_files(landing))
            memory = TreeMemory()
            cold_s, cold_gb, cold_out = run([*me, "--phase", "refresh", "--args", str(landing), str(wh), day_before],
                                            memory)
            shutil.copyfile(wh / "dbt_target" / "run_results.json", work / "run_results_cold.json")
            cold = refresh_outcome(cold_out, memory)
            (work / "cold.json").write_text(json.dumps({"outcome": cold, "seconds": cold_s, "peak_gb": cold_gb}))
            if a.keep or a.recold or a.warm_runs > 1:
                subprocess.run(["cp", "-a", str(wh), str(cold_copy)], check=True)
        warm_runs: list[tuple[float, float, dict, Path]] = []
        for i in range(a.warm_runs):
            if i:
                _move_tree(landing, next_day, f"*{last}*")
                _restore_cold(cold_copy, wh, landing, last)
            _move_tree(next_day, landing, "*")
            _settle_cache(a.cache, wh / "warehouse.duckdb")
            memory = TreeMemory()
            s, gb, out = run([*me, "--phase", "refresh", "--args", str(landing), str(wh), last], memory)
            results = work / f"run_results_warm_{i + 1}.json"
            shutil.copyfile(wh / "dbt_target" / "run_results.json", results)
            delivered = _loaded_files(wh, last)
            if not delivered:
                raise SystemExit(f"the warm refresh loaded no file of {last}: it measured nothing new")
            warm_runs.append((s, gb, refresh_outcome(out, memory), results))
            if a.warm_runs > 1:
                print(f"warm refresh {i + 1} of {a.warm_runs}: {s:.1f}s", flush=True)
        # the median run (the slower middle one for an even count) stands for the warm refresh
        warm_s, warm_gb, warm, median_results = sorted(warm_runs, key=lambda r: r[0])[len(warm_runs) // 2]
        fastest = min(r[0] for r in warm_runs)
        shutil.copyfile(median_results, work / "run_results_warm.json")
        _settle_cache(a.cache, *_files(landing))
        base_s, base_gb, base_out = run([*me, "--phase", "baseline", "--args", str(landing), last,
                                         str(work / "baseline.duckdb")])
        base = json.loads(base_out.strip().splitlines()[-1])
        # last: it rebuilds models of the warm warehouse (the measurements above are done)
        alone = {mart: lineage_alone_seconds(landing, wh, last, mart) for mart in HEADLINE}
        assert cold["success"] and warm["success"], (cold, warm)
        if a.rewarm:
            print("cold: as measured when the folder was kept (not re-run); its ratios use this run's baseline")
        print(f"warm refresh: {delivered} files of {last}; the refreshes and the baseline started with a {a.cache} page cache")
        print(f"\n{'stage':<14}{'cold s':>9}{'warm s':>9}{'cold peak':>11}{'warm peak':>11}")
        for key, label in STAGES.items():
            print(f"{label:<14}{cold['steps'].get(key, 0):>9.1f}{warm['steps'].get(key, 0):>9.1f}"
                  f"{_gb(cold, key):>11}{_gb(warm, key):>11}")
        print(f"{'total (wall)':<14}{cold_s:>9.1f}{warm_s:>9.1f}"
              f"{_gb(cold, None):>11}{_gb(warm, None):>11}")
        print(f"{'peak memory':<14}{cold_gb:>8.2f}G{warm_gb:>8.2f}G  (largest single process, ru_maxrss)")
        if len(warm_runs) > 1:
            print(f"warm refresh, {len(warm_runs)} runs in order: " + ", ".join(f"{r[0]:.1f}" for r in warm_runs)
                  + f" s; fastest {fastest:.1f} s, median {warm_s:.1f} s (the warm column above)")
        print("peak columns: this process and dbt together, sampled every 50 ms while each step ran")
        print(f"\nbaseline (hand-written DuckDB SQL from the files): {base_s:.1f}s, peak {base_gb:.2f}G")
        dbt_cold = cold["steps"]["warehouse_models"]
        print(f"ratio dbt build (cold, every model and data test) / baseline: {dbt_cold / base_s:.2f}")
        print(f"ratio whole refresh (cold) / baseline: {cold_s / base_s:.2f}")
        print(f"ratio whole refresh (warm) / baseline: {warm_s / base_s:.2f}"
              + (f" (median run; fastest {fastest / base_s:.2f})" if len(warm_runs) > 1 else ""))
        print(f"\n{'headline mart':<26}{'baseline s':>11}{'alone s':>9}{'ratio':>7}{'dbt cold s':>11}{'ratio':>7}"
              f"{'dbt warm s':>11}{'ratio':>7}")
        for mart, sections in HEADLINE.items():
            b = sum(base[s] for s in sections)
            c = lineage_seconds(work / "run_results_cold.json", mart)
            w = lineage_seconds(work / "run_results_warm.json", mart)
            print(f"{mart:<26}{b:>11.2f}{alone[mart]:>9.2f}{alone[mart] / b:>7.2f}{c:>11.2f}{c / b:>7.2f}"
                  f"{w:>11.2f}{w / b:>7.2f}")
        print("alone: the mart's lineage rebuilt by itself from raw after the warm run (dbt run --select +mart "
              "--full-refresh); cold / warm: its nodes' times inside the refreshes")
        for mart, left_out in uncovered_columns(wh / "marts.duckdb", work / "baseline.duckdb").items():
            print(f"the baseline leaves out {mart}.{', '.join(left_out)}: its ratio covers the other columns")
        for phase in ("cold", "warm"):
            print(f"\nslowest dbt nodes ({phase}):")
            for node, seconds in slowest_nodes(work / f"run_results_{phase}.json"):
                print(f"  {seconds:7.2f}s  {node}")
    finally:
        if a.keep or kept_dir:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
