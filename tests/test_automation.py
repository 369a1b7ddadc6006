"""What runs by itself: the daily schedule (the last complete day's partition), the
landing sensor (new deliveries only, once settled), and backfills of daily partitions."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from laer.cli import main
from orchestration.calendar import RefreshCalendar
from orchestration.settings import LaerSettings
from tests.conftest import SMALL, copy_small

UTC = dt.UTC


def test_the_schedule_requests_the_last_complete_days_partition_once() -> None:
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("daily_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    for tick, day in ((dt.datetime(2026, 12, 7, 6, 0, tzinfo=UTC), "2026-12-06"),
                      (dt.datetime(2027, 1, 1, 6, 0, tzinfo=UTC), "2026-12-31"),
                      (dt.datetime(2028, 3, 1, 6, 0, tzinfo=UTC), "2028-02-29")):
        with DagsterInstance.ephemeral() as instance:
            (request,) = schedule.evaluate_tick(build_schedule_context(
                instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def())).run_requests
        assert (request.partition_key, request.run_key) == (day, day)
    assert defs.resolve_job_def("refresh").partitions_def.has_partition_key("2026-12-06")  # type: ignore[union-attr]


def test_the_company_day_follows_its_time_zone() -> None:
    tokyo, la = RefreshCalendar(timezone="Asia/Tokyo"), RefreshCalendar(timezone="America/Los_Angeles")
    at = dt.datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # 12:00 on the 7th in Tokyo, 19:00 on the 6th in LA
    assert (tokyo.last_complete_day(at), la.last_complete_day(at)) == ("2026-12-06", "2026-12-05")
    assert (tokyo.today(at), la.today(at)) == ("2026-12-07", "2026-12-06")
    assert la.why_not_a_day("2026-12-07", at) == (
        "2026-12-07 is after today (2026-12-06 in America/Los_Angeles): there is no data for it yet")
    assert la.why_not_a_day("2019-12-31", at) == (
        "2019-12-31 is before the first day the refresh computes (LAER_FIRST_DAY=2020-01-01); "
        "set LAER_FIRST_DAY to an earlier day")
    assert la.why_not_a_day("2026-12-06", at) is None


def test_the_shipped_definitions_read_the_company_time_zone_and_schedule(tmp_path: Path) -> None:
    probe = ("import datetime as dt\n"
             "from dagster import DagsterInstance, build_schedule_context\n"
             "from orchestration.definitions import defs\n"
             "s = defs.resolve_schedule_def('daily_refresh')\n"
             "tick = dt.datetime(2026, 12, 7, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))\n"
             "with DagsterInstance.ephemeral() as i:\n"
             "    c = build_schedule_context(i, scheduled_execution_time=tick, repository_def=defs.get_repository_def())\n"
             "    (r,) = s.evaluate_tick(c).run_requests\n"
             "p = defs.resolve_job_def('refresh').partitions_def\n"
             "print(s.cron_schedule, s.execution_timezone, r.partition_key, p.timezone, p.get_first_partition_key())\n")
    env = {**os.environ, "LAER_TIMEZONE": "Asia/Tokyo", "LAER_REFRESH_CRON": "30 5 * * *", "LAER_FIRST_DAY": "2024-01-01"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["30", "5", "*", "*", "*", "Asia/Tokyo", "2026-12-06", "Asia/Tokyo", "2024-01-01"]


def test_the_calendar_is_part_of_the_settings_the_definitions_are_built_from(tmp_path: Path) -> None:
    from orchestration.definitions import build_definitions

    settings = LaerSettings(landing_dir=str(tmp_path / "landing"), warehouse_dir=str(tmp_path / "wh"),
                            timezone="America/Los_Angeles", first_day="2025-03-01", refresh_cron="15 4 * * 1-5")
    defs = build_definitions(settings)
    schedule = defs.resolve_schedule_def("daily_refresh")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("15 4 * * 1-5", "America/Los_Angeles")
    tick = dt.datetime(2026, 12, 8, 4, 15, tzinfo=ZoneInfo("America/Los_Angeles"))
    with DagsterInstance.ephemeral() as instance:
        (request,) = schedule.evaluate_tick(build_schedule_context(
            instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def())).run_requests
    assert request.partition_key == "2026-12-07"
    for key in (["raw", "_load_ledger"], ["marts", "kpi_monthly"], ["published", "marts"],
                ["published", "leadership_report"], ["published", "delivery"]):
        partitions = defs.resolve_assets_def(AssetKey(key)).partitions_def
        assert partitions is not None
        assert (partitions.timezone, partitions.get_first_partition_key()) == ("America/Los_Angeles", "2025-03-01")
    # a partitioned run computes its day; the rest of the settings stay
    assert settings.replaced(as_of="2026-12-07").calendar == settings.calendar


def _sensor(settings: LaerSettings, cursor: str | None = None):
    from orchestration.sensors import landing_sensor

    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, cursor=cursor, resources={"laer": settings})
        return landing_sensor(context), context.cursor


def _age(files: list[Path], seconds: float) -> None:
    past = time.time() - seconds
    for f in files:
        os.utime(f, (past, past))


@pytest.fixture()
def company(small_built: Path, tmp_path: Path) -> tuple[Path, Path]:
    return copy_small(small_built, tmp_path / "company")


def test_the_sensor_fires_once_for_a_settled_delivery_and_never_for_loaded_files(company) -> None:
    from laer.ingest.loader import load_landing
    from orchestration.definitions import defs

    landing, warehouse = company
    assert defs.resolve_sensor_def("landing_sensor").default_status.value == "STOPPED"
    settings = LaerSettings(landing_dir=str(landing), warehouse_dir=str(warehouse))
    # every file of the landing folder is in the ledger: nothing to do, however old
    result, cursor = _sensor(settings)
    assert result == SkipReason("no landing file that the load ledger has not seen")
    # one delivery of 1,000 files, still being written
    folder = landing / "crm" / "activities"
    files = [folder / f"delivery_{i:04d}.csv" for i in range(1000)]
    for i, f in enumerate(files):
        f.write_text(f"activity_id,account_id,type,occurred_at\nact_d{i},acc_000001,call,2024-08-20T10:00:00Z\n")
    result, cursor = _sensor(settings)
    assert isinstance(result, SkipReason) and result.skip_message.startswith("1000 new file(s), the last written ")
    assert cursor is None
    # settled: one run, of the last complete day, for all of them
    _age(files, 120)
    request, cursor = _sensor(settings)
    assert isinstance(request, RunRequest)
    assert request.partition_key == settings.calendar.last_complete_day(dt.datetime.now(UTC))
    assert request.tags["laer/new_files"] == "1000" and request.run_key.startswith("delivery-")
    # asked again before the run loaded them: no second run
    again, same_cursor = _sensor(settings, cursor)
    assert again == SkipReason("a refresh for these 1000 new file(s) was requested already")
    assert same_cursor == cursor == json.dumps({"requested": request.run_key.removeprefix("delivery-")})
    # once the refresh loaded them (here the loader alone), they never trigger again
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        report = load_landing(con, landing, entities=["crm__activities"])
    assert len([r for r in report.results if r.status == "loaded"]) == 1000
    assert _sensor(settings, cursor)[0] == SkipReason("no landing file that the load ledger has not seen")
    # a later file is a new delivery
    late = folder / "delivery_late.csv"
    late.write_text("activity_id,account_id,type,occurred_at\nact_late,acc_000001,call,2024-08-21T10:00:00Z\n")
    _age([late], 300)
    request, _ = _sensor(settings, cursor)
    assert isinstance(request, RunRequest) and request.tags["laer/new_files"] == "1"


def test_the_sensor_waits_while_a_refresh_writes_the_warehouse(company) -> None:
    landing, warehouse = company
    with duckdb.connect(str(warehouse / "warehouse.duckdb")):  # a refresh holding the file
        holder = subprocess.run(
            [sys.executable, "-c", "import sys; from orchestration.sensors import landing_sensor; "
             "from dagster import build_sensor_context, DagsterInstance; from orchestration.settings import LaerSettings; "
             "s = LaerSettings(landing_dir=sys.argv[1], warehouse_dir=sys.argv[2]); "
             "i = DagsterInstance.ephemeral(); "
             "print(landing_sensor(build_sensor_context(instance=i, resources={'laer': s})).skip_message)",
             str(landing), str(warehouse)], capture_output=True, text=True, check=True)
    assert holder.stdout.strip() == "a refresh is writing the warehouse; new files are looked at once it is done"


def _kpis(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse / "marts.duckdb"), read_only=True) as con:
        return con.execute("select * from main.kpi_monthly order by month").fetchall()


def _as_of(warehouse: Path) -> str:
    return json.loads((warehouse / "current" / "publish.json").read_text())["as_of"]


def test_a_backfill_replays_days_in_order_and_rerunning_a_day_is_idempotent(company, capsys) -> None:
    landing, warehouse = company
    last = SMALL.end_date
    published = _kpis(warehouse)  # the fixture's refresh as of the last day
    # a backfill of the last two days: the first is earlier than the marts BI reads
    # (rebuilt, not published); the second runs the published day again
    assert main(["backfill", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--from", (last - dt.timedelta(days=1)).isoformat(), "--to", last.isoformat()]) == 0
    out = capsys.readouterr().out
    day = last - dt.timedelta(days=1)
    assert (f"not published: the published marts are as of {last}, later than {day}; BI keeps reading them "
            f"(the warehouse was rebuilt as of {day}; the next refresh of a later day builds on it)") in out
    assert f"published {warehouse.resolve() / 'marts.duckdb'} (as of {last};" in out
    # the same day again gives the same marts
    assert _as_of(warehouse) == last.isoformat() and _kpis(warehouse) == published
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        log = [str(r[0]) for r in con.execute("select as_of from ops.publish_log order by published_at").fetchall()]
    assert log == [last.isoformat()] * 2  # the fixture's publish and the backfill's last day


def test_backfill_and_as_of_refuse_days_without_a_partition(company, capsys) -> None:
    landing, warehouse = company
    assert main(["backfill", "--landing", str(landing), "--warehouse", str(warehouse),
                 "--from", "2024-08-31", "--to", "2024-08-30"]) == 2
    assert capsys.readouterr().out.strip() == "--to 2024-08-30 is before --from 2024-08-31"
    assert main(["refresh", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", "1999-01-01"]) == 2
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "--as-of 1999-01-01 is before the first day the refresh computes (LAER_FIRST_DAY=2020-01-01); "
        "set LAER_FIRST_DAY to an earlier day")
