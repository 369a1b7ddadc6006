from __future__ import annotations

import subprocess
import sys

from laer.cli import build_parser


def test_help_lists_every_subcommand() -> None:
    out = subprocess.run([sys.executable, "-m", "laer.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for sub in ("demo", "generate", "refresh", "report"):
        assert sub in out


def test_generate_rejects_a_bad_start_date() -> None:
    parser = build_parser()
    try:
        parser.parse_args(["generate", "--out", "x", "--start", "2024-13-01"])
    except SystemExit as exc:
        assert exc.code == 2
    else:  # pragma: no cover
        raise AssertionError("a month 13 start date was accepted")


EXITING = """
import atexit, sys, threading, time
from pathlib import Path
from laer.fast_exit import exit_after_cleanup

out = Path(sys.argv[1])
atexit.register(lambda: (out / "atexit").write_text("ran"))
def late() -> None:
    time.sleep(0.3)
    (out / "thread").write_text("finished")
threading.Thread(target=late).start()
sys.stdout.write("no newline, still buffered")
exit_after_cleanup(3)
"""


def test_the_fast_exit_waits_for_threads_runs_atexit_and_flushes_output(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-c", EXITING, str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout == "no newline, still buffered"
    assert (tmp_path / "thread").read_text() == "finished"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_the_laer_executable_exits_with_the_commands_code(tmp_path) -> None:
    # a report without a published warehouse: its code and its message survive the fast exit
    proc = subprocess.run([sys.executable, "-m", "laer.cli", "report", "--warehouse", str(tmp_path / "none")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"no published marts in {tmp_path / 'none'}")
