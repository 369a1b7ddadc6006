"""Loader speed against DuckDB's own limit (issue 3): not a test, a measurement.

    python benchmarks/load_events.py --customers 20000 [--landing DIR] [--repeat 1]

Generates a company (unless --landing is given), then loads only its usage events
(a) with the landing loader (hash, validate, one transaction and ledger row per file)
and (b) with one bare `CREATE TABLE AS SELECT * FROM read_parquet(...)`, each into a
fresh DuckDB file, and prints both times and their ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from laer.generate import CompanyConfig, generate
from laer.ingest.loader import load_landing


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--landing", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="laer-bench-"))
    try:
        landing = args.landing
        if landing is None:
            landing = work / "landing"
            t = timed(lambda: generate(CompanyConfig(args.customers, args.months, 1, dt.date(2023, 1, 1)), landing))
            print(f"generated {args.customers:,} customers in {t:.1f}s")
        files = sorted((landing / "usage" / "events").glob("*.parquet"))
        results = {"loader": [], "bare read_parquet": []}
        for i in range(args.repeat):
            db = work / f"loader{i}.duckdb"

            def run_loader(db: Path = db) -> None:
                with duckdb.connect(str(db)) as con:
                    load_landing(con, landing, entities={"usage__events"})

            results["loader"].append(timed(run_loader))
            db2 = work / f"bare{i}.duckdb"

            def run_bare(db2: Path = db2) -> None:
                with duckdb.connect(str(db2)) as con:
                    con.execute(f"create table events as select * from read_parquet({[str(f) for f in files]!r})")

            results["bare read_parquet"].append(timed(run_bare))
        with duckdb.connect(str(work / "loader0.duckdb"), read_only=True) as con:
            rows = con.execute("select count(*) from raw.usage__events").fetchone()[0]  # type: ignore[index]
        best = {k: min(v) for k, v in results.items()}
        print(f"{len(files):,} files, {rows:,} events")
        for k, v in best.items():
            print(f"  {k:<18} {v:7.2f}s  ({rows / v:,.0f} rows/s)")
        print(f"  ratio loader / bare: {best['loader'] / best['bare read_parquet']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
