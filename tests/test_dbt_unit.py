"""dbt's own unit tests (models/**/_*__unit_tests.yml) against the built warehouse."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from orchestration.dbt_project import PROJECT_DIR, dbt_executable


def test_dbt_unit_tests_pass(shared_warehouse: Path, tmp_path: Path) -> None:
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "LAER_DUCKDB_PATH": str(shared_warehouse / "warehouse.duckdb")}
    proc = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit", "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "ERROR=0" in proc.stdout and "FAIL" not in proc.stdout.split("Done.")[-1]
    passed = int(proc.stdout.split("PASS=")[1].split()[0])
    assert passed >= 17


def test_the_month_end_health_data_test_fails_when_a_score_differs_from_the_daily_mart(
        shared_warehouse: Path, tmp_path: Path) -> None:
    """kpi_monthly's at-risk MRR reads the month-grain scores; the data test holding them to
    fct_account_health_daily's must fail on one differing score (and pass untouched)."""
    import shutil

    import duckdb

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(shared_warehouse / "warehouse.duckdb", copy)
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), "LAER_DUCKDB_PATH": str(copy)}
    test = ["test", "--select", "int_account_health_month_end,test_name:scores_match_daily_health",
            "--exclude-resource-type", "unit_test", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    untouched = subprocess.run([dbt_executable(), *test], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert untouched.returncode == 0 and "1 of 1 PASS scores_match_daily_health" in untouched.stdout, untouched.stdout[-3000:]
    with duckdb.connect(str(copy)) as con:
        account, month = con.execute("""
            select account_id, month from intermediate.int_account_health_month_end
            order by account_id, month limit 1""").fetchone()  # type: ignore[misc]
        con.execute("""
            update intermediate.int_account_health_month_end set health_score = health_score + 0.01
            where account_id = ? and month = ?""", [account, month])
    tampered = subprocess.run([dbt_executable(), *test], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert tampered.returncode != 0
    assert "Got 1 result, configured to fail if != 0" in tampered.stdout, tampered.stdout[-3000:]
