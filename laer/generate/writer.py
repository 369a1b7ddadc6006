"""Write record versions as landing batches: monthly backfill files, then nightly files.

A version goes into the batch of the day (or month) it was exported, ``_ts``; an item
delivered open in one batch gets its ``ended_at`` in a later batch, as a real CDC
export would deliver it. Output is byte-for-byte deterministic (gzip without mtime).
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from laer.contract import ColType, Entity
from laer.generate.config import DAY

# which format each entity is delivered in (every format of the contract is exercised)
FORMATS: dict[str, str] = {
    "billing/customers": "csv.gz",
    "billing/invoice_lines": "jsonl.gz",
    "billing/payments": "jsonl",
    "usage/users": "jsonl.gz",
}


def _format_ts(values: pd.Series, style: str) -> pd.Series:
    """Epoch seconds -> ISO-8601 text; nulls stay null."""
    num = pd.to_numeric(values, errors="coerce")
    mask = num.notna().to_numpy()
    out = np.full(len(values), None, dtype=object)
    if mask.any():
        txt = np.datetime_as_string(num[mask].to_numpy(dtype="int64").astype("datetime64[s]"), unit="s")
        suffix = {"z": "Z", "offset": "+00:00", "naive": ""}[style]
        out[mask] = np.char.add(txt.astype(str), suffix)
    return pd.Series(out, index=values.index)


def _format_date(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    mask = num.notna().to_numpy()
    out = np.full(len(values), None, dtype=object)
    if mask.any():
        out[mask] = np.datetime_as_string((num[mask].to_numpy(dtype="int64") // DAY).astype("datetime64[D]"))
    return pd.Series(out, index=values.index)


def format_frame(df: pd.DataFrame, entity: Entity, ts_style: str) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col in entity.columns:
        if col.name not in df:
            continue
        v = df[col.name]
        if col.type is ColType.TIMESTAMP:
            out[col.name] = _format_ts(v, ts_style)
        elif col.type is ColType.DATE:
            out[col.name] = _format_date(v)
        elif col.type is ColType.INT:
            out[col.name] = pd.array(pd.to_numeric(v), dtype="Int64")
        elif col.type is ColType.BOOL:
            out[col.name] = v.astype("boolean")
        else:
            out[col.name] = v.astype(object).where(v.notna(), None)
    return out


def _encode(df: pd.DataFrame, fmt: str) -> bytes:
    if fmt.startswith("csv"):
        text = df.to_csv(index=False, lineterminator="\n", na_rep="")
    else:
        text = df.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        if text and not text.endswith("\n"):
            text += "\n"
    raw = text.encode("utf-8")
    return gzipped(raw) if fmt.endswith(".gz") else raw


def gzipped(raw: bytes) -> bytes:
    """``raw`` gzipped byte-for-byte deterministically (no modification time, no name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw)
    return buf.getvalue()


def batch_names(ts: np.ndarray, epoch0: int, daily_from_day: int, start: np.datetime64) -> np.ndarray:
    """Batch name per version: ``backfill_YYYY-MM`` for history, ``nightly_YYYY-MM-DD`` after.

    The prefixes keep lexical order (the contract's load order) equal to time order.
    """
    day = (ts - epoch0) // DAY
    dates = start + day.astype("timedelta64[D]")
    monthly = np.char.add("backfill_", np.datetime_as_string(dates.astype("datetime64[M]")))
    daily = np.char.add("nightly_", np.datetime_as_string(dates))
    return np.where(day >= daily_from_day, daily, monthly)


def write_entity(df: pd.DataFrame, entity: Entity, landing: Path, *, epoch0: int, last_day: int,
                 daily_from_day: int, start: np.datetime64, ts_style: str = "z") -> int:
    """Write all versions exported up to ``last_day``; returns the number of files."""
    ts = df["_ts"].to_numpy(dtype="int64")
    keep = (ts - epoch0) // DAY <= last_day
    df = df[keep]
    ts = ts[keep]
    fmt = FORMATS.get(f"{entity.source}/{entity.name}", "csv")
    folder = landing / entity.source / entity.name
    folder.mkdir(parents=True, exist_ok=True)
    names = batch_names(ts, epoch0, daily_from_day, start)
    order = np.lexsort((np.arange(len(df)), ts))
    df, names = df.iloc[order], names[order]
    files = 0
    for name in np.unique(names):
        part = df[names == name]
        text = format_frame(part, entity, ts_style)
        (folder / f"{name}.{fmt}").write_bytes(_encode(text, fmt))
        files += 1
    return files
