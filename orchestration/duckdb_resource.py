"""The warehouse's DuckDB connection for Dagster assets and checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource

LOCK_WAIT_SECONDS = 5.0


class WarehouseDuckDB(DuckDBResource):
    """dagster-duckdb's resource, connecting once instead of retrying.

    ``DuckDBResource.get_connection`` retries every ``IOException`` ten times with growing
    pauses: a lock another process holds, or a read-only file system, surfaced only after
    minutes (and again for each step retry). Here a lock held by another process is waited
    for ``LOCK_WAIT_SECONDS`` at most (another program's moment with the file passes); any
    other error, and a lock still held, is raised as it is. The steps that write (load,
    publish) fail at once on what retrying cannot fix and retry the rest through their own
    retry policy (orchestration/assets/failures.py).
    """

    def _connect(self) -> duckdb.DuckDBPyConnection:
        config = {"custom_user_agent": "dagster", **self.connection_config}
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        pause = 0.1
        while True:
            try:
                return duckdb.connect(self.database, read_only=False, config=config)
            except duckdb.IOException as exc:
                if "Could not set lock" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._connect()
        try:
            yield con
        finally:
            con.close()
