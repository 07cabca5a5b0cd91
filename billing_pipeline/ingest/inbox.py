"""The inbox folder: which files are complete, their identity (sha256), archiving, and atomic submission."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from billing_pipeline.storage.atomic import replaced_atomically

IGNORED_SUFFIXES = (".part", ".tmp")
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class InboxEntry:
    path: Path
    size: int
    mtime_ns: int

    @property
    def look(self) -> list[int]:
        return [self.size, self.mtime_ns]


def is_ignored(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(IGNORED_SUFFIXES)


def scan(inbox: Path) -> list[InboxEntry]:
    """Regular files a user dropped, oldest first; half-written (*.part, *.tmp) and hidden files are skipped."""
    if not inbox.is_dir():
        return []
    entries = []
    with os.scandir(inbox) as listing:
        for item in listing:
            if is_ignored(item.name) or not item.is_file(follow_symlinks=False):
                continue
            stat = item.stat(follow_symlinks=False)
            entries.append(InboxEntry(Path(item.path), stat.st_size, stat.st_mtime_ns))
    return sorted(entries, key=lambda e: (e.mtime_ns, e.path.name))


def stable(entries: list[InboxEntry], previous_looks: dict[str, list[int]], now_ns: int,
           settle_seconds: float) -> list[InboxEntry]:
    """Entries the writer is done with: the same size and mtime as at the previous look, or, on the first look,
    an mtime at least `settle_seconds` old (a finished file moved, linked or `billing submit`ted in keeps its own
    mtime; one still being written has a fresh one)."""
    settled_before = now_ns - int(settle_seconds * 1e9)
    return [e for e in entries if previous_looks.get(e.path.name) == e.look or e.mtime_ns <= settled_before]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def archive(path: Path, target: Path, keep_original: bool = False) -> Path:
    """Move the original to `target` (archive/<sha256>.csv), or copy it there with `keep_original`. Bytes already
    archived are not written again: a re-drop is simply removed from the inbox."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if not keep_original:
            path.unlink(missing_ok=True)
        return target
    if not keep_original:
        try:
            os.replace(path, target)
            return target
        except OSError:  # another filesystem: copy, then drop the original
            pass
    with replaced_atomically(target) as partial:
        shutil.copyfile(path, partial)
    if not keep_original:
        path.unlink()
    return target


def submit(source: Path, inbox: Path) -> Path:
    """Copy a file into the inbox so the sensor never sees it half-written: the copy is a hidden `.part` until it is
    renamed. It keeps the source's mtime, as `mv` and `cp -p` do, so an old file is taken on the sensor's first
    look."""
    if not source.is_file():
        raise FileNotFoundError(f"{source} is not a file")
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / source.name
    if is_ignored(target.name):
        target = inbox / (target.name.lstrip(".").removesuffix(".part").removesuffix(".tmp") or "file.csv")
    with replaced_atomically(target) as partial:
        shutil.copyfile(source, partial)
        shutil.copystat(source, partial)
    return target
