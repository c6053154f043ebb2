"""An experiment report: a markdown file whose front matter is its spec. One class for every
reader of one, so that what a report is, and how each part of it is read, is said once.

A `Report` knows its path and, once asked, its text; every other part is read from the text
the first time it is asked for, and kept. The parts differ a thousandfold in cost, and each
reader pays only for what it asks:

* the catalog's fields — `meta` (a few front-matter keys: id, title, status, the pages it
  links…, `META_KEYS`), the run record (its `record` region), `problem` (why those could not
  be read) and what follows from them (`id`, `status`, `verdict`, `page()`, `spec_digest`,
  `stale_reasons()`…): what `research status`, the pages, `check`, `digest` and the browse API
  read of every report of the notebook. Fast on purpose (a thousand reports in well under a
  second): YAML with the C loader when there is one, of those keys' lines only, the record found
  by a plain text search first, and no pydantic, no spec resolution, no ML library;
* `spec` — the whole spec, validated (pydantic): paid for only by what plans, runs or checks
  the report.

`load_report` reads a report to run it: it validates the spec at once, so that a bad spec stops
everything before anything trains, each error naming the file and line. `read_report` reads one
for the catalog: None when the file is not a report (no `id:` in its front matter), and a report
whose front matter is not YAML, or whose markers are broken, is still listed, with its problem.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from engine.errors import SpecError
from engine.notebook import paths, record
from engine.notebook.staleness import stale_reasons
from engine.text import document, textfile

if TYPE_CHECKING:  # pydantic is loaded only by what reads a spec
    from engine.spec import Spec

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


class _Catalog(NamedTuple):
    """What the catalog reads of a file: whether it is a report, and its fields."""

    report: bool  # front matter with an `id:`, or front matter that is not YAML (listed with its problem)
    meta: dict[str, Any]
    record: dict[str, Any] | None  # the report's own `record` region
    problem: str | None


class Report:
    """One experiment report: its path, its text, and each part of it read once, when first asked for.

    `root`: the notebook whose run store's index holds the record the last run left, read for
    a report that has no `record` region of its own (adopted, older)."""

    def __init__(self, path: str | Path, text: str | None = None, *, root: Path | None = None) -> None:
        self.path = Path(path)
        self.root = root
        if text is not None:  # a text not (yet) on disk: the end of a run renders from the report it will write
            self.__dict__["text"] = text

    def __repr__(self) -> str:
        return f"Report({str(self.path)!r})"

    @classmethod
    def cataloged(cls, path: Path, fields: dict[str, Any], *, root: Path | None = None) -> Report:
        """The report as `catalog_fields()` gave it, when its file has not changed since: its
        text is read only if something asks for more than the catalog's fields."""
        report = cls(path, root=root)
        report.__dict__["_catalog"] = _Catalog(True, fields["front"], fields["record"], fields["error"])
        report.__dict__["front_text"] = fields["text"]
        if fields.get("spec") is not None:
            report.__dict__["spec_digest"] = fields["spec"]
        return report

    def catalog_fields(self) -> dict[str, Any]:
        """The catalog's fields as JSON, what `Report.cataloged` takes back (the cache of `experiments.scan`)."""
        own = self._catalog.record
        return {
            "front": self.meta,
            "record": own,
            "error": self.problem,
            "text": self.front_text,
            "spec": self.spec_digest if own is not None else None,
        }

    # -- the file --------------------------------------------------------------------------

    @cached_property
    def text(self) -> str:
        return textfile.read_text(self.path)

    @cached_property
    def _front(self) -> document.FrontMatter | None:
        return document.front_matter(self.text, str(self.path))

    @property
    def front(self) -> document.FrontMatter:
        """The front matter block: the spec's YAML and where it sits in the file."""
        if self._front is None:
            raise SpecError(
                "has no front matter spec",
                path=self.path,
                line=1,
                hint="start the file with a '---' YAML block (`research new exp` writes one), "
                "or run `research adopt` on a legacy report",
            )
        return self._front

    @cached_property
    def front_text(self) -> str:
        """The front matter's YAML ('' when there is none): what `spec_digest` hashes."""
        return self._front.text if self._front is not None else ""

    # -- the spec --------------------------------------------------------------------------

    @cached_property
    def spec(self) -> Spec:
        """The whole spec, validated; every error names the file and line."""
        from engine.spec import load_spec

        front = self.front
        return load_spec(front.text, path=str(self.path), first_line=front.first_line)

    def with_spec(self, spec: Spec) -> Report:
        """The same report carrying another spec (a plan's: the spec with the command line's sweep grid)."""
        other = copy.copy(self)  # a copy of what has been read, so nothing is read twice
        other.__dict__["spec"] = spec
        return other

    # -- the catalog's fields --------------------------------------------------------------

    @cached_property
    def _catalog(self) -> _Catalog:
        fm = self._front
        if fm is None:
            return _Catalog(False, {}, None, None)
        blocks = document.key_blocks(fm.text)
        try:  # only the keys the catalog uses: a fraction of a full parse of the spec
            meta = yaml.load("".join(_line(blocks.get(k, "")) for k in META_KEYS) or "{}", Loader=_Loader)
        except yaml.YAMLError as error:
            return _Catalog(True, {}, None, f"front matter is not valid YAML ({str(error).splitlines()[0]})")
        if not isinstance(meta, dict) or "id" not in meta:
            return _Catalog(False, {}, None, None)
        try:
            rec = record.parse(self.text, str(self.path))
        except Exception as error:  # a broken marker: the report is still listed, with its problem
            return _Catalog(True, meta, None, str(error))
        return _Catalog(True, meta, rec, None)

    @property
    def is_report(self) -> bool:
        """Whether the file is an experiment report: front matter with an `id:` (or broken front matter)."""
        return self._catalog.report

    @property
    def meta(self) -> dict[str, Any]:
        """The catalog's keys of the front matter (`META_KEYS`) as YAML gives them, unvalidated."""
        return self._catalog.meta

    @property
    def problem(self) -> str | None:
        """Why the catalog's fields could not be read (front matter not YAML, a broken marker)."""
        return self._catalog.problem

    @cached_property
    def record(self) -> dict[str, Any] | None:
        """The run record: the report's `record` region, else the copy the last run left in the
        run store's index under `root` (a report without the region: adopted, older)."""
        own = self._catalog.record
        if own is None and self.problem is None and self.root is not None:
            return _indexed_record(self.root, self.id)
        return own

    @property
    def id(self) -> str:
        return str(self.meta.get("id") or self.path.stem)

    @property
    def status(self) -> str:
        return str(self.meta.get("status") or "planned")

    @property
    def verdict(self) -> str | None:
        return (self.record or {}).get("verdict")

    @property
    def last_run(self) -> str | None:
        value = self.meta.get("last_run")
        return str(value) if value else None

    @property
    def run_date(self) -> str:
        """The day it last ran (or its planned date): what a changelog row is dated."""
        return (self.last_run or str(self.meta.get("date") or ""))[:10]

    def page(self, key: str) -> Path | None:
        """The hub / roadmap / kanban this report links to, resolved from its folder."""
        value = self.meta.get(key)
        if not value:
            return None
        return Path(os.path.normpath(self.path.parent / str(value)))

    @property
    def pages(self) -> dict[str, Path]:
        """Every page it links to, by kind (`PAGE_KEYS`)."""
        return {key: page for key in PAGE_KEYS if (page := self.page(key)) is not None}

    def resolved_configs(self) -> dict[str, Any]:
        """Each trial's config resolved from this text's spec with its record's --set and --sweep
        options: today's resolution of the spec that made the numbers (a fresh clone has no run
        store to read them from); empty when the spec no longer validates."""
        from engine.errors import ResearchError
        from engine.spec import parse_set_option, parse_sweep_option

        rec = self.record or {}
        try:
            spec = self.spec
            if rec.get("sweeps"):
                spec = spec.with_sweep(dict(parse_sweep_option(s) for s in rec["sweeps"]))
            trials = spec.resolve_trials(dict(parse_set_option(s) for s in rec.get("sets") or []))
        except ResearchError:
            return {}
        return {t.name: t.config for t in trials}

    @property
    def answers(self) -> list[str]:
        """The hub questions it answers; `answers: Q3.1` (one id, as the spec allows) is one
        question, not four characters."""
        value = self.meta.get("answers")
        if isinstance(value, str):
            return [value]
        return [str(q) for q in value] if isinstance(value, list) else []

    def primary_value(self) -> float | None:
        rec = self.record or {}
        best = next((t for t in rec.get("trials", []) if t.get("name") == rec.get("best")), None)
        return ((best or {}).get("metrics") or {}).get(rec.get("primary"))

    @cached_property
    def spec_digest(self) -> str:
        """Today's `record.spec_digest` of the spec, with the record's --set and --sweep options."""
        rec = self.record or {}
        return record.spec_digest(self.front_text, rec.get("sets") or [], rec.get("sweeps") or [])

    def stale_reasons(self, parts_now: Mapping[str, Any] | None = None) -> list[str]:
        """Why its numbers are stale (`engine.notebook.staleness`); its problem when it could not be
        read. `parts_now`: today's key parts of each trial, when the caller fingerprinted the data."""
        if self.problem:
            return [self.problem]
        return stale_reasons(self.record, status=self.status, spec_now=self.spec_digest, parts_now=parts_now)


