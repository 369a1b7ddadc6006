"""The semantic layer on the published marts: dbt's MetricFlow (`mf`) answering from
``<warehouse>/marts.duckdb``, opened read-only, as BI reads it.

MetricFlow reads ``<project>/target/semantic_manifest.json`` and connects with the dbt
profile. The project's own ``target/`` describes the working warehouse, so ``laer metrics``
gives each warehouse a view of the project of its own — ``<warehouse>/semantic_layer``,
symlinks to the project's files and a ``target/`` parsed with the profile target
``published`` (profiles.yml), whose relations are the published marts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from laer.paths import PROJECT_DIR, Warehouse
from laer.project import is_current, parse_project

PROJECT_ENTRIES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests")
PUBLISHED_TARGET = "published"


def semantic_project(wh: Warehouse) -> Path:
    """``<warehouse>/semantic_layer``: the project, with a semantic manifest of the published
    marts (parsed again when a project file is newer)."""
    root = wh.root / "semantic_layer"
    root.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_ENTRIES:
        link = root / name
        if not link.is_symlink():
            link.symlink_to(PROJECT_DIR / name)
    if not is_current(root / "target" / "semantic_manifest.json"):
        parse_project(root / "target", _environment(wh), target=PUBLISHED_TARGET)
    return root


def _environment(wh: Warehouse) -> dict[str, str]:
    return {"LAER_WAREHOUSE_DIR": str(wh.root), "LAER_DBT_TARGET": PUBLISHED_TARGET,
            "DBT_PROFILES_DIR": str(PROJECT_DIR)}


def run_metricflow(wh: Warehouse, arguments: Sequence[str]) -> int:
    """``mf <arguments>`` (e.g. ``query --metrics mrr --group-by metric_time__month``) on the
    published marts of ``wh``; MetricFlow's exit code."""
    if not wh.marts_db.exists():
        raise FileNotFoundError(f"no published marts in {wh.root} (run laer refresh first)")
    root = semantic_project(wh)
    mf = Path(sys.executable).with_name("mf")
    env = {**os.environ, **_environment(wh), "DBT_PROJECT_DIR": str(root)}
    return subprocess.run([str(mf) if mf.exists() else "mf", *arguments], cwd=root, env=env).returncode
