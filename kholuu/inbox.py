"""The archivists' inbox: ``inbox/<fonds code>/<batch name>/`` folders.

A folder is ready to run when the archivist says so (a ``READY`` marker or a
``manifest.csv``) and nothing in it has changed for ``stable_seconds`` — a
scanner or a network copy may still be writing files. Plain functions, so the
Dagster sensor and ``kholuu`` share them and tests need no Dagster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

READY_MARKERS = ("READY", "manifest.csv", "manifest.yaml", "manifest.yml")


@dataclass(frozen=True)
class InboxFolder:
    fonds: str
    name: str
    path: Path
    newest_change: float   # mtime of the most recently changed file


def _newest_change(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for p in folder.rglob("*"):
        try:
            newest = max(newest, p.stat().st_mtime)
        except FileNotFoundError:  # removed while we looked: still changing
            return time.time()
    return newest


def ready_folders(inbox: Path, stable_seconds: float, now: float | None = None) -> list[InboxFolder]:
    """Batch folders that are marked ready and have been still long enough."""
    now = time.time() if now is None else now
    found: list[InboxFolder] = []
    if not inbox.is_dir():
        return found
    for fonds_dir in sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for folder in sorted(p for p in fonds_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not any((folder / m).is_file() for m in READY_MARKERS):
                continue
            newest = _newest_change(folder)
            if now - newest >= stable_seconds:
                found.append(InboxFolder(fonds=fonds_dir.name, name=folder.name, path=folder.resolve(),
                                         newest_change=newest))
    return found
