"""A refresh publishes only what passed every blocking check, atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from laer.cli import main
from tests.conftest import SMALL, copy_small, processes_in_session

AS_OF = SMALL.end_date.isoformat()


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def small(small_built: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return copy_small(small_built, tmp_path_factory.mktemp("small") / "company")


ITEMS_HEADER = "subscription_item_id,subscription_id,plan_id,quantity,discount_percent,started_at,ended_at,updated_at\n"


def deliver_item(landing: Path, name: str, row: str) -> None:
    (landing / "billing/subscription_items" / name).write_text(ITEMS_HEADER + row + "\n")


def refresh(landing: Path, warehouse: Path) -> int:
    return main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", AS_OF])


def test_blocking_failures_stop_the_publish_and_recovery_publishes(small, capsys) -> None:
    landing, warehouse = small
    published = warehouse / "marts.duckdb"
    before = sha(published)
    capsys.readouterr()

    # 1. a CHF plan with no CHF rate: the blocking dbt test names the currency and the date
    (landing / "billing/plans/zz_chf.csv").write_text(
        "plan_id,product,plan_name,billing_interval,interval_count,unit_amount,currency,is_free,updated_at\n"
        "growth-monthly-chf,platform,Growth CHF,month,1,4500,CHF,false,2024-08-01T00:00:00Z\n")
    deliver_item(landing, "zz_chf.csv", "si_chf_1,sub_0000001,growth-monthly-chf,3,0,2024-08-05T10:00:00Z,,2024-08-05T10:00:00Z")
    assert refresh(landing, warehouse) == 1
    out = capsys.readouterr().out
    assert "refresh blocked" in out
    assert "no_missing_fx_rate" in out
    assert "missing FX rate chf: no rate on or before 2024-08-05" in out
    assert sha(published) == before

    # 2. the rate arrives: the next refresh publishes, and the old version becomes last_good
    (landing / "billing/fx_rates/zz_chf.csv").write_text("rate_date,currency,usd_per_unit\n2024-08-01,CHF,1.10\n")
    assert refresh(landing, warehouse) == 0
    assert sha(published) != before
    assert sha(warehouse / "last_good" / "marts.duckdb") == before
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from main.dim_accounts").fetchone()[0] > 0

    # 3. a raw file that breaks a blocking Great Expectations expectation (negative seats)
    good = sha(published)
    capsys.readouterr()
    deliver_item(landing, "zz_negative.csv", "si_neg_1,sub_0000001,growth-monthly-usd,-4,0,2024-08-06T10:00:00Z,,2024-08-06T10:00:00Z")
    assert refresh(landing, warehouse) == 1
    out = capsys.readouterr().out
    assert "raw/billing__subscription_items · gx_billing__subscription_items" in out
    assert "expect_column_values_to_be_between(quantity)" in out
    assert sha(published) == good

    # 4. a corrected version of the record (later updated_at) clears the failure
    deliver_item(landing, "zz_negative_fix.csv", "si_neg_1,sub_0000001,growth-monthly-usd,4,0,2024-08-06T10:00:00Z,,2024-08-06T11:00:00Z")
    assert refresh(landing, warehouse) == 0
    assert sha(published) != good


def test_a_quarantined_file_is_reported_and_does_not_block(small, capsys, tmp_path: Path) -> None:
    landing, warehouse = small
    bad = landing / "crm/activities/zz_bad.csv"
    bad.write_text("activity_id,account_id,type,occurred_at\nact_x,acc_000001,call,not-a-date\n")
    try:
        code = refresh(landing, warehouse)
        out = capsys.readouterr().out
    finally:
        bad.unlink()
    assert "quarantined crm/activities/zz_bad.csv: row 1 (line 2), column occurred_at" in out
    assert code == 0  # a quarantined file never blocks by itself
    assert "published" in out


def test_readers_see_old_or_new_marts_never_an_error(tmp_path: Path) -> None:
    from laer.paths import Warehouse
    from laer.project import Mart
    from laer.publish import publish_marts

    only = {"kpi_monthly": Mart("kpi_monthly", None, ())}  # the one mart this warehouse holds
    wh = Warehouse(tmp_path / "wh")
    wh.root.mkdir()
    with duckdb.connect(str(wh.db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpi_monthly as select 1 as version, range as n from range(200000)")
    publish_marts(wh, as_of="2024-01-01", run_id="first000", checks={}, marts=only)
    seen: set[tuple[int, int]] = set()
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                with duckdb.connect(str(wh.marts_db), read_only=True) as con:
                    seen.add(con.execute("select min(version), max(version) from main.kpi_monthly").fetchone())
                    count = con.execute(f"select count(*) from read_parquet('{wh.marts_parquet}/kpi_monthly.parquet')").fetchone()[0]
                    assert count == 200000
            except Exception as exc:
                errors.append(repr(exc))

    held = duckdb.connect(str(wh.marts_db), read_only=True)  # a BI session kept open across publishes
    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for v in range(2, 8):
        with duckdb.connect(str(wh.db)) as con:
            con.execute(f"create or replace table marts.kpi_monthly as select {v} as version, range as n from range(200000)")
        publish_marts(wh, as_of="2024-01-01", run_id=f"run{v:05d}", checks={}, marts=only)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert seen <= {(v, v) for v in range(1, 8)} and len(seen) >= 2
    assert held.execute("select min(version), max(version) from main.kpi_monthly").fetchone() == (1, 1)
    held.close()
    with duckdb.connect(str(wh.marts_db), read_only=True) as con:
        assert con.execute("select max(version) from main.kpi_monthly").fetchone()[0] == 7
    assert sorted(p.name for p in wh.publishes.iterdir()) == sorted({(wh.root / "current").resolve().name,
                                                                     (wh.root / "last_good").resolve().name})


def test_sigkill_during_dbt_build_keeps_published_marts_and_the_next_refresh_succeeds(small, tmp_path: Path) -> None:
    landing, warehouse = small
    assert refresh(landing, warehouse) == 0
    published = warehouse / "marts.duckdb"
    before = sha(published)
    (landing / "crm/activities/zz_new.csv").write_text("activity_id,account_id,type,occurred_at\nact_new,acc_000001,call,2024-08-20T10:00:00Z\n")
    proc = subprocess.Popen([sys.executable, "-m", "laer.cli", "refresh", "--landing", str(landing),
                             "--warehouse", str(warehouse), "--as-of", AS_OF],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    killed_during_dbt = False
    while time.time() < deadline and proc.poll() is None:
        if any("dbt build " in cmd for _, cmd in processes_in_session(proc.pid)):
            time.sleep(1.0)  # well inside the build
            os.killpg(proc.pid, signal.SIGKILL)
            killed_during_dbt = True
            break
        time.sleep(0.2)
    proc.wait(timeout=30)
    assert killed_during_dbt, "dbt build was never seen running"
    assert sha(published) == before
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from main.kpi_monthly").fetchone()[0] > 0
    assert refresh(landing, warehouse) == 0
    assert sha(published) != before


def test_late_and_redelivered_events_update_exactly_their_day(small) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    landing, warehouse = small
    db = warehouse / "warehouse.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        old = con.execute("""select event_id, user_id, account_id, event_name, feature, occurred_at
                             from staging.stg_usage__events where event_date = date '2024-03-05'
                             order by event_id limit 1""").fetchone()
        account = old[2]
        before = con.execute("select events from intermediate.int_usage__account_daily "
                             "where account_id = ? and activity_date = date '2024-03-05'", [account]).fetchone()[0]
        untouched = con.execute("select sum(events) from intermediate.int_usage__account_daily "
                                "where activity_date <> date '2024-03-05'").fetchone()[0]
    occurred = pa.array([old[5], old[5]], pa.timestamp("us"))
    pq.write_table(pa.table({
        "event_id": [old[0], "ev_late_1"],  # a re-delivery of an existing event, and a late new one
        "user_id": [old[1], old[1]], "account_id": [account, account], "event_name": [old[3], old[3]],
        "feature": [old[4], old[4]], "occurred_at": occurred,
        "received_at": pa.array([dt.datetime(2024, 8, 30)] * 2, pa.timestamp("us")),
    }), landing / "usage/events/2024-08-30-late.parquet")
    assert refresh(landing, warehouse) == 0
    with duckdb.connect(str(db), read_only=True) as con:
        after = con.execute("select events from intermediate.int_usage__account_daily "
                            "where account_id = ? and activity_date = date '2024-03-05'", [account]).fetchone()[0]
        assert con.execute("select sum(events) from intermediate.int_usage__account_daily "
                           "where activity_date <> date '2024-03-05'").fetchone()[0] == untouched
    assert after == before + 1  # 163 days late, still counted; the duplicate is not


def _dbt_events(warehouse: Path) -> set[str]:
    """Names of the events dbt logged in the warehouse's last dbt invocation."""
    target = warehouse / "dbt_target"
    invocation = json.loads((target / "run_results.json").read_text())["metadata"]["invocation_id"]
    names: set[str] = set()
    for log in target.glob("dbt.log*"):
        for line in log.read_text().splitlines():
            if invocation in line and line.startswith("{"):
                names.add(json.loads(line)["info"]["name"])
    return names


def test_the_next_days_refresh_reuses_dbts_partial_parse_and_builds_that_day(small, monkeypatch) -> None:
    landing, warehouse = small
    # refreshes so far logged dbt's info events as text: results, no SQL statements
    log = (warehouse / "dbt_target" / "dbt.log").read_text()
    assert "Completed successfully" in log and "Using duckdb connection" not in log and '{"info"' not in log
    # the environment overrides that: this refresh logs every debug event as JSON
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")
    monkeypatch.setenv("DBT_LOG_FORMAT_FILE", "json")
    next_day = (dt.date.fromisoformat(AS_OF) + dt.timedelta(days=1)).isoformat()
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", next_day]) == 0
    events = _dbt_events(warehouse)
    # a new date is no reason to parse the project again: no CLI vars, the same profile
    assert "PartialParsingEnabled" in events and "UnableToPartialParse" not in events
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        assert con.execute("select as_of from main._publish_info").fetchone()[0] == next_day
        assert str(con.execute("select max(date) from main.fct_laer_stage_daily").fetchone()[0]) == next_day
        assert str(con.execute("select max(month) from main.kpi_monthly").fetchone()[0]) == next_day[:8] + "01"
