"""The account-day marts are incremental: a warm run rebuilds what changed and equals a full rebuild.

Timeline of one small company: a cold build the day before the last, a warm build of
the last day, then a same-day correction run with a late event (40 days back) and a
back-dated end of a subscription item. After each warm run every mart equals a full
rebuild from the same files; the scope of the correction run is exactly the two
accounts it touched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from laer.generate import CompanyConfig, generate
from laer.ingest.loader import load_landing
from laer.paths import Warehouse
from laer.project import PROJECT_DIR, dbt_executable, published_marts
from laer.publish import publish_marts
from tests.conftest import copy_project

COMPANY = CompanyConfig(customers=150, months=8, seed=3, start=dt.date(2024, 1, 1))
LAST = COMPANY.end_date
LATE_EVENT_DATE = LAST - dt.timedelta(days=40)
ITEM_ENDED = dt.date(2024, 6, 15)
ACCOUNT_DAY_MARTS = tuple(m for m, declared in published_marts().items() if declared.day_column)


def build(warehouse: Path, landing: Path, as_of: dt.date, logs: Path, *extra: str,
          project: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    """Load new files, then `dbt build` the models (not the data tests) for one as-of date."""
    warehouse.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        load_landing(con, landing)
    return dbt(warehouse, as_of, logs, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
               *extra, project=project)


def dbt(warehouse: Path, as_of: dt.date, logs: Path, *args: str,
        project: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DBT_PROFILES_DIR": str(project), "LAER_DUCKDB_PATH": str(warehouse / "warehouse.duckdb")}
    return subprocess.run(
        [dbt_executable(), *args, "--vars", f"{{as_of: '{as_of}'}}", "--target-path", str(logs / "target"),
         "--log-path", str(logs)],
        cwd=project, env=env, capture_output=True, text=True)


def must_build(*args: object) -> None:
    proc = build(*args)  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stdout[-4000:]


def publish(warehouse: Path, as_of: dt.date) -> None:
    publish_marts(Warehouse(warehouse), as_of=as_of.isoformat(), run_id="test-run", checks={})


def marts_differ(a: Path, b: Path, schema_a: str = "marts", schema_b: str = "marts") -> dict[str, int]:
    """Rows in one database's marts but not the other's (either way), per mart."""
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        diff = {}
        for mart, declared in published_marts().items():
            # every column but those saying when files were loaded (two builds load at other times)
            ignored = declared.load_time_columns
            cols = f"* exclude ({', '.join(ignored)})" if ignored else "*"
            q = f"select count(*) from (select {cols} from {{}} except all select {cols} from {{}})"
            n = sum(con.execute(q.format(f"{x}.{sx}.{mart}", f"{y}.{sy}.{mart}")).fetchone()[0]  # type: ignore[index]
                    for x, sx, y, sy in (("a", schema_a, "b", schema_b), ("b", schema_b, "a", schema_a)))
            if n:
                diff[mart] = n
        return diff


def scope(warehouse: Path) -> dict[str, tuple[dt.date, bool]]:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return {a: (r, f) for a, r, f in con.execute(
            "select account_id, rebuild_from, is_full_rebuild from intermediate.int_account_daily_scope").fetchall()}


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("incremental")
    landing, held = root / "landing", root / "held"
    generate(COMPANY, landing)
    for f in sorted(landing.rglob(f"*{LAST.isoformat()}*")):
        target = held / f.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(f, target)
    warm = root / "warm"
    must_build(warm, landing, LAST - dt.timedelta(days=1), root / "logs1")
    publish(warm, LAST - dt.timedelta(days=1))
    shutil.copytree(held, landing, dirs_exist_ok=True)
    must_build(warm, landing, LAST, root / "logs2")
    publish(warm, LAST)
    after_last_day = scope(warm)
    full_last_day = root / "full_last_day"
    must_build(full_last_day, landing, LAST, root / "logs3")
    diff_last_day = marts_differ(warm / "warehouse.duckdb", full_last_day / "warehouse.duckdb")

    # the correction: a late event of a quiet account, and an item ended back in June
    with duckdb.connect(str(warm / "warehouse.duckdb"), read_only=True) as con:
        # an account active on the late event's day with a user active neither in the 30
        # days up to it nor in the 29 after: the late event is that user's, so it raises the
        # account's rolling active users on exactly 30 days
        quiet_user = con.execute("""
            select u.account_id, min(u.user_id)
            from staging.stg_usage__users as u
            where exists (
                select 1 from staging.stg_usage__events as e
                where e.account_id = u.account_id and e.event_date = ?)
              and not exists (
                select 1 from staging.stg_usage__events as e
                where e.account_id = u.account_id and e.user_id = u.user_id and e.event_date between ? and ?)
            group by u.account_id order by u.account_id limit 1""",
            [LATE_EVENT_DATE, LATE_EVENT_DATE - dt.timedelta(days=29), LATE_EVENT_DATE + dt.timedelta(days=29)],
        ).fetchone()
        assert quiet_user
        event = con.execute("""
            select e.event_id, e.user_id, e.account_id, e.event_name, e.feature, e.occurred_at
            from staging.stg_usage__events as e
            where e.event_date = ? and e.account_id = ? order by e.event_id limit 1""",
            [LATE_EVENT_DATE, quiet_user[0]]).fetchone()
        item = con.execute("""
            select i.subscription_item_id, i.subscription_id, i.plan_id, i.quantity, i.discount_percent,
                   i.started_at, c.account_id
            from staging.stg_billing__subscription_items as i
            inner join staging.stg_billing__subscriptions as s on s.subscription_id = i.subscription_id
            inner join intermediate.int_billing__customer_accounts as c on c.customer_id = s.customer_id
            where i.ended_at is null and i.started_at < '2024-05-01' and c.account_id <> ?
            order by 1 limit 1""", [event[2]]).fetchone()  # type: ignore[index]
    assert event and item and quiet_user
    late = dt.datetime.combine(LAST, dt.time(23, 0))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({
        "event_id": ["ev_correction_1"], "user_id": [quiet_user[1]], "account_id": [event[2]],
        "event_name": [event[3]], "feature": [event[4]],
        "occurred_at": pa.array([event[5]], pa.timestamp("us")), "received_at": pa.array([late], pa.timestamp("us")),
    }), landing / f"usage/events/{LAST.isoformat()}-late.parquet")
    (landing / "billing/subscription_items/correction.csv").write_text(
        "subscription_item_id,subscription_id,plan_id,quantity,discount_percent,started_at,ended_at,updated_at\n"
        f"{item[0]},{item[1]},{item[2]},{item[3]},{float(item[4])},{item[5]:%Y-%m-%d %H:%M:%S},"
        f"{ITEM_ENDED} 12:00:00,{late:%Y-%m-%d %H:%M:%S}\n")
    must_build(warm, landing, LAST, root / "logs4")
    publish(warm, LAST)
    full = root / "full"
    must_build(full, landing, LAST, root / "logs5")
    return {"root": root, "warm": warm, "full": full, "full_last_day": full_last_day, "landing": landing,
            "after_last_day": after_last_day, "diff_last_day": diff_last_day, "after_correction": scope(warm),
            "event_account": event[2], "item_account": item[6]}


def test_the_last_day_rebuilds_one_day_per_account_and_equals_a_full_build(timeline) -> None:
    after = timeline["after_last_day"]
    new_day_only = [a for a, (r, full) in after.items() if r == LAST and not full]
    assert len(new_day_only) >= 0.8 * len(after)  # the others changed that day (payments, NPS, CDC)
    assert all(r <= LAST for r, _ in after.values())
    assert timeline["diff_last_day"] == {}


def test_a_same_day_correction_rebuilds_exactly_the_two_accounts_it_touched(timeline) -> None:
    after = timeline["after_correction"]
    assert after[timeline["event_account"]] == (LATE_EVENT_DATE, False)  # from the late event's day
    # its MRR interval now ends on the item's end day: nothing before that day changed
    assert after[timeline["item_account"]] == (ITEM_ENDED, False)
    others = {r for a, (r, _) in after.items() if a not in (timeline["event_account"], timeline["item_account"])}
    assert others == {LAST + dt.timedelta(days=1)}  # nothing else to rebuild


def test_after_the_correction_every_mart_equals_a_full_build(timeline) -> None:
    warm, full = timeline["warm"] / "warehouse.duckdb", timeline["full"] / "warehouse.duckdb"
    assert marts_differ(warm, full) == {}
    with duckdb.connect(str(warm), read_only=True) as con:
        # the correction reached the marts: the item's account lost MRR from its end day on
        mrr_before, mrr_after = con.execute("""
            select max(case when date < ? then mrr end), max(case when date = ? then mrr end)
            from marts.fct_laer_stage_daily where account_id = ?""",
            [ITEM_ENDED, ITEM_ENDED, timeline["item_account"]]).fetchone()  # type: ignore[misc]
    with duckdb.connect(str(timeline["full_last_day"] / "warehouse.duckdb"), read_only=True) as con:
        mrr_uncorrected, = con.execute("select mrr from marts.fct_laer_stage_daily where account_id = ? and date = ?",
                                       [timeline["item_account"], ITEM_ENDED]).fetchone()  # type: ignore[misc]
    assert mrr_after < mrr_uncorrected and mrr_before is not None


def test_a_mart_alone_cannot_be_fully_refreshed_from_a_partial_scope(timeline) -> None:
    root = timeline["root"]
    copy = root / "guard"
    shutil.copytree(timeline["warm"], copy)
    proc = build(copy, timeline["landing"], LAST, root / "logs6", "--full-refresh", "--select", "fct_laer_stage_daily")
    assert proc.returncode != 0
    assert "fct_laer_stage_daily would be rebuilt in full from a partial account-day scope" in proc.stdout
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        rows, = con.execute("select count(*) from marts.fct_laer_stage_daily").fetchone()  # type: ignore[misc]
    with duckdb.connect(str(timeline["full"] / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_laer_stage_daily").fetchone()[0] == rows  # type: ignore[index]


def refresh_with_edited_project(timeline, name: str, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the warm warehouse refreshed again as of the last day by a copy of the project
    with ``edits`` (file -> (shipped text, its replacement; once)); the copy's folder."""
    root = timeline["root"]
    project, copy = root / f"{name}_project", root / name
    copy_project(project)
    for relative, (shipped, edited) in edits.items():
        path = project / relative
        assert shipped in path.read_text(), relative
        path.write_text(path.read_text().replace(shipped, edited, 1))
    shutil.copytree(timeline["warm"], copy)
    proc = build(copy, timeline["landing"], LAST, root / f"{name}_logs", project=project)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return copy


