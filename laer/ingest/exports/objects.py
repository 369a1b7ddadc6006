"""Reading the JSON objects a source system wrote, one per line, and naming what is wrong
with one: the file's line and the JSON path at fault (``$.data.object.items.data[0].price``).

An adapter reads every value through :class:`Obj`, which knows where the value sits, so
a missing id or a value of the wrong type becomes a :class:`Rejected` that the loader
records in the quarantine with that line and path.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from laer.ingest.files import LandingFile
from laer.ingest.rules import Rejected

UTC = dt.UTC


class Bad(Rejected):
    """An object breaks what its adapter needs: the file is quarantined at its line and path."""

    def __init__(self, line: int, path: str, reason: str):
        super().__init__(f"line {line}, {path}: {reason}", column=path, row=line)


@dataclass(frozen=True)
class Obj:
    """A JSON object with its place: the line of the file and its JSON path."""

    data: dict[str, Any]
    line: int
    path: str = "$"

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def bad(self, key: str, reason: str) -> Bad:
        return Bad(self.line, self.at(key), reason)

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _value(self, key: str, required: bool) -> Any:
        """The value at ``key``; None when missing, which a required value may not be."""
        value = self.data.get(key)
        if value is None and required:
            raise self.bad(key, "missing")
        return value

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self._value(key, required)
        if value is None:
            return None
        if isinstance(value, dict) and isinstance(value.get("id"), str):  # an expanded object
            return value["id"]
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.bad(key, f"expected a string, found {type(value).__name__}")
        return str(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._value(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.lstrip("-").isdigit():
                return int(value)
            raise self.bad(key, f"expected an integer, found {value!r}")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise self.bad(key, f"expected true or false, found {value!r}")

    def epoch(self, key: str, *, required: bool = False) -> dt.datetime | None:
        """A Stripe timestamp: seconds since 1970 (UTC)."""
        seconds = self.integer(key, required=required)
        return None if seconds is None else dt.datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)

    def iso(self, key: str, *, required: bool = False) -> dt.datetime | None:
        """An ISO-8601 timestamp (HubSpot, Segment); without an offset it is UTC."""
        value = self.text(key, required=required)
        if value is None or value == "":
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.bad(key, f"expected an ISO-8601 timestamp, found {value!r}") from None
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed

    def decimal(self, key: str) -> Decimal | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return Decimal(str(value))
        except ArithmeticError:
            raise self.bad(key, f"expected a number, found {value!r}") from None

    def child(self, key: str, *, required: bool = False) -> Obj | None:
        value = self._value(key, required)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.bad(key, f"expected an object, found {type(value).__name__}")
        return Obj(value, self.line, self.at(key))

    def children(self, key: str) -> list[Obj]:
        """The objects of a list (or of a Stripe list object's ``data``)."""
        value = self.data.get(key)
        path = self.at(key)
        if isinstance(value, dict) and "data" in value:
            value, path = value["data"], f"{path}.data"
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.bad(key, f"expected a list, found {type(value).__name__}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise Bad(self.line, f"{path}[{i}]", f"expected an object, found {type(item).__name__}")
            out.append(Obj(item, self.line, f"{path}[{i}]"))
        return out


def read_objects(f: LandingFile) -> Iterator[Obj]:
    """Every line of the file as an object; a line that is not a JSON object rejects the file."""
    opener = gzip.open if f.compressed else open
    try:
        with opener(f.path, "rb") as fh:
            for line_no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    raise Bad(line_no, "$", f"not valid JSON ({exc})") from None
                if not isinstance(value, dict):
                    raise Bad(line_no, "$", f"expected a JSON object, found {type(value).__name__}")
                yield Obj(value, line_no)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise Rejected(f"unreadable file: {exc}") from None


@dataclass
class Rows:
    """What an adapter makes of a file: rows per raw table (each with its ``_row_number``,
    the line it came from) or the queries that make them, the warnings to record, and how
    many objects it read."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    objects: int = 0
    # rows made in SQL: raw table -> (a query over the connection's temp tables, the
    # contract columns it gives besides ``_row_number``)
    queries: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def add(self, table: str, line: int, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append({**row, "_row_number": line})


@dataclass
class Skipped:
    """Objects an adapter leaves out on purpose, counted per reason with their first line."""

    first: dict[str, tuple[int, str]] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def note(self, reason: str, line: int, path: str) -> None:
        self.first.setdefault(reason, (line, path))
        self.count[reason] = self.count.get(reason, 0) + 1

    def warnings(self) -> list[str]:
        return [f"{n} skipped ({reason}), the first at line {self.first[reason][0]}, {self.first[reason][1]}"
                for reason, n in self.count.items()]
