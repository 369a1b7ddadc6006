"""The refresh's progress display: dbt's node counter read from its output, stage lines."""

from __future__ import annotations

import io
import re

from rich.console import Console

from laer.progress import ConsoleReporter, DbtLines, reporting, stage


def test_dbt_output_advances_the_dbt_stage_and_is_kept_in_the_log_only() -> None:
    screen, log = io.StringIO(), io.StringIO()
    with reporting(ConsoleReporter(Console(file=screen, width=100), prefix="  ")), stage("dbt build") as building:
        lines = DbtLines(log)
        lines.write("1 of 1 START hook: laer.on-run-start.0 .... [RUN]\n")
        lines.write("1 of 3 START sql table model main.a ....... [RUN]\n2 of 3 START sql view")
        assert building.done == 0  # START lines and a line still being written count nothing
        lines.write(" model main.b ... [RUN]\n\x1b[0m2 of 3 OK created sql view model main.b [OK in 0.1s]\n")
        lines.write("1 of 3 OK created sql table model main.a ... [OK in 0.2s]\n")
        lines.write("1 of 1 OK hook: laer.on-run-end.0 ........ [OK in 0.0s]\n")  # hooks count apart
        assert (building.done, building.total) == (2, 3)
    assert "main.b" in log.getvalue() and "main.b" not in screen.getvalue()
    # off a terminal, one line per finished stage: name, done of total, elapsed time
    assert re.fullmatch(r"  dbt build +2/3 +[0-9.]+ s\n", screen.getvalue())


def test_a_stage_that_raises_says_failed() -> None:
    screen = io.StringIO()
    with reporting(ConsoleReporter(Console(file=screen, width=100))):
        try:
            with stage("publish", total=1):
                raise OSError("disk full")
        except OSError:
            pass
    assert re.fullmatch(r"publish +0/1 +[0-9.]+ s failed\n", screen.getvalue())
