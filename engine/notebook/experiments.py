"""The catalog: every experiment report of a notebook, as the pages, `research status`, `check`,
`digest` and the browse API see them — each a `Report` (`engine.notebook.report`) of which only
the catalog's fields are read: front matter keys and run record, never the whole spec.

Fast on purpose (`research status` reads a thousand reports in well under a second): what each
file gave is cached by (size, mtime) in `.research/cache/reports.json`, so only a file that
changed is read again, and reading one is the catalog's light read (see `Report`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.notebook import paths
from engine.notebook.report import Report, read_report
from engine.text import textfile

SKIP_DIRS = {".git", ".research", ".venv", "node_modules", "__pycache__", "templates"}


def scan(root: Path, *, cache: bool = True, texts: Mapping[Path, str] | None = None) -> list[Report]:
    """Every report under `root` (markdown with an `id:` in its front matter), sorted by id.

    What each file gave is cached in `.research/cache/reports.json` by (size, mtime), so a
    notebook of a thousand reports is re-read only where a file changed. `texts` gives the
    text of reports about to be written (read from it, not from disk, and not cached). A
    report without a `record` region has the record the last run left in the run store's index."""
    given_texts = {os.path.normpath(Path(p).resolve()): t for p, t in (texts or {}).items()}
    state = root / paths.STATE_DIR
    cache_file = state / "cache" / "reports.json"
    old = _load_cache(cache_file) if cache and state.is_dir() else {}
    new: dict[str, Any] = {}
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".md"):
                continue
            path = Path(folder) / name
            given = given_texts.get(os.path.normpath(path.resolve()))
            if given is not None:
                report = read_report(path, root, text=given)
                if report is not None:
                    found.append(report)
                entry = old.get(str(path))
                if entry is not None:
                    new[str(path)] = entry
                continue
            stat = path.stat()
            stamp = [stat.st_size, stat.st_mtime_ns]
            entry = old.get(str(path))
            if entry is not None and entry.get("stamp") == stamp:
                report = None if entry.get("none") else Report.cataloged(path, entry, root=root)
            else:
                report = _read_if_report(path, root)
            if report is None:
                new[str(path)] = {"stamp": stamp, "none": True}
                continue
            new[str(path)] = {"stamp": stamp, **report.catalog_fields()}
            found.append(report)
    if cache and state.is_dir() and new != old:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            textfile.atomic_write(cache_file, json.dumps(new, ensure_ascii=False, default=str).encode("utf-8"))
        except OSError:
            pass  # a read-only notebook: no cache, same answer
    return sorted(found, key=lambda e: (e.id, str(e.path)))


def _read_if_report(path: Path, root: Path) -> Report | None:
    with open(path, "rb") as handle:
        if handle.read(7).lstrip(b"\xef\xbb\xbf")[:3] != b"---":
            return None
    return read_report(path, root)


def _load_cache(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def under(reports: list[Report], paths: Iterable[str | Path] | None) -> list[Report]:
    """The reports that are one of `paths` or lie in one of its folders (all when none given)."""
    if not paths:
        return list(reports)
    wanted = [Path(p).resolve() for p in paths]
    return [e for e in reports if any(e.path.resolve() == w or w in e.path.resolve().parents for w in wanted)]


def linked_to(reports: Sequence[Report], key: str, page: Path) -> list[Report]:
    """The reports whose `key` (hub, roadmap, kanban) points at `page`."""
    target = os.path.normpath(page.resolve())
    return [e for e in reports if (p := e.page(key)) is not None and os.path.normpath(p.resolve()) == target]
