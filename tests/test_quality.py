"""Great Expectations runner: severities, raised expectations, PII guards."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from laer.quality.checks import mart_guards, previous_row_counts, submit_suite
from laer.quality.expectations import (
    BLOCKING,
    WARNING,
    ExpectationSpec,
    SuiteSpec,
    Validator,
    load_suites,
)
from laer.quality.worker import validation_worker


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def suite(*specs: ExpectationSpec) -> SuiteSpec:
    return SuiteSpec("test.suite", ("marts", "x"), specs)


def test_passing_failing_and_warning_expectations(validator: Validator) -> None:
    frame = pd.DataFrame({"mrr": [10.0, -1.0, 3.0], "stage": ["land", "adopt", "adopt"]})
    out = validator.validate(suite(
        ExpectationSpec("column_values_to_be_between", {"column": "mrr", "min_value": 0}, BLOCKING, "never negative"),
        ExpectationSpec("column_values_to_be_in_set", {"column": "stage", "value_set": ["land", "adopt"]}, BLOCKING, "vocab"),
        ExpectationSpec("column_values_to_be_between", {"column": "mrr", "max_value": 5}, WARNING, "big"),
    ), frame)
    assert [(o.expectation, o.success, o.raised) for o in out.outcomes] == [
        ("expect_column_values_to_be_between(mrr)", False, False),
        ("expect_column_values_to_be_in_set(stage)", True, False),
        ("expect_column_values_to_be_between(mrr)", False, False),
    ]
    assert "1 unexpected" in out.outcomes[0].detail
    assert [o.expectation for o in out.blocking_failures] == ["expect_column_values_to_be_between(mrr)"]
    assert len(out.warnings) == 1
    assert not out.passed


def test_the_validation_worker_gives_the_outcomes_validated_in_process_and_fails_loudly_once_dead(
        validator: Validator, tmp_path) -> None:
    """Refreshes validate in a worker process (laer/quality/worker.py): the same outcomes as
    in-process, Data Docs written when asked, and a worker that died raises instead of
    letting a check pass."""
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    checks = suite(
        ExpectationSpec("column_values_to_be_between", {"column": "mrr", "min_value": 0}, BLOCKING, "never negative"),
        ExpectationSpec("column_values_to_be_between", {"column": "nope", "min_value": 0}, WARNING, "raises"),
    )
    frame = pd.DataFrame({"mrr": [10.0, -1.0, 3.0]})
    with validation_worker() as worker:
        remote = worker.validator(tmp_path / "docs")
        got = remote.validate(checks, frame)
        assert [(o.expectation, o.success, o.raised, o.detail) for o in got.outcomes] == [
            (o.expectation, o.success, o.raised, o.detail) for o in validator.validate(checks, frame).outcomes]
        assert [o.success for o in got.outcomes] == [False, False] and got.outcomes[1].raised
        remote.write_docs()
        assert worker.wait_for_docs() == []
        assert (tmp_path / "docs" / "index.html").exists()
        os.kill(worker.pool.submit(os.getpid).result(), signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            remote.validate(checks, frame)


def test_a_suite_whose_query_fails_fails_every_expectation_of_it(validator: Validator) -> None:
    broken = SuiteSpec("raw.x.broken", ("raw", "x"), (
        ExpectationSpec("column_values_to_not_be_null", {"column": "id"}, BLOCKING, "keys"),
        ExpectationSpec("column_values_to_be_between", {"column": "n", "min_value": 0}, WARNING, "counts"),
    ), sql="select id, n from no_such_table where day <= '{as_of}'")
    with duckdb.connect() as con:
        out = submit_suite(con, broken, "2026-01-31", validator).result()
    assert [(o.success, o.raised, o.blocks) for o in out.outcomes] == [(False, True, True), (False, True, False)]
    assert out.outcomes[0].detail.startswith("query failed: Catalog Error") and not out.passed


def test_an_expectation_that_raises_counts_as_failed(validator: Validator) -> None:
    out = validator.validate(suite(
        ExpectationSpec("column_values_to_be_between", {"column": "no_such_column", "min_value": 0}, BLOCKING, "x"),
    ), pd.DataFrame({"mrr": [1.0]}))
    (o,) = out.outcomes
    assert o.raised and not o.success and o.blocks
    assert o.detail.startswith("raised:")


def test_an_unknown_expectation_counts_as_failed(validator: Validator) -> None:
    out = validator.validate(suite(ExpectationSpec("values_to_be_lovely", {"column": "mrr"}, WARNING, "x")),
                             pd.DataFrame({"mrr": [1.0]}))
    (o,) = out.outcomes
    assert not o.success and o.raised and "unknown Great Expectations expectation" in o.detail


def test_pii_guards_catch_email_columns_and_values(validator: Validator) -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.leaky (account_id varchar, contact_email varchar)")
    con.execute("insert into marts.leaky values ('a1', 'zoe@example.com')")
    con.execute("create table marts.clean (account_id varchar, mrr double)")
    con.execute("insert into marts.clean values ('a1', 3.5)")
    leaky = mart_guards(con, "leaky", validator, None)
    assert [(s.suite, s.passed) for s in leaky] == [("marts.leaky.no_pii_column_names", False),
                                                     ("marts.leaky.no_email_values", False)]
    assert all(s.passed for s in mart_guards(con, "clean", validator, None))


def test_row_count_guard_warns_beyond_half_of_the_last_publish(validator: Validator, tmp_path) -> None:
    published = tmp_path / "marts.duckdb"
    with duckdb.connect(str(published)) as prev:
        prev.execute("create table main.fct_x as select range as n from range(10)")
    assert previous_row_counts(published, ["fct_x", "not_published_yet"]) == {"fct_x": 10}
    assert previous_row_counts(tmp_path / "missing.duckdb", ["fct_x"]) == {}
    con = duckdb.connect()
    con.execute("create schema marts")
    results = {}
    for rows in (4, 5, 15, 16):  # allowed: 5 .. 16 (±50 % of 10, the upper bound rounded up)
        con.execute(f"create or replace table marts.fct_x as select range as n from range({rows})")
        [guard] = [s for s in mart_guards(con, "fct_x", validator, {"fct_x": 10})
                   if s.suite == "marts.fct_x.row_count_vs_previous_publish"]
        [outcome] = guard.outcomes
        results[rows] = (outcome.success, outcome.severity)
    assert results == {4: (False, WARNING), 5: (True, WARNING), 15: (True, WARNING), 16: (True, WARNING)}
    con.execute("create or replace table marts.fct_x as select range as n from range(17)")
    assert not next(s for s in mart_guards(con, "fct_x", validator, {"fct_x": 10})
                if s.suite.endswith("row_count_vs_previous_publish")).outcomes[0].success


def test_every_declared_expectation_has_a_severity_and_a_reason() -> None:
    suites = load_suites()
    assert {s.asset[0] for s in suites} == {"raw", "marts"}
    for s in suites:
        for e in s.expectations:
            assert e.severity in (BLOCKING, WARNING)
            assert e.why, f"{s.name}: {e.label} has no reason"


def _freshness(con: duckdb.DuckDBPyConnection, as_of: str) -> int:
    (spec,) = [s for s in load_suites() if s.name == "raw.usage__events.freshness"]
    return int(con.execute(spec.query(as_of)).fetchone()[0])  # type: ignore[index]


def test_usage_freshness_counts_whole_days_behind_the_as_of_date_and_blocks_after_a_week(validator: Validator) -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.usage__events (event_id varchar, occurred_at timestamp)")
    # the as-of day's last second counts as that day; an event after the as-of date does not
    con.execute("insert into raw.usage__events values ('a', '2025-03-01 08:00:00'), "
                "('b', '2025-03-04 23:59:59'), ('c', '2025-03-09 00:00:00')")
    assert _freshness(con, "2025-03-04") == 0
    assert _freshness(con, "2025-03-08") == 4
    # a refresh as of a day before the first event: usage had not delivered by then, no row
    (spec,) = [s for s in load_suites() if s.name == "raw.usage__events.freshness"]
    assert con.execute(spec.query("2025-02-28")).fetchall() == []
    stale = validator.validate(spec, con.execute(spec.query("2025-03-17")).fetchdf())  # 8 days behind 03-09
    assert [(o.severity, o.success) for o in stale.outcomes] == [(WARNING, False), (BLOCKING, False)]
    fresh = validator.validate(spec, con.execute(spec.query("2025-03-11")).fetchdf())  # 2 days behind 03-09
    assert fresh.passed and not fresh.warnings
    # before usage ever delivered, freshness does not apply: no row, nothing fails
    con.execute("delete from raw.usage__events")
    never = con.execute(spec.query("2025-03-11")).fetchdf()
    assert len(never) == 0
    assert validator.validate(spec, never).passed


def test_recent_events_read_only_rows_that_could_fail_and_fail_as_if_all_were_read(validator: Validator) -> None:
    (spec,) = [s for s in load_suites() if s.name == "raw.usage__events.recent"]
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.usage__events (event_id varchar, account_id varchar, occurred_at timestamp)")
    con.execute("insert into raw.usage__events values (?, ?, ?)", ["ev 0", "a1", "2025-02-20 10:00:00"])  # before the week
    rows = [("ev_1", "a1"), ("ev 2", "a1"), ("ev\u00a03", "a1"), ("\u00e9vt_4", "a2"), ("ev_5", None), ("ev_6", "a2")]
    con.executemany("insert into raw.usage__events values (?, ?, '2025-03-05 10:00:00')", rows)
    read = con.execute(spec.query("2025-03-08")).fetchdf()
    # the ids with an ASCII or a Unicode space, the non-ASCII id, the event without account
    assert set(read.event_id) == {"ev 2", "ev\u00a03", "ev_5", "\u00e9vt_4"}
    out = validator.validate(spec, read)
    (no_account, spaced) = out.outcomes
    assert (no_account.severity, no_account.success) == (BLOCKING, False)
    assert no_account.detail.startswith("1 unexpected")
    assert (spaced.severity, spaced.success) == (WARNING, False)
    assert spaced.detail == "2 unexpected, e.g. ['ev 2', 'ev\\xa03']"
    con.execute("delete from raw.usage__events where event_id in ('ev 2', 'ev\u00a03', 'ev_5')")
    clean = con.execute(spec.query("2025-03-08")).fetchdf()
    assert list(clean.event_id) == ["\u00e9vt_4"]  # read, and passes the exact regex
    assert validator.validate(spec, clean).passed


def test_the_kpi_suite_warns_when_the_as_of_months_mrr_halves_or_doubles(validator: Validator) -> None:
    (spec,) = [s for s in load_suites() if s.name == "marts.kpi_monthly"]
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.kpi_monthly (month date, mrr decimal(18, 2), nrr_ttm decimal(18, 6))")
    con.execute("insert into marts.kpi_monthly values ('2025-01-01', 100, 1.05), ('2025-02-01', 150, 1.10), "
                "('2025-03-01', 301, 1.10)")
    # February: +50 %, NRR 110 %: plausible; March: +100.7 %: a warning, never a block
    assert validator.validate(spec, con.execute(spec.query("2025-02-14")).fetchdf()).passed
    out = validator.validate(spec, con.execute(spec.query("2025-03-14")).fetchdf())
    assert [(o.expectation, o.success, o.severity) for o in out.outcomes] == [
        ("expect_column_values_to_be_between(nrr_ttm)", True, WARNING),
        ("expect_column_values_to_be_between(mrr_change_vs_previous_month)", False, WARNING),
    ]
    assert out.passed  # warnings only
