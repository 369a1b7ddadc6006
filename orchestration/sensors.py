"""Start a refresh when new landing files appear."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from laer.ingest.files import discover


def landing_fingerprint(landing: Path) -> dict[str, list[float]]:
    """Relative path -> (size, mtime) of every loadable landing file."""
    found = discover(landing)
    return {f.relpath: [f.path.stat().st_size, f.path.stat().st_mtime] for f in found.files}


@sensor(job_name="refresh", minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Requests a refresh when a landing file is new or changed (path, size, mtime).")
def landing_sensor(context: SensorEvaluationContext):
    landing = Path(os.environ.get("LAER_LANDING_DIR", "landing"))
    if not landing.is_dir():
        return SkipReason(f"landing folder {landing} does not exist")
    seen: dict[str, list[float]] = json.loads(context.cursor) if context.cursor else {}
    now = landing_fingerprint(landing)
    changed = sorted(p for p, v in now.items() if seen.get(p) != v)
    if not changed:
        return SkipReason("no new or changed landing files")
    context.update_cursor(json.dumps(now))
    return RunRequest(run_key=f"landing-{len(now)}-{hash(tuple(changed)) & 0xFFFFFFFF:08x}",
                      tags={"laer/new_files": str(len(changed))})
