"""Errors a refresh cannot outlive by retrying, said as their cause and what to do.

A refresh writes one folder (``--warehouse``) and one DuckDB file in it, which DuckDB lets
one process write at a time. When the folder cannot be written (a read-only file system,
missing permissions), another refresh runs, or another process holds the file, retrying
only delays the failure and buries its cause. ``laer refresh`` finds these before
anything starts (:func:`prepare_folder`, :func:`refresh_lock`, :func:`check_not_held`);
:func:`permanent_cause` recognises them when they happen later anyway (the Dagster
assets fail at once with it instead of retrying).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from laer.paths import Warehouse

# errors that stay until someone changes the machine: retrying cannot help
PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}
_DUCKDB_OS_ERRORS = ("Read-only file system", "Permission denied")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseUnavailable(Exception):
    """The warehouse cannot be written now and retrying will not change that; the message
    names the cause and what to do."""


def _process_command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        return " ".join(raw.split())
    except OSError:
        return ""


_REFRESH_PROGRAMS = {"laer", "laer-dbt", "laer.cli", "dagster", "dagster-daemon", "dagster-webserver"}


def _is_refresh(command: str) -> bool:
    """``laer …``, ``python -m laer.cli …``, dbt under a refresh, or a Dagster run."""
    return any(Path(word).name in _REFRESH_PROGRAMS for word in command.split()[:3])


def _parent(pid: int) -> int | None:
    try:  # /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _refresh_root(pid: int) -> int:
    """The outermost refresh process above ``pid`` (dbt runs below ``laer refresh``)."""
    while (parent := _parent(pid)) and parent > 1 and _is_refresh(_process_command(parent)):
        pid = parent
    return pid


def _another_refresh(pid: int | str) -> WarehouseUnavailable:
    return WarehouseUnavailable(
        f"another refresh is running on this warehouse (pid {pid}); it will publish — wait for it or stop it")


def held_lock(db: Path, pid: int | None, program: str = "") -> WarehouseUnavailable:
    """Another process writes ``db``: a refresh (it will publish) or something else."""
    command = _process_command(pid) if pid else ""
    who = f"pid {pid}" if pid else "another process"
    if pid and _is_refresh(command):
        return _another_refresh(_refresh_root(pid))
    shown = command or program or "unknown program"
    return WarehouseUnavailable(
        f"{db} is open for writing in {who} ({shown[:120]}); a refresh needs to be its only writer — "
        f"close it there (readers open it read-only) or wait, then refresh again")


def _unwritable(path: Path, reason: str) -> WarehouseUnavailable:
    return WarehouseUnavailable(
        f"cannot write the warehouse folder {path}: {reason} — point --warehouse at a writable folder "
        f"or fix its permissions")


def permanent_cause(exc: BaseException, wh: Warehouse) -> WarehouseUnavailable | None:
    """What ``exc`` means when retrying cannot help (a held lock, a folder that cannot be
    written or does not exist); None when it may be transient."""
    if isinstance(exc, WarehouseUnavailable):
        return exc
    text = str(exc)
    if isinstance(exc, duckdb.Error):
        lock = _LOCK_HOLDER.search(text)
        if lock:
            return held_lock(wh.db, int(lock["pid"]), lock["program"])
        if "Could not set lock" in text:
            return held_lock(wh.db, None)
        for phrase in _DUCKDB_OS_ERRORS:
            if phrase in text:
                return _unwritable(wh.root, phrase)
        return None
    if isinstance(exc, OSError) and exc.errno in PERMANENT_ERRNOS:
        return _unwritable(Path(exc.filename) if exc.filename else wh.root, exc.strerror or str(exc))
    return None


LOCK_FILE = ".refresh.lock"


@contextmanager
def refresh_lock(wh: Warehouse) -> Iterator[None]:
    """Hold the warehouse's refresh lock (an advisory lock on ``<warehouse>/.refresh.lock``
    holding the owner's pid) for the block; raises WarehouseUnavailable naming the refresh
    that holds it. A second refresh then never opens ``warehouse.duckdb`` while one runs:
    even a moment's probe of the file could make the running refresh's dbt fail to open it."""
    path = wh.root / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _unwritable(wh.root, exc.strerror or str(exc)) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip()
            raise _another_refresh(owner or "unknown") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def prepare_folder(wh: Warehouse) -> None:
    """Create the warehouse folder if needed and prove it can be written; raises
    WarehouseUnavailable (or ``NotADirectoryError`` when the path is a file: a wrong argument)."""
    if wh.root.exists() and not wh.root.is_dir():
        raise NotADirectoryError(f"--warehouse {wh.root} is a file, not a folder")
    try:
        wh.ensure()
        fd, probe = tempfile.mkstemp(prefix=".laer-write-probe-", dir=wh.root)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _unwritable(wh.root, exc.strerror or str(exc)) from exc


def check_not_held(wh: Warehouse) -> None:
    """Prove no other process holds the warehouse's DuckDB file (call it holding the
    refresh lock: then no refresh of ours can be disturbed by the moment's open)."""
    if not wh.db.exists():
        return
    try:
        duckdb.connect(str(wh.db)).close()
    except duckdb.Error as exc:
        cause = permanent_cause(exc, wh)
        if cause is None:
            raise
        raise cause from exc
