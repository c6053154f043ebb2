"""`research adopt FILE`: make a legacy report (or hub page) runnable without touching its words.

A legacy experiment report has no front matter and no region markers. Adopting it

1. puts a front matter skeleton on top, prefilled from the report's header block (title, id,
   topic, MVP, author, date), its upstream-links table (hub, roadmap, kanban) and its hypothesis
   table (`answers`), followed by a runnable default spec the user then edits;
2. puts region markers around the placeholder parts the engine will fill (summary, hypothesis
   table, key numbers, main results, binned tables, figure images, log, reproduce command),
   recognised by their heading in English or Chinese, with or without emoji and numbering.

A hub page gets no front matter, only markers around its leaderboard, key-numbers and
changelog tables.

The guarantee: dropping the front matter and the marker lines gives back the original text
exactly (the one exception: a last line with no newline gets one when a marker follows it,
because a marker must start a line). What the spec needs and no section held (the results
table, the run record) gets an empty region at the end. Each end marker is sealed with the checksum of its body, so the
engine owns the region from the start and no region reads as hand-edited.

Positions come from markdown-it token maps (headings, tables, fences, paragraphs, images), never
from regular expressions over the whole document; a regex only ever looks at one line or cell.

A finished report's draft spec goes further than its header: trials from the methods it
compared, a model from its experts and gates, metrics, binned tables, comparisons and key numbers
from its result tables, figures under their own file names, a decision rule from its acceptance
criterion — each value with the line it was read or guessed from. `adopt_file(commit=True)` (what
`research adopt` does) then commits the adopted file alone, so the numbers of the hand-coded run
are in history before the first run replaces them and `research check` finds prose quoting them.

This module is the entry point (`adopt_text`, `adopt_file`, `commit_adopted`) and what it
returns; each job has its module: `headings` (matching words in any dress), `outline` (blocks
and tables), `markers` (what to wrap, and wrapping it), `header`, `links`, `design_tables` and
`prose` (what the report states), `methods` (the trials it compared), `results` (metrics,
binned tables, key numbers), `figures`, `decision` (the acceptance criterion as rules), `said`
(where each value came from), `front_matter` (the draft written from it).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.adopt import front_matter, markers
from engine.adopt.header import TITLE_PREFIX_RE, header_line_fields
from engine.adopt.headings import heading_key, section_name, strip_emoji
from engine.adopt.markers import EXPERIMENT_REGIONS, HUB_REGIONS
from engine.adopt.outline import Outline, Table, top_blocks
from engine.errors import DocumentError
from engine.text import document, textfile
from engine.text.safe_yaml import yaml_scalar

__all__ = [
    "EXPERIMENT_REGIONS",
    "HUB_REGIONS",
    "AdoptResult",
    "Kind",
    "adopt_file",
    "adopt_text",
    "detect_kind",
    "header_line_fields",
    "heading_key",
    "section_name",
    "yaml_scalar",
]

Kind = Literal["auto", "exp", "hub"]

_HUB_TITLE_RE = re.compile(r"(?<![a-z])hub(?![a-z])", re.IGNORECASE)
_HUB_FILE_RE = re.compile(r"(?:^|[_-])hub(?:[_-]|$)", re.IGNORECASE)
_HYPOTHESIS_TREE = ("核心假设树", "假设树", "hypothesistree")


@dataclass
class AdoptResult:
    """What adopting did: the new text, the regions it wrapped, what it looked for in vain."""

    text: str
    original: str
    kind: Literal["exp", "hub"]
    regions: list[tuple[str, int, int]] = field(default_factory=list)  # name, 1-based marker lines
    front_matter_added: bool = False
    missing: list[str] = field(default_factory=list)  # standard regions with no section found
    spec: dict = field(default_factory=dict)  # the values put in the front matter
    header: list[str] = field(default_factory=list)  # the header fields read (id, author, …)
    read: list[str] = field(default_factory=list)  # spec keys the report states (`# read from`)
    guessed: list[str] = field(default_factory=list)  # spec keys inferred (`# guessed from`, `# guess:`)
    to_fill: list[str] = field(default_factory=list)  # what the report says that the spec does not hold yet
    kept: list[str] = field(default_factory=list)  # tables a run would write over, left to the user
    appended: list[str] = field(
        default_factory=list
    )  # empty regions put at the end: the spec needs them, no section held them
    committed: str | None = None  # what became of the adopted file in git (adopt_file says)

    @property
    def found(self) -> list[str]:
        return [name for name, _, _ in self.regions]

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self, path: str | Path = "document.md") -> str:
        """The change as a unified diff (what `research adopt --dry-run` prints)."""
        return "".join(
            difflib.unified_diff(
                document.split_lines(self.original),
                document.split_lines(self.text),
                fromfile=f"{path}",
                tofile=f"{path} (adopted)",
            )
        )

    def summary(self) -> str:
        """One line per fact, for the CLI: what was added, where, and what was not found."""
        lines = []
        if self.front_matter_added:
            lines.append(
                "front matter: added (status: planned), a draft spec: check every `# guessed` line, "
                "then `research run --dry-run` the file"
            )
            lines.append("header: " + (", ".join(self.header) if self.header else "no fields found"))
            if "id" not in self.header:
                lines.append("header: no ID found; the front matter's id is the file name: choose one")
            lines.append("read from the report (`# read from`): " + (", ".join(_grouped(self.read)) or "nothing"))
            lines.append(
                "guessed (`# guessed from …: check`, `# guess:`): " + (", ".join(_grouped(self.guessed)) or "nothing")
            )
            for text in self.to_fill:
                lines.append(f"fill by hand: {text}")
        for text in self.kept:
            lines.append(f"kept as yours: {text}")
        for name, first, last in self.regions:
            lines.append(f"region {name}: lines {first}-{last}")
        if self.missing:
            lines.append("no section found for: " + ", ".join(self.missing))
        if self.appended:
            lines.append("empty regions added at the end, for the run to fill: " + ", ".join(self.appended))
        if self.committed:
            lines.append(self.committed)
        return "\n".join(lines)


def _grouped(keys: list[str]) -> list[str]:
    """Spec keys as a reader scans them: `trials (3)`, `figures (4)`, `model.alpha`."""
    counts: dict[str, set[str]] = {}
    for key in keys:
        top = re.split(r"[.\[]", key, maxsplit=1)[0]
        if top in ("data", "model", "decision", "noise"):
            counts.setdefault(key, set()).add(key)
        else:
            counts.setdefault(top, set()).add(re.split(r"\]", key, maxsplit=1)[0])
    return [f"{name} ({len(items)})" if len(items) > 1 else name for name, items in counts.items()]


def detect_kind(text: str, path: str | None = None) -> Literal["exp", "hub"]:
    """'hub' for a page with a hypothesis tree or "Hub" in its H1 title, else 'exp'."""
    body, _ = document.body_of(text, path)
    blocks = top_blocks(document.markdown_tokens(body))
    h1 = next((b for b in blocks if b.type == "heading" and b.level == 1), None)
    if h1 is not None and TITLE_PREFIX_RE.match(strip_emoji(h1.text)):
        return "exp"
    if h1 is not None and _HUB_TITLE_RE.search(h1.text):
        return "hub"
    if any(b.type == "heading" and heading_key(b.text) in _HYPOTHESIS_TREE for b in blocks):
        return "hub"
    if path and _HUB_FILE_RE.search(Path(path).stem):
        return "hub"
    return "exp"


def adopt_text(text: str, *, path: str | None = None, kind: Kind = "auto") -> AdoptResult:
    """Adopt a legacy document: front matter (reports) and sealed markers, every word kept."""
    if kind not in ("auto", "exp", "hub"):
        raise DocumentError(f"unknown document kind {kind!r}", path=path, hint="use 'auto', 'exp' or 'hub'")
    bom = text.startswith(document.BOM)
    if bom:
        text = text[len(document.BOM) :]
    existing = document.regions(text, path)
    fm = document.front_matter(text, path)
    if kind == "auto":
        kind = "hub" if fm is None and detect_kind(text, path) == "hub" else "exp"
    if existing:
        first = next(iter(existing.values()))
        raise DocumentError(
            f"already adopted: it has research regions ({', '.join(existing)})",
            path=path,
            line=first.start_line,
            hint="adopting twice would nest markers; the file is left as it is",
        )
    if kind == "exp" and fm is not None:
        raise DocumentError(
            "already adopted: it has front matter",
            path=path,
            line=1,
            hint="edit its spec instead; `research adopt` is for reports with no front matter",
        )

    newline = document.newline_of(text)
    body, _ = document.body_of(text, path)
    to_fill: list[str] = []
    head = text[: len(text) - len(body)]
    lines = document.split_lines(body)
    doc = Outline.of(body)

    composed: front_matter.FrontMatter | None = None
    kept: list[str] = []
    if kind == "hub":
        wraps, missing = markers.hub_targets(doc)
    else:
        wraps, missing, kept = markers.experiment_targets(doc)
    out, spans = markers.wrap(lines, wraps, newline)
    front = ""
    if kind == "exp":
        composed = front_matter.compose(doc, lines, path, _parts(doc, spans))
        length = len(document.split_lines(composed.text())) + len(document.split_lines(head))

        def line_at(line: int) -> int:
            return length + markers.shifted(spans, line) + 1

        front = document.with_newlines(composed.text(line_at), newline)
        to_fill = composed.filled(line_at)
    wrapped = {name for name, _, _ in spans}
    appended = markers.needed_empty(front, wrapped, path) if kind == "exp" else []
    out = markers.append_empty(out, appended, newline)
    new = front + head + "".join(out)
    regions = [
        (r.name, r.start_line, r.end_line) for r in document.regions(new, path).values() if r.name not in appended
    ]
    if bom:
        new, text = document.BOM + new, document.BOM + text
    return AdoptResult(
        text=new,
        original=text,
        kind=kind,
        regions=regions,
        front_matter_added=bool(front),
        missing=missing,
        spec=composed.spec if composed else {},
        header=composed.header if composed else [],
        read=composed.read if composed else [],
        guessed=composed.guessed if composed else [],
        to_fill=to_fill,
        kept=kept,
        appended=appended,
    )


def _parts(doc: Outline, spans: markers.Wraps) -> front_matter.Parts:
    """The tables and figures of the report by the region each became: what the draft reads."""
    tables = {table.begin: table for table in doc.tables_in_place()}
    by_name = {name: tables.get(begin) for name, begin, _ in spans}
    binned: list[Table] = []
    while (table := by_name.get(f"binned-{len(binned)}")) is not None:
        binned.append(table)
    return front_matter.Parts(
        results=by_name.get("results"),
        binned=tuple(binned),
        comparisons=by_name.get("comparisons"),
        key_numbers=by_name.get("key-numbers"),
        images=tuple(markers.figure_images(doc)),
    )


def adopt_file(path: str | Path, *, dry_run: bool = False, kind: Kind = "auto", commit: bool = False) -> AdoptResult:
    """Adopt the file in place (atomically, under its lock), or only compute it on a dry run;
    with `commit`, commit the adopted file (`research adopt` does, unless --no-commit)."""
    name = str(path)
    if dry_run:
        text, _ = textfile.read(path)
        return adopt_text(text, path=name, kind=kind)
    results: list[AdoptResult] = []

    def change(text: str) -> str:
        result = adopt_text(text, path=name, kind=kind)
        results.append(result)
        return result.text

    textfile.update(path, change)
    result = results[-1]
    result.committed = commit_adopted(Path(path), result) if commit else f"not committed: {UNCOMMITTED}"
    return result


#: Why an adopted file should be committed before its first run.
UNCOMMITTED = (
    "commit it before its first run: `research check` finds prose that still quotes the report's "
    "old numbers only against a committed copy of them"
)


def commit_adopted(path: Path, result: AdoptResult) -> str:
    """Commit the adopted file alone, so the numbers its appendix held are in git history before
    a run replaces them (the stale-prose check compares prose with committed results); what
    happened, in one line. Outside git nothing is committed; when git refuses, the file stays
    staged and the line says so."""
    from engine.errors import GitError
    from engine.notebook.locks import end_of_run
    from engine.notebook.paths import notebook_root
    from engine.run.provenance import commit_files, repository_root

    if repository_root(path.resolve().parent) is None:
        return f"not committed: {path} is not in a git repository; {UNCOMMITTED}"
    message = f"research adopt: {result.spec.get('id') or path.name} ({result.kind})"
    try:
        with end_of_run(notebook_root(path)):  # never inside a run's write-and-commit
            sha = commit_files([path], message, cwd=path.resolve().parent)
    except GitError as error:
        return f"staged, not committed: {error.message}; {UNCOMMITTED}"
    if sha is None:
        return f"not committed: git already holds {path} as adopted"
    return f"committed {sha[:7]}: {message}"
