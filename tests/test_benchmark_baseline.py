"""The benchmark's baseline computes what the pipeline publishes.

``benchmarks/pipeline.py`` divides the pipeline's time for each headline mart by the time
``benchmarks/baseline.sql`` takes for the same mart: a hand-written DuckDB script over the
landing files, the engine's own limit. The ratio compares like with like only while the
script and the dbt models compute the same rows and values, so this runs the script on
the shared company and compares every row and column with the shared refresh.

A column the script leaves out (a KPI added since) is not compared, and the benchmark
names it; a column it computes must equal the pipeline's.

The script computes in doubles where the models keep exact decimals, so a value rounded
to cents may differ by one cent (marketing spend ÷ new customers, summed in another
order); a column of scale ``s`` may differ by one unit in its last place, nothing more.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from benchmarks.pipeline import run_baseline
from tests.conftest import SHARED

# baseline table -> (pipeline file in the warehouse folder, relation, key columns)
HEADLINE = {
    "fct_mrr_monthly": ("marts.duckdb", "main.fct_mrr_monthly", ("account_id", "month")),
    "kpi_monthly": ("marts.duckdb", "main.kpi_monthly", ("month",)),
    "usage_account_daily": ("warehouse.duckdb", "intermediate.int_usage__account_daily", ("account_id", "activity_date")),
}
# columns of the pipeline's daily usage that record lineage, not a metric
LINEAGE = {"max_batch_id", "_dbt_loaded_at"}


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, relation: str) -> dict[str, str]:
    schema, table = relation.split(".")
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position", [catalog, schema, table]).fetchall())


def _tolerance(data_type: str) -> float:
    """One unit in the last place of a decimal column; exact for everything else."""
    scale = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", data_type)
    return 10.0 ** -int(scale.group(1)) + 1e-9 if scale else 0.0


def differences(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Rows of the baseline's ``table`` that differ from the pipeline's relation (attached
    as ``pipeline``), one line per key and column, plus keys that only one side has."""
    _, relation, key = HEADLINE[table]
    ours = _columns(con, "pipeline", relation)
    theirs = _columns(con, "baseline", f"main.{table}")
    found = []
    # the script may leave a newer column out (adding a KPI touches the model and its yml
    # only; the benchmark then says which columns its ratios do not cover), but every column
    # it computes is the pipeline's, in the pipeline's order
    metrics = [c for c in ours if c not in LINEAGE]
    if list(theirs) != [c for c in metrics if c in theirs]:
        found.append(f"{table}: columns {list(theirs)} in the baseline, {metrics} in the pipeline")
    on = " and ".join(f"b.{k} = p.{k}" for k in key)
    keys = ", ".join(f"coalesce(b.{k}, p.{k})" for k in key)
    one_sided = con.execute(
        f"select {keys} from baseline.main.{table} as b full join pipeline.{relation} as p on {on} "
        f"where b.{key[0]} is null or p.{key[0]} is null order by all limit 5").fetchall()
    found += [f"{table}: key {row} on one side only" for row in one_sided]
    for column, data_type in ours.items():
        if column in key or column not in theirs:
            continue  # a missing column is reported above
        tolerance = _tolerance(data_type)
        within = (f" and not (b.{column} is not null and p.{column} is not null "
                  f"and abs(cast(b.{column} as double) - cast(p.{column} as double)) <= {tolerance})"
                  if tolerance else "")
        rows = con.execute(
            f"select {keys}, b.{column}, p.{column} from baseline.main.{table} as b "
            f"inner join pipeline.{relation} as p on {on} "
            f"where b.{column} is distinct from p.{column}{within} order by all limit 5").fetchall()
        found += [f"{table}.{column} at {row[:-2]}: baseline {row[-2]!r}, pipeline {row[-1]!r}" for row in rows]
    return found


@pytest.fixture(scope="module")
def baseline(shared_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    db = tmp_path_factory.mktemp("baseline") / "baseline.duckdb"
    return db, run_baseline(str(shared_landing), SHARED.end_date.isoformat(), str(db))


def _attach(db: Path, warehouse: Path, table: str) -> duckdb.DuckDBPyConnection:
    """A connection with the baseline's file as ``baseline`` and the pipeline's as ``pipeline``."""
    con = duckdb.connect()
    con.execute(f"attach '{db}' as baseline (read_only)")
    con.execute(f"attach '{warehouse / HEADLINE[table][0]}' as pipeline (read_only)")
    return con


def _compare(db: Path, warehouse: Path, table: str) -> list[str]:
    with _attach(db, warehouse, table) as con:
        return differences(con, table)


@pytest.mark.slow
@pytest.mark.parametrize("table", list(HEADLINE))
def test_the_baseline_script_computes_the_pipelines_marts(baseline, shared_warehouse: Path, table: str) -> None:
    db, seconds = baseline
    # one timed section per headline mart (daily usage is timed as the dbt model it equals)
    assert set(seconds) == {"fct_mrr_monthly", "kpi_monthly", "int_usage__account_daily"}
    with _attach(db, shared_warehouse, table) as con:
        assert (con.execute(f"select count(*) from baseline.main.{table}").fetchall()
                == con.execute(f"select count(*) from pipeline.{HEADLINE[table][1]}").fetchall())
        assert differences(con, table) == []


@pytest.mark.slow
def test_the_comparison_reports_a_planted_difference(baseline, shared_warehouse: Path, tmp_path: Path) -> None:
    """The comparison above can fail: a cent and a half more MRR in one month, one month
    fewer, a movement relabelled and a column the pipeline does not have are each reported,
    and nothing else is (a column the script leaves out is not a difference)."""
    db, _ = baseline
    planted = tmp_path / "planted.duckdb"
    planted.write_bytes(db.read_bytes())
    with duckdb.connect(str(planted)) as con:
        con.execute("update kpi_monthly set mrr = mrr + 0.015 where month = date '2024-06-01'")
        con.execute("delete from kpi_monthly where month = date '2023-01-01'")
        account = con.execute("select account_id from fct_mrr_monthly where movement = 'new' "
                              "order by account_id limit 1").fetchone()[0]  # type: ignore[index]
        con.execute("update fct_mrr_monthly set movement = 'reactivation' where account_id = ? and movement = 'new'",
                    [account])
        con.execute("alter table usage_account_daily rename column core_features_used to core_features")
        con.execute("alter table kpi_monthly drop column refund_rate")  # left out: not a difference
    kpi = _compare(planted, shared_warehouse, "kpi_monthly")
    assert kpi[0] == "kpi_monthly: key (datetime.date(2023, 1, 1),) on one side only"
    assert len(kpi) == 2 and kpi[1].startswith("kpi_monthly.mrr at (datetime.date(2024, 6, 1),): baseline ")
    mrr = _compare(planted, shared_warehouse, "fct_mrr_monthly")
    assert len(mrr) == 1 and mrr[0].startswith(f"fct_mrr_monthly.movement at ('{account}', ")
    assert mrr[0].endswith("baseline 'reactivation', pipeline 'new'")
    usage = _compare(planted, shared_warehouse, "usage_account_daily")
    assert usage == ["usage_account_daily: columns ['account_id', 'activity_date', 'events', 'active_users', "
                     "'core_features'] in the baseline, ['account_id', 'activity_date', 'events', 'active_users', "
                     "'core_features_used'] in the pipeline"]
