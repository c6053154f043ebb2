"""A hub's hand-written parts that an answered question changes: its tree line and answer row.

    │   ├── Q3.1: question → ⏳ MVP-1.5          becomes
    │   ├── Q3.1: question → ✅ <one-line answer> (MVP-1.5)

Only the text after the arrow changes; the tree drawing, the id and the question stay. In the
branch-answers table (a table with an "answer" / "答案" column) the row whose first cell is the
id gets the answer, the mark in its confidence/status column and the report link in its
evidence column; its other cells (the user's "so what") stay. Every other byte is the user's.
"""

from __future__ import annotations

import difflib

from engine.errors import DocumentError
from engine.text import document, tables
from engine.text.questions import MVP_RE, ROW_ID_RE, TREE_LINE_RE, hypothesis_ids


def check_ids(text: str, ids, *, path: str) -> None:
    """Every id must be a question of the hub; otherwise say which ids are close."""
    known = hypothesis_ids(text)
    for qid in ids:
        if qid not in known:
            close = difflib.get_close_matches(qid, known, n=3, cutoff=0.5)
            raise DocumentError(
                f"the hub has no question {qid}",
                path=path,
                key="answers",
                hint=(f"closest ids: {', '.join(close)}" if close else f"its ids are {', '.join(known) or 'none'}")
                + "; fix `answers:` in the report or add the question to the hub's tree",
            )


def tree_tail(mark: str, answer: str, mvp: str | None) -> str:
    answer = " ".join(str(answer).split())
    return f"{mark} {answer} ({mvp})" if mvp else f"{mark} {answer}"


def answer_question(text: str, qid: str, *, mark: str, answer: str, mvp: str | None, evidence: str, path: str) -> str:
    """The hub with question `qid` answered in its tree line and its branch-answers row."""
    check_ids(text, [qid], path=path)
    lines = document.split_lines(text)
    owned = tables.region_spans(text, path)
    in_region = {i for a, b in owned for i in range(a, b + 1)}
    code = document.code_lines(text)
    # the tree line: prefer one inside a code block (the tree is drawn in a fence)
    candidates = [
        i
        for i, line in enumerate(lines)
        if i not in in_region and (m := TREE_LINE_RE.match(line)) and m.group("id") == qid
    ]
    candidates.sort(key=lambda i: i not in code)
    if candidates:
        i = candidates[0]
        m = TREE_LINE_RE.match(lines[i])
        assert m is not None  # a candidate is a line that matched
        old_mvps = MVP_RE.findall(m.group("tail"))
        reference = old_mvps[-1] if old_mvps else mvp
        new_tail = tree_tail(mark, answer, reference)
        lines[i] = lines[i][: m.start("tail")] + new_tail + lines[i][m.end("tail") :]
    # the branch-answers row
    for table in tables.tables(text, skip=owned):
        answer_col = tables.column(table.header, "答案", "answer")
        if answer_col is None:
            continue
        mark_col = tables.column(table.header, "置信", "confidence", "状态", "status")
        evidence_col = tables.column(table.header, "证据", "evidence", "来源", "source")
        for row in table.rows:
            found = tables.cells(lines[row])
            first = ROW_ID_RE.match(found[0]) if found else None
            if not first or first.group(1) != qid:
                continue
            new = {answer_col: " ".join(str(answer).split())}
            if mark_col is not None:
                new[mark_col] = mark
            if evidence_col is not None:
                new[evidence_col] = evidence
            lines[row] = tables.set_cells(lines[row], new)
    return "".join(lines)
