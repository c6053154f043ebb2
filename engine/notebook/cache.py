"""`research cache info|clear`: what `.research/` holds on disk, and making room.

Two stores grow with use:

* the **synthetic cache**, `.research/cache/`: the generated spectra (`synthetic/<set>/`, one
  folder per size and seed, often hundreds of MB each) and small memos (fingerprints, scans,
  the report scan). Everything in it is made again on demand, bit for bit: clearing it costs
  the time to generate, never a result.
* the **run store**, `.research/runs/`: one folder per trial (record, predictions, model) and
  the shared MoE experts. Clearing a trial a report's run record names makes the next run of
  that report train it again (a reproduction, held against the record), so `clear --runs`
  removes only the trials no report's record refers to (and the experts none of the kept
  trials use); `--all` removes every one.

Nothing is removed while a `research run` is going on in the notebook, nor anything git tracks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import LockedError
from engine.notebook import locks, paths
from engine.notebook.store import EXPERTS, RECORD, KeyParts

SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int  # bytes on disk
    label: str  # what it is: a synthetic set's name, a trial's key and name


@dataclass
class Store:
    """One of the two stores: its folder, its size on disk, its entries (largest first)."""

    name: str
    folder: Path
    size: int = 0
    entries: list[Entry] = field(default_factory=list)


def disk_size(path: Path) -> int:
    """Bytes on disk (allocated blocks, as `du` counts them) of a file or a folder."""
    if path.is_symlink() or not path.exists():
        return 0
    if path.is_file():
        return _allocated(path)
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            total += _allocated(Path(folder) / name)
    return total


def _allocated(path: Path) -> int:
    try:
        stat = path.lstat()
    except OSError:
        return 0
    return getattr(stat, "st_blocks", 0) * 512 or stat.st_size


def usage(root: Path) -> tuple[Store, Store]:
    """(the synthetic cache, the run store) of the notebook at `root`."""
    cache = Store("synthetic cache", root / paths.STATE_DIR / "cache")
    cache.size = disk_size(cache.folder)
    sets = cache.folder / SYNTHETIC
    if sets.is_dir():
        cache.entries = [
            Entry(p, disk_size(p), p.name) for p in sorted(sets.iterdir()) if p.is_dir() and not p.name.startswith(".")
        ]
    runs = Store("run store", root / paths.STATE_DIR / "runs")
    runs.size = disk_size(runs.folder)
    runs.entries = [Entry(p, disk_size(p), f"{p.name} ({_trial_name(p)})") for p in _trials(runs.folder)]
    runs.entries += [Entry(p, disk_size(p), f"{p.name} (MoE experts)") for p in _experts(runs.folder)]
    for store in (cache, runs):
        store.entries.sort(key=lambda e: (-e.size, e.label))
    return cache, runs


def _trials(folder: Path) -> list[Path]:
    """The trial folders of a run store: `<key[:2]>/<key>/`."""
    if not folder.is_dir():
        return []
    return [
        key
        for prefix in sorted(folder.iterdir())
        if prefix.is_dir() and prefix.name != EXPERTS
        for key in sorted(prefix.iterdir())
        if key.is_dir() and not key.name.startswith(".")
    ]


def _experts(folder: Path) -> list[Path]:
    return _trials(folder / EXPERTS)


def _trial_name(folder: Path) -> str:
    record = _record(folder)
    return str(record.get("trial") or "?") if record else "no record"


def _record(folder: Path) -> dict:
    try:
        value = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def referenced_keys(root: Path) -> set[str]:
    """The trial keys the notebook's reports' run records name."""
    from engine.notebook.experiments import scan

    keys = set()
    for report in scan(root):
        for trial in (report.record or {}).get("trials", []):
            parts = trial.get("parts")
            if isinstance(parts, dict):
                try:
                    keys.add(KeyParts(**{k: parts[k] for k in ("config", "data", "code")}).key)
                except (KeyError, TypeError):
                    continue
    return keys


def to_clear(root: Path, *, runs: bool = False, everything: bool = False) -> list[Entry]:
    """What `research cache clear` removes: the synthetic cache's contents; with `runs`, the
    trials no run record refers to and the experts no kept trial uses; with `everything`, the
    whole run store too."""
    cache, store = usage(root)
    out = _cache_entries(cache.folder)
    if everything:
        out += [Entry(p, disk_size(p), p.name) for p in sorted(store.folder.iterdir())] if store.folder.is_dir() else []
    elif runs:
        wanted = referenced_keys(root)
        kept_experts = set()
        for folder in _trials(store.folder):
            if folder.name in wanted:
                key = (_record(folder).get("info") or {}).get("experts_key")
                if key:
                    kept_experts.add(str(key))
            else:
                out.append(Entry(folder, disk_size(folder), f"{folder.name} ({_trial_name(folder)})"))
        out += [
            Entry(p, disk_size(p), f"{p.name} (MoE experts)")
            for p in _experts(store.folder)
            if p.name not in kept_experts
        ]
    tracked = _tracked(root)
    return [e for e in out if not _holds_tracked(e.path, tracked)]


def _cache_entries(folder: Path) -> list[Entry]:
    """Every synthetic set (and a killed generator's `.tmp-*` folder), and every memo file."""
    out: list[Entry] = []
    if not folder.is_dir():
        return out
    for path in sorted(folder.iterdir()):
        if path.name == SYNTHETIC and path.is_dir():
            out += [Entry(p, disk_size(p), p.name) for p in sorted(path.iterdir()) if p.is_dir()]
        else:
            out.append(Entry(path, disk_size(path), path.name))
    return out


def _set_lock(path: Path) -> Path | None:
    """The lock a synthetic set is generated under (its `.tmp-<key>-<pid>` folder's too)."""
    if path.parent.name != SYNTHETIC:
        return None
    key = path.name[len(".tmp-") :].rsplit("-", 1)[0] if path.name.startswith(".tmp-") else path.name
    return path.parent / f"{key}.lock"


def clear(root: Path, entries: Iterable[Entry]) -> list[Entry]:
    """Remove the entries (none while a run is going on); the ones removed. A set being
    generated now is skipped; the sets' empty lock files stay (removing one a process waits on
    would let two generate at once)."""
    busy = LockedError(
        "a `research run` is going on in this notebook", path=root, hint="clear the cache when it has finished"
    )
    try:
        with locks.end_of_run(root, timeout=1.0):  # no run is writing its end…
            if locks.any_running(root):  # …nor training
                raise busy
            return _remove(entries)
    except LockedError:
        raise busy from None


def _remove(entries: Iterable[Entry]) -> list[Entry]:
    from filelock import FileLock, Timeout

    removed = []
    for entry in entries:
        lock = _set_lock(entry.path)
        guard = FileLock(str(lock)) if lock is not None else None
        if guard is not None:
            try:
                guard.acquire(timeout=0)  # a set being generated right now is left alone
            except Timeout:
                continue
        try:
            if entry.path.is_dir() and not entry.path.is_symlink():
                shutil.rmtree(entry.path)
            else:
                entry.path.unlink(missing_ok=True)
            removed.append(entry)
        finally:
            if guard is not None:
                guard.release()
    for folder in {e.path.parent for e in removed}:  # a run store's emptied <key[:2]>/ folders
        if (
            len(folder.name) == 2
            and folder.parent.name in ("runs", EXPERTS)
            and folder.is_dir()
            and not any(folder.iterdir())
        ):
            folder.rmdir()
    return removed


def _tracked(root: Path) -> set[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--", paths.STATE_DIR], cwd=root, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {(root / p.decode()).resolve() for p in out.split(b"\0") if p}


def _holds_tracked(path: Path, tracked: set[Path]) -> bool:
    target = path.resolve()
    return any(t == target or target in t.parents for t in tracked)
