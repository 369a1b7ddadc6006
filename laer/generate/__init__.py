"""Deterministic synthetic SaaS company written in landing contract v1."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laer.contract import entity
from laer.generate import exports, records, usage
from laer.generate.company import simulate
from laer.generate.config import CompanyConfig
from laer.generate.writer import write_entity

__all__ = ["CompanyConfig", "GenerationSummary", "generate"]

# the CRM exports stamp time with an explicit offset, the rest with Z; the finance
# sheet has none (a timestamp without offset is UTC)
TS_STYLE = {"crm": "offset", "billing": "z", "usage": "z", "finance": "naive"}


@dataclass(frozen=True)
class GenerationSummary:
    landing: Path
    as_of: str
    files: int
    rows: dict[str, int]


def generate(cfg: CompanyConfig, landing: Path, progress: Callable[[str, int, int], None] | None = None,
             formats: tuple[str, ...] = ()) -> GenerationSummary:
    """Simulate the company and write every entity under ``landing``: in the contract's
    layout, or — for what ``formats`` (``stripe``, ``hubspot``, ``segment``) cover — as those
    systems export it (:mod:`laer.generate.exports`)."""
    landing = Path(landing)
    unknown = set(formats) - set(exports.FORMATS)
    if unknown:
        raise ValueError(f"unknown export format(s): {', '.join(sorted(unknown))} (known: {', '.join(exports.FORMATS)})")
    co = simulate(cfg)
    # independent random streams per entity: adding one entity never changes another
    seeds = np.random.SeedSequence(cfg.seed).spawn(16)
    rng = [np.random.default_rng(s) for s in seeds]
    frames = {
        "crm/accounts": records.accounts(co, rng[0]),
        "crm/contacts": records.contacts(co, rng[1]),
        "crm/leads": records.leads(co, rng[2]),
        "crm/opportunities": records.opportunities(co, rng[3]),
        **{f"crm/{k}": v for k, v in records.crm_engagement(co, rng[4]).items()},
        "billing/customers": records.customers(co, rng[5]),
        "billing/plans": records.plans(co),
        "billing/subscriptions": records.subscriptions(co, rng[6]),
        "billing/subscription_items": records.subscription_items(co),
        **{f"billing/{k}": v for k, v in records.billing_money(co, rng[7]).items()},
        "billing/fx_rates": records.fx_rates(co, rng[8]),
        "usage/users": usage.users(co, rng[9]),
        "finance/marketing_spend": records.marketing_spend(co, rng[10]),
        "crm/users": records.staff(co, rng[12]),
    }
    start = np.datetime64(cfg.start_date, "D")
    last_day = cfg.days - 1
    daily_from = max(0, cfg.days - cfg.daily_window_days)
    rows: dict[str, int] = {key: len(df) for key, df in frames.items()}
    batches = exports.Batches(co.epoch0, last_day, daily_from, start)
    for fmt in formats:
        getattr(exports, f"write_{fmt}" if fmt != "segment" else "write_segment_users")(frames, landing, batches)
        for key in exports.COVERS[fmt]:
            frames.pop(key)
    files = batches.files
    total_steps = len(frames) + cfg.days
    step = 0
    for key, df in frames.items():
        source, name = key.split("/")
        files += write_entity(df, entity(source, name), landing, epoch0=co.epoch0, last_day=last_day,
                              daily_from_day=daily_from, start=start, ts_style=TS_STYLE[source])
        step += 1
        if progress:
            progress(key, step, total_steps)

    def tick(n: int) -> None:
        nonlocal step
        step += n
        if progress:
            progress("usage/events", step, total_steps)

    if "segment" in formats:
        with tempfile.TemporaryDirectory(prefix="laer-events-") as tmp:
            rows["usage/events"] = usage.write_events(co, Path(tmp), rng[11], tick)
            files += exports.events_to_segment(Path(tmp), landing)
    else:
        rows["usage/events"] = usage.write_events(co, landing / "usage" / "events", rng[11], tick)
        files += sum(1 for _ in (landing / "usage" / "events").glob("*.parquet"))
    return GenerationSummary(landing, cfg.end_date.isoformat(), files, rows)
