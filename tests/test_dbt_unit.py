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
