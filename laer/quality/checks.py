"""Running the suites against the warehouse, plus the guards every published mart gets."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pandas as pd

from laer.quality.expectations import (
    BLOCKING,
    WARNING,
    ExpectationSpec,
    SuiteOutcome,
    SuiteSpec,
)
from laer.quality.worker import SuiteValidator

PII_NAME_PATTERN = r"(?i)(?:e_?mail|first_?name|last_?name|full_?name|phone|person_?name|contact_?name)"
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
ROW_COUNT_TOLERANCE = 0.5


def submit_suite(con: duckdb.DuckDBPyConnection, suite: SuiteSpec, as_of: str,
                 validator: SuiteValidator) -> Future[SuiteOutcome]:
    """Query one declared suite's frame and queue its validation. A query that fails fails
    every expectation of the suite."""
    try:
        frame = con.execute(suite.query(as_of)).df()
    except duckdb.Error as exc:
        failed: Future[SuiteOutcome] = Future()
        failed.set_result(_all_failed(suite, f"query failed: {str(exc).splitlines()[0]}"))
        return failed
    return validator.submit(suite, frame)


def _all_failed(suite: SuiteSpec, detail: str) -> SuiteOutcome:
    from laer.quality.expectations import ExpectationOutcome

    out = SuiteOutcome(suite.name, suite.asset)
    out.outcomes = [ExpectationOutcome(suite.name, e.label, e.severity, False, True, detail, e.why) for e in suite.expectations]
    return out


def mart_guards(con: duckdb.DuckDBPyConnection, mart: str, validator: SuiteValidator,
                previous_counts: dict[str, int] | None) -> list[SuiteOutcome]:
    """PII and anomaly guards for one mart of the ``marts`` schema; ``previous_counts`` are the
    row counts of the last publish (:func:`previous_row_counts`), None on the first one."""
    return [f.result() for f in submit_mart_guards(con, mart, validator, previous_counts)]


def submit_mart_guards(con: duckdb.DuckDBPyConnection, mart: str, validator: SuiteValidator,
                       previous_counts: dict[str, int] | None) -> list[Future[SuiteOutcome]]:
    """:func:`mart_guards`, returning once their frames are queried and validations queued."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [mart]).fetchall()
    asset = ("marts", mart)
    futures = []
    names = SuiteSpec(f"marts.{mart}.no_pii_column_names", asset, (ExpectationSpec(
        "column_values_to_not_match_regex", {"column": "column_name", "regex": PII_NAME_PATTERN}, BLOCKING,
        "PII (e-mails, names of people) never reaches marts"),))
    futures.append(validator.submit(names, pd.DataFrame({"column_name": [c[0] for c in columns]})))

    text_cols = [c[0] for c in columns if c[1].upper().startswith("VARCHAR")]
    if text_cols:
        union = " union ".join(f'select distinct cast("{c}" as varchar) as value from marts.{mart}' for c in text_cols)
        values = con.execute(f"select value from ({union}) where value is not null").df()
        emails = SuiteSpec(f"marts.{mart}.no_email_values", asset, (ExpectationSpec(
            "column_values_to_not_match_regex", {"column": "value", "regex": EMAIL_PATTERN}, BLOCKING,
            "no value in a mart may look like an e-mail address"),))
        futures.append(validator.submit(emails, values))

    previous = (previous_counts or {}).get(mart)
    if previous is not None:
        current = con.execute(f"select count(*) as row_count from marts.{mart}").df()
        anomaly = SuiteSpec(f"marts.{mart}.row_count_vs_previous_publish", asset, (ExpectationSpec(
            "column_values_to_be_between",
            {"column": "row_count", "min_value": int(previous * (1 - ROW_COUNT_TOLERANCE)),
             "max_value": int(previous * (1 + ROW_COUNT_TOLERANCE)) + 1},
            WARNING, f"row count within ±{ROW_COUNT_TOLERANCE:.0%} of the last publish ({previous} rows)"),))
        futures.append(validator.submit(anomaly, current))
    return futures


def previous_row_counts(previous_marts: Path | None, marts: Iterable[str]) -> dict[str, int]:
    """Row counts of the given marts in the last published file (one read-only connection)."""
    if previous_marts is None or not previous_marts.exists():
        return {}
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(previous_marts), read_only=True) as prev:
            for mart in marts:
                try:
                    counts[mart] = int(prev.execute(f'select count(*) from main."{mart}"').fetchone()[0])  # type: ignore[index]
                except duckdb.Error:
                    continue  # a mart the last publish did not have
    except duckdb.Error:
        return {}
    return counts
