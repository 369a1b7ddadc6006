"""Rewrite only the tail of a Parquet file: keep its leading row groups byte for byte and
append the row groups of another file written with the same schema.

A Parquet file is ``PAR1``, the column chunks of its row groups, a few blobs the footer
points at (bloom filters, page indexes), the footer (Thrift ``FileMetaData``: schema,
row groups with the byte offsets of their chunks, statistics) and ``<footer length>PAR1``.
Splicing copies the previous file up to the end of its kept row groups (their offsets do
not change), then the new file's chunks and blobs (their offsets move by the length of the
kept part), then the kept row groups' blobs that lay after their chunks, and writes one
footer listing both sets of row groups. No page is decoded or re-encoded.

The publish uses it for the account-day marts (``laer.publish``): their Parquet files are
sorted by day, and a daily refresh changes only the days from the earliest rebuilt one
on, so the row groups before it are kept and only the rest is written again.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from laer.parquet.thrift_compact import I64, Field, Struct, decode_struct, encode_struct

MAGIC = b"PAR1"
# parquet.thrift field ids
FMD_SCHEMA, FMD_NUM_ROWS, FMD_ROW_GROUPS = 2, 3, 4
RG_COLUMNS, RG_NUM_ROWS, RG_FILE_OFFSET, RG_ORDINAL = 1, 3, 5, 7
CC_FILE_OFFSET, CC_META = 2, 3
CMD_TYPE, CMD_PATH, CMD_COMPRESSED_SIZE, CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICT_PAGE, CMD_STATS = 1, 3, 7, 9, 10, 11, 12
STATS_MAX, STATS_MIN, STATS_MAX_VALUE, STATS_MIN_VALUE = 1, 2, 5, 6
INT32 = 1
# blobs outside the column chunks: (struct, offset field, length field)
CC_OFFSET_INDEX, CC_COLUMN_INDEX = (4, 5), (6, 7)
CMD_BLOOM_FILTER = (14, 15)


@dataclass
class Footer:
    meta: Struct
    start: int  # byte offset of the footer: where the chunks and blobs end

    @property
    def row_groups(self) -> list[Struct]:
        return self.meta.get(FMD_ROW_GROUPS).items  # type: ignore[no-any-return]

    def rows(self, row_groups: int) -> int:
        """Rows in the first ``row_groups`` row groups."""
        return sum(rg.get(RG_NUM_ROWS) for rg in self.row_groups[:row_groups])

    @property
    def schema_bytes(self) -> bytes:
        return encode_struct(Struct([f for f in self.meta.fields if f.id == FMD_SCHEMA]))


def read_footer(path: Path) -> Footer:
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(size - 8)
        tail = fh.read(8)
        if size < 12 or tail[4:] != MAGIC:
            raise ValueError(f"{path}: not a Parquet file (no PAR1 at its end)")
        length = struct.unpack("<I", tail[:4])[0]
        start = size - 8 - length
        fh.seek(start)
        meta, _ = decode_struct(fh.read(length))
    return Footer(meta, start)


def _columns(row_group: Struct) -> Iterator[tuple[Struct, Struct]]:
    """(column chunk, its column metadata) of every column of a row group."""
    for chunk in row_group.get(RG_COLUMNS).items:
        yield chunk, chunk.get(CC_META)


def int32_ranges(footer: Footer, column: str) -> list[tuple[int, int] | None]:
    """Per row group, (min, max) of an INT32 column (a DATE: days since 1970-01-01) from
    its statistics; None where the statistics are missing."""
    ranges: list[tuple[int, int] | None] = []
    for row_group in footer.row_groups:
        found: tuple[int, int] | None = None
        for _, meta in _columns(row_group):
            if [p.decode() for p in meta.get(CMD_PATH).items] != [column] or meta.get(CMD_TYPE) != INT32:
                continue
            stats = meta.get(CMD_STATS)
            if stats is not None:
                low = stats.get(STATS_MIN_VALUE, stats.get(STATS_MIN))
                high = stats.get(STATS_MAX_VALUE, stats.get(STATS_MAX))
                if low is not None and high is not None:
                    found = (struct.unpack("<i", low)[0], struct.unpack("<i", high)[0])
        ranges.append(found)
    return ranges


def leading_row_groups_before(ranges: list[tuple[int, int] | None], cutoff: int) -> tuple[int, int | None]:
    """How many leading row groups hold exactly the rows whose value is at most some M <
    ``cutoff``, and that M: every row group kept has its values ≤ M, every other one > M
    (so "value > M" selects exactly the rows not kept). (0, None) when none qualify."""
    later_min = [float("inf")] * (len(ranges) + 1)
    for i in range(len(ranges) - 1, -1, -1):
        r = ranges[i]
        later_min[i] = min(later_min[i + 1], r[0]) if r is not None else float("-inf")
    best: tuple[int, int | None] = (0, None)
    highest: int | None = None
    for k, r in enumerate(ranges, start=1):
        if r is None:
            break
        highest = r[1] if highest is None else max(highest, r[1])
        if highest >= cutoff:
            break
        if later_min[k] > highest:
            best = (k, highest)
    return best


def _extent(row_group: Struct) -> tuple[int, int]:
    """Byte range [start, end) of a row group's column chunks."""
    start, end = None, 0
    for _, meta in _columns(row_group):
        first = min(o for o in (meta.get(CMD_DICT_PAGE), meta.get(CMD_DATA_PAGE), meta.get(CMD_INDEX_PAGE))
                    if o is not None and o > 0)
        start = first if start is None else min(start, first)
        end = max(end, first + meta.get(CMD_COMPRESSED_SIZE))
    return start or len(MAGIC), end


