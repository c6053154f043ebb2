"""The grammar of a hub's questions: ids like `Q3.1`, where they are defined, the tree lines.

A hub defines a question as `Q3.1: question` (or with a full-width colon, `Q3.1：`), in its
hypothesis tree or in its tables; a tree line carries the current answer after an arrow:

    │   ├── Q3.1: Does multi-task help log g? → ⏳ MVP-1.5

Everything that reads question ids — `research check`, the hub update, the digest, `adopt` —
uses these patterns, so an id that one of them sees, all of them see.
"""

from __future__ import annotations

import re

#: A question id: Q, a number, and dotted sub-numbers.
QUESTION_ID = r"Q\d+(?:\.\d+)*"
#: A hypothesis or question id as adopt finds it in a report's first table cell (H1.2, Q3.1).
ITEM_ID_RE = re.compile(r"^\s*(?:\*\*)?\s*(?P<id>[QH]\d+(?:\.\d+)*)\b")
QUESTION_ID_RE = re.compile(rf"^{QUESTION_ID}$")
#: Where a hub defines an id: `Q3.1:` (or `Q3.1：`).
DEFINITION_RE = re.compile(rf"\b({QUESTION_ID})\s*[:：]")
#: A definition with its question text, up to an arrow or the end of the line.
QUESTION_RE = re.compile(rf"\b({QUESTION_ID})\s*[:：]\s*(.+?)\s*(?:→|->|$)")
#: A tree line, split into the part before the arrow, the arrow, and the answer after it.
TREE_LINE_RE = re.compile(
    rf"^(?P<head>[^|\n]*?\b(?P<id>{QUESTION_ID})\s*[:：][^\n]*?)(?P<arrow>\s*(?:→|->)\s*)(?P<tail>[^\r\n]*)"
)
#: A tree line read for the digest: id, question, the mark after the arrow, the rest.
ANSWERED_RE = re.compile(rf"\b({QUESTION_ID})\s*[:：]\s*(.+?)\s*(?:→|->)\s*(\S+)\s*(.*)$")
#: The id a table row starts with (`| Q3.1 | …`, `| **Q3.1** | …`).
ROW_ID_RE = re.compile(rf"^\s*\**\s*({QUESTION_ID})\b")
#: An MVP reference inside an answer, e.g. `(MVP-1.5)`.
MVP_RE = re.compile(r"\bMVP-[\w.-]*\w")


def hypothesis_ids(hub_text: str) -> list[str]:
    """Ids like Q3.1 that a hub's hypothesis tree or tables define (`Q3.1: question`), in order."""
    seen: dict[str, None] = {}
    for match in DEFINITION_RE.finditer(hub_text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def hypothesis_questions(hub_text: str) -> dict[str, str]:
    """Id → question, from the first line that defines each id (the hypothesis tree)."""
    questions: dict[str, str] = {}
    for line in hub_text.splitlines():
        match = QUESTION_RE.search(line)
        if match and match.group(1) not in questions:
            questions[match.group(1)] = match.group(2).strip()
    return questions
