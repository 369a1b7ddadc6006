"""Where a warehouse folder keeps its parts (``--warehouse DIR``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The dbt project (dbt_project.yml, profiles.yml, models/) this package ships with.
PROJECT_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Warehouse:
    root: Path

    @property
    def db(self) -> Path:
        """The working DuckDB file: raw, staging, intermediate and mart schemas (dbt's target)."""
        return self.root / "warehouse.duckdb"

    @property
    def marts_db(self) -> Path:
        """What BI reads: replaced atomically after every blocking check passed."""
        return self.root / "marts.duckdb"

    @property
    def marts_parquet(self) -> Path:
        return self.root / "marts"

    @property
    def publishes(self) -> Path:
        """Immutable published versions; ``current`` and ``last_good`` point into it."""
        return self.root / "publishes"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def dbt_docs(self) -> Path:
        """dbt's static docs site of the project this warehouse is built with."""
        return self.root / "dbt_docs"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt_target"

    def ensure(self) -> Warehouse:
        self.root.mkdir(parents=True, exist_ok=True)
        return self
