"""Finding landing files: ``<landing>/<source>/<entity>/<file>.<csv|csv.gz|parquet|jsonl|jsonl.gz>``, and
the source systems' exports under ``stripe/<folder>/``, ``hubspot/<object>/`` and ``segment/``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from laer.contract import BY_PATH, EXPORT_SUFFIXES, FILE_SUFFIXES, SEGMENT, Entity


@dataclass(frozen=True)
class LandingFile:
    path: Path  # absolute
    relpath: str  # relative to the landing folder, with forward slashes
    entity: Entity
    fmt: str  # csv | parquet | jsonl
    compressed: bool
    size: int  # bytes, when discovered
    modified_ns: int  # modification time in ns, when discovered

    def content_hash(self) -> str:
        with self.path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()


@dataclass(frozen=True)
class Discovery:
    files: list[LandingFile]
    warnings: list[str]


def _format(name: str, suffixes: tuple[str, ...] = FILE_SUFFIXES) -> tuple[str, bool] | None:
    for suffix in suffixes:
        if name.endswith(suffix):
            parts = suffix.lstrip(".").split(".")
            return parts[0], len(parts) > 1
    return None


def load_order(f: LandingFile) -> tuple[bool, str]:
    return f.entity.source == "stripe" and f.entity.name == "events", f.relpath


def discover(landing: Path) -> Discovery:
    """All loadable files in load order, and what was ignored: lexical order of their relative
    path, except that Stripe's events load after its list snapshots (landing.md: the snapshots
    are a first backfill, before events exist), whatever the folders' names."""
    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} does not exist")
    files: list[LandingFile] = []
    warnings: list[str] = []
    for p in sorted(landing.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(landing).parts):
            continue
        rel = p.relative_to(landing).as_posix()
        if p.is_symlink():  # a link may lead anywhere on the machine: never followed
            warnings.append(f"{rel}: a symbolic link; not followed (deliver the file itself)")
            continue
        if not p.is_file():
            continue
        # an entity's folder may hold sub-folders (date-partitioned exports: events/2024/01/15/…);
        # their files load in lexical order of the whole path like the others
        parts = rel.split("/")
        found = SEGMENT if parts[0] == SEGMENT.source and len(parts) >= 2 else \
            BY_PATH.get((parts[0], parts[1])) if len(parts) >= 3 else None
        if found is None:
            warnings.append(f"{rel}: not under a known <source>/<entity>/ folder; ignored")
            continue
        suffixes = EXPORT_SUFFIXES if found.feeds else FILE_SUFFIXES
        fmt = _format(parts[-1], suffixes)
        if fmt is None and found is SEGMENT and parts[-1].endswith(".gz"):
            fmt = ("jsonl", True)  # Segment's S3 destination names its gzipped JSON Lines files <name>.gz
        if fmt is None:
            warnings.append(f"{rel}: unsupported file type (expected one of {', '.join(suffixes)}); ignored")
            continue
        stat = p.stat()
        files.append(LandingFile(p, rel, found, fmt[0], fmt[1], stat.st_size, stat.st_mtime_ns))
    files.sort(key=load_order)
    return Discovery(files, warnings)
