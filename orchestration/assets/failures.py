"""Steps that retry transient errors but fail at once, naming the cause, on permanent ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure

from laer.paths import Warehouse
from laer.preflight import permanent_cause


@contextmanager
def fail_at_once_when_retrying_cannot_help(wh: Warehouse) -> Iterator[None]:
    """Re-raise a held warehouse lock or a folder that cannot be written
    (laer/preflight.py) as a ``Failure`` the step's retry policy does not retry; any other
    error goes to the retry policy as it is."""
    try:
        yield
    except Exception as exc:
        cause = permanent_cause(exc, wh)
        if cause is None:
            raise
        raise Failure(description=str(cause), allow_retries=False) from exc
