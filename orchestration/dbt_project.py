"""The dbt project as Dagster sees it; the manifest is parsed when missing or stale."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from laer.paths import PROJECT_DIR

TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# dbt's file log (dbt.log in the invocation's target folder) at info level, as text: what
# ran, how it ended, warnings and errors. dbt's default is every event at debug level, and
# under Dagster as JSON (Dagster sets DBT_LOG_FORMAT=json for the stdout it parses; the file
# follows it): each SQL statement of ≈ 200 nodes a run, turned into JSON and written under a
# lock both dbt threads wait for. Logging took ≈ 40 % of the dbt threads' Python samples in
# a one-day run at 20,000 accounts (py-spy), much of it this file's. The environment wins:
# DBT_LOG_LEVEL_FILE=debug (and DBT_LOG_FORMAT_FILE=json) bring it back.
DBT_FILE_LOG = {"DBT_LOG_LEVEL_FILE": "info", "DBT_LOG_FORMAT_FILE": "debug", "DBT_USE_COLORS_FILE": "false"}
# the dbt installed with this interpreter (the project's venv), as `laer-dbt`: dbt's own
# command line that also ends when the process that started it ends (laer/lifeline.py), so
# a refresh killed during `dbt build` leaves no dbt behind
_OWN_DBT = Path(sys.executable).with_name("laer-dbt")


def dbt_executable() -> str:
    """This project's dbt next to this interpreter (the project's venv), else dbt on PATH."""
    return str(_OWN_DBT) if _OWN_DBT.exists() else "dbt"


class LaerDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two start-up costs that every ``dbt build`` paid
    before dbt itself started (≈ 3–4 s of a daily refresh, whatever the data size):

    - ``dbt --version`` in a subprocess, to tell dbt Core from dbt Fusion: when the
      executable is the project's own (the ``dbt`` next to this interpreter), the version is
      that of the installed ``dbt-core`` package; any other executable is still asked;
    - an in-process dbt adapter, which dagster-dbt only uses for the opt-in
      ``fetch_row_counts()`` / ``fetch_column_metadata()`` this project does not call.

    Both are private members of dagster-dbt, pinned to 0.29.27 in ``requirements.lock``;
    ``tests/test_dagster_definitions.py`` fails if an upgrade changes them.

    Every invocation also logs to its ``dbt.log`` at info level, as text (``DBT_FILE_LOG``),
    unless the environment says otherwise.
    """

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        for name, value in DBT_FILE_LOG.items():
            os.environ.setdefault(name, value)  # dagster-dbt passes the process environment to dbt
        return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable) == _OWN_DBT:
            return Version(installed_version("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        p = PROJECT_DIR / name
        paths = [p] if p.is_file() else p.rglob("*") if p.exists() else []
        for f in paths:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def run_dbt(command: Sequence[str], target_path: Path, environment: Mapping[str, str], target: str | None = None) -> None:
    """``dbt <command> --quiet`` on this project, writing into ``target_path``, with
    ``environment`` over the current one and, when given, the profile ``target``; raises
    when dbt fails."""
    env = {**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR), **environment}
    args = ["--target", target] if target else []
    subprocess.run([dbt_executable(), *command, "--quiet", *args, "--target-path", str(target_path)],
                   cwd=PROJECT_DIR, env=env, check=True)


def parse_project(target_path: Path, environment: Mapping[str, str], target: str | None = None) -> None:
    """``dbt parse`` of this project into ``target_path`` (manifest and partial parse)."""
    run_dbt(["parse"], target_path, environment, target)


def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files."""
    if MANIFEST.exists() and MANIFEST.stat().st_mtime >= _newest_source_mtime():
        return MANIFEST
    parse_project(TARGET_DIR, {"LAER_DUCKDB_PATH": os.environ.get("LAER_DUCKDB_PATH", str(TARGET_DIR / "parse.duckdb"))})
    return MANIFEST


dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=TARGET_DIR)
