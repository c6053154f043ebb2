"""From stored trial records to what the report shows: tables, figures, verdict, record, log row.

Pure: everything is recomputed from the run store and returned — region bodies, figure bytes,
the run record, the log row — and nothing is written here (the end of a run writes it all, or
nothing: `engine.runner`). So a fully cached `research run` and a fresh one give the same bytes.

The entry point the runner calls; each job has its module, and this one puts them in order:

    render_key      engine.render.render_key     what the regions depend on (a cached run's check)
    compute_tables  engine.render.statistics     the numbers, worked out once
    render_bodies   engine.render.regions        the region bodies, figures included
                    engine.render.figure_kinds   the figure kinds' registry: read, draw, caption, say
                    engine.render.run_record     the run record the pages read
    log_row         here                         the log's row of this run
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.notebook import record
from engine.render.regions import render_bodies
from engine.render.render_key import render_key
from engine.render.run_record import commit_text, run_record
from engine.render.statistics import Tables, compute_tables
from engine.render.templates import render


@dataclass
class Rendered:
    """Everything the end of a run writes into the report and beside it."""

    bodies: dict[str, str]  # region name → body
    figures: dict[Path, bytes]  # image path → its bytes
    record: dict[str, Any]  # the run record (also the index's copy for reports without the region)
    tables: Tables
    values: dict[str, str] = field(default_factory=dict)  # live numbers in prose: expression → shown text


def render_report(plan, present: Mapping[str, Any], text: str | None = None) -> Rendered:
    """Compute the tables and render every region body and figure of the report, and the live
    numbers of its prose when `text` is given (nothing written)."""
    from engine.render import live

    spec = plan.report.spec
    tables = compute_tables(plan, spec)
    bodies, figures = render_bodies(plan, spec, tables, present)
    recorded = run_record(plan, spec, tables)  # once: it hashes the render code and templates
    bodies[record.REGION] = record.render(recorded)
    failed = any(t.record is None for t in plan.trials)
    shown = live.values(spec, text, tables.context, str(plan.report.path), failed=failed) if text is not None else {}
    return Rendered(bodies, figures, record.rounded(recorded), tables, shown)


def append_row(body: str, row: str) -> str:
    """A log body with `row` added, unless its last row already is `row` (a finished end replayed)."""
    body = body.replace("\r\n", "\n")
    if body.rstrip("\n").endswith(row.rstrip("\n")):
        return body
    if body and not body.endswith("\n"):
        body += "\n"
    return body + row.rstrip("\n") + "\n"


def log_row(
    plan, failed, tables: Tables | None, status: str | None, code_state: Mapping[str, Any], note: str | None = None
) -> str:
    """The report's log row of this run: what ran, what was cached, what failed, the verdict, the commit."""
    from engine.render.phrasebook import regions

    say = regions(plan.report.spec.language)
    ran = [t for t in plan.trials if t.runs]
    parts = say.log_event(
        [t.name for t in ran if t.record is not None],
        sum(1 for t in plan.trials if t.cached),
        [(t.name, str(t.error)) for t in failed],
        tables.verdict.verdict if tables is not None and tables.verdict is not None else None,
    )
    if note:
        parts.append(note)
    recorded = [t.record.provenance.get("git") for t in ran if t.record is not None and t.record.provenance.get("git")]
    state = recorded[0] if recorded else code_state
    commit = commit_text(state.get("short"), bool(state.get("dirty")))
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return render(
        "regions/log-row.md.j2", plan.root, date=now, event=say.clauses(parts) or status or say.ran(), commit=commit
    )


__all__ = [
    "Rendered",
    "Tables",
    "append_row",
    "compute_tables",
    "log_row",
    "render_bodies",
    "render_key",
    "render_report",
]
