"""The same dbt project on Spark (dbt-spark ``session`` on a local PySpark) computes the
same marts as on DuckDB, row for row, from the same landing files."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml

from laer.project import published_marts
from tests.conftest import ROOT, SHARED

JAVA = shutil.which("java") or (os.environ.get("JAVA_HOME") and Path(os.environ["JAVA_HOME"], "bin", "java").exists())
needs_java = pytest.mark.skipif(not JAVA, reason="Spark needs a Java runtime (java on PATH or JAVA_HOME); none here")


def _render_profile_output(name: str, env: dict[str, str]) -> dict:
    """One output of profiles.yml rendered the way dbt does (env_var with defaults)."""
    def env_var(key: str, default: str | None = None) -> str:
        if key in env:
            return env[key]
        assert default is not None, key
        return default

    raw = yaml.safe_load((ROOT / "profiles.yml").read_text())["laer"]["outputs"][name]
    jinja = jinja2.Environment()

    def render(value: object) -> object:
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        return jinja.from_string(value).render(env_var=env_var) if isinstance(value, str) else value

    return render(raw)  # type: ignore[return-value]


def test_profile_spark_output_uses_the_loaders_session_settings(tmp_path: Path) -> None:
    from laer.spark.session import spark_settings

    env = {"LAER_WAREHOUSE_DIR": str(tmp_path.resolve())}
    out = _render_profile_output("spark", env)
    assert out["method"] == "session"
    assert out["server_side_parameters"] == spark_settings(tmp_path)
    thrift = _render_profile_output("spark_thrift", {"LAER_SPARK_HOST": "spark.internal", "LAER_SPARK_PORT": "10001"})
    assert (thrift["method"], thrift["host"], thrift["port"]) == ("thrift", "spark.internal", "10001")
    dbx = _render_profile_output("databricks", {"DATABRICKS_HOST": "h.cloud.databricks.com", "DATABRICKS_TOKEN": "t0k"})
    assert (dbx["method"], dbx["host"], dbx["token"]) == ("http", "h.cloud.databricks.com", "t0k")
    assert "t0k" not in (ROOT / "profiles.yml").read_text()


@pytest.fixture(scope="module")
def spark_warehouse(shared_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared company built on local Spark by `laer spark build` (its own process)."""
    warehouse = tmp_path_factory.mktemp("spark_wh")
    proc = subprocess.run(
        [sys.executable, "-m", "laer.cli", "spark", "build", "--landing", str(shared_landing),
         "--warehouse", str(warehouse), "--as-of", SHARED.end_date.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "dbt build on Spark succeeded" in proc.stdout
    return warehouse


@pytest.fixture(scope="module")
def spark(spark_warehouse: Path):
    from laer.spark.session import spark_session

    session = spark_session(spark_warehouse)
    yield session
    session.stop()


@needs_java
def test_every_published_mart_equals_duckdb_row_for_row(spark, shared_warehouse: Path) -> None:
    import duckdb

    from laer.spark.parity import compare_published

    differences = compare_published(shared_warehouse / "marts.duckdb", spark, list(published_marts()))
    assert not differences, "\n".join(map(str, differences))
    # the comparison is not between empty tables: the revenue, cohort and LAER marts are full
    with duckdb.connect(str(shared_warehouse / "marts.duckdb"), read_only=True) as duck:
        for mart in ("fct_mrr_monthly", "kpi_monthly", "cohort_retention", "laer_stage_monthly",
                     "fct_laer_stage_daily", "dim_accounts", "fct_account_health_daily"):
            n = duck.execute(f"select count(*) from marts.{mart}").fetchone()[0]  # type: ignore[index]
            assert n > 0 and spark.table(f"marts.{mart}").count() == n, mart
        # money to the cent: the December MRR and the staging layer agree too
        mrr = duck.execute("select mrr from marts.kpi_monthly where month = date '2024-12-01'").fetchone()[0]  # type: ignore[index]
    assert spark.sql("select mrr from marts.kpi_monthly where month = date '2024-12-01'").first()[0] == mrr
    for staging in ("stg_crm__accounts", "stg_billing__subscription_items", "stg_usage__events"):
        assert spark.table(f"staging.{staging}").count() > 0


def _csv_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write(text)


@needs_java
def test_spark_loader_quarantines_a_bad_file_names_row_and_column_and_skips_seen_files(
        spark, spark_warehouse: Path, shared_landing: Path, tmp_path: Path) -> None:
    from laer.spark.loader import load_landing_spark

    accounts_before = spark.table("raw.crm__accounts").count()
    top_batch = spark.sql("select max(batch_id) from raw._load_ledger").first()[0]
    landing = tmp_path / "landing"
    shutil.copytree(shared_landing / "finance", landing / "finance")  # already loaded: skipped
    header = "account_id,name,employee_count,created_at,updated_at\n"
    (landing / "crm" / "accounts").mkdir(parents=True)
    (landing / "crm" / "accounts" / "extra_0.csv").write_text(header)  # no rows: loads nothing, is fine
    _csv_gz(landing / "crm" / "accounts" / "extra_1.csv.gz",
            header + "acc_x1,Good Co,12,2024-12-01T00:00:00Z,2024-12-01T00:00:00Z\n")
    (landing / "crm" / "accounts" / "extra_2.csv").write_text(
        header + "acc_x2,Fine Co,5,2024-12-01T00:00:00Z,2024-12-01T00:00:00Z\n"
                 "acc_x3,Bad Co,twelve,2024-12-01T00:00:00Z,2024-12-01T00:00:00Z\n")

    report = load_landing_spark(spark, landing)

    assert {r.relpath for r in report.skipped} == {f"finance/marketing_spend/{p.name}"
                                                   for p in (landing / "finance" / "marketing_spend").iterdir()}
    [bad] = report.quarantined
    assert (bad.relpath, bad.column, bad.row, bad.bad_rows) == ("crm/accounts/extra_2.csv", "employee_count", 2, 1)
    assert bad.message.startswith("row 2 (line 3), column employee_count: the value is not an integer")
    assert [(r.relpath, r.rows, r.batch_id) for r in report.loaded] == [
        ("crm/accounts/extra_0.csv", 0, top_batch + 1), ("crm/accounts/extra_1.csv.gz", 1, top_batch + 2)]
    assert bad.batch_id == top_batch + 3
    rows = spark.sql("select account_id, employee_count, _batch_id, _row_number from raw.crm__accounts "
                     f"where _batch_id > {top_batch}").collect()
    assert [tuple(r) for r in rows] == [("acc_x1", 12, top_batch + 2, 1)]  # nothing of the bad file
    assert spark.table("raw.crm__accounts").count() == accounts_before + 1
    ledger = spark.sql("select path, status, error_column, error_row, error_count from raw._load_ledger "
                       f"where batch_id > {top_batch} order by batch_id").collect()
    assert [tuple(r) for r in ledger] == [("crm/accounts/extra_0.csv", "loaded", None, None, None),
                                          ("crm/accounts/extra_1.csv.gz", "loaded", None, None, None),
                                          ("crm/accounts/extra_2.csv", "quarantined", "employee_count", 2, 1)]


@needs_java
def test_spark_loader_removes_rows_of_a_load_that_crashed_before_its_ledger_write(
        spark, spark_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from laer.spark import loader

    landing = tmp_path / "landing"
    (landing / "crm" / "accounts").mkdir(parents=True)
    (landing / "crm" / "accounts" / "extra_3.csv").write_text(
        "account_id,name,created_at,updated_at\nacc_x4,Crash Co,2024-12-01T00:00:00Z,2024-12-01T00:00:00Z\n")

    def crash(*_args: object) -> None:
        raise RuntimeError("killed before the ledger write")

    monkeypatch.setattr(loader, "_ledger_rows", crash)
    with pytest.raises(RuntimeError):
        loader.load_landing_spark(spark, landing)
    count = "select count(*) from raw.crm__accounts where account_id = 'acc_x4'"
    assert spark.sql(count).first()[0] == 1  # an orphan: its batch is not in the ledger
    monkeypatch.undo()

    report = loader.load_landing_spark(spark, landing)

    assert [(r.relpath, r.status, r.rows) for r in report.results] == [("crm/accounts/extra_3.csv", "loaded", 1)]
    assert spark.sql(count).first()[0] == 1
    assert spark.sql("select count(*) from raw._load_ledger where path = 'crm/accounts/extra_3.csv'").first()[0] == 1


@needs_java
def test_spark_loader_gives_each_bad_file_the_duckdb_loaders_reason_and_withdraws_deleted_ones(
        spark, spark_warehouse: Path, tmp_path: Path) -> None:
    """The DuckDB loader's bad-file fixtures (tests/test_loader.py), on Spark: the same
    quarantine reason, nothing of the file loaded; a quarantined file deleted from landing is
    withdrawn from the quarantine."""
    from laer.spark.loader import load_landing_spark
    from tests.test_loader import BAD_FILES

    landing = tmp_path / "landing"
    expected = {}
    for i, (rel, content, reason) in enumerate(BAD_FILES.values()):
        rel = rel if "*" in rel else rel.replace("/b.", f"/b{i}.")
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_bytes(content)
        expected[rel] = reason
    activities_before = spark.table("raw.crm__activities").count()
    report = load_landing_spark(spark, landing)
    assert {r.relpath: r.message for r in report.quarantined} == expected
    assert report.loaded == [] and spark.table("raw.crm__activities").count() == activities_before
    gone = "crm/activities/b0.csv"
    (landing / gone).unlink()
    assert {r.status for r in load_landing_spark(spark, landing).results} == {"skipped"}
    latest = spark.sql("select status, message from raw._load_ledger where path = 'crm/activities/b0.csv' "
                       "order by batch_id").collect()
    assert [tuple(r) for r in latest] == [("quarantined", expected[gone]),
                                          ("withdrawn", "no longer in the landing folder")]


@needs_java
def test_spark_loader_keeps_extra_columns_and_the_files_modification_time_as_duckdb_does(
        spark, spark_warehouse: Path, tmp_path: Path) -> None:
    import duckdb

    from laer.ingest.loader import LEDGER, load_landing
    from laer.spark.loader import load_landing_spark

    landing = tmp_path / "landing"
    (landing / "crm" / "activities").mkdir(parents=True)
    drifted = landing / "crm" / "activities" / "drift.csv"
    drifted.write_text("activity_id,account_id,type,occurred_at,channel\n"
                       "act_drift,acc_000001,call,2024-12-01T09:00:00Z,zoom\n")
    report = load_landing_spark(spark, landing)
    (loaded,) = report.loaded
    assert loaded.warnings == ["schema drift: extra column(s) channel kept in raw"]
    row = spark.sql("select activity_id, channel, _source_file from raw.crm__activities "
                    "where activity_id = 'act_drift'").collect()
    assert [tuple(r) for r in row] == [("act_drift", "zoom", "crm/activities/drift.csv")]
    (ledger_row,) = spark.sql("select modified_ns from raw._load_ledger where path = 'crm/activities/drift.csv'").collect()
    # the DuckDB loader, on the same file: the same warning, column and ledger modification time
    with duckdb.connect(str(tmp_path / "duck.duckdb")) as con:
        (duck,) = load_landing(con, landing).loaded
        assert duck.warnings == loaded.warnings
        assert con.execute("select channel from raw.crm__activities").fetchall() == [("zoom",)]
        assert con.execute(f"select modified_ns from {LEDGER}").fetchall() == [(ledger_row[0],)] == [
            (drifted.stat().st_mtime_ns,)]