def load_report(path: str | Path) -> Report:
    """Read a report and validate its spec; every error names the file and line."""
    report = Report(path)
    _ = report.spec  # validated now, before anything trains
    return report


def read_report(path: Path, root: Path | None = None, *, text: str | None = None) -> Report | None:
    """The report in a markdown file for the catalog, or None when the file is not a report (no `id:`).

    `text`: the report's text when it is not (yet) on disk — the end of a run renders pages
    from the report it is about to write. `root`: the notebook whose run store's index has the
    record of a report without a `record` region."""
    report = Report(path, text, root=root)
    return report if report.is_report else None


def _indexed_record(root: Path, report_id: str) -> dict[str, Any] | None:
    index = root / paths.STATE_DIR / "reports" / f"{report_id}.json"
    try:
        value = json.loads(index.read_text(encoding="utf-8")).get("record")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, dict) else None


def _line(block: str) -> str:
    return block if not block or block.endswith("\n") else block + "\n"


@dataclass(frozen=True)
class Need:
    """An output of a run and the regions that can show it (any one of them; the first is the
    one to paste)."""

    what: str
    key: str  # the spec key that declares it: where a missing region is reported
    regions: tuple[str, ...]


def needed_regions(spec) -> list[Need]:
    """Every region a run of `spec` writes into, by what declares it. Without its region an output
    would be computed and written nowhere (a figure linked from nowhere, comparisons nobody
    sees), so validation refuses the report before anything trains. Always needed: the results
    table and the run record (what `research status`, `sync` and the pages read). The
    hypotheses, log and reproduce regions are not: the hub shows the answers, the commit the
    run, and a report may leave them out."""
    needs = [
        Need("the results table", "metrics", ("results",)),
        Need("the run record (what research status, sync and the pages read)", "id", ("record",)),
    ]
    if spec.decision.rules:
        needs.append(Need("a verdict", "decision.rules", ("summary",)))
    if spec.key_numbers:
        needs.append(Need("key numbers", "key_numbers", ("key-numbers",)))
    for i, table in enumerate(spec.binned):
        needs.append(Need(f"binned table {i} ({table.metric})", f"binned[{i}]", ("binned", f"binned-{i}")))
    for i, figure in enumerate(spec.figures):
        needs.append(Need(f"figure {figure.file}", f"figures[{i}]", ("figures", f"figure-{i + 1}")))
    if spec.comparisons:
        needs.append(Need("comparisons", "comparisons", ("comparisons",)))
    return needs


def missing_regions(report: Report) -> list[Need]:
    """What the report declares and has no region for (`needed_regions`)."""
    present = document.regions(report.text, str(report.path))
    return [need for need in needed_regions(report.spec) if not any(name in present for name in need.regions)]


def markers(name: str) -> str:
    """The two marker lines of an empty region, as a user pastes them."""
    return f"<!-- research:{name} -->\n<!-- /research:{name} -->"
