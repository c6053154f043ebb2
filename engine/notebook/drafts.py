"""Drafts: reports that run and fill themselves but stay off the hub, roadmap and kanban.

A report whose front matter says `status: draft` is a draft. Its runs write the report (regions,
figures, log, record) and commit it, but never its pages, and its status stays `draft` whatever
the run gave (the log row says how the run ended); `research sync` and the runs of other reports
leave it out of every page. So a half-formed idea can be tried in the notebook without a line
of it reaching the pages others read.

Promoting it — `research promote FILE`, or setting `status: planned` by hand, which is all the
command does — makes it an ordinary report: its next `research run` (every trial cached)
writes `done` and brings its pages up to date. `research run --no-propagate` is the same
restraint for one run of any report.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import DocumentError
from engine.text import document, textfile

DRAFT = "draft"
PROMOTED = "planned"  # what a promoted draft says until its next run writes done or failed


def is_draft(status: object) -> bool:
    return status == DRAFT


def propagates(status: object, requested: bool = True) -> bool:
    """Whether a run of a report with this status writes its hub, roadmap and kanban."""
    return requested and not is_draft(status)


def promote(path: str | Path) -> None:
    """Turn a draft into an ordinary report (atomically, under the report's lock)."""
    path = Path(path)

    def edit(text: str) -> str:
        if document.front_matter(text, str(path)) is None:
            raise DocumentError(
                "is not an experiment report: it has no front matter (no spec, no status)",
                path=path,
                hint="give the draft report's path (research/<topic>/exp/exp_*.md)",
            )
        status = document.front_matter_values(text, ("status",)).get("status")
        if not is_draft(status):
            raise DocumentError(
                f"is not a draft (its status is '{status or PROMOTED}')",
                path=path,
                key="status",
                hint="only a report with `status: draft` is promoted",
            )
        return document.set_front_matter_keys(text, {"status": PROMOTED}, path=str(path))

    if not path.is_file():
        raise DocumentError("no such file", path=path, hint="give the draft report's path")
    textfile.update(path, edit)
