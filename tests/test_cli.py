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
