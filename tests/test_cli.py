from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def _laer(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "laer.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_every_command_with_bad_arguments_exits_2_with_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    (tmp_path / "landing").mkdir()
    cases = {
        (): "laer: the following arguments are required: COMMAND (see laer --help)",
        ("frobnicate",): "laer: argument COMMAND: invalid choice: 'frobnicate' (choose from 'demo', 'generate', "
                         "'refresh', 'backfill', 'report', 'metrics', 'dashboard', 'spark') (see laer --help)",
        ("demo", "--customers", "0"): "laer demo: argument --customers: must be at least 1, not 0 (see laer demo --help)",
        ("generate", "--out", "x", "--customers", "abc"):
            "laer generate: argument --customers: not a whole number: 'abc' (see laer generate --help)",
        ("generate", "--out", "x", "--start", "2024-13-01"):
            "laer generate: argument --start: not a date (YYYY-MM-DD): '2024-13-01' (see laer generate --help)",
        ("refresh", "--warehouse", "w"): "laer refresh: the following arguments are required: --landing "
                                         "(see laer refresh --help)",
        ("refresh", "--landing", str(a_file), "--warehouse", "w"): f"--landing {a_file} is a file, not a folder",
        ("refresh", "--landing", str(tmp_path / "none"), "--warehouse", "w"):
            f"--landing {tmp_path / 'none'} does not exist",
        ("refresh", "--landing", str(tmp_path / "landing"), "--warehouse", str(a_file)):
            f"--warehouse {a_file} is a file, not a folder",
        ("backfill", "--landing", str(tmp_path / "landing"), "--warehouse", "w", "--from", "2024-02-02",
         "--to", "2024-02-01"): "--to 2024-02-01 is before --from 2024-02-02",
        ("report", "--warehouse", str(tmp_path / "none")): f"no published marts in {tmp_path / 'none'}: run laer "
                                                           f"refresh first",
        ("metrics", "--warehouse", str(tmp_path / "none"), "list", "metrics"):
            f"no published marts in {tmp_path / 'none'}: run laer refresh first",
        ("dashboard", "--warehouse", str(tmp_path / "none")): f"no published marts in {tmp_path / 'none'}: run laer "
                                                              f"refresh first",
        ("spark", "compare", "--warehouse", "w"): "laer spark compare: the following arguments are required: --duckdb "
                                                  "(see laer spark compare --help)",
    }
    for args, line in cases.items():
        proc = _laer(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert (proc.stdout + proc.stderr).splitlines() == [line], args
    assert not (tmp_path / "w").exists() and not (tmp_path / "x").exists()  # nothing made by a refused command


def test_version_and_help_with_defaults_and_an_example() -> None:
    assert _laer("--version").stdout.strip() == "laer 0.1.0"
    text = _laer("generate", "--help").stdout
    assert "customers of the company (default: 2000)" in text
    assert "example:\n  laer generate --out exports --customers 200 --months 12" in text


def test_a_report_as_of_another_day_than_the_published_marts_is_refused(small_built: Path) -> None:
    proc = _laer("report", "--warehouse", str(small_built / "warehouse"), "--as-of", "1999-01-01")
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "the published marts are as of 2024-08-31: a report as of 1999-01-01 needs marts as of that day "
        "(laer refresh --as-of 1999-01-01); laer report without --as-of reports 2024-08-31"]


def test_demo_replaces_only_what_an_earlier_demo_made(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "mine.csv").write_text("keep me")
    proc = _laer("demo", "--dir", str(tmp_path), "--customers", "5", "--months", "2")
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [f"{tmp_path} already holds landing/, not made by laer demo: choose another "
                                        f"--dir (or delete them yourself)"]
    assert (tmp_path / "landing" / "mine.csv").read_text() == "keep me"
