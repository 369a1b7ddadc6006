"""Great Expectations validations in a process of their own, started before they are needed.

Importing Great Expectations takes ≈ 2.5–3.5 s of one core (its expectation classes, SciPy,
pydantic models), and a refresh's first check needs it right after the load. A
``ValidationWorker`` starts a child process (``spawn``: a fresh interpreter, nothing
inherited from a process that runs threads) that imports Great Expectations at once, on
the other core, while the refresh's own process is still importing Dagster and dbt and
loading the landing files. Checks then send it ``(suite, DataFrame)`` and get the
``SuiteOutcome`` back; the worker keeps one :class:`Validator` (one GX context) per Data
Docs folder for the whole run. Data Docs are rendered in the worker while the refresh goes
on (``write_docs`` does not wait); :meth:`ValidationWorker.wait_for_docs` collects them.

A worker that dies makes every later validation raise (``BrokenProcessPool``): the check
fails, and what it guards is not published.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from laer.lifeline import end_with_parent

if TYPE_CHECKING:
    import pandas as pd

    from laer.quality.expectations import SuiteOutcome, SuiteSpec, Validator


class SuiteValidator(Protocol):
    """What the checks need: :class:`laer.quality.expectations.Validator` in-process, or a
    worker's :class:`RemoteValidator`."""

    def validate(self, suite: SuiteSpec, frame: pd.DataFrame) -> SuiteOutcome: ...

    def submit(self, suite: SuiteSpec, frame: pd.DataFrame) -> Future[SuiteOutcome]: ...

    def write_docs(self) -> None: ...


# ---- inside the worker process ----------------------------------------------------------

_validators: dict[str | None, Validator] = {}  # one GX context per Data Docs folder


def _start_worker(parent_pid: int) -> None:
    """The worker's initializer: end with the refresh's process if it is killed
    (laer/lifeline.py), import Great Expectations now, and end the process, when the pool
    shuts it down, the way ``laer`` ends (laer/fast_exit.py) — without finalising the
    thousands of modules GX imported (≈ 0.8 s the refresh would wait for)."""
    end_with_parent(parent_pid)
    atexit.register(_end_now)  # atexit runs last-registered first: after this, nothing else is needed
    # The worker validates pandas frames only. GX imports PySpark when it is installed (the
    # `spark` extra), and PySpark's Spark Connect module ends the process (sys.exit(0),
    # "Skipping doctests") when the main module has neither a spec nor a file — which is
    # this process's when the refresh was started with `python -m …` (pytest, for one).
    sys.modules.setdefault("pyspark", None)  # type: ignore[arg-type]  (None: "import pyspark" raises ImportError)
    # Nor does it need SQLAlchemy, an optional dependency GX imports when it is there (the
    # `dagster` install brings it): ≈ 0.5 s of the import, beside the refresh's load
    sys.modules.setdefault("sqlalchemy", None)  # type: ignore[arg-type]
    import great_expectations  # noqa: F401  (the import is the point: it is what takes seconds)


def _end_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)


def _ready() -> bool:
    return True


def _validator(docs_dir: str | None) -> Validator:
    from laer.quality.expectations import Validator

    if docs_dir not in _validators:
        _validators[docs_dir] = Validator(Path(docs_dir) if docs_dir else None)
    return _validators[docs_dir]


def _validate(docs_dir: str | None, suite: SuiteSpec, frame: pd.DataFrame) -> SuiteOutcome:
    return _validator(docs_dir).validate(suite, frame)


def _write_docs(docs_dir: str | None) -> None:
    _validator(docs_dir).write_docs()


# ---- in the refresh's process -----------------------------------------------------------


class RemoteValidator:
    """A :class:`SuiteValidator` whose Great Expectations context lives in the worker."""

    def __init__(self, worker: ValidationWorker, docs_dir: Path | None) -> None:
        self._worker = worker
        self._docs_dir = str(docs_dir) if docs_dir is not None else None

    def validate(self, suite: SuiteSpec, frame: pd.DataFrame) -> SuiteOutcome:
        return self.submit(suite, frame).result()

    def submit(self, suite: SuiteSpec, frame: pd.DataFrame) -> Future[SuiteOutcome]:
        """Queue a validation; the caller can query the next frame while the worker runs it."""
        return self._worker.pool.submit(_validate, self._docs_dir, suite, frame)

    def write_docs(self) -> None:
        """Render this folder's Data Docs in the worker; returns without waiting."""
        self._worker.pending_docs.append(self._worker.pool.submit(_write_docs, self._docs_dir))


class ValidationWorker:
    """One child process that imports Great Expectations as soon as it is created."""

    def __init__(self) -> None:
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker, initargs=(os.getpid(),))
        self.pool.submit(_ready)  # starts the process now, not at the first validation
        self.pending_docs: list[Future[None]] = []

    def validator(self, docs_dir: Path | None = None) -> RemoteValidator:
        return RemoteValidator(self, docs_dir)

    def wait_for_docs(self) -> list[BaseException]:
        """Wait for the Data Docs sent so far; the errors of those that failed."""
        errors = [e for e in (f.exception() for f in self.pending_docs) if e is not None]
        self.pending_docs.clear()
        return errors

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


_active: ValidationWorker | None = None


@contextmanager
def validation_worker() -> Iterator[ValidationWorker]:
    """A worker for the block, shared by whatever validates inside it (see
    :func:`active_worker`); closed when the block ends."""
    global _active
    outer, worker = _active, ValidationWorker()
    _active = worker
    try:
        yield worker
    finally:
        _active = outer
        worker.close()


def active_worker() -> ValidationWorker | None:
    """The worker of the innermost :func:`validation_worker` block, if any."""
    return _active
