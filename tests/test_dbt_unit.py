"""dbt's own unit tests (models/**/_*__unit_tests.yml) against the built warehouse."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from laer.project import PROJECT_DIR, dbt_executable


def dbt_test(db: Path, select: str, tmp_path: Path, *, data_tests_only: bool = True) -> subprocess.CompletedProcess[str]:
    """``dbt test --select <select>`` against the DuckDB file ``db``, artifacts under ``tmp_path``."""
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "LAER_DUCKDB_PATH": str(db)}
    only = ["--exclude-resource-type", "unit_test"] if data_tests_only else []
    return subprocess.run(
        [dbt_executable(), "test", "--select", select, *only,
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True)


def warehouse_copy(shared_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the shared warehouse's DuckDB file that a test may tamper with."""
    import shutil

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(shared_warehouse / "warehouse.duckdb", copy)
    return copy


def test_dbt_unit_tests_pass(shared_warehouse: Path, tmp_path: Path) -> None:
    proc = dbt_test(shared_warehouse / "warehouse.duckdb", "test_type:unit", tmp_path, data_tests_only=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "ERROR=0" in proc.stdout and "FAIL" not in proc.stdout.split("Done.")[-1]
    passed = int(proc.stdout.split("PASS=")[1].split()[0])
    assert passed >= 17


def test_the_month_end_health_data_test_fails_when_a_score_differs_from_the_daily_mart(
        shared_warehouse: Path, tmp_path: Path) -> None:
    """kpi_monthly's at-risk MRR reads the month-grain scores; the data test holding them to
    fct_account_health_daily's must fail on one differing score (and pass untouched)."""
    import duckdb

    copy = warehouse_copy(shared_warehouse, tmp_path)
    select = "int_account_health_month_end,test_name:scores_match_daily_health"
    untouched = dbt_test(copy, select, tmp_path)
    assert untouched.returncode == 0 and "1 of 1 PASS scores_match_daily_health" in untouched.stdout, untouched.stdout[-3000:]
    with duckdb.connect(str(copy)) as con:
        account, month = con.execute("""
            select account_id, month from intermediate.int_account_health_month_end
            order by account_id, month limit 1""").fetchone()  # type: ignore[misc]
        con.execute("""
            update intermediate.int_account_health_month_end set health_score = health_score + 0.01
            where account_id = ? and month = ?""", [account, month])
    tampered = dbt_test(copy, select, tmp_path)
    assert tampered.returncode != 0
    assert "Got 1 result, configured to fail if != 0" in tampered.stdout, tampered.stdout[-3000:]


def test_data_tests_guaranteed_by_sql_pass_here_and_fail_when_the_sql_stops_guaranteeing_them(
        shared_warehouse: Path, tmp_path: Path) -> None:
    """Refreshes skip the data tests tagged guaranteed_by_sql (unique keys that
    dedupe_versions guarantees: no data can fail them); CI runs them here, on the shared
    company, whose raw CRM accounts hold several CDC versions of an account — and a staging
    model that stopped deduplicating fails its test."""
    import duckdb

    copy = warehouse_copy(shared_warehouse, tmp_path)
    every = dbt_test(copy, "tag:guaranteed_by_sql", tmp_path)
    assert every.returncode == 0 and re.search(r"\b17 of 17 PASS ", every.stdout), every.stdout[-3000:]
    with duckdb.connect(str(copy)) as con:
        # CRM account ids delivered more than once: the rows the broken view below repeats
        duplicated = int(con.execute("select count(*) from (select account_id from raw.crm__accounts "
                                     "group by account_id having count(*) > 1)").fetchone()[0])  # type: ignore[index]
        assert duplicated > 0  # the company has re-delivered accounts, so the dedupe matters
        con.execute("create or replace view staging.stg_crm__accounts as select account_id from raw.crm__accounts")
    broken = dbt_test(copy, "tag:guaranteed_by_sql,stg_crm__accounts", tmp_path)
    failed = re.search(r"FAIL (\d+) unique_stg_crm__accounts_account_id", broken.stdout)
    assert broken.returncode != 0 and failed is not None, broken.stdout[-3000:]
    assert int(failed.group(1)) == duplicated


def test_mart_constraints_stop_bad_rows_in_duckdb_and_constraints_hold_finds_them_elsewhere(
        shared_warehouse: Path, tmp_path: Path) -> None:
    """The table marts' column rules are contract constraints. DuckDB refuses a row that
    breaks one (so a refresh there skips constraints_hold); on a table that does not
    enforce them — as on Spark — constraints_hold reports each broken rule."""
    import duckdb
    import pytest

    copy = warehouse_copy(shared_warehouse, tmp_path)
    every = dbt_test(copy, "test_name:constraints_hold", tmp_path)
    # one constraints_hold per table mart with column rules, every one passing
    assert every.returncode == 0 and re.search(r"\b17 of 17 PASS ", every.stdout), every.stdout[-3000:]
    with duckdb.connect(str(copy)) as con:
        one = "select * replace ({}) from marts.fct_mrr_monthly limit 1"
        with pytest.raises(duckdb.ConstraintException, match=r"NOT NULL constraint failed: fct_mrr_monthly\.account_id"):
            con.execute("insert into marts.fct_mrr_monthly " + one.format("null as account_id"))
        with pytest.raises(duckdb.ConstraintException, match=r"CHECK constraint failed.*mrr >= 0"):
            con.execute("insert into marts.fct_mrr_monthly " + one.format("-5.00 as mrr"))
        with pytest.raises(duckdb.ConstraintException, match=r"CHECK constraint failed.*movement IN"):
            con.execute("insert into marts.fct_mrr_monthly " + one.format("'bogus' as movement"))
        # the same rows in a table without the constraints
        con.execute(f"""create table marts.unenforced as
            select * from marts.fct_mrr_monthly
            union all ({one.format("-5.00 as mrr")})
            union all ({one.format("'bogus' as movement")})
            union all ({one.format("'bogus' as movement")})""")
        con.execute("drop table marts.fct_mrr_monthly")
        con.execute("alter table marts.unenforced rename to fct_mrr_monthly")
    broken = dbt_test(copy, "fct_mrr_monthly,test_name:constraints_hold", tmp_path)
    assert broken.returncode != 0 and "FAIL 2 constraints_hold_fct_mrr_monthly_" in broken.stdout, broken.stdout[-3000:]
    with duckdb.connect(str(copy)) as con:
        compiled = next((tmp_path / "target" / "compiled").rglob("constraints_hold_fct_mrr_monthly_*.sql")).read_text()
        assert sorted(con.execute(compiled).fetchall()) == [
            ("movement check movement in ('new', 'expansion', 'contraction', 'churn', 'reactivation', 'flat')", 2),
            ("mrr check mrr >= 0", 1)]
