"""The shipped Dagster instance file, loaded as Dagster loads it, and the real UI and daemon
started on it (what `bin/dagster-dev` does)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from dagster import DagsterInstance

from tests.conftest import ROOT, SMALL, copy_small

SHIPPED = ROOT / "orchestration" / "dagster.yaml"
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(SHIPPED, home / "dagster.yaml")
    return home


def test_the_shipped_instance_file_queues_warehouse_writers_one_at_a_time(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home(tmp_path)))
    with DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert config.run_queue_config.max_concurrent_runs == 4
        assert config.run_queue_config.tag_concurrency_limits == [
            {"key": "laer/warehouse", "value": "writer", "limit": 1}]
        assert config.pool_config.default_pool_limit == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql",
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


@contextlib.contextmanager
def running_dagster(tmp_path: Path, landing: Path, warehouse: Path) -> Iterator[int]:
    """`dagster dev` (webserver and daemon) on the shipped instance file, started from a
    scratch directory as a user would; its port. Stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home(tmp_path)), "LAER_LANDING_DIR": str(landing),
           "LAER_WAREHOUSE_DIR": str(warehouse)}
    log_path = tmp_path / "dagster.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([DAGSTER, "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                        break
                except OSError:
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(1)
            yield port
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


REPOSITORY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  jobs { name } schedules { name cronSchedule } sensors { name }
} } } }"""
CHECKS = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
DAEMONS = """{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"""


def _assert_lists_the_project(port: int) -> None:
    from orchestration.definitions import defs

    (repo,) = graphql(port, REPOSITORY)["repositoriesOrError"]["nodes"]
    assert "refresh" in {j["name"] for j in repo["jobs"]}
    assert {s["name"] for s in repo["schedules"]} == {s.name for s in defs.schedules}
    assert {s["name"] for s in repo["sensors"]} == {s.name for s in defs.sensors}
    nodes = graphql(port, CHECKS)["assetNodes"]
    listed = {("/".join(n["assetKey"]["path"]), c["name"]) for n in nodes for c in n["assetChecksOrError"]["checks"]}
    expected = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    assert listed == expected and len(expected) > 100
    # the daemon runs the schedule, the sensors and the run queue
    deadline = time.monotonic() + 60
    while True:
        statuses = {d["daemonType"]: d["healthy"]
                    for d in graphql(port, DAEMONS)["instance"]["daemonHealth"]["allDaemonStatuses"]}
        if all(statuses.get(d) for d in ("SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR")) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert statuses["SCHEDULER"] and statuses["SENSOR"] and statuses["QUEUED_RUN_COORDINATOR"], statuses


BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL_STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
  status runs(limit: 10) { status startTime endTime tags { key value } } } } }"""


def test_the_ui_and_daemon_list_the_project_and_run_a_backfill_one_day_per_run(small_built: Path, tmp_path: Path) -> None:
    landing, warehouse = copy_small(small_built, tmp_path / "company")
    last = SMALL.end_date
    days = [(last - dt.timedelta(days=1)).isoformat(), last.isoformat()]
    with running_dagster(tmp_path, landing, warehouse) as port:
        _assert_lists_the_project(port)
        # a backfill as the UI launches it (the job's partitions, "Launch backfill")
        launched = graphql(port, BACKFILL, {"params": {
            "selector": {"partitionSetName": "refresh_partition_set",
                         "repositorySelector": {"repositoryName": "__repository__",
                                                "repositoryLocationName": "orchestration.definitions"}},
            "partitionNames": days}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        deadline = time.monotonic() + 600
        while True:
            backfill = graphql(port, BACKFILL_STATUS, {"id": launched["backfillId"]})["partitionBackfillOrError"]
            if backfill["status"] not in ("REQUESTED", "IN_PROGRESS") or time.monotonic() > deadline:
                break
            time.sleep(3)
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    runs = sorted(backfill["runs"], key=lambda r: r["startTime"])
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"]
    assert sorted(next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in runs) == days
    assert runs[0]["endTime"] <= runs[1]["startTime"]  # the run queue let one warehouse writer run at a time
    # the marts BI reads are those of the last day, whichever day ran last
    assert json.loads((warehouse / "current" / "publish.json").read_text())["as_of"] == last.isoformat()
