"""Retention of the files runs leave behind (`news-etl prune --keep-days N`).

What goes, and when (N = keep_days):

| what | unit | its age |
|---|---|---|
| Data Docs (`<data_docs_dir>/<run>/`) | one run's folder | since its newest file was written |
| staging (`<staging_dir>/<run>/`) | one run's folder | since its newest file was written |
| raw-page archive (`<archive_root>/YYYY/MM/DD/*.warc.gz`) | one WARC file | its fetch day (UTC) |

A unit is deleted when its age is more than N days; emptied day/month/year folders of the
archive go with their last file. Nothing else is touched: not the warehouse (articles,
rejects, run records stay, and their `report_path` may then name a deleted site), not a
file or folder the layout above does not describe, not what a symbolic link points to.

A run's folders are judged by their newest file, so a run still writing (an Airflow run's
staging) is never pruned while it works. Archived pages are what `news-etl reextract`
reads: pages older than N days can no longer be re-extracted after a prune.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = ("data-docs", "staging", "archive")
_DAY = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/[^/]+\.warc\.gz$")


@dataclass(frozen=True)
class Prunable:
    """One unit the retention lets go: what it is, where, how old (days) and how big."""

    kind: str
    path: str
    age_days: float
    size: int


def _newest_mtime(folder: Path) -> float:
    newest = folder.lstat().st_mtime
    for dirpath, dirnames, filenames in os.walk(folder):  # symlinks are not followed
        for name in [*filenames, *dirnames]:
            try:
                newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
            except OSError:
                continue
    return newest


def _size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, filenames in os.walk(folder):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
    return total


def _run_folders(kind: str, root: Path, keep_days: int, now: datetime) -> list[Prunable]:
    """A Data Docs or staging root's run folders older than keep_days."""
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.absolute().iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue  # not a run folder this layout writes
        age = (now.timestamp() - _newest_mtime(folder)) / 86400
        if age > keep_days:
            found.append(Prunable(kind, str(folder), age, _size(folder)))
    return found


def _archive_files(root: str, keep_days: int, now: datetime) -> list[Prunable]:
    """The archive's WARC files fetched more than keep_days days before today."""
    import fsspec

    fs, _, [base] = fsspec.get_fs_token_paths(root.rstrip("/"))
    if not fs.exists(base):
        return []
    cutoff = now.date() - timedelta(days=keep_days)
    scheme = root.split("://")[0] + "://" if "://" in root else ""
    found = []
    for name in sorted(fs.glob(f"{base}/*/*/*/*.warc.gz")):
        match = _DAY.search(name)
        if match is None:
            continue
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
        if day < cutoff:
            age = (now.date() - day).days
            found.append(Prunable("archive", f"{scheme}{name}", float(age),
                                  int(fs.size(name) or 0)))
    return found


def find_prunable(*, keep_days: int, data_docs_dir: str | os.PathLike[str] | None = None,
                  staging_dir: str | os.PathLike[str] | None = None,
                  archive_root: str | None = None, kinds: Iterable[str] = KINDS,
                  now: datetime | None = None) -> list[Prunable]:
    """What the retention lets go under the given roots (None: that kind is not looked at)."""
    if keep_days < 0:
        raise ValueError("keep_days must be 0 or more")
    now = now or datetime.now(UTC)
    wanted = set(kinds)
    found: list[Prunable] = []
    if "data-docs" in wanted and data_docs_dir is not None:
        found += _run_folders("data-docs", Path(data_docs_dir), keep_days, now)
    if "staging" in wanted and staging_dir is not None:
        found += _run_folders("staging", Path(staging_dir), keep_days, now)
    if "archive" in wanted and archive_root is not None:
        found += _archive_files(archive_root, keep_days, now)
    return found


def delete(items: Iterable[Prunable], archive_root: str | None = None) -> int:
    """Delete what `find_prunable` found; returns the bytes freed. The archive's day,
    month and year folders left empty go too (never the root itself)."""
    freed = 0
    emptied: set[str] = set()
    for item in items:
        if item.kind == "archive":
            import fsspec

            fs, _, [path] = fsspec.get_fs_token_paths(item.path)
            fs.rm(path)
            emptied.add(path.rsplit("/", 1)[0])
        else:
            shutil.rmtree(item.path)
        freed += item.size
        log.info("pruned %s %s (%d bytes)", item.kind, item.path, item.size)
    if emptied and archive_root is not None:
        _remove_empty_days(archive_root, emptied)
    return freed


def _remove_empty_days(root: str, folders: set[str]) -> None:
    import fsspec

    fs, _, [base] = fsspec.get_fs_token_paths(root.rstrip("/"))
    base = base.rstrip("/")
    for day in sorted(folders, reverse=True):
        folder = day
        for _ in range(3):  # day, month, year: never above the archive's root
            if not folder.startswith(base + "/") or folder == base:
                break
            try:
                if fs.ls(folder):
                    break
                fs.rmdir(folder)
            except (FileNotFoundError, OSError):
                break
            folder = folder.rsplit("/", 1)[0]
