"""The digest's planned experiments: what the kanban holds for the topic, and what its roadmap
still lists without a report.

The kanban's rows are the reports themselves (`research sync` builds its board from them), so a
planned or running report of the topic is one row; a draft is on no page, and not here either.
A roadmap MVP row marked ⏳ or 🔆 is planned work too when no report delivers that MVP and the
hub questions waiting on it (tree lines naming it) are not all settled — the way a user's roadmap
lists the next MVPs before anyone writes their reports.

Each row's priority is that of the most urgent open question it answers (`questions`), else the
one the hub states for its MVP, else P2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.notebook.report import Report
from engine.text import document, tables
from engine.text.marks import QUESTION_MARKS, STATUS_MARKS, status_text
from engine.text.questions import MVP_RE

from .questions import Hub

#: A roadmap status cell that says the MVP is still to do.
PENDING_MARKS = (STATUS_MARKS["planned"], QUESTION_MARKS["open"])


def planned(
    mine: Sequence[Report],
    every: Sequence[Report],
    hubs: Mapping[Path, Hub],
    open_rows: Sequence[Mapping[str, Any]],
    w: Mapping[str, str],
    link: Callable[[Path], str],
) -> list[dict[str, Any]]:
    """The topic's planned and running reports, then its roadmaps' pending MVPs, by priority."""
    urgency = {r["id"]: r["level"] for r in open_rows if not r["gap"]}
    stated = {name: level for hub in hubs.values() for name, level in hub.priorities.items()}
    rows = []
    for report in mine:
        if report.status not in ("planned", "running"):
            continue
        answers = report.answers
        mvp = str(report.meta.get("mvp") or "")
        levels = [urgency[q] for q in answers if q in urgency] + ([stated[mvp]] if mvp in stated else [])
        title = str(report.meta.get("title") or report.id).replace("|", "\\|")
        rows.append(
            {
                "level": min(levels, default=2),
                "what": f"[{title}]({link(report.path)})",
                "mvp": mvp or "-",
                "status": status_text(report.status),
                "answers": ", ".join(answers) or "-",
            }
        )
    delivered = {str(e.meta.get("mvp")) for e in every if e.meta.get("mvp")}
    waiting: dict[str, list[str]] = {}  # MVP → the unsettled questions whose tree line names it
    settled: dict[str, bool] = {}
    open_ids = {r["id"] for r in open_rows}
    for hub in hubs.values():
        for qid, _question, _mark, rest in hub.tree():
            for mvp in MVP_RE.findall(rest):
                settled[mvp] = settled.get(mvp, True) and qid not in open_ids
                if qid in open_ids:
                    waiting.setdefault(mvp, []).append(qid)
    roadmaps = sorted({p for e in mine if (p := e.page("roadmap")) is not None and p.is_file()})
    for page in roadmaps:
        for mvp, what in _pending_rows(page):
            if mvp in delivered or settled.get(mvp, False):
                continue
            answers = waiting.get(mvp, [])
            levels = [urgency[q] for q in answers if q in urgency] + ([stated[mvp]] if mvp in stated else [])
            rows.append(
                {
                    "level": min(levels, default=2),
                    "what": what,
                    "mvp": mvp,
                    "status": w["roadmap_only"],
                    "answers": ", ".join(answers) or "-",
                }
            )
            delivered.add(mvp)  # one row per MVP, however many roadmaps list it
    return sorted(rows, key=lambda r: r["level"])


def _pending_rows(page: Path) -> list[tuple[str, str]]:
    """(MVP, what it is) of every row of the roadmap's MVP table whose status is still to do."""
    from engine.text import textfile

    text = textfile.read_text(page)
    lines = document.split_lines(text)
    out = []
    for table in tables.tables(text, skip=tables.region_spans(text, str(page))):
        if not table.header or "mvp" not in table.header[0].lower():
            continue
        status_col = tables.column(table.header, "状态", "status")
        what_cols = [
            c
            for c in (tables.column(table.header, "实验", "experiment"), tables.column(table.header, "目标", "goal"))
            if c is not None
        ]
        if status_col is None:
            continue
        for row in table.rows:
            cells = [c.strip() for c in tables.cells(lines[row])]
            if len(cells) <= status_col or not any(mark in cells[status_col] for mark in PENDING_MARKS):
                continue
            mvp = cells[0].strip("* ")
            parts = [cells[c] for c in what_cols if c < len(cells) and cells[c] not in ("", "-")]
            out.append((mvp, " — ".join(parts) or mvp))
    return out
