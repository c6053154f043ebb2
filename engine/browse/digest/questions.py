"""The digest's questions: what the topic's reports answered, and what the hubs still leave open.

*Answered* questions come from each report's per-question answer (its run record's `questions`
and `answers`, which the deciding rule's `answers:` gave): verified, refuted, inconclusive or
open — never from a mark on the hub, so a question a report answered "no" is refuted even when
the experiment itself passed (`{verdict: refuted, says: "no: …"}`).

*Open* questions are the hub's: every tree line no report has settled (the latest done report
answering it, of any topic, decides, as on the hub; a line the user marked ✅, ❌ or 🗑️ by hand
with no report behind it is settled by them), and every decision gap (a row of the table whose
first column is `DG`). Each gets a priority: the one the hub states on a line naming it (its
next steps: `🔴 **P0**：Q3.1 …`), else P1 for a question a run left unsettled and for a decision
gap (a decision waits on it), else P2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.notebook.report import Report
from engine.text import document, tables
from engine.text.marks import QUESTION_MARKS, question_verdict
from engine.text.questions import ANSWERED_RE, MVP_RE, QUESTION_ID, hypothesis_questions

#: Verdicts in the order the hypotheses table lists them.
VERDICT_ORDER = {"verified": 0, "refuted": 1, "inconclusive": 2, "open": 3}
#: Marks a user settles a tree line with by hand.
SETTLED_MARKS = ("✅", "❌", "🗑️", "🗑")
_PRIORITY = re.compile(r"\bP([0-2])\b")
_NAMED = re.compile(rf"\b(?:{QUESTION_ID}|DG\d+|MVP-[\w.-]*\w)\b")


@dataclass
class Hub:
    """A hub page as the digest reads it: its questions, tree lines, decision gaps and the
    priorities its prose states."""

    path: Path
    text: str
    questions: dict[str, str] = field(init=False)
    priorities: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.questions = hypothesis_questions(self.text)
        self.priorities = {}
        tree = document.code_lines(self.text)  # the tree's fence: its lines name ids, never a priority
        for number, line in enumerate(document.split_lines(self.text)):
            found = _PRIORITY.search(line)
            if found is None or number in tree:
                continue
            for name in _NAMED.findall(line):
                self.priorities.setdefault(name, int(found.group(1)))

    def tree(self) -> list[tuple[str, str, str, str]]:
        """(id, question, mark, rest) of every tree line (a question with an arrow, not in a table)."""
        out = []
        for line in self.text.splitlines():
            if line.lstrip().startswith("|"):
                continue
            found = ANSWERED_RE.search(line)
            if found:
                qid, question, mark, rest = found.groups()
                out.append((qid, question, mark, rest))
        return out

    def gaps(self) -> list[dict[str, str]]:
        """The decision gaps: rows of a table whose first header is `DG`, with what is missing."""
        lines = document.split_lines(self.text)
        out = []
        for table in tables.tables(self.text, skip=tables.region_spans(self.text, str(self.path))):
            if not table.header or table.header[0].strip("* ").upper() != "DG":
                continue
            gap_col = tables.column(table.header, "缺的答案", "answer we lack", "question", "gap")
            rule_col = tables.column(table.header, "决策规则", "decision rule", "rule")
            closes_col = tables.column(table.header, "关闭", "closes")
            for row in table.rows:
                cells = [c.strip() for c in tables.cells(lines[row])]

                def cell(index: int | None, cells: list[str] = cells) -> str:
                    return cells[index] if index is not None and index < len(cells) else ""

                gap = cell(gap_col if gap_col is not None else 1)
                if cells and gap:
                    out.append(
                        {"id": cells[0].strip("* "), "gap": gap, "next": cell(rule_col) or cell(closes_col) or "-"}
                    )
        return out


def question_state(report: Report, qid: str) -> tuple[str, str]:
    """(verdict, answer) a done report gave hub question `qid`: its own, else the report's verdict
    read as a yes or a no (`question_verdict`)."""
    rec = report.record or {}
    verdict = (rec.get("questions") or {}).get(qid) or question_verdict(rec.get("verdict"))
    answer = (rec.get("answers") or {}).get(qid) or rec.get("says") or str(rec.get("verdict"))
    return verdict, answer


def answered(report: Report) -> bool:
    return report.status == "done" and bool((report.record or {}).get("verdict"))


def hypotheses(
    reports: Sequence[Report], hubs: Mapping[Path, Hub], w: Mapping[str, str], link: Callable[[Path], str]
) -> list[dict[str, Any]]:
    """One row per question each of the topic's done reports answered, verified first."""
    rows = []
    for report in reports:
        if not answered(report):
            continue
        page = report.page("hub")
        hub = hubs.get(page) if page is not None else None
        for qid in report.answers:
            verdict, answer = question_state(report, qid)
            verdict = verdict if verdict in VERDICT_ORDER else "inconclusive"
            question = hub.questions.get(qid, "") if hub is not None else ""
            rows.append(
                {
                    "id": qid,
                    "question": f"{qid}: {question}" if question else qid,
                    "text": question,
                    "verdict": verdict,
                    "shown": w[verdict],
                    "answer": answer,
                    "report": report.id,
                    "evidence": f"[{report.id}]({link(report.path)})",
                }
            )
    return sorted(rows, key=lambda r: (VERDICT_ORDER[r["verdict"]], _natural(r["id"]), r["report"]))


