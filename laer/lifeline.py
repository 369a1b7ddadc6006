"""Child processes of a refresh end when the refresh's own process ends.

A refresh starts two long-lived children: the Great Expectations validation worker
(laer/quality/worker.py) and ``dbt build`` (through dagster-dbt). Neither notices on its
own when the refresh is killed: the worker holds both ends of its task queue's pipe, and
dbt goes on building until it is done. Each of them calls :func:`end_with_parent` as it
starts, which watches its parent and ends the process as soon as the parent is gone (it
was re-parented): what the child was writing is then abandoned exactly as if it had been
killed with its parent — the warehouse file is transactional and nothing is published.

Watching ``getppid()`` works whichever thread of the parent started the child (Linux's
parent-death signal follows the starting *thread*, which may end long before the process).
"""

from __future__ import annotations

import os
import sys
import threading
import time

POLL_SECONDS = 0.5
EXIT_CODE = 143  # as if ended by SIGTERM


def end_with_parent(parent_pid: int | None = None, poll_seconds: float = POLL_SECONDS) -> None:
    """End this process (at once, without cleanup) when ``parent_pid`` — by default the
    current parent — stops being its parent. Returns immediately; a daemon thread watches."""
    parent = os.getppid() if parent_pid is None else parent_pid
    if os.getppid() != parent:  # the parent is already gone
        os._exit(EXIT_CODE)

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(EXIT_CODE)

    threading.Thread(target=watch, name="laer-lifeline", daemon=True).start()


def dbt_main() -> None:
    """The ``laer-dbt`` executable: dbt's own command line, ending with the process that
    started it (the refresh runs dbt through it; orchestration/dbt_project.py)."""
    end_with_parent()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())
