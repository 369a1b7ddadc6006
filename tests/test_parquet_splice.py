"""Parquet files spliced row group by row group (laer.parquet): what the publish uses to
rewrite only the recent months of the account-day marts' files."""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from laer.parquet.splice import (
    Part,
    concatenate,
    int32_ranges,
    leading_row_groups_before,
    read_footer,
)
from laer.parquet.thrift_compact import decode_struct, encode_struct

# 30,720 rows: one per account and day, 1,024 accounts over 30 days from 2024-01-30 to
# 2024-02-28 (days 19752 to 19781 since 1970-01-01); written in row groups of 2,048 rows,
# two days each
ROWS = """
    select 'acc_' || lpad((range % 1024)::varchar, 4, '0') as account_id,
           date '2024-01-30' + (range // 1024)::int as date,
           (range % 7)::decimal(10, 2) as mrr,
           case when range % 3 = 0 then 'red' else 'green' end as band
    from range(30720)
"""


@pytest.fixture()
def con():
    with duckdb.connect() as c:
        c.execute(f"create table t as {ROWS}")
        yield c


def write(con: duckdb.DuckDBPyConnection, query: str, path: Path, row_group_size: int = 2048) -> Path:
    con.execute(f"copy ({query}) to '{path}' (format parquet, compression zstd, row_group_size {row_group_size})")
    return path


def same_rows(con: duckdb.DuckDBPyConnection, path: Path, query: str = "select * from t") -> bool:
    n = con.execute(f"select count(*) from (({query}) except all (select * from '{path}'))").fetchone()[0]
    m = con.execute(f"select count(*) from ((select * from '{path}') except all ({query}))").fetchone()[0]
    return n == m == 0


def test_a_footer_decodes_and_encodes_to_the_same_bytes(con, tmp_path: Path) -> None:
    data = write(con, "select * from t", tmp_path / "t.parquet").read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    footer = data[-8 - length:-8]
    meta, used = decode_struct(footer)
    assert used == length
    assert encode_struct(meta) == footer
    assert meta.get(3) == 30720  # num_rows


def test_leading_row_groups_before_a_day() -> None:
    ranges = [(1, 3), (4, 6), (6, 9), (10, 12)]
    # (1, 3) then (4, 6): but day 6 is also in the third group, so 6 cannot end the kept part
    assert leading_row_groups_before(ranges, 8) == (1, 3)
    assert leading_row_groups_before(ranges, 4) == (1, 3)
    assert leading_row_groups_before(ranges, 3) == (0, None)  # day 3 may have changed
    assert leading_row_groups_before(ranges, 11) == (3, 9)
    assert leading_row_groups_before(ranges, 13) == (4, 12)
    # statistics missing: nothing from there on is known, nothing before it can be proven alone
    assert leading_row_groups_before([(1, 3), None, (10, 12)], 13) == (0, None)
    assert leading_row_groups_before([(1, 3), (5, 6), None], 13) == (0, None)
    # a later group holding an early day keeps the groups before that day only
    assert leading_row_groups_before([(1, 3), (4, 6), (7, 9), (2, 2)], 8) == (0, None)
    assert leading_row_groups_before([(1, 3), (4, 6), (7, 9), (5, 5)], 8) == (1, 3)
    assert leading_row_groups_before([(1, 3), (4, 6), (7, 9), (2, 2)], 13) == (4, 9)  # all kept


def test_concatenated_files_hold_every_row_with_working_statistics_and_bloom_filters(con, tmp_path: Path) -> None:
    first = write(con, "select * from t where date < date '2024-02-01'", tmp_path / "jan.parquet")
    second = write(con, "select * from t where date >= date '2024-02-01'", tmp_path / "feb.parquet")
    out = tmp_path / "all.parquet"
    assert concatenate([Part(first), Part(second)], out) == 30720
    assert same_rows(con, out)
    assert pq.read_table(out).num_rows == 30720  # another reader agrees
    ranges = int32_ranges(read_footer(out), "date")
    jan, feb = (read_footer(first).row_groups, read_footer(second).row_groups)
    assert len(ranges) == len(jan) + len(feb) == 1 + 14  # 2,048 rows of Jan 30-31, then 28,672
    assert ranges[0] == (19752, 19753)  # 2024-01-30 and -31, days since 1970-01-01
    # the bloom filters moved with their row groups: 'blue' is in none, 'red' in every one
    probe = "select count(*), count(*) filter (where bloom_filter_excludes) from parquet_bloom_probe('{}', 'band', '{}')"
    assert con.execute(probe.format(out, "blue")).fetchone() == (15, 15)
    assert con.execute(probe.format(out, "red")).fetchone() == (15, 0)


def test_a_kept_prefix_plus_new_rows_equals_the_changed_table(con, tmp_path: Path) -> None:
    old = write(con, "select * from t", tmp_path / "old.parquet")
    # two days per row group: Jan 30-31, Feb 1-2, Feb 3-4, Feb 5-6, ...
    ranges = int32_ranges(read_footer(old), "date")
    assert ranges[:2] == [(19752, 19753), (19754, 19755)]
    con.execute("update t set mrr = mrr + 100 where date >= date '2024-02-06'")  # rebuilt from Feb 6
    con.execute("insert into t select account_id, date '2024-02-29', 1, 'red' from t where date = '2024-01-30'")
    keep, last_day = leading_row_groups_before(ranges, 19759)  # 2024-02-06
    assert (keep, last_day) == (3, 19757)  # Jan 30 .. Feb 4 kept; Feb 5 sits with Feb 6
    tail = write(con, "select * from t where date > date '2024-02-04'", tmp_path / "tail.parquet")
    out = tmp_path / "new.parquet"
    assert concatenate([Part(old, keep), Part(tail)], out) == 31 * 1024  # Feb 29 added
    assert same_rows(con, out)
    assert pq.read_table(out).num_rows == 31 * 1024
    # 3 kept groups + 13 of Feb 5-29; the kept groups' bloom filters were copied after the
    # new chunks and still answer
    probe = f"select bloom_filter_excludes from parquet_bloom_probe('{out}', 'band', 'blue') order by row_group_id"
    assert [r[0] for r in con.execute(probe).fetchall()] == [True] * 16
    # the kept bytes are the old file's bytes
    assert out.read_bytes()[:1000] == old.read_bytes()[:1000]


def test_files_of_other_columns_are_not_concatenated(con, tmp_path: Path) -> None:
    a = write(con, "select * from t", tmp_path / "a.parquet")
    b = write(con, "select account_id, date, mrr from t", tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="different schemas"):
        concatenate([Part(a), Part(b)], tmp_path / "c.parquet")
