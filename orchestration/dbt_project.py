"""The dbt project as Dagster sees it; the manifest is parsed when missing or stale."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from laer.paths import PROJECT_DIR
from laer.project import (
    _OWN_DBT,
    TARGET_DIR,
)

# dbt's file log (dbt.log in the invocation's target folder) at info level, as text: what
# ran, how it ended, warnings and errors. dbt's default is every event at debug level, and
# under Dagster as JSON (Dagster sets DBT_LOG_FORMAT=json for the stdout it parses; the file
# follows it): each SQL statement of ≈ 200 nodes a run, turned into JSON and written under a
# lock both dbt threads wait for. Logging took ≈ 40 % of the dbt threads' Python samples in
# a one-day run at 20,000 accounts (py-spy), much of it this file's. The environment wins:
# DBT_LOG_LEVEL_FILE=debug (and DBT_LOG_FORMAT_FILE=json) bring it back.
DBT_FILE_LOG = {"DBT_LOG_LEVEL_FILE": "info", "DBT_LOG_FORMAT_FILE": "debug", "DBT_USE_COLORS_FILE": "false"}
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


dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=TARGET_DIR)
