"""What a refresh is doing, for the person watching it: its stages, with counts and time.

The refresh's steps say where they are (``with stage("load") as s: s.total = n; s.advance()``);
whoever runs them decides how that is shown. Dagster runs show nothing here (their own
event log says it); ``laer refresh`` shows a live line per stage on a terminal and one
printed line per finished stage elsewhere (CI, cron). dbt's own output is read for its
"12 of 171" node counter (:class:`DbtLines`) and kept in a log file instead of the screen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


@dataclass
class Stage:
    """One stage of a refresh as it runs: how far (``done`` of ``total``) and since when."""

    name: str
    reporter: Reporter
    total: int | None = None
    done: int = 0
    note: str = ""
    started: float = field(default_factory=time.monotonic)

    def advance(self, done: int | None = None, total: int | None = None) -> None:
        self.done = self.done + 1 if done is None else done
        self.total = total if total is not None else self.total
        self.reporter.update(self)


class Reporter:
    """Shows nothing: what a Dagster run (its event log tells) and a library call get."""

    def start(self, stage: Stage) -> None:
        """A stage began."""

    def update(self, stage: Stage) -> None:
        """A stage moved on."""

    def finish(self, stage: Stage, ok: bool) -> None:
        """A stage ended (``ok`` False: it raised)."""


_current: Reporter = Reporter()
_active: dict[str, Stage] = {}  # the stages running now, by name


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Show the stages of what runs inside with ``reporter``."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = previous


def current() -> Reporter:
    return _current


@contextmanager
def stage(name: str, total: int | None = None) -> Iterator[Stage]:
    """Report the stage ``name`` while the block runs."""
    s = Stage(name, _current, total)
    _active[name] = s
    _current.start(s)
    try:
        yield s
    except BaseException:
        _current.finish(s, ok=False)
        raise
    else:
        _current.finish(s, ok=True)
    finally:
        _active.pop(name, None)


def _counted(s: Stage) -> str:
    if s.total is None:
        return f"{s.done}" if s.done else ""
    return f"{s.done}/{s.total}"


class ConsoleReporter(Reporter):
    """A live line per stage on a terminal; a printed line per finished stage otherwise."""

    def __init__(self, console: Console, prefix: str = "") -> None:
        self.console = console
        self.prefix = prefix
        self.live = console.is_terminal
        self.progress = Progress(TextColumn("{task.description:<14}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                                 TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console,
                                 transient=False, redirect_stdout=False)
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ConsoleReporter:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.progress.stop()

    def start(self, stage: Stage) -> None:
        if self.live:
            self.tasks[stage.name] = self.progress.add_task(self.prefix + stage.name, total=stage.total, note="")

    def update(self, stage: Stage) -> None:
        if self.live and stage.name in self.tasks:
            self.progress.update(self.tasks[stage.name], completed=stage.done, total=stage.total, note=stage.note)

    def finish(self, stage: Stage, ok: bool) -> None:
        if self.live and stage.name in self.tasks:
            task = self.tasks.pop(stage.name)
            total = stage.total if stage.total is not None else stage.done
            self.progress.update(task, completed=stage.done, total=total,
                                 note=stage.note if ok else "failed")
            self.progress.stop_task(task)
            return
        if not self.live:
            counted = _counted(stage)
            state = "" if ok else " failed"
            self.console.print(f"{self.prefix}{stage.name:<14} {counted:>9}  {time.monotonic() - stage.started:6.1f} s"
                               f"{state}{'  ' + stage.note if stage.note else ''}", highlight=False)


# dbt's per-node result line: "12 of 171 OK created sql table model main.x ... [OK in 0.2s]"
# (the on-run-start/end hooks count apart: "1 of 1 OK hook: ...")
_DBT_NODE = re.compile(r"^\s*(?:\x1b\[[0-9;]*m)?(\d+) of (\d+) (?!START)(?!\S+ hook: )")


class DbtLines:
    """A file-like stand-in for stdout while dbt runs in-process under Dagster: every line goes
    to ``log`` (dbt's output, kept for when something fails) and the node counter to the
    ``dbt build`` stage."""

    def __init__(self, log: IO[str], stage_name: str = "dbt build") -> None:
        self.log = log
        self.stage_name = stage_name
        self._seen: set[int] = set()
        self._buffer = ""

    def write(self, text: str) -> int:
        self.log.write(text)
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if (m := _DBT_NODE.match(line)) and (running := _active.get(self.stage_name)):
                self._seen.add(int(m.group(1)))
                running.advance(len(self._seen), int(m.group(2)))
        return len(text)

    def flush(self) -> None:
        self.log.flush()

    def isatty(self) -> bool:
        return False


def open_log(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("w", encoding="utf-8")
