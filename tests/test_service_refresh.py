"""`laer refresh` as cron, systemd or a container runs it: any working directory, no
orphaned children, and errors that retrying cannot fix said at once, the cause last."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, RetryPolicy, asset, materialize

from laer.paths import Warehouse
from orchestration.assets.failures import fail_at_once_when_retrying_cannot_help
from tests.conftest import SMALL, copy_small, processes_in_session

AS_OF = SMALL.end_date.isoformat()
LAER = str(Path(sys.executable).with_name("laer"))
ACTIVITY = "activity_id,account_id,type,occurred_at\n{id},acc_000001,call,2024-08-20T10:00:00Z\n"


@pytest.fixture()
def company(small_built: Path, tmp_path: Path) -> tuple[Path, Path]:
    return copy_small(small_built, tmp_path / "company")


def deliver_activity(landing: Path, name: str) -> None:
    (landing / "crm/activities" / f"{name}.csv").write_text(ACTIVITY.format(id=name))


def laer_env() -> dict[str, str]:
    """The environment of a user's shell: no LAER_* settings, so defaults would be used."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LAER_")}


def refresh_command(landing: Path, warehouse: Path) -> list[str]:
    return [LAER, "refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF]


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """An empty folder nobody can write: a read-only bind mount for root (who ignores
    permission bits), mode 0555 for anyone else."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    source = path.with_name(path.name + "-source")
    source.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(source), str(path)], check=True, capture_output=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        subprocess.run(["umount", str(path)], capture_output=True)
        pytest.fail(f"cannot make a read-only folder here (mount --bind, ro): {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_a_refresh_from_a_read_only_directory_publishes_creates_nothing_there_and_prints_landing_paths(
        company, tmp_path) -> None:
    landing, warehouse = company
    (landing / "crm/activities/zz_quote.csv").write_text(
        'activity_id,account_id,type,occurred_at\n"act_q,acc_000001,call,2024-08-20T10:00:00Z\n')
    (landing / "crm/activities/zz_drift.csv").write_text(
        "activity_id,account_id,type,occurred_at,channel\nact_d,acc_000001,call,2024-08-20T10:00:00Z,zoom\n")
    (landing / "crm/notes").mkdir()
    (landing / "crm/notes/n.csv").write_text("note_id\nn1\n")
    with read_only_folder(tmp_path / "cwd") as cwd:
        proc = subprocess.run(refresh_command(landing, warehouse), cwd=cwd, env=laer_env(),
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert list(cwd.iterdir()) == []
    out = proc.stdout
    assert last_line(out) == f"report written: {warehouse.resolve() / 'reports' / AS_OF / 'index.html'}"
    # quarantine reasons and warnings name files by their landing-relative path
    reason = ('malformed csv file: line 2: a quoted field is never closed (an unbalanced " quote) and runs to the '
              'end of the file')
    assert f"quarantined crm/activities/zz_quote.csv: {reason}" in out
    assert "warning crm/activities/zz_drift.csv: schema drift: extra column(s) channel kept in raw" in out
    assert "warning crm/notes/n.csv: not under a known <source>/<entity>/ folder; ignored" in out
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from main.kpi_monthly").fetchone() == (8,)
        rows = con.execute("select path, reason from main.dq_quarantined_files").fetchall()
    assert rows == [("crm/activities/zz_quote.csv", reason)]
    assert str(landing) not in out and not any(str(landing) in r for _, r in rows)


def test_a_read_only_warehouse_fails_at_once_with_the_cause_last(tmp_path, small_built) -> None:
    with read_only_folder(tmp_path / "ro") as ro:
        started = time.monotonic()
        proc = subprocess.run(refresh_command(small_built / "landing", ro / "wh"), env=laer_env(),
                              capture_output=True, text=True)
        elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert last_line(proc.stdout) == (
        f"refresh not started: cannot write the warehouse folder {ro / 'wh'}: Read-only file system — point "
        f"--warehouse at a writable folder or fix its permissions")
    assert "Traceback" not in proc.stdout + proc.stderr
    # before this check, three retries of the load, each reconnecting ten times, took minutes
    assert elapsed < 20


def test_a_warehouse_path_that_is_a_file_is_a_bad_argument(tmp_path, small_built) -> None:
    (tmp_path / "wh").write_text("not a folder")
    proc = subprocess.run(refresh_command(small_built / "landing", tmp_path / "wh"), env=laer_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout.strip() == f"--warehouse {tmp_path / 'wh'} is a file, not a folder"


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def test_a_second_refresh_beside_a_running_one_names_it_and_stops_at_once(company) -> None:
    landing, warehouse = company
    deliver_activity(landing, "act_busy")
    first = subprocess.Popen(refresh_command(landing, warehouse), env=laer_env(), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the first refresh holds the warehouse while dbt builds
        _wait_for(lambda: any("dbt build " in cmd for _, cmd in processes_in_session(first.pid)), 120,
                  "the first refresh's dbt build")
        second = subprocess.run(refresh_command(landing, warehouse), env=laer_env(), capture_output=True,
                                text=True, timeout=60)
        assert first.poll() is None, "the first refresh ended before the second one was refused"
    finally:
        assert first.wait(timeout=240) == 0
    assert second.returncode == 1
    # refused by the refresh lock before it opens warehouse.duckdb, which the first one uses
    assert last_line(second.stdout) == (f"refresh not started: another refresh is running on this warehouse "
                                        f"(pid {first.pid}); it will publish — wait for it or stop it")


HOLD_LOCK = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"


@pytest.fixture()
def foreign_writer(company) -> Iterator[subprocess.Popen]:
    """Another program holding the company's warehouse.duckdb open for writing."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(company[1] / "warehouse.duckdb")],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    yield holder
    holder.kill()
    holder.wait()


def test_a_program_holding_the_warehouse_is_named_and_nothing_is_published(company, foreign_writer) -> None:
    landing, warehouse = company
    before = (warehouse / "marts.duckdb").resolve()
    proc = subprocess.run(refresh_command(landing, warehouse), env=laer_env(), capture_output=True, text=True)
    assert proc.returncode == 1
    program = " ".join([sys.executable, "-c", HOLD_LOCK, str(warehouse / "warehouse.duckdb")])
    assert last_line(proc.stdout) == (
        f"refresh not started: {warehouse.resolve() / 'warehouse.duckdb'} is open for writing in pid "
        f"{foreign_writer.pid} ({program[:120]}); a refresh needs to be its only writer — close it there "
        f"(readers open it read-only) or wait, then refresh again")
    assert (warehouse / "marts.duckdb").resolve() == before


def test_a_lock_taken_after_the_preflight_fails_the_load_at_once_naming_the_holder(company, foreign_writer) -> None:
    # the Dagster run itself (as the UI or the daemon starts it, without laer's preflight)
    from orchestration.refresh import run_refresh
    from orchestration.settings import LaerSettings

    landing, warehouse = company
    outcome = run_refresh(LaerSettings(landing_dir=str(landing), warehouse_dir=str(warehouse), as_of=AS_OF))
    assert not outcome.success and not outcome.published
    assert outcome.step_failures == [
        f"landing_files: {warehouse.resolve() / 'warehouse.duckdb'} is open for writing in pid {foreign_writer.pid} "
        f"({' '.join([sys.executable, '-c', HOLD_LOCK, str(warehouse / 'warehouse.duckdb')])[:120]}); a refresh "
        f"needs to be its only writer — close it there (readers open it read-only) or wait, then refresh again"]


def test_errors_retrying_cannot_fix_are_not_retried_and_others_are(tmp_path) -> None:
    wh = Warehouse(tmp_path / "wh").ensure()
    calls: list[str] = []

    def step(kind: str):
        @asset(name=f"writes_{kind}", retry_policy=RetryPolicy(max_retries=2))
        def writes() -> None:
            calls.append(kind)
            with fail_at_once_when_retrying_cannot_help(wh):
                if kind == "permanent":
                    raise PermissionError(13, "Permission denied", str(wh.root / "x"))
                raise ConnectionResetError(104, "Connection reset by peer")
        return writes

    for kind, attempts in (("permanent", 1), ("transient", 3)):
        result = materialize([step(kind)], raise_on_error=False)
        assert not result.success
        assert calls.count(kind) == attempts
        retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
        assert len(retries) == attempts - 1
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data.user_failure_data is None  # a transient error is not turned into a Failure


def test_killing_only_the_refresh_process_leaves_no_child_behind(company) -> None:
    landing, warehouse = company
    deliver_activity(landing, "act_orphan")
    proc = subprocess.Popen(refresh_command(landing, warehouse), env=laer_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: any("dbt build " in cmd for _, cmd in processes_in_session(proc.pid)), 120, "dbt build")
    children = {pid: cmd for pid, cmd in processes_in_session(proc.pid) if pid != proc.pid}
    # dbt and the Great Expectations validation worker at least
    assert any("dbt build " in cmd for cmd in children.values())
    assert any("multiprocessing.spawn" in cmd for cmd in children.values())
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, as an OOM killer or `kill -9 <pid>` does
    proc.wait()
    _wait_for(lambda: not [pid for pid, _ in processes_in_session(proc.pid) if pid in children], 10,
              f"the refresh's children to end: {children}")
