"""The dbt project this package ships with: its dbt, its parsed manifest, and what the
manifest says about the marts (which are published, which are account-day marts).

What is published is dbt's decision, not a list kept here: every model with
``meta: {published: true}`` (``dbt_project.yml`` gives it to ``models/marts/``), so a mart
switched off with ``+enabled: false`` is neither built, checked nor published.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from laer.paths import PROJECT_DIR, Warehouse

TARGET_DIR = PROJECT_DIR / "target"
MANIFEST = TARGET_DIR / "manifest.json"
_WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# the dbt installed with this interpreter (the project's venv), as `laer-dbt`: dbt's own
# command line that also ends when the process that started it ends (laer/lifeline.py), so
# a refresh killed during `dbt build` leaves no dbt behind
_OWN_DBT = Path(sys.executable).with_name("laer-dbt")


def dbt_executable() -> str:
    """This project's dbt next to this interpreter (the project's venv), else dbt on PATH."""
    return str(_OWN_DBT) if _OWN_DBT.exists() else "dbt"


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _WATCHED:
        p = PROJECT_DIR / name
        paths = [p] if p.is_file() else p.rglob("*") if p.exists() else []
        for f in paths:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def is_current(artifact: Path) -> bool:
    """Whether ``artifact`` (a manifest) exists and is newer than every project file."""
    return artifact.exists() and artifact.stat().st_mtime >= _newest_source_mtime()


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


@lru_cache(maxsize=1)
def ensure_manifest() -> Path:
    """Run ``dbt parse`` when the manifest is missing or older than the project files. Checked
    once per process: a process loads the project's definitions once (a Dagster code location
    is reloaded, in a new process, when the code changes)."""
    if is_current(MANIFEST):
        return MANIFEST
    parse_project(TARGET_DIR, {"LAER_DUCKDB_PATH": os.environ.get("LAER_DUCKDB_PATH", str(TARGET_DIR / "parse.duckdb"))})
    return MANIFEST


@dataclass(frozen=True)
class Mart:
    """A published mart, as its dbt model declares it."""

    name: str
    # account-day marts: the day column whose rows the incremental build replaces per account
    day_column: str | None
    # columns that say when files were loaded: equal data loaded at another time differs there
    load_time_columns: tuple[str, ...]
    # the model's and its columns' descriptions (the yml next to it): what BI tools show
    description: str = ""
    column_descriptions: tuple[tuple[str, str], ...] = ()


def published_marts(manifest: Path | None = None) -> dict[str, Mart]:
    """The published marts by name (in name order), from the project's manifest (parsed
    first when missing or stale)."""
    path = manifest or ensure_manifest()
    return _marts(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _marts(path: Path, _mtime_ns: int) -> dict[str, Mart]:
    nodes = json.loads(path.read_text())["nodes"].values()
    marts = {}
    for node in sorted(nodes, key=lambda n: n["name"]):
        meta = node.get("config", {}).get("meta", {})
        if node["resource_type"] == "model" and meta.get("published"):
            columns = node.get("columns", {})
            marts[node["name"]] = Mart(
                node["name"], meta.get("account_day_column"),
                tuple(c for c, col in columns.items() if col.get("meta", {}).get("load_time")),
                " ".join(node.get("description", "").split()),
                tuple((c, " ".join(col.get("description", "").split())) for c, col in columns.items()
                      if col.get("description")))
    return marts


def _project_digest(manifest: Path) -> str:
    """The parsed project: the manifest is written again only when a file of the project
    changed (``ensure_manifest``)."""
    return hashlib.sha256(manifest.read_bytes()).hexdigest()


def write_dbt_docs(wh: Warehouse, environment: Mapping[str, str], target: str | None = None) -> Path:
    """dbt's static docs site (``dbt docs generate --static``: one HTML file with the
    manifest and the warehouse's catalog) at ``<warehouse>/dbt_docs/index.html``. Written
    again only when the project changed since the last one (a daily refresh pays nothing);
    replaced atomically, so a reader never sees half a file."""
    site = wh.dbt_docs / "index.html"
    stamp = wh.dbt_docs / ".project-digest"
    digest = _project_digest(ensure_manifest())
    if site.exists() and stamp.exists() and stamp.read_text() == digest:
        return site
    # into the warehouse's dbt target folder, beside the manifest of the build before it;
    # --no-compile: the docs need the models' code and the catalog, not a compilation (which
    # would run the incremental engine's introspective queries)
    built = wh.dbt_target
    run_dbt(["docs", "generate", "--static", "--no-compile"], built, environment, target)
    wh.dbt_docs.mkdir(parents=True, exist_ok=True)
    incoming = site.with_name(".index.html.incoming")
    shutil.copyfile(built / "static_index.html", incoming)
    os.replace(incoming, site)
    stamp.write_text(digest)
    return site
