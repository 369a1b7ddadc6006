"""Precise reasons for files the readers cannot or must not read, naming the line and
column at fault and never a value from the file (a reason is published in
``dq_quarantined_files``, where a customer's e-mail address has no place)."""

from __future__ import annotations

import csv
import gzip
import io
import json

from laer.contract import Entity
from laer.ingest.files import LandingFile

# what DuckDB's readers expand as a pattern in a path (a file named "*.csv" would read
# every sibling)
GLOB_CHARACTERS = frozenset("*?[]{}")


def path_problem(f: LandingFile) -> str | None:
    """A path the readers would take for a pattern."""
    found = sorted(GLOB_CHARACTERS & set(str(f.path)))
    if not found:
        return None
    return (f"the path holds {' '.join(found)}, which the reader would expand as a file pattern: "
            f"rename the file (or folder) without them")


def csv_header_line(f: LandingFile) -> bytes | None:
    """The header line of a CSV file (None when it has none or cannot be read)."""
    if f.size == 0:
        return None
    try:
        with (gzip.open(f.path, "rb") if f.compressed else f.path.open("rb")) as fh:
            return fh.readline() or None
    except (OSError, EOFError):
        return None


def header_names(header: bytes) -> list[str]:
    """The column names of a CSV header line, as written."""
    line = header.decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(line)), [])


def duplicated_columns(header: bytes) -> list[str]:
    """Column names that the header line holds more than once (compared as the loader
    matches them: trimmed, lower case)."""
    seen: set[str] = set()
    twice: list[str] = []
    for name in header_names(header):
        key = name.strip().lower()
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def header_problem(header: bytes | None, entity: Entity) -> str | None:
    """A CSV header that is no header (a file delivered without one: its first line holds
    data, which the reason must not repeat), or that names a column twice."""
    if not header:
        return None
    names = {n.strip().lower() for n in header_names(header)}
    if not names & {c.name for c in entity.columns}:
        required = ", ".join(c.name for c in entity.required)
        return (f"line 1 names none of the columns of {entity.source}/{entity.name} (required: {required}): "
                f"is the header row missing?")
    twice = duplicated_columns(header)
    if not twice:
        return None
    return f"line 1 (the header) names column(s) {', '.join(twice)} more than once: which one is meant is unclear"


def _read(f: LandingFile) -> bytes:
    with (gzip.open(f.path, "rb") if f.compressed else f.path.open("rb")) as fh:
        return fh.read()


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def reader_problem(f: LandingFile) -> str | None:
    """Why the reader failed on ``f``, found again here precisely (None when not found:
    the reader's own message is used)."""
    try:
        data = _read(f)
    except EOFError:
        return f"the {f.fmt}.gz file is truncated: its gzip stream ends early"
    except (OSError, gzip.BadGzipFile) as exc:
        return f"the file cannot be read as {'gzip' if f.compressed else f.fmt}: {exc.strerror or type(exc).__name__}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return (f"line {line}, byte {column} of the line is not UTF-8: the contract requires UTF-8 "
                f"(was it exported as Latin-1 or Windows-1252?)")
    if f.fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                return f"line {number} is not valid JSON ({exc.msg} at character {exc.colno})"
            if not isinstance(value, dict):
                return f"line {number} is not a JSON object"
        return None
    if f.fmt == "csv":
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), strict=True)
        try:
            header = next(reader, [])
            for row in reader:
                if row and len(row) != len(header):
                    return (f"line {reader.line_num} has {len(row)} field(s) where the header has {len(header)} "
                            f"(a comma inside an unquoted value?)")
        except csv.Error as exc:
            if "unexpected end of data" in str(exc) or "EOF" in str(exc):
                return (f"line {reader.line_num}: a quoted field is never closed (an unbalanced \" quote) and runs "
                        f"to the end of the file")
            return f"line {reader.line_num}: {exc}"
    return None
