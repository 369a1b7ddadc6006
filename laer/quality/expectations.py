"""Great Expectations suites kept as code (``expectations/*.yml``), run through pandas.

GX 1.x's SQL datasource over duckdb-engine fails every expectation upstream, so each
suite's relation is read from DuckDB into a DataFrame (small by construction: suites on
large tables declare an aggregating ``sql``) and validated by GX's pandas datasource.
An expectation that raised counts as failed, never as passed.
"""

from __future__ import annotations

import logging
import os
import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

BLOCKING, WARNING = "blocking", "warning"
EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@dataclass(frozen=True)
class ExpectationSpec:
    expect: str  # snake-case GX expectation name without the ``expect_`` prefix
    kwargs: dict[str, Any]
    severity: str
    why: str

    @property
    def label(self) -> str:
        col = self.kwargs.get("column") or "/".join(str(self.kwargs[k]) for k in ("column_A", "column_B") if k in self.kwargs)
        return f"expect_{self.expect}({col})" if col else f"expect_{self.expect}"


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    asset: tuple[str, ...]
    expectations: tuple[ExpectationSpec, ...]
    sql: str | None = None
    # check these columns of the latest version of each record of a raw table
    latest_versions: tuple[str, ...] = ()

    def query(self, as_of: str) -> str:
        if self.sql:
            return self.sql.format(as_of=as_of)
        if self.latest_versions:
            from laer.contract import entity
            from laer.ingest.rules import latest_versions_sql

            source, name = self.asset[1].split("__", 1)
            return latest_versions_sql(entity(source, name), self.latest_versions)
        return f"select * from {'.'.join(self.asset)}"


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    expectation: str
    severity: str
    success: bool
    raised: bool
    detail: str
    why: str

    @property
    def blocks(self) -> bool:
        return self.severity == BLOCKING and not self.success


@dataclass
class SuiteOutcome:
    suite: str
    asset: tuple[str, ...]
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocks]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == WARNING and not o.success]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures


def load_suites(folder: Path = EXPECTATIONS_DIR) -> list[SuiteSpec]:
    suites: list[SuiteSpec] = []
    for path in sorted(Path(folder).glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for s in doc.get("suites", []):
            exps = []
            for e in s["expectations"]:
                e = dict(e)
                severity = e.pop("severity")
                if severity not in (BLOCKING, WARNING):
                    raise ValueError(f"{path.name}: suite {s['name']}: severity must be blocking or warning, not {severity!r}")
                exps.append(ExpectationSpec(e.pop("expect"), {k: v for k, v in e.items() if k != "why"}, severity, e.get("why", "")))
            suites.append(SuiteSpec(s["name"], tuple(s["asset"]), tuple(exps), s.get("sql"),
                                    tuple(s.get("latest_versions", ()))))
    return suites


def _gx_class(expect: str) -> type:
    import great_expectations.expectations as gxe

    name = "Expect" + "".join(part.capitalize() for part in expect.split("_"))
    cls = getattr(gxe, name, None)
    if cls is None:
        raise ValueError(f"unknown Great Expectations expectation: expect_{expect}")
    return cls


def _raised(result: Any) -> tuple[bool, str]:
    info = result.exception_info or {}
    stack = [info]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("raised_exception"):
                return True, str(item.get("exception_message") or "raised an exception")
            stack.extend(v for v in item.values() if isinstance(v, dict))
    return False, ""


def _detail(result: Any) -> str:
    r = result.result or {}
    parts = []
    if "observed_value" in r:
        parts.append(f"observed {r['observed_value']!r}")
    if r.get("unexpected_count"):
        sample = r.get("partial_unexpected_list") or []
        parts.append(f"{r['unexpected_count']} unexpected" + (f", e.g. {sample[:3]!r}" if sample else ""))
    return "; ".join(parts)


class Validator:
    """One ephemeral GX context per run; Data Docs written to ``docs_dir`` when given."""

    def __init__(self, docs_dir: Path | None = None) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.docs_dir = docs_dir
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.add_data_docs_site(site_name="laer", site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
        # One DataFrame asset and batch definition serve every validation: the frame is a
        # run-time batch parameter. (An asset per validation re-serialised the whole, growing
        # project config on each add: ~0.1 s a validation by the 50th.)
        self._batch = (self.context.data_sources.add_pandas("laer").add_dataframe_asset("frames")
                       .add_batch_definition_whole_dataframe("whole frame"))
        self._n = 0

    def write_docs(self) -> None:
        """Render Data Docs once for every validation of this run (not per validation: the
        site is rebuilt from all results each time, so per-validation rendering grows n²)."""
        if self.docs_dir is not None and self._n:
            self.context.build_data_docs(site_names=["laer"])

    def submit(self, suite: SuiteSpec, frame: pd.DataFrame) -> Future[SuiteOutcome]:
        """:meth:`validate` now, as a finished future (the worker's validator returns a
        pending one: laer/quality/worker.py)."""
        done: Future[SuiteOutcome] = Future()
        done.set_result(self.validate(suite, frame))
        return done

    def validate(self, suite: SuiteSpec, frame: pd.DataFrame) -> SuiteOutcome:
        gx = self._gx
        self._n += 1
        key = f"{re.sub(r'[^A-Za-z0-9_]', '_', suite.name)}_{self._n}"
        outcome = SuiteOutcome(suite.name, suite.asset)
        gx_suite = gx.ExpectationSuite(name=suite.name if self._n == 1 else f"{suite.name}#{self._n}")
        built: list[tuple[ExpectationSpec, Any]] = []
        for spec in suite.expectations:
            try:
                exp = _gx_class(spec.expect)(**spec.kwargs, meta={"severity": spec.severity, "why": spec.why})
            except Exception as exc:  # a malformed expectation is a failed expectation
                outcome.outcomes.append(ExpectationOutcome(suite.name, spec.label, spec.severity, False, True,
                                                           f"could not build expectation: {exc}", spec.why))
                continue
            built.append((spec, gx_suite.add_expectation(exp)))
        if not built:
            return outcome
        gx_suite = self.context.suites.add(gx_suite)
        vd = self.context.validation_definitions.add(gx.ValidationDefinition(name=key, data=self._batch, suite=gx_suite))
        # the validation definition stores its result itself (Data Docs render from that store)
        result = vd.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "SUMMARY"})
        by_id = {r.expectation_config.id: r for r in result.results}
        for spec, exp in built:
            r = by_id.get(exp.id)
            if r is None:
                outcome.outcomes.append(ExpectationOutcome(suite.name, spec.label, spec.severity, False, True,
                                                           "no result returned", spec.why))
                continue
            raised, message = _raised(r)
            success = bool(r.success) and not raised
            detail = f"raised: {message}" if raised else _detail(r)
            outcome.outcomes.append(ExpectationOutcome(suite.name, spec.label, spec.severity, success, raised, detail, spec.why))
        return outcome
