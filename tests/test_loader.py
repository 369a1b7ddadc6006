"""The landing loader on small hand-made files: exact rows, ledger and quarantine after each case."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from laer.ingest.loader import LEDGER, load_landing

PLANS_HEADER = "plan_id,product,plan_name,billing_interval,interval_count,unit_amount,currency,is_free,updated_at\n"


def write(landing: Path, rel: str, content: str | bytes) -> Path:
    p = landing / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return p


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture()
def con(tmp_path: Path):
    c = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield c
    c.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def ledger(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return rows(con, f"select batch_id, path, status, row_count, error_column, error_row, error_count from {LEDGER} order by batch_id")


def test_good_csv_loads_with_types_and_lineage(landing: Path, con) -> None:
    write(landing, "billing/plans/2024-01.csv", PLANS_HEADER
          + "p1,platform,Growth,month,1,4900,USD,false,2024-01-01T10:00:00Z\n"
          + 'p2,platform,"Pro, annual",year,1,49000,eur,true,2024-01-01T12:00:00+02:00\n'
          + "p3,platform,Free,month,1,0,usd,,2024-01-01T10:00:00\n")
    report = load_landing(con, landing)
    assert [r.status for r in report.results] == ["loaded"]
    assert rows(con, "select plan_id, plan_name, interval_count, unit_amount, currency, is_free, updated_at, "
                     "_source_file, _batch_id, _row_number from raw.billing__plans order by plan_id") == [
        ("p1", "Growth", 1, 4900, "USD", False, _ts("2024-01-01 10:00:00"), "billing/plans/2024-01.csv", 1, 1),
        # +02:00 is converted to UTC; quoted comma kept
        ("p2", "Pro, annual", 1, 49000, "eur", True, _ts("2024-01-01 10:00:00"), "billing/plans/2024-01.csv", 1, 2),
        # a timestamp without offset is UTC; an empty field is null
        ("p3", "Free", 1, 0, "usd", None, _ts("2024-01-01 10:00:00"), "billing/plans/2024-01.csv", 1, 3),
    ]
    assert ledger(con) == [(1, "billing/plans/2024-01.csv", "loaded", 3, None, None, None)]


def _ts(text: str):
    import datetime as dt

    return dt.datetime.fromisoformat(text)


def _date(text: str):
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_duplicate_delivery_is_skipped_and_changed_redelivery_is_a_new_batch(landing: Path, con) -> None:
    f = write(landing, "billing/plans/a.csv", PLANS_HEADER + "p1,platform,Growth,month,1,4900,usd,false,2024-01-01T10:00:00Z\n")
    load_landing(con, landing)
    again = load_landing(con, landing)
    assert [r.status for r in again.results] == ["skipped"]
    f.write_text(PLANS_HEADER + "p1,platform,Growth,month,1,5900,usd,false,2024-02-01T10:00:00Z\n")
    changed = load_landing(con, landing)
    assert [(r.status, r.batch_id) for r in changed.results] == [("loaded", 2)]
    # every version is kept in raw
    assert rows(con, "select unit_amount, _batch_id from raw.billing__plans order by _batch_id") == [(4900, 1), (5900, 2)]
    assert [r[2] for r in ledger(con)] == ["loaded", "loaded"]


def test_missing_required_column_quarantines_the_file_and_keeps_earlier_data(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", PLANS_HEADER + "p1,platform,Growth,month,1,4900,usd,false,2024-01-01T10:00:00Z\n")
    load_landing(con, landing)
    write(landing, "billing/plans/2.csv", "plan_id,product,plan_name,billing_interval,unit_amount,currency,updated_at\n"
                                          "p2,platform,Pro,month,9900,usd,2024-01-02T10:00:00Z\n")
    report = load_landing(con, landing)
    (q,) = report.quarantined
    assert q.relpath == "billing/plans/2.csv"
    assert q.message.startswith("missing required column(s): interval_count")
    assert rows(con, "select plan_id from raw.billing__plans") == [("p1",)]
    assert ledger(con)[-1] == (2, "billing/plans/2.csv", "quarantined", None, "interval_count", None, None)
    assert (landing / "billing/plans/2.csv").exists()  # the file stays where it is
    assert rows(con, "select path from raw.quarantine") == [("billing/plans/2.csv",)]


def test_unparseable_timestamp_names_row_column_and_count(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", PLANS_HEADER
          + "p1,platform,Growth,month,1,4900,usd,false,2024-01-01T10:00:00Z\n"
          + "p2,platform,Growth,month,1,4900,usd,false,yesterday\n"
          + "p3,platform,Growth,month,1,4900,usd,false,2024-13-45T10:00:00Z\n")
    (q,) = load_landing(con, landing).quarantined
    assert q.message == ("row 2 (line 3), column updated_at: the value is not an ISO-8601 timestamp; "
                         "2 row(s) bad in this column")
    assert (q.column, q.row, q.bad_rows) == ("updated_at", 2, 2)
    # the raw table exists from the first load (every entity is optional), and nothing is in it
    assert rows(con, "select count(*) from raw.billing__plans") == [(0,)]


def test_non_integer_money_is_rejected_not_rounded(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", PLANS_HEADER + "p1,platform,Growth,month,1,49.99,usd,false,2024-01-01T10:00:00Z\n")
    (q,) = load_landing(con, landing).quarantined
    assert q.message == "row 1 (line 2), column unit_amount: the value is not an amount in minor units (a whole number of cents under 10^15); 1 row(s) bad in this column"


def test_empty_file_is_quarantined_and_header_only_file_loads_zero_rows(landing: Path, con) -> None:
    write(landing, "billing/plans/a_empty.csv", "")
    write(landing, "billing/plans/b_header.csv", PLANS_HEADER)
    report = load_landing(con, landing)
    assert [(r.relpath, r.status, r.rows) for r in report.results] == [
        ("billing/plans/a_empty.csv", "quarantined", 0), ("billing/plans/b_header.csv", "loaded", 0)]
    assert report.quarantined[0].message == "empty file: no header row"
    assert rows(con, "select count(*) from raw.billing__plans") == [(0,)]


def test_gzip_csv_and_jsonl_and_gzip_jsonl(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv.gz", gzip.compress((PLANS_HEADER + "p1,platform,G,month,1,100,usd,false,2024-01-01T00:00:00Z\n").encode()))
    lines = [{"invoice_line_id": "l1", "invoice_id": "i1", "line_type": "subscription", "amount": 100, "currency": "usd"},
             {"invoice_line_id": "l2", "invoice_id": "i1", "line_type": "one_time", "amount": -5, "currency": "EUR", "period_start": None}]
    write(landing, "billing/invoice_lines/1.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    write(landing, "billing/invoice_lines/2.jsonl.gz", gzip.compress((json.dumps({**lines[0], "invoice_line_id": "l3"}) + "\n").encode()))
    report = load_landing(con, landing)
    assert [r.status for r in report.results] == ["loaded", "loaded", "loaded"]
    assert rows(con, "select plan_id, unit_amount from raw.billing__plans") == [("p1", 100)]
    assert rows(con, "select invoice_line_id, amount, currency, _batch_id from raw.billing__invoice_lines order by 1") == [
        ("l1", 100, "usd", 1), ("l2", -5, "EUR", 1), ("l3", 100, "usd", 2)]


def test_malformed_json_line_is_quarantined(landing: Path, con) -> None:
    write(landing, "billing/invoice_lines/1.jsonl", '{"invoice_line_id": "l1", "invoice_id": "i", "line_type": "usage", "amount": 1, "currency": "usd"}\n[1, 2]\n')
    (q,) = load_landing(con, landing).quarantined
    assert q.message == "malformed JSON Lines: line 2 is not a JSON object"


def test_parquet_with_native_types(landing: Path, con) -> None:
    table = pa.table({
        "event_id": ["e1", "e2"], "user_id": ["u1", "u2"], "account_id": ["a1", "a1"], "event_name": ["x", "y"],
        "feature": ["reports", None],
        "occurred_at": pa.array([1704103200, 1704106800], pa.timestamp("s", tz="UTC")),
    })
    p = landing / "usage/events/2024-01-01.parquet"
    p.parent.mkdir(parents=True)
    pq.write_table(table, p)
    report = load_landing(con, landing)
    assert [r.rows for r in report.loaded] == [2]
    assert rows(con, "select event_id, feature, occurred_at, _row_number from raw.usage__events order by 1") == [
        ("e1", "reports", _ts("2024-01-01 10:00:00"), 1), ("e2", None, _ts("2024-01-01 11:00:00"), 2)]


def test_parquet_with_null_in_required_column_is_quarantined(landing: Path, con) -> None:
    table = pa.table({"event_id": ["e1", None], "user_id": ["u1", "u2"], "account_id": ["a1", "a1"],
                      "event_name": ["x", "y"], "occurred_at": pa.array([1, 2], pa.timestamp("s"))})
    p = landing / "usage/events/1.parquet"
    p.parent.mkdir(parents=True)
    pq.write_table(table, p)
    (q,) = load_landing(con, landing).quarantined
    assert q.message == "row 2, column event_id: the value is required but empty; 1 row(s) bad in this column"


def test_extra_column_is_kept_and_reported(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", "plan_id,product,plan_name,billing_interval,interval_count,unit_amount,currency,updated_at,tier_color\n"
                                          "p1,platform,G,month,1,100,usd,2024-01-01T00:00:00Z,blue\n")
    (r,) = load_landing(con, landing).loaded
    assert r.warnings == ["schema drift: extra column(s) tier_color kept in raw"]
    assert rows(con, "select plan_id, tier_color from raw.billing__plans") == [("p1", "blue")]
    assert rows(con, f"select warnings from {LEDGER}") == [('["schema drift: extra column(s) tier_color kept in raw"]',)]


def test_unknown_enum_value_is_a_warning_not_a_rejection(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", PLANS_HEADER + "p1,platform,G,fortnight,1,100,usd,false,2024-01-01T00:00:00Z\n")
    (r,) = load_landing(con, landing).loaded
    assert r.warnings == ["column billing_interval: unknown value(s) 'fortnight' kept"]


def test_non_ascii_text_survives(landing: Path, con) -> None:
    write(landing, "crm/accounts/1.csv", "account_id,name,country,created_at,updated_at\n"
                                         "a1,Zoë Café Müller & Søn — 東京,DK,2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n")
    load_landing(con, landing)
    assert rows(con, "select name from raw.crm__accounts") == [("Zoë Café Müller & Søn — 東京",)]


def test_unknown_folders_are_reported_not_loaded(landing: Path, con) -> None:
    write(landing, "crm/widgets/1.csv", "a\n1\n")
    write(landing, "billing/plans/notes.txt", "hello")
    report = load_landing(con, landing)
    assert report.results == []
    assert report.warnings == [
        "billing/plans/notes.txt: unsupported file type (expected one of .csv, .csv.gz, .parquet, .jsonl, .jsonl.gz); ignored",
        "crm/widgets/1.csv: not under a known <source>/<entity>/ folder; ignored",
    ]


def test_crash_in_the_middle_of_a_file_leaves_no_rows_and_no_ledger_entry(landing: Path, con) -> None:
    write(landing, "billing/plans/1.csv", PLANS_HEADER + "p1,platform,G,month,1,100,usd,false,2024-01-01T00:00:00Z\n")
    load_landing(con, landing)
    write(landing, "billing/plans/2.csv", PLANS_HEADER + "p2,platform,G,month,1,200,usd,false,2024-01-02T00:00:00Z\n")

    def crash(_file) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        load_landing(con, landing, before_commit=crash)
    assert rows(con, "select plan_id from raw.billing__plans") == [("p1",)]
    assert [r[1] for r in ledger(con)] == ["billing/plans/1.csv"]
    # the next run loads the file normally
    report = load_landing(con, landing)
    assert [(r.relpath, r.status) for r in report.results] == [("billing/plans/1.csv", "skipped"), ("billing/plans/2.csv", "loaded")]


def test_corrected_redelivery_of_a_quarantined_file_loads(landing: Path, con) -> None:
    f = write(landing, "billing/plans/1.csv", PLANS_HEADER + "p1,platform,G,month,one,100,usd,false,2024-01-01T00:00:00Z\n")
    assert [r.status for r in load_landing(con, landing).results] == ["quarantined"]
    assert [r.status for r in load_landing(con, landing).results] == ["skipped"]  # same broken content
    f.write_text(PLANS_HEADER + "p1,platform,G,month,1,100,usd,false,2024-01-01T00:00:00Z\n")
    assert [r.status for r in load_landing(con, landing).results] == ["loaded"]
    assert rows(con, "select count(*) from raw.quarantine") == [(0,)]


def test_row_numbers_follow_the_file_in_a_large_file(landing: Path, con) -> None:
    body = "".join(f"p{i},platform,G,month,1,{'x' if i == 43_210 else 100},usd,false,2024-01-01T00:00:00Z\n"
                   for i in range(1, 60_001))
    write(landing, "billing/plans/big.csv", PLANS_HEADER + body)
    (q,) = load_landing(con, landing).quarantined
    assert (q.row, q.column, q.bad_rows) == (43_210, "unit_amount", 1)


def _events(landing: Path, name: str, ids: list[str | None]) -> None:
    table = pa.table({"event_id": ids, "user_id": ["u"] * len(ids), "account_id": ["a1"] * len(ids),
                      "event_name": ["x"] * len(ids),
                      "occurred_at": pa.array([1704103200] * len(ids), pa.timestamp("s", tz="UTC"))})
    p = landing / "usage/events" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, p)


def test_clean_parquet_files_load_together_each_with_its_own_batch(landing: Path, con) -> None:
    _events(landing, "d1.parquet", ["e1", "e2"])
    _events(landing, "d2.parquet", ["e3", None])  # a null id: this one file is quarantined
    _events(landing, "d3.parquet", ["e4"])
    report = load_landing(con, landing)
    assert [(r.relpath, r.status, r.batch_id, r.rows) for r in report.results] == [
        ("usage/events/d1.parquet", "loaded", 1, 2),
        ("usage/events/d2.parquet", "quarantined", 2, 0),
        ("usage/events/d3.parquet", "loaded", 3, 1),
    ]
    assert rows(con, "select event_id, _source_file, _batch_id, _row_number from raw.usage__events order by 1") == [
        ("e1", "usage/events/d1.parquet", 1, 1), ("e2", "usage/events/d1.parquet", 1, 2),
        ("e4", "usage/events/d3.parquet", 3, 1)]
    assert [r[:4] for r in ledger(con)] == [(1, "usage/events/d1.parquet", "loaded", 2),
                                            (2, "usage/events/d2.parquet", "quarantined", None),
                                            (3, "usage/events/d3.parquet", "loaded", 1)]


def test_crash_while_loading_parquet_files_together_leaves_nothing(landing: Path, con) -> None:
    _events(landing, "d1.parquet", ["e1"])
    _events(landing, "d2.parquet", ["e2"])

    def crash(f) -> None:
        if f.relpath.endswith("d2.parquet"):
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        load_landing(con, landing, before_commit=crash)
    assert rows(con, f"select count(*) from {LEDGER}") == [(0,)]
    assert rows(con, "select count(*) from raw.usage__events") == [(0,)]
    assert [r.status for r in load_landing(con, landing).results] == ["loaded", "loaded"]
    assert rows(con, "select event_id, _batch_id from raw.usage__events order by 1") == [("e1", 1), ("e2", 2)]


def test_a_settled_file_seen_before_is_not_read_again_but_a_rewritten_one_is(landing: Path, con, monkeypatch) -> None:
    import os

    from laer.ingest.files import LandingFile

    f = write(landing, "billing/plans/a.csv", PLANS_HEADER + "p1,platform,Growth,month,1,4900,usd,false,2024-01-01T10:00:00Z\n")
    hour_ago = f.stat().st_mtime_ns - 3600 * 10**9
    os.utime(f, ns=(hour_ago, hour_ago))
    load_landing(con, landing)
    real_hash = LandingFile.content_hash
    hashed: list[str] = []

    def counting_hash(self: LandingFile) -> str:
        hashed.append(self.relpath)
        return real_hash(self)

    monkeypatch.setattr(LandingFile, "content_hash", counting_hash)
    again = load_landing(con, landing)
    assert [r.status for r in again.results] == ["skipped"] and hashed == []  # size and time matched: not read
    # rewritten with the same size: its modification time changed, so it is read and judged by content
    f.write_text(PLANS_HEADER + "p1,platform,Growth,month,1,5900,usd,false,2024-02-01T10:00:00Z\n")
    os.utime(f, ns=(hour_ago + 10**9, hour_ago + 10**9))
    changed = load_landing(con, landing)
    assert hashed == ["billing/plans/a.csv"]
    assert [(r.status, r.batch_id) for r in changed.results] == [("loaded", 2)]


def test_csv_files_load_together_and_a_bad_one_is_quarantined_alone(landing: Path, con) -> None:
    good = "p1,platform,Growth,month,1,4900,usd,false,2024-01-01T10:00:00Z\np2,platform,Pro,year,1,49000,usd,false,2024-01-01T10:00:00Z\n"
    write(landing, "billing/plans/2024-01.csv", PLANS_HEADER + good)
    write(landing, "billing/plans/2024-02.csv", PLANS_HEADER + "p3,platform,Max,month,1,9900,usd,false,2024-02-01T10:00:00Z\n"
          + "p4,platform,Bad,month,1,12.5,usd,false,2024-02-01T10:00:00Z\n")
    write(landing, "billing/plans/2024-03.csv", PLANS_HEADER)  # header only: loads zero rows
    write(landing, "billing/plans/2024-04.csv", PLANS_HEADER + "p5,platform,Team,month,1,1900,gbp,false,2024-04-01T10:00:00Z\n")
    report = load_landing(con, landing)
    assert [(r.relpath, r.status, r.batch_id) for r in report.results] == [
        ("billing/plans/2024-01.csv", "loaded", 1), ("billing/plans/2024-03.csv", "loaded", 3),
        ("billing/plans/2024-04.csv", "loaded", 4), ("billing/plans/2024-02.csv", "quarantined", 2)]
    # the bad file names its row and column, and nothing of it (not even its good first row) is loaded
    assert ledger(con) == [(1, "billing/plans/2024-01.csv", "loaded", 2, None, None, None),
                           (2, "billing/plans/2024-02.csv", "quarantined", None, "unit_amount", 2, 1),
                           (3, "billing/plans/2024-03.csv", "loaded", 0, None, None, None),
                           (4, "billing/plans/2024-04.csv", "loaded", 1, None, None, None)]
    # lineage per file: row numbers count each file's own lines
    assert rows(con, "select plan_id, _source_file, _batch_id, _row_number from raw.billing__plans order by plan_id") == [
        ("p1", "billing/plans/2024-01.csv", 1, 1), ("p2", "billing/plans/2024-01.csv", 1, 2),
        ("p5", "billing/plans/2024-04.csv", 4, 1)]


def test_json_lines_files_load_together_and_odd_ones_alone(landing: Path, con) -> None:
    def line(line_id: str, amount: object = 100, **extra: object) -> str:
        return json.dumps({"invoice_line_id": line_id, "invoice_id": "i1", "line_type": "usage", "amount": amount,
                           "currency": "usd", **extra}) + "\n"

    write(landing, "billing/invoice_lines/a.jsonl", line("l1") + line("l2", 250))
    write(landing, "billing/invoice_lines/b.jsonl", line("l3") + line("l4", "1.5"))  # bad value in row 2
    write(landing, "billing/invoice_lines/c.jsonl", line("l5", note="late"))  # other keys: its own drift warning
    write(landing, "billing/invoice_lines/d.jsonl", line("l6") + "[1, 2]\n")  # not an object
    write(landing, "billing/invoice_lines/e.jsonl", "")  # no records
    write(landing, "billing/invoice_lines/f.jsonl", line("l7", -5) + line("l8"))
    report = load_landing(con, landing)
    # the files with the first file's keys load in one transaction; each other file alone
    assert [(r.relpath.rsplit("/", 1)[1], r.status, r.batch_id, r.warnings) for r in report.results] == [
        ("a.jsonl", "loaded", 1, []), ("f.jsonl", "loaded", 6, []),
        ("b.jsonl", "quarantined", 2, []), ("c.jsonl", "loaded", 3, ["schema drift: extra column(s) note kept in raw"]),
        ("d.jsonl", "quarantined", 4, []), ("e.jsonl", "quarantined", 5, [])]
    assert [q.message for q in report.quarantined] == [
        "row 2, column amount: the value is not an amount in minor units (a whole number of cents under 10^15); "
        "1 row(s) bad in this column",
        "malformed JSON Lines: line 2 is not a JSON object", "empty file: no records"]
    assert ledger(con) == [(1, "billing/invoice_lines/a.jsonl", "loaded", 2, None, None, None),
                           (2, "billing/invoice_lines/b.jsonl", "quarantined", None, "amount", 2, 1),
                           (3, "billing/invoice_lines/c.jsonl", "loaded", 1, None, None, None),
                           (4, "billing/invoice_lines/d.jsonl", "quarantined", None, None, 2, 1),
                           (5, "billing/invoice_lines/e.jsonl", "quarantined", None, None, None, None),
                           (6, "billing/invoice_lines/f.jsonl", "loaded", 2, None, None, None)]
    # lineage per file: row numbers count each file's own records
    assert rows(con, "select invoice_line_id, amount, note, _batch_id, _row_number from raw.billing__invoice_lines "
                     "order by invoice_line_id") == [
        ("l1", 100, None, 1, 1), ("l2", 250, None, 1, 2), ("l5", 100, "late", 3, 1),
        ("l7", -5, None, 6, 1), ("l8", 100, None, 6, 2)]


def test_json_lines_files_loaded_together_keep_the_per_file_column_order(landing: Path, con) -> None:
    # extra keys become raw columns in order of first appearance (zeta in line 1, alpha in
    # line 2), as the per-file path adds them; both files report the drift
    base = {"invoice_line_id": "l1", "invoice_id": "i1", "line_type": "usage", "amount": 1, "currency": "usd"}
    write(landing, "billing/invoice_lines/a.jsonl", json.dumps({**base, "zeta": "z"}) + "\n"
          + json.dumps({**base, "invoice_line_id": "l2", "alpha": "a", "zeta": None}) + "\n")
    write(landing, "billing/invoice_lines/b.jsonl", json.dumps({**base, "invoice_line_id": "l3", "alpha": "b", "zeta": "y"}) + "\n")
    report = load_landing(con, landing)
    assert [(r.status, r.warnings) for r in report.results] == [
        ("loaded", ["schema drift: extra column(s) zeta, alpha kept in raw"])] * 2
    columns = [r[0] for r in rows(con, "select column_name from duckdb_columns() where table_name = 'billing__invoice_lines' "
                                       "order by column_index")]
    assert columns[-2:] == ["zeta", "alpha"]
    assert rows(con, "select invoice_line_id, zeta, alpha, _row_number from raw.billing__invoice_lines order by 1") == [
        ("l1", "z", None, 1), ("l2", None, "a", 2), ("l3", "y", "b", 1)]


def test_every_raw_table_of_the_contract_exists_empty_before_its_entity_delivers(landing: Path, con) -> None:
    from laer.contract import ENTITIES

    write(landing, "crm/users/staff.csv", "user_id,email,name,role,updated_at\n"
                                         "csm_001,Ana.Silva@Company.example,Ana Silva,csm,2024-01-01T00:00:00Z\n")
    load_landing(con, landing)
    counts = {e.table: rows(con, f"select count(*) from raw.{e.table}")[0][0] for e in ENTITIES}
    assert counts == {e.table: (1 if e.table == "crm__users" else 0) for e in ENTITIES}
    assert rows(con, "select user_id, email, role from raw.crm__users") == [
        ("csm_001", "Ana.Silva@Company.example", "csm")]


ACTIVITIES = "activity_id,account_id,type,occurred_at\n"
GOOD_ROW = "act_ok,acc_1,call,2024-01-01T00:00:00Z\n"
BAD_FILES = {
    "unbalanced quote": ("crm/activities/b.csv", ACTIVITIES.encode() + b'"act_q,acc_1,call,2024-01-01T00:00:00Z\n',
                         'malformed csv file: line 2: a quoted field is never closed (an unbalanced " quote) and '
                         "runs to the end of the file"),
    "latin-1": ("crm/activities/b.csv", ACTIVITIES.encode() + "act_l,acc_1,caf\u00e9,2024-01-01T00:00:00Z\n".encode("latin-1"),
                "malformed csv file: line 2, byte 16 of the line is not UTF-8: the contract requires UTF-8 "
                "(was it exported as Latin-1 or Windows-1252?)"),
    "a field too many": ("crm/activities/b.csv", (ACTIVITIES + "act_f,acc_1,call,2024-01-01T00:00:00Z,extra\n").encode(),
                         "malformed csv file: line 2 has 5 field(s) where the header has 4 (a comma inside an "
                         "unquoted value?)"),
    "truncated gzip": ("crm/activities/b.csv.gz", gzip.compress((ACTIVITIES + GOOD_ROW * 50).encode())[:-30],
                       "malformed csv file: the csv.gz file is truncated: its gzip stream ends early"),
    "bad JSON on line 2": ("billing/payments/b.jsonl",
                           b'{"payment_id":"p1","customer_id":"c1","amount":1,"currency":"usd","status":"failed",'
                           b'"created_at":"2024-01-01T00:00:00Z"}\n{"payment_id": oops}\n',
                           "malformed jsonl file: line 2 is not valid JSON (Expecting value at character 16)"),
    "a column named twice": ("crm/activities/b.csv", b"activity_id,account_id,type,Type,occurred_at\n"
                                                     b"act_d,acc_1,call,meeting,2024-01-01T00:00:00Z\n",
                             "line 1 (the header) names column(s) type more than once: which one is meant is unclear"),
    "no header row": ("crm/contacts/b.csv", b"con_1,acc_1,ines.jensen89@mail.example,Ines,Jensen,CEO,"
                                            b"2024-01-01T00:00:00Z,2024-01-01T00:00:00Z\n",
                      "line 1 names none of the columns of crm/contacts (required: contact_id, account_id, "
                      "created_at, updated_at): is the header row missing?"),
    "a glob in the name": ("crm/activities/*.csv", (ACTIVITIES + "act_g,acc_1,call,2024-01-01T00:00:00Z\n").encode(),
                           "the path holds *, which the reader would expand as a file pattern: rename the file "
                           "(or folder) without them"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_quarantined_with_its_line_and_no_value_and_loses_nothing(case: str, landing: Path, con) -> None:
    write(landing, "crm/activities/a_good.csv", ACTIVITIES + GOOD_ROW)
    load_landing(con, landing)
    rel, content, reason = BAD_FILES[case]
    write(landing, rel, content)
    (q,) = load_landing(con, landing).quarantined
    assert (q.relpath, q.message) == (rel, reason)
    assert "ines" not in q.message and "@" not in q.message
    # what was loaded before is all there is, and the ledger says why the file was set aside
    assert rows(con, "select activity_id from raw.crm__activities") == [("act_ok",)]
    assert rows(con, f"select path, status, message from {LEDGER} where path = '{rel}'") == [(rel, "quarantined", reason)]


def test_symbolic_links_are_not_followed(landing: Path, con, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(ACTIVITIES + GOOD_ROW)
    (landing / "crm/activities").mkdir(parents=True)
    (landing / "crm/activities/link.csv").symlink_to(outside)
    (landing / "crm/activities/passwd.csv").symlink_to("/etc/passwd")
    report = load_landing(con, landing)
    assert report.results == []
    assert report.warnings == ["crm/activities/link.csv: a symbolic link; not followed (deliver the file itself)",
                               "crm/activities/passwd.csv: a symbolic link; not followed (deliver the file itself)"]
    assert rows(con, f"select count(*) from {LEDGER}") == [(0,)]


def test_a_file_named_like_a_pattern_does_not_read_its_siblings(landing: Path, con) -> None:
    for name in ("a.csv", "b.csv"):
        write(landing, f"crm/activities/{name}", ACTIVITIES + f"act_{name[0]},acc_1,call,2024-01-01T00:00:00Z\n")
    write(landing, "crm/activities/[ab].csv", ACTIVITIES + "act_x,acc_1,call,2024-01-01T00:00:00Z\n")
    report = load_landing(con, landing)
    assert sorted((r.relpath, r.status) for r in report.results) == [
        ("crm/activities/[ab].csv", "quarantined"), ("crm/activities/a.csv", "loaded"), ("crm/activities/b.csv", "loaded")]
    assert rows(con, "select activity_id from raw.crm__activities order by 1") == [("act_a",), ("act_b",)]


def test_money_beyond_what_the_warehouse_holds_is_rejected_at_load(landing: Path, con) -> None:
    header = "payment_id,customer_id,amount,currency,status,created_at\n"
    write(landing, "billing/payments/a.csv", header + "p1,c1,999999999999999,usd,succeeded,2024-01-01T00:00:00Z\n")
    write(landing, "billing/payments/b.csv", header + "p2,c1,9223372036854775807,usd,succeeded,2024-01-01T00:00:00Z\n")
    report = load_landing(con, landing)
    assert [(r.relpath, r.status) for r in report.results] == [("billing/payments/a.csv", "loaded"),
                                                               ("billing/payments/b.csv", "quarantined")]
    assert report.quarantined[0].message == (
        "row 1 (line 2), column amount: the value is not an amount in minor units (a whole number of cents under "
        "10^15); 1 row(s) bad in this column")
    assert rows(con, "select payment_id, amount from raw.billing__payments") == [("p1", 999999999999999)]


def test_typed_numbers_that_do_not_fit_the_contract_type_are_bad_values_not_a_failed_load(landing: Path, con) -> None:
    # JSON numbers arrive typed (DOUBLE, HUGEINT): a rate beyond decimal(18,8) and a quantity
    # beyond bigint are each one bad value of their file, like a bad text value
    write(landing, "billing/fx_rates/a.jsonl", '{"rate_date": "2024-01-01", "currency": "eur", "usd_per_unit": 1.1}\n'
          '{"rate_date": "2024-01-02", "currency": "eur", "usd_per_unit": 1e20}\n')
    write(landing, "billing/subscription_items/a.jsonl", json.dumps({
        "subscription_item_id": "i1", "subscription_id": "s1", "plan_id": "p1", "quantity": 2**70,
        "started_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}) + "\n")
    report = load_landing(con, landing)
    assert [(r.relpath, r.message) for r in report.quarantined] == [
        ("billing/fx_rates/a.jsonl", "row 2, column usd_per_unit: the value is not a decimal number; "
                                     "1 row(s) bad in this column"),
        ("billing/subscription_items/a.jsonl", "row 1, column quantity: the value is not an integer; "
                                               "1 row(s) bad in this column")]
    assert rows(con, "select count(*) from raw.billing__fx_rates") == [(0,)]


def test_a_raw_table_from_before_a_contract_column_existed_gains_it_at_the_next_load(landing: Path, con) -> None:
    # a warehouse built with the v1 contract: marketing_spend without cost_type, one row loaded
    con.execute("create schema raw")
    con.execute("create table raw.finance__marketing_spend (month date, channel varchar, amount bigint, "
                "currency varchar, _source_file varchar not null, _batch_id bigint not null, "
                "_loaded_at timestamp not null, _row_number bigint not null)")
    con.execute("insert into raw.finance__marketing_spend values ('2024-01-01', 'paid_ads', 100000, 'usd', "
                "'finance/marketing_spend/2024-01.csv', 1, '2024-02-01', 1)")
    write(landing, "finance/marketing_spend/2024-02.csv", "month,channel,amount,currency,cost_type\n"
          "2024-02-01,paid_ads,120000,usd,marketing\n2024-02-01,outbound,300000,usd,sales\n")
    report = load_landing(con, landing)
    assert [(r.relpath, r.status) for r in report.results] == [("finance/marketing_spend/2024-02.csv", "loaded")]
    assert rows(con, "select month, channel, amount, cost_type from raw.finance__marketing_spend order by month, channel") == [
        (_date("2024-01-01"), "paid_ads", 100000, None),
        (_date("2024-02-01"), "outbound", 300000, "sales"),
        (_date("2024-02-01"), "paid_ads", 120000, "marketing")]


def test_both_engines_read_the_contract_types_from_one_set_of_rules() -> None:
    from laer.contract import entity
    from laer.ingest.rules import DUCKDB, SPARK, conversion, native_conversion

    amount = entity("billing", "payments").column("amount")
    started = entity("billing", "subscription_items").column("started_at")
    assert conversion(started, "started_at", "VARCHAR", DUCKDB) == (
        "case when regexp_matches(trim(\"started_at\"), '^[0-9]{4}-[0-9]{2}-[0-9]{2}') "
        "then timezone('UTC', try_cast(trim(\"started_at\") as timestamptz)) end")
    assert conversion(started, "started_at", "string", SPARK) == (
        "case when trim(`started_at`) rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "
        "then try_cast(trim(`started_at`) as timestamp) end")
    assert conversion(amount, "amount", "BIGINT", DUCKDB) == (
        'case when abs(cast("amount" as bigint)) < 1000000000000000 then cast("amount" as bigint) end')
    assert conversion(amount, "amount", "bigint", SPARK) == (
        "case when abs(cast(`amount` as bigint)) < 1000000000000000 then cast(`amount` as bigint) end")
    # a Parquet file loads without a row-by-row check only where no value can fail
    assert native_conversion(started, "started_at", "TIMESTAMP WITH TIME ZONE", DUCKDB) == (
        "timezone('UTC', \"started_at\")")
    assert native_conversion(amount, "amount", "HUGEINT", DUCKDB) is None
    assert native_conversion(started, "started_at", "VARCHAR", DUCKDB) is None


def test_a_readers_own_message_names_the_file_by_its_landing_path(landing: Path) -> None:
    from laer.contract import entity
    from laer.ingest.files import LandingFile
    from laer.ingest.loader import malformed

    path = landing / "crm/activities/x.csv"
    f = LandingFile(path, "crm/activities/x.csv", entity("crm", "activities"), "csv", False, 1, 1)
    error = duckdb.InvalidInputException(f'Invalid Input Error: something in file "{path}" on line 9\nOriginal line: a,b')
    assert malformed(f, error) == 'malformed csv file: Invalid Input Error: something in file "crm/activities/x.csv" on line 9'


def test_a_byte_order_mark_and_windows_line_ends_are_read_as_plain_csv(landing: Path, con) -> None:
    write(landing, "crm/activities/excel.csv", b"\xef\xbb\xbf" + (ACTIVITIES + GOOD_ROW).replace("\n", "\r\n").encode()
          + b"act_2,acc_1,meeting,2024-01-02T09:30:00-05:00\r\n")
    (result,) = load_landing(con, landing).results
    assert (result.status, result.rows) == ("loaded", 2)
    # the first column is activity_id (not "\ufeffactivity_id"), no value keeps a "\r", and an
    # offset converts to UTC
    assert rows(con, "select activity_id, type, occurred_at from raw.crm__activities order by 1") == [
        ("act_2", "meeting", _ts("2024-01-02 14:30:00")), ("act_ok", "call", _ts("2024-01-01 00:00:00"))]


def test_far_future_timestamps_load_as_given_and_beyond_year_9999_are_rejected(landing: Path, con) -> None:
    # "open until 9999-12-31" is a common export convention: it loads as given (staging and
    # the marts bound every date spine by the as-of date); year 10000 is no ISO-8601 timestamp
    write(landing, "crm/activities/a.csv", ACTIVITIES + "act_f,acc_1,call,9999-12-31T23:59:59Z\n")
    write(landing, "crm/activities/b.csv", ACTIVITIES + "act_g,acc_1,call,+10000-01-01T00:00:00Z\n")
    report = load_landing(con, landing)
    assert [(r.relpath, r.status) for r in report.results] == [("crm/activities/a.csv", "loaded"),
                                                               ("crm/activities/b.csv", "quarantined")]
    assert report.quarantined[0].message == (
        "row 1 (line 2), column occurred_at: the value is not an ISO-8601 timestamp; 1 row(s) bad in this column")
    assert rows(con, "select activity_id, occurred_at from raw.crm__activities") == [
        ("act_f", _ts("9999-12-31 23:59:59"))]


def test_a_file_deleted_after_loading_keeps_its_rows_and_a_withdrawn_quarantine_leaves(landing: Path, con) -> None:
    good = write(landing, "crm/activities/a.csv", ACTIVITIES + GOOD_ROW)
    bad = write(landing, "crm/activities/b.csv", ACTIVITIES + "act_b,acc_1,call,yesterday\n")
    load_landing(con, landing)
    good.unlink()
    bad.unlink()
    assert load_landing(con, landing).results == []
    # the loaded file's rows stay (landing may be a drop folder that is emptied); the
    # quarantined one is withdrawn: out of the quarantine, and of dq_quarantined_files
    assert rows(con, "select activity_id from raw.crm__activities") == [("act_ok",)]
    assert ledger(con) == [(1, "crm/activities/a.csv", "loaded", 1, None, None, None),
                           (2, "crm/activities/b.csv", "quarantined", None, "occurred_at", 1, 1),
                           (3, "crm/activities/b.csv", "withdrawn", None, None, None, None)]
    assert rows(con, "select count(*) from raw.quarantine") == [(0,)]
    assert load_landing(con, landing).results == []  # withdrawn once
    # the same bad file delivered again is judged again: quarantined anew
    write(landing, "crm/activities/b.csv", ACTIVITIES + "act_b,acc_1,call,yesterday\n")
    (again,) = load_landing(con, landing).results
    assert (again.status, again.batch_id) == ("quarantined", 4)
    assert rows(con, "select path, batch_id from raw.quarantine") == [("crm/activities/b.csv", 4)]


def test_files_in_sub_folders_of_an_entity_load_in_order_of_their_whole_path(landing: Path, con) -> None:
    # date-partitioned exports: usage/events/2024/01/31/…, crm/activities/2024-02/…
    write(landing, "crm/activities/2024-02/b.csv", ACTIVITIES + "act_feb,acc_1,call,2024-02-01T00:00:00Z\n")
    write(landing, "crm/activities/2024-01/day-31/a.csv", ACTIVITIES + "act_jan,acc_1,call,2024-01-31T00:00:00Z\n")
    write(landing, "crm/activities/top.csv", ACTIVITIES + GOOD_ROW)
    write(landing, "crm/2024/activities.csv", ACTIVITIES + GOOD_ROW)  # no entity folder: ignored
    report = load_landing(con, landing)
    assert [(r.relpath, r.status, r.batch_id) for r in report.results] == [
        ("crm/activities/2024-01/day-31/a.csv", "loaded", 1), ("crm/activities/2024-02/b.csv", "loaded", 2),
        ("crm/activities/top.csv", "loaded", 3)]
    assert report.warnings == ["crm/2024/activities.csv: not under a known <source>/<entity>/ folder; ignored"]
    assert rows(con, "select activity_id, _source_file from raw.crm__activities order by _batch_id") == [
        ("act_jan", "crm/activities/2024-01/day-31/a.csv"), ("act_feb", "crm/activities/2024-02/b.csv"),
        ("act_ok", "crm/activities/top.csv")]
