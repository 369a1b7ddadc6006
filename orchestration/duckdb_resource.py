"""The warehouse's DuckDB connection for Dagster assets and checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster_duckdb import DuckDBResource


class WarehouseDuckDB(DuckDBResource):
    """dagster-duckdb's resource, connecting once instead of retrying.

    ``DuckDBResource.get_connection`` retries every ``IOException`` ten times with growing
    pauses: a lock another process holds, or a read-only file system, surfaced only after
    minutes (and again for each step retry). Here the first error is raised as it is; the
    steps that write (load, publish) fail at once on what retrying cannot fix and retry the
    rest through their own retry policy (orchestration/assets/failures.py).
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(self.database, read_only=False,
                             config={"custom_user_agent": "dagster", **self.connection_config})
        try:
            yield con
        finally:
            con.close()