def _blob_fields(row_group: Struct) -> Iterator[tuple[Struct, int, int]]:
    """(struct, offset field, length field) of every blob a row group points at."""
    for chunk, meta in _columns(row_group):
        yield chunk, *CC_OFFSET_INDEX
        yield chunk, *CC_COLUMN_INDEX
        yield meta, *CMD_BLOOM_FILTER


def _shift(row_group: Struct, delta: int) -> None:
    """Move every byte offset of a row group by ``delta`` (0 means "not set" and stays)."""
    def move(s: Struct, fid: int) -> None:
        value = s.get(fid)
        if value:
            s.set(fid, value + delta)

    move(row_group, RG_FILE_OFFSET)
    for chunk, meta in _columns(row_group):
        move(chunk, CC_FILE_OFFSET)
        for fid in (CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICT_PAGE):
            move(meta, fid)
    for s, offset, _ in _blob_fields(row_group):
        move(s, offset)


def _write_all(dst: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(dst, view):]


def _copy_range(src: int, dst: int, start: int, length: int) -> None:
    """Append ``length`` bytes of ``src`` from ``start`` to ``dst`` (in the kernel where it can)."""
    os.lseek(src, start, os.SEEK_SET)
    while length > 0:
        try:
            n = os.copy_file_range(src, dst, length)
        except OSError:  # not supported here, or across these file systems
            n = 0
        if n <= 0:
            chunk = os.read(src, min(length, 1 << 24))
            if not chunk:
                raise ValueError("unexpected end of file while splicing Parquet")
            _write_all(dst, chunk)
            n = len(chunk)
        length -= n


@dataclass(frozen=True)
class Part:
    """A Parquet file to concatenate: all its row groups, or its ``row_groups`` first ones."""

    path: Path
    row_groups: int | None = None


def concatenate(parts: Sequence[Part], out: Path) -> int:
    """Write ``out``: the row groups of ``parts`` in order (all of one schema, at least
    one part); the number of rows it holds."""
    footers = [read_footer(part.path) for part in parts]
    if len({f.schema_bytes for f in footers}) != 1:
        raise ValueError(f"Parquet files of different schemas: {', '.join(str(p.path) for p in parts)}")
    row_groups: list[Struct] = []
    later: list[tuple[int, int, int, Struct, int]] = []  # blobs to copy after the chunks
    dst = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sources = [os.open(part.path, os.O_RDONLY) for part in parts]
    try:
        _write_all(dst, MAGIC)
        position = len(MAGIC)
        for part, footer, src in zip(parts, footers, sources, strict=True):
            taken = footer.row_groups if part.row_groups is None else footer.row_groups[:part.row_groups]
            end = footer.start if part.row_groups is None else max(
                (_extent(rg)[1] for rg in taken), default=len(MAGIC))
            _copy_range(src, dst, len(MAGIC), end - len(MAGIC))
            delta = position - len(MAGIC)
            for rg in taken:
                for s, offset_id, length_id in _blob_fields(rg):
                    offset, length = s.get(offset_id), s.get(length_id)
                    if offset is None or (length is not None and offset + length <= end):
                        continue  # none, or inside the copied bytes (shifted below)
                    s.drop(offset_id)
                    if length is not None:
                        later.append((src, offset, length, s, offset_id))
                _shift(rg, delta)
            row_groups += taken
            position += end - len(MAGIC)
        for src, offset, length, s, offset_id in later:
            _copy_range(src, dst, offset, length)
            s.fields.append(Field(offset_id, I64, position))
            s.fields.sort(key=lambda f: f.id)
            position += length
        for i, rg in enumerate(row_groups):
            if rg.get(RG_ORDINAL) is not None:
                rg.set(RG_ORDINAL, i)
        rows = sum(rg.get(RG_NUM_ROWS) for rg in row_groups)
        meta = footers[-1].meta
        meta.get(FMD_ROW_GROUPS).items = row_groups
        meta.set(FMD_NUM_ROWS, rows)
        footer_bytes = encode_struct(meta)
        _write_all(dst, footer_bytes + struct.pack("<I", len(footer_bytes)) + MAGIC)
    finally:
        for fd in (*sources, dst):
            os.close(fd)
    return rows
