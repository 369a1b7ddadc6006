"""The dbt project as Dagster sees it; the manifest is parsed when missing or stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from laer.paths import PROJECT_DIR

TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's venv), else the one on PATH."""
    here = Path(sys.executable).with_name("dbt")
    return str(here) if here.exists() else "dbt"


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        p = PROJECT_DIR / name
        paths = [p] if p.is_file() else p.rglob("*") if p.exists() else []
        for f in paths:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    env.setdefault("LAER_DUCKDB_PATH", str(TARGET_DIR / "parse.duckdb"))
    subprocess.run([dbt_executable(), "parse", "--quiet", "--target-path", str(TARGET_DIR)],
                   cwd=PROJECT_DIR, env=env, check=True)
    return MANIFEST


dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=TARGET_DIR)