def test_editing_the_health_score_macro_rebuilds_the_whole_history(timeline) -> None:
    """The chain's change signature covers the macros its models reach: a refresh after the
    health formula changed rebuilds every account from its first day, so no day keeps a
    score of the old formula (tested on a copy of the project and of the warm warehouse)."""
    copy = refresh_with_edited_project(timeline, "edited", {
        "macros/metrics/health_score.sql": ("when coalesce({{ failed_payments }}, 0) = 0 then 1.0",
                                            "when coalesce({{ failed_payments }}, 0) = 0 then 0.9")})
    assert set(scope(copy).values()) == {(dt.date(1900, 1, 1), True)}  # every account, from its first day
    query = """select count(*), count(case when failed_payments_30d = 0 and billing_component <> {} then 1 end)
               from marts.fct_account_health_daily"""
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        rows, old_formula = con.execute(query.format(0.9)).fetchone()  # type: ignore[misc]
    with duckdb.connect(str(timeline["warm"] / "warehouse.duckdb"), read_only=True) as con:
        before, _ = con.execute(query.format(1.0)).fetchone()  # type: ignore[misc]
    assert rows == before and old_formula == 0


def test_a_column_added_to_an_account_day_mart_reaches_every_row_of_an_existing_warehouse(timeline) -> None:
    """Adding a column to an incremental account-day mart (model and yml, as the README's
    extension guide says) upgrades a warehouse built before: the column is added to the
    table and the changed signature rebuilds every row with it."""
    last = "        coalesce(laer_stage = 'land' and not is_activated and date >= activation_window_closes, false) as is_stalled"
    marker = "- name: laer_stage_monthly\n"
    copy = refresh_with_edited_project(timeline, "column_added", {
        "models/marts/lifecycle/fct_laer_stage_daily.sql":
            (last, last + ",\n        cast(length(laer_stage) as integer) as stage_name_length"),
        "models/marts/lifecycle/_lifecycle__models.yml":
            (marker, "  - name: stage_name_length\n    data_type: integer\n    description: A probe column.\n" + marker)})
    with duckdb.connect(str(copy / "warehouse.duckdb"), read_only=True) as con:
        rows, wrong = con.execute("select count(*), count(*) filter (where stage_name_length is distinct from "
                                  "length(laer_stage)) from marts.fct_laer_stage_daily").fetchone()  # type: ignore[misc]
    with duckdb.connect(str(timeline["warm"] / "warehouse.duckdb"), read_only=True) as con:
        before, = con.execute("select count(*) from marts.fct_laer_stage_daily").fetchone()  # type: ignore[misc]
    assert rows == before and wrong == 0


