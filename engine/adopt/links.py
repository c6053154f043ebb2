"""Where a legacy report sits in the notebook: the pages it links to and the questions it answers.

An adopted report's runs update its hub, roadmap and kanban, and answer questions of the hub's
hypothesis tree; a legacy report already names them, in its upstream-links table (a row per
page, its type in the first cell) and its hypothesis table (a question id per row) or its
header's `Hypothesis:` field. Reading them puts `hub`, `roadmap`, `kanban` and `answers` in the
front matter as the report says, not as a guess.
"""

from __future__ import annotations

from urllib.parse import unquote

from engine.adopt.headings import fold
from engine.adopt.outline import Outline, first, headings, section
from engine.text.questions import ITEM_ID_RE, QUESTION_ID_RE

# The kind of page a row of the upstream-links table points to (its "Type" cell).
LINK_TYPES: dict[str, tuple[str, ...]] = {
    "hub": ("hub", "中枢", "枢纽", "假设中枢"),
    "roadmap": ("roadmap", "路线图"),
    "kanban": ("kanban", "看板"),
}
#: The type of a row that links a report this one builds on (spec key `prerequisite`).
PREREQUISITE_TYPES = ("prerequisite", "前置", "前置实验", "depends on", "builds on", "上游实验")


def links(doc: Outline) -> dict[str, str]:
    """hub / roadmap / kanban: the link target of the first row of each type in a links table."""
    kinds = {fold(w): name for name, words in LINK_TYPES.items() for w in words}
    found: dict[str, str] = {}
    for block in doc.blocks:
        if block.type != "table":
            continue
        rows = doc.rows(block)
        if not rows or not rows[0] or fold(rows[0][0].content) not in ("type", "类型", "类别"):
            continue
        for row in rows[1:]:
            kind = kinds.get(fold(row[0].content)) if row else None
            if kind is None or kind in found:
                continue
            href = next(
                (c.attrGet("href") for cell in row[1:] for c in (cell.children or []) if c.type == "link_open"),
                None,
            )
            if href:
                found[kind] = unquote(str(href))
    return {name: found[name] for name in LINK_TYPES if name in found}


def prerequisites(doc: Outline) -> list[tuple[str, int]]:
    """(link target, 0-based line) of each "Prerequisite" row of a links table: the reports this
    one builds on. The spec's `prerequisite:` must name reports that are done, so the draft
    leaves them for the user to switch on once those reports are adopted and run."""
    kinds = {fold(w) for w in PREREQUISITE_TYPES}
    found: list[tuple[str, int]] = []
    for table in doc.tables_in_place():
        rows = table.rows
        if not rows or fold(rows[0][0]) not in ("type", "类型", "类别"):
            continue
        block = next(b for b in doc.blocks if b.type == "table" and b.begin == table.begin)
        for at, row in enumerate(doc.rows(block)[1:], start=1):
            if not row or fold(row[0].content) not in kinds:
                continue
            href = next(
                (c.attrGet("href") for cell in row[1:] for c in (cell.children or []) if c.type == "link_open"),
                None,
            )
            if href and not str(href).startswith(("http:", "https:", "#")):
                found.append((unquote(str(href)), table.line(at)))
    return found


def answers(doc: Outline) -> list[str]:
    """The question ids the first row cells of the hypothesis table name, in order."""
    ids: list[str] = []
    for at in headings(doc.blocks, "hypotheses"):
        table = first(section(doc.blocks, at), "table")
        if table is None:
            continue
        for row in doc.rows(table)[1:]:
            match = ITEM_ID_RE.match(row[0].content) if row else None
            if match and QUESTION_ID_RE.match(match["id"]) and match["id"] not in ids:
                ids.append(match["id"])
        break
    return ids


def hypothesis_ids(text: str) -> list[str]:
    """The question id a header's `Hypothesis:` field starts with ("Q3.2: …"), if any."""
    match = ITEM_ID_RE.match(text)
    return [match["id"]] if match and QUESTION_ID_RE.match(match["id"]) else []
