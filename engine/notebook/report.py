"""An experiment report on disk: its text, its front matter and the spec in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import SpecError
from engine.text import document, textfile

if TYPE_CHECKING:  # pydantic is loaded only by what reads a spec
    from engine.spec import Spec


@dataclass(frozen=True)
class Report:
    path: Path
    text: str
    front: document.FrontMatter
    spec: Spec


def load_report(path: str | Path) -> Report:
    """Read a report and validate its spec; every error names the file and line."""
    from engine.spec import load_spec

    path = Path(path)
    text = textfile.read_text(path)
    fm = document.front_matter(text, str(path))
    if fm is None:
        raise SpecError(
            "has no front matter spec",
            path=path,
            line=1,
            hint="start the file with a '---' YAML block (`research new exp` writes one), "
            "or run `research adopt` on a legacy report",
        )
    return Report(path, text, fm, load_spec(fm.text, path=str(path), first_line=fm.first_line))


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
