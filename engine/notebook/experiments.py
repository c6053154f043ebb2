"""Every experiment report of a notebook, as the pages see it: front matter plus run record.

Fast on purpose (`research status` reads a thousand reports in well under a second): YAML with
the C loader when there is one, the record region found by a plain text search first, and no
pydantic, no spec resolution, no ML library.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.notebook import paths, record
from engine.text import document, textfile

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The front matter keys that link a report to its pages.
PAGE_KEYS = ("hub", "roadmap", "kanban")
#: The front matter keys the catalog reads: the spec's own metadata fields, read here without pydantic.
META_KEYS = (
    "id",
    "title",
    "topic",
    "mvp",
    "author",
    "date",
    "status",
    "last_run",
    "hub",
    "roadmap",
    "kanban",
    "answers",
    "gate",
)
SKIP_DIRS = {".git", ".research", ".venv", "node_modules", "__pycache__", "templates"}


@dataclass
class Experiment:
    path: Path
    front: dict[str, Any]
    record: dict[str, Any] | None = None
    error: str | None = None  # why the front matter could not be read
    front_text: str = ""  # the raw YAML, for the stale check
    spec_hash: str | None = None  # record.spec_digest of it with the record's --set overrides

    def spec_now(self) -> str:
        if self.spec_hash is None:
            self.spec_hash = record.spec_digest(
                self.front_text, (self.record or {}).get("sets") or [], (self.record or {}).get("sweeps") or []
            )
        return self.spec_hash

    stale: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.front.get("id") or self.path.stem)

    @property
    def status(self) -> str:
        return str(self.front.get("status") or "planned")

    @property
    def verdict(self) -> str | None:
        return (self.record or {}).get("verdict")

    @property
    def last_run(self) -> str | None:
        value = self.front.get("last_run")
        return str(value) if value else None

    @property
    def run_date(self) -> str:
        """The day it last ran (or its planned date): what a changelog row is dated."""
        return (self.last_run or str(self.front.get("date") or ""))[:10]

    def page(self, key: str) -> Path | None:
        """The hub / roadmap / kanban this report links to, resolved from its folder."""
        value = self.front.get(key)
        if not value:
            return None
        return Path(os.path.normpath(self.path.parent / str(value)))

    def primary_value(self) -> float | None:
        rec = self.record or {}
        best = next((t for t in rec.get("trials", []) if t.get("name") == rec.get("best")), None)
        return ((best or {}).get("metrics") or {}).get(rec.get("primary"))


def read(path: Path, root: Path | None = None, *, text: str | None = None) -> Experiment | None:
    """The experiment in a markdown file, or None when the file is not a report (no `id:`).

    `text`: the report's text when it is not (yet) on disk — the end of a run renders pages
    from the report it is about to write. The record comes from the report's `record` region;
    a report without one (adopted, older) falls back to the copy the last run left in the
    run store's index under `root`."""
    if text is None:
        text = textfile.read_text(path)
    fm = document.front_matter(text, str(path))
    if fm is None:
        return None
    blocks = document.key_blocks(fm.text)
    try:  # only the keys the pages use: a fraction of a full parse of the spec
        front = yaml.load("".join(_line(blocks.get(k, "")) for k in META_KEYS) or "{}", Loader=_Loader)
    except yaml.YAMLError as error:
        return Experiment(path, {}, error=f"front matter is not valid YAML ({str(error).splitlines()[0]})")
    if not isinstance(front, dict) or "id" not in front:
        return None
    try:
        rec = record.parse(text, str(path))
    except Exception as error:  # a broken marker: the report is still listed, with its problem
        return Experiment(path, front, error=str(error))
    if rec is None and root is not None:
        rec = _indexed_record(root, str(front["id"]))
    return Experiment(path, front, rec, front_text=fm.text)


def _indexed_record(root: Path, report_id: str) -> dict[str, Any] | None:
    index = root / paths.STATE_DIR / "reports" / f"{report_id}.json"
    try:
        value = json.loads(index.read_text(encoding="utf-8")).get("record")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, dict) else None


def scan(root: Path, *, cache: bool = True, texts: Mapping[Path, str] | None = None) -> list[Experiment]:
    """Every report under `root` (markdown with an `id:` in its front matter), sorted by id.

    What each file gave is cached in `.research/cache/reports.json` by (size, mtime), so a
    notebook of a thousand reports is re-read only where a file changed. `texts` gives the
    text of reports about to be written (read from it, not from disk, and not cached)."""
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
                experiment = read(path, text=given)
                if experiment is not None:
                    if experiment.record is None and experiment.error is None:
                        experiment.record = _indexed_record(root, experiment.id)
                    found.append(experiment)
                entry = old.get(str(path))
                if entry is not None:
                    new[str(path)] = entry
                continue
            stat = path.stat()
            stamp = [stat.st_size, stat.st_mtime_ns]
            entry = old.get(str(path))
            if entry is not None and entry.get("stamp") == stamp:
                experiment = (
                    None
                    if entry.get("none")
                    else Experiment(
                        path,
                        entry["front"],
                        entry["record"],
                        entry["error"],
                        front_text=entry["text"],
                        spec_hash=entry.get("spec"),
                    )
                )
            else:
                experiment = _read_if_report(path)
            if experiment is None:
                new[str(path)] = {"stamp": stamp, "none": True}
                continue
            new[str(path)] = {
                "stamp": stamp,
                "front": experiment.front,
                "record": experiment.record,
                "error": experiment.error,
                "text": experiment.front_text,
                "spec": experiment.spec_now() if experiment.record is not None else None,
            }
            if experiment.record is None and experiment.error is None:
                experiment.record = _indexed_record(root, experiment.id)
            found.append(experiment)
    if cache and state.is_dir() and new != old:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            textfile.atomic_write(cache_file, json.dumps(new, ensure_ascii=False, default=str).encode("utf-8"))
        except OSError:
            pass  # a read-only notebook: no cache, same answer
    return sorted(found, key=lambda e: (e.id, str(e.path)))


def _read_if_report(path: Path) -> Experiment | None:
    with open(path, "rb") as handle:
        if handle.read(7).lstrip(b"\xef\xbb\xbf")[:3] != b"---":
            return None
    return read(path)


def _load_cache(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def under(experiments: list[Experiment], paths: Iterable[str | Path] | None) -> list[Experiment]:
    """The experiments that are one of `paths` or lie in one of its folders (all when none given)."""
    if not paths:
        return list(experiments)
    wanted = [Path(p).resolve() for p in paths]
    return [e for e in experiments if any(e.path.resolve() == w or w in e.path.resolve().parents for w in wanted)]


def linked_to(experiments: Sequence[Experiment], key: str, page: Path) -> list[Experiment]:
    """The experiments whose `key` (hub, roadmap, kanban) points at `page`."""
    target = os.path.normpath(page.resolve())
    return [e for e in experiments if (p := e.page(key)) is not None and os.path.normpath(p.resolve()) == target]


def _line(block: str) -> str:
    return block if not block or block.endswith("\n") else block + "\n"