def test_the_publish_copies_the_rebuilt_account_days_into_a_copy_of_the_last_version(timeline) -> None:
    warm = timeline["warm"]
    published = (warm / "marts.duckdb").resolve()
    info = json.loads((published.parent / "publish.json").read_text())
    assert info["account_days"] == "rebuilt rows copied"
    assert marts_differ(published, warm / "warehouse.duckdb", schema_a="main") == {}
    header = published.read_bytes()[:20]
    assert int.from_bytes(header[12:20], "little") == 64  # still the storage DuckDB 1.0+ reads
    with duckdb.connect(str(warm / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from ops.account_day_unpublished").fetchone()[0] == 0  # type: ignore[index]


def test_the_incremental_uniqueness_tests_catch_what_the_last_run_duplicated(timeline) -> None:
    root = timeline["root"]
    copy = root / "duplicates"
    shutil.copytree(timeline["warm"], copy)
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        # an event loaded long ago, again in a batch the last run read, and not listed as a
        # later delivery (what a broken dedupe would let through)
        con.execute("""
            create temp table last_batch as
            select max(_batch_id) as batch_id, min(_batch_id) as first_batch_id
            from staging.base_usage__event_redeliveries
            where _dbt_loaded_at = (select max(_dbt_loaded_at) from staging.base_usage__event_redeliveries)""")
        con.execute("""
            insert into raw.usage__events
            select * replace ((select batch_id from last_batch) as _batch_id,
                              (select max(_row_number) + 1 from raw.usage__events) as _row_number)
            from raw.usage__events
            where _batch_id < (select first_batch_id from last_batch)
            order by event_id limit 1""")
        # a day the last run rebuilt (the late event's account, from its day), twice
        con.execute("insert into marts.fct_laer_stage_daily select * from marts.fct_laer_stage_daily "
                    "where account_id = ? and date = ?", [timeline["event_account"], LAST])
        # the late event's day of daily usage, which the last run replaced, with one row twice
        con.execute("insert into intermediate.int_usage__account_daily select * from intermediate.int_usage__account_daily "
                    "where account_id = ? and activity_date = ?", [timeline["event_account"], LATE_EVENT_DATE])
    daily_usage_test = "unique_in_replaced_partitions_int_usage__account_daily_account_id__activity_date__activity_date"
    proc = dbt(copy, LAST, root / "logs7", "test", "--select", "unique_in_batches_read_last_stg_usage__events_event_id",
               "unique_account_days_fct_laer_stage_daily_", daily_usage_test)
    assert proc.returncode != 0
    assert "Failure in test unique_in_batches_read_last_stg_usage__events_event_id" in proc.stdout
    assert "Failure in test unique_account_days_fct_laer_stage_daily_" in proc.stdout
    assert f"Failure in test {daily_usage_test}" in proc.stdout
    assert proc.stdout.count("Got 1 result, configured to fail if != 0") == 3  # one duplicate each


def _backward_steps(warehouse: Path) -> int:
    """Member rows stored after a row of a later activity date (physical order, rowid)."""
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("""
            select count(*) from (
                select activity_date < lag(activity_date) over (order by rowid) as backwards
                from intermediate.int_usage__active_members_daily
            ) where backwards""").fetchone()[0]  # type: ignore[index]


def test_a_full_build_stores_the_member_rows_in_date_order_for_the_daily_date_filters(timeline) -> None:
    # the full build is sorted (cluster_rows_by); the correction run appended the late
    # event's date after the last day's rows, so the warm table has a step back
    assert _backward_steps(timeline["full"]) == 0  # type: ignore[arg-type]
    assert _backward_steps(timeline["warm"]) >= 1  # type: ignore[arg-type]


def _rolling_counts_by_day(warehouse: Path, through: dt.date) -> set[tuple[str, str, dt.date, int]]:
    """The step functions evaluated on every day they are non-zero, up to ``through``."""
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return set(con.execute("""
            select c.account_id, c.member_type, cast(d.day as date), c.distinct_members
            from intermediate.int_usage__rolling_member_counts as c,
                 range(c.valid_from, least(c.valid_to, ? + 1), interval 1 day) as d(day)
            where c.distinct_members > 0""", [through]).fetchall())


def test_the_rolling_counts_are_recomputed_from_new_activity_only_and_equal_a_full_recompute(timeline) -> None:
    tail = LAST + dt.timedelta(days=40)  # the counts after the as-of date, as members drop out
    warm = _rolling_counts_by_day(timeline["warm"], tail)  # type: ignore[arg-type]
    assert warm == _rolling_counts_by_day(timeline["full"], tail)  # type: ignore[arg-type]
    before = _rolling_counts_by_day(timeline["full_last_day"], tail)  # type: ignore[arg-type]
    account = timeline["event_account"]
    # the late event's quiet user counts from its day for 30 days, and only there
    changed = {(a, t, d) for a, t, d, _ in warm ^ before}
    assert {a for a, _, _ in changed} == {account}
    assert {d for _, t, d in changed if t == "user"} == {LATE_EVENT_DATE + dt.timedelta(days=i) for i in range(30)}
    with duckdb.connect(str(timeline["warm"] / "warehouse.duckdb"), read_only=True) as con:  # type: ignore[operator]
        recomputed = dict(con.execute("""
            select account_id, max(recomputed_from) from intermediate.int_usage__rolling_member_counts
            group by account_id""").fetchall())
    # the correction recomputed the late event's account from its day, and no other
    # (the back-dated item's account is rebuilt from June in the marts, not here)
    assert recomputed[account] == LATE_EVENT_DATE
    assert recomputed[timeline["item_account"]] != ITEM_ENDED
    assert {a for a, r in recomputed.items() if r == LATE_EVENT_DATE} == {account}



def _month_end_activity(warehouse: Path) -> tuple[set[tuple], dict[dt.date, int]]:
    """int_usage__month_end_activity's rows on the current evaluation days (what readers
    join to), and each month's usage_batch_watermark."""
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        rows = set(con.execute("""
            select a.account_id, a.month, a.eval_date, a.active_users, a.core_features_used, a.last_event_date
            from intermediate.int_usage__month_end_activity as a
            inner join intermediate.int_months as m on m.month = a.month and m.eval_date = a.eval_date""").fetchall())
        watermarks = dict(con.execute("""
            select month, max(usage_batch_watermark) from intermediate.int_usage__month_end_activity
            group by month""").fetchall())
    return rows, watermarks


def test_the_month_end_usage_recomputes_only_the_months_whose_look_back_got_events(timeline) -> None:
    warm, watermarks = _month_end_activity(timeline["warm"])  # type: ignore[arg-type]
    full, _ = _month_end_activity(timeline["full"])  # type: ignore[arg-type]
    assert warm == full and len(warm) > 100
    # the correction run (same as-of date) read one new batch, the late event's: it
    # recomputed the months whose 30-day look-back ending on their evaluation day holds
    # the late event's day, and no other
    def eval_date(month: dt.date) -> dt.date:
        month_end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        return min(month_end, LAST)
    expected = {m for m in watermarks if eval_date(m) - dt.timedelta(days=29) <= LATE_EVENT_DATE <= eval_date(m)}
    assert len(expected) in (1, 2)
    newest = max(watermarks.values())
    assert {m for m, w in watermarks.items() if w == newest} == expected


def test_a_warehouse_built_before_recomputed_from_existed_upgrades_in_its_next_run(timeline) -> None:
    # before, the rolling counts were a table without recomputed_from: the next run adds
    # the column (on_schema_change) instead of failing the refresh
    root = timeline["root"]
    old = root / "before_recomputed_from"  # type: ignore[operator]
    shutil.copytree(timeline["warm"], old)  # type: ignore[arg-type]
    with duckdb.connect(str(old / "warehouse.duckdb")) as con:
        con.execute("alter table intermediate.int_usage__rolling_member_counts drop column recomputed_from")
    must_build(old, timeline["landing"], LAST, root / "logs8")  # type: ignore[operator]
    tail = LAST + dt.timedelta(days=40)
    assert _rolling_counts_by_day(old, tail) == _rolling_counts_by_day(timeline["full"], tail)  # type: ignore[arg-type]