def open_questions(hubs: Mapping[Path, Hub], every: Sequence[Report], w: Mapping[str, str]) -> list[dict[str, Any]]:
    """The questions and decision gaps of the hubs that no report has settled, by priority."""
    rows: list[dict[str, Any]] = []
    for hub in hubs.values():
        linked = [e for e in every if e.page("hub") is not None and e.page("hub") == hub.path]
        latest: dict[str, tuple[str, Report]] = {}
        for report in sorted((e for e in linked if answered(e)), key=lambda e: (e.last_run or "", e.id)):
            for qid in report.answers:
                latest[qid] = (question_state(report, qid)[0], report)
        planned: dict[str, list[str]] = {}
        for report in linked:
            if report.status in ("planned", "running"):
                for qid in report.answers:
                    planned.setdefault(qid, []).append(report.id)
        prefix = f"{hub.path.name} · " if len(hubs) > 1 else ""
        for order, (qid, question, mark, rest) in enumerate(hub.tree()):
            verdict, by = latest[qid] if qid in latest else (None, None)
            if verdict in ("verified", "refuted") or (verdict is None and mark in SETTLED_MARKS):
                continue
            if by is not None:
                stands = w["stands_inconclusive" if verdict == "inconclusive" else "stands_open"].format(id=by.id)
            else:
                stands = w["in_progress"] if mark == QUESTION_MARKS["open"] or qid in planned else w["not_started"]
            mvps = MVP_RE.findall(rest)
            stated = hub.priorities.get(
                qid, min((hub.priorities[m] for m in mvps if m in hub.priorities), default=None)
            )
            rows.append(
                {
                    "id": qid,
                    "question": f"{prefix}{qid}: {question}",
                    "text": question,
                    "stands": stands,
                    "next": w["planned_in"].format(ids=", ".join(planned[qid]))
                    if qid in planned
                    else ", ".join(mvps) or "-",
                    "level": stated if stated is not None else 1 if by is not None else 2,
                    "gap": False,
                    "order": (0, order),
                }
            )
        for order, gap in enumerate(hub.gaps()):
            rows.append(
                {
                    "id": gap["id"],
                    "question": f"{prefix}{gap['id']}: {gap['gap']}",
                    "text": gap["gap"],
                    "stands": w["decision_gap"],
                    "next": gap["next"],
                    "level": hub.priorities.get(gap["id"], 1),
                    "gap": True,
                    "order": (1, order),
                }
            )
    return sorted(rows, key=lambda r: (r["level"], r["order"]))


def _natural(qid: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", qid)]
