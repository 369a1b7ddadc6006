"""End to end through Dagster: load → dbt build → checks → atomic publish."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import SHARED


def test_refresh_published_every_mart_in_duckdb_and_parquet(shared_warehouse: Path) -> None:
    marts_db = shared_warehouse / "marts.duckdb"
    assert marts_db.is_symlink() and (shared_warehouse / "marts").is_symlink()
    with duckdb.connect(str(marts_db), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
        for mart in ("dim_accounts", "fct_mrr_monthly", "kpi_monthly", "cohort_retention", "fct_laer_stage_daily",
                     "laer_stage_monthly", "fct_account_health_daily", "early_warnings"):
            assert mart in tables
            n = con.execute(f"select count(*) from main.{mart}").fetchone()[0]
            pq = con.execute(f"select count(*) from read_parquet('{shared_warehouse}/marts/{mart}.parquet')").fetchone()[0]
            assert n == pq and n > 0, mart
        as_of, = con.execute("select as_of from main._publish_info").fetchone()
        assert as_of == SHARED.end_date.isoformat()


def test_parquet_files_hold_the_published_rows_with_the_published_types(shared_warehouse: Path) -> None:
    import pyarrow.parquet as pq

    from laer.project import published_marts
    from laer.publish import PARQUET_ENUM_COLUMNS

    with duckdb.connect(str(shared_warehouse / "marts.duckdb"), read_only=True) as con:
        for mart in published_marts():
            parquet = f"read_parquet('{shared_warehouse}/marts/{mart}.parquet')"
            assert (con.execute(f"describe select * from {parquet}").fetchall()
                    == con.execute(f"describe main.{mart}").fetchall()), mart
            for left, right in ((f"main.{mart}", parquet), (parquet, f"main.{mart}")):
                assert con.execute(f"select count(*) from (from {left} except all from {right})").fetchone() == (0,), mart
    # columns the writer encodes through an ENUM are plain UTF-8 strings in the file
    for mart, columns in PARQUET_ENUM_COLUMNS.items():
        schema = pq.read_schema(shared_warehouse / "marts" / f"{mart}.parquet")
        assert [str(schema.field(c).type) for c in columns] == ["string"] * len(columns)


def test_published_file_uses_storage_that_duckdb_1_1_reads(shared_warehouse: Path) -> None:
    header = (shared_warehouse / "marts.duckdb").read_bytes()[:64]
    assert header[8:12] == b"DUCK"
    # storage version number 64 = the format written for DuckDB v1.0.0 (read by 1.0 and later)
    assert int.from_bytes(header[12:20], "little") == 64


def test_duckdb_1_1_reads_every_published_mart_with_its_dbt_descriptions(shared_warehouse: Path) -> None:
    import json
    import subprocess
    import sys

    from laer.project import published_marts

    # a real DuckDB 1.1 client (bin/setup installs it apart from the project's DuckDB)
    probe = ("import duckdb, json, sys\n"
             "con = duckdb.connect(sys.argv[1], read_only=True)\n"
             "tables = dict(con.execute(\"select table_name, comment from duckdb_tables() where schema_name = 'main'\").fetchall())\n"
             "columns = con.execute(\"select table_name, column_name, comment from duckdb_columns() where schema_name = 'main'\").fetchall()\n"
             "print(json.dumps({'version': duckdb.__version__, 'tables': tables, 'columns': columns}))\n")
    env = {"PYTHONPATH": str(Path(sys.prefix) / "bi-duckdb-1.1"), "PATH": "/usr/bin:/bin"}
    out = json.loads(subprocess.run([sys.executable, "-c", probe, str(shared_warehouse / "marts.duckdb")], env=env,
                                    capture_output=True, text=True, check=True).stdout)
    assert out["version"] == "1.1.3"
    marts = published_marts()
    for name, mart in marts.items():
        assert out["tables"][name] == mart.description and mart.description, name
    comments = {(t, c): comment for t, c, comment in out["columns"] if t in marts}
    described = {(name, c): d for name, mart in marts.items() for c, d in mart.column_descriptions}
    # every column of every published mart is described in its yml, and BI sees that text
    assert set(comments) == set(described)
    assert comments == described
    assert comments[("kpi_monthly", "mrr")] == "Total month-end MRR, USD."


def test_parquet_files_carry_the_descriptions_as_arrow_field_metadata(shared_warehouse: Path) -> None:
    import pyarrow.parquet as pq

    from laer.project import published_marts

    for name, mart in published_marts().items():
        schema = pq.read_schema(shared_warehouse / "marts" / f"{name}.parquet")
        assert schema.metadata[b"description"].decode() == mart.description, name
        assert {f.name: f.metadata[b"description"].decode() for f in schema} == dict(mart.column_descriptions), name


def test_dbt_docs_are_published_and_written_again_only_when_the_project_changes(shared_warehouse: Path,
                                                                                   monkeypatch) -> None:
    from laer import project
    from laer.paths import Warehouse

    site = shared_warehouse / "dbt_docs" / "index.html"
    html = site.read_text()
    # one self-contained page: the manifest (descriptions, exposures) and the warehouse's catalog
    assert "The leadership table: one row per month" in html
    assert "bi_customer_success_dashboard" in html and "int_account_milestones" in html
    assert '"marts"' in html and "cohort_retention" in html
    written = site.stat().st_mtime_ns

    def no_dbt(*args, **kwargs):
        raise AssertionError("dbt ran although the project did not change")

    monkeypatch.setattr(project, "run_dbt", no_dbt)
    assert project.write_dbt_docs(Warehouse(shared_warehouse), {}) == site
    assert site.stat().st_mtime_ns == written
    # a changed project: written again
    (shared_warehouse / "dbt_docs" / ".project-digest").write_text("another project")
    with pytest.raises(AssertionError, match="dbt ran"):
        project.write_dbt_docs(Warehouse(shared_warehouse), {})


def test_dbt_docs_turned_off_are_not_written(small_built: Path) -> None:
    from orchestration.settings import LaerSettings

    # the suite turns them off (tests/conftest.py) for every refresh but the shared one
    assert not LaerSettings.from_env(landing_dir="l", warehouse_dir="w").dbt_docs
    assert LaerSettings.from_env(landing_dir="l", warehouse_dir="w", dbt_docs=True).dbt_docs
    assert (small_built / "warehouse" / "marts.duckdb").exists()
    assert not (small_built / "warehouse" / "dbt_docs").exists()


def test_kpis_reconcile_with_mrr_facts_and_billing(marts) -> None:
    # Σ movements = month-over-month change, and unmatched customers are inside the totals
    diffs = marts.execute("""
        select count(*) from (
            select k.month, k.net_new_mrr, k.mrr - lag(k.mrr, 1, 0) over (order by k.month) as expected from main.kpi_monthly k
        ) where net_new_mrr <> expected""").fetchone()[0]
    assert diffs == 0
    unmatched_mrr, = marts.execute("select sum(current_mrr) from main.dq_unmatched_customers").fetchone()
    in_dim, = marts.execute("select sum(current_mrr) from main.dim_accounts where is_unmatched").fetchone()
    assert unmatched_mrr > 0 and unmatched_mrr == in_dim


def test_no_pii_in_published_marts(marts) -> None:
    cols = [r[0] for r in marts.execute("select column_name from information_schema.columns where table_schema = 'main'").fetchall()]
    assert not [c for c in cols if any(w in c for w in ("email", "first_name", "last_name"))]


def test_publish_log_and_last_good(shared_warehouse: Path) -> None:
    with duckdb.connect(str(shared_warehouse / "warehouse.duckdb"), read_only=True) as con:
        (n, as_of), = con.execute("select count(*), max(as_of) from ops.publish_log").fetchall()
    assert n == 1 and str(as_of) == SHARED.end_date.isoformat()

