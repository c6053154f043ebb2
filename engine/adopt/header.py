"""The header block of a legacy report: its H1 title and its labelled fields (ID, author, …).

The front matter's id, title, topic, MVP, author and date are already written under the title,
in one of the many forms reports use: one field a line (`> **ID:** X`), several on one line
(`**ID:** X | **Author:** Y`), or labels joined by a bar and their values likewise
(`**Topic ｜ MVP:** VIT ｜ MVP-2.1`), in English or Chinese, bold or not. Reading them spares
the user retyping what the report says; each line is read by one regex, on that line alone.
"""

from __future__ import annotations

import re

from engine.adopt.headings import fold, strip_emoji
from engine.adopt.outline import Outline

# Labels of the header block after the title, and the field each names.
HEADER_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "实验编号", "实验 id", "experiment id", "exp id"),
    "name": ("name", "名称", "实验名称", "experiment name"),
    "topic": ("topic", "主题", "课题"),
    "mvp": ("mvp", "里程碑"),
    "author": ("author", "作者", "负责人", "owner"),
    "date": ("date", "日期", "创建日期"),
    "status": ("status", "状态"),
    "hypothesis": ("hypothesis", "假设", "验证假设", "检验假设", "hypothesis tested"),
}

#: "Experiment report: X" / "实验报告：X": the prefix a title drops (and the sign of a report).
TITLE_PREFIX_RE = re.compile(r"^(?:experiment\s+report|实验报告)\s*[:：]\s*", re.IGNORECASE)
_BAR_RE = re.compile(r"\s*[|\uff5c]\s*")  # a bar, ASCII or full width
_LABEL_RE = re.compile(r"^(?P<label>[^:\uff1a]{1,40}?)\s*[:\uff1a]\s*(?P<value>.*)$")
_LINE_MARK_RE = re.compile(r"^(?:>\s*)*(?:[-*+]\s+)?")
_LINE_BREAK_RE = re.compile(r"(?:\\|<br\s*/?>|\s)+$", re.IGNORECASE)
_LABELS: dict[str, str] = {fold(w): name for name, words in HEADER_FIELDS.items() for w in words}


def header_fields(doc: Outline, lines: list[str]) -> tuple[str | None, dict[str, str], dict[str, int]]:
    """The H1 title, the labelled fields of the header and the 0-based line of each: every
    quote, paragraph or list before the first heading under the title (a rule, a fence or a
    comment between them is fine; so is a header above the title), one regex per line, on that
    line alone."""
    blocks = doc.blocks
    at = next((i for i, b in enumerate(blocks) if b.type == "heading" and b.level == 1), None)
    title = TITLE_PREFIX_RE.sub("", strip_emoji(blocks[at].text)).strip() or None if at is not None else None
    fields: dict[str, str] = {}
    where: dict[str, int] = {}
    zone = [b for b in blocks[: at or 0] if b.type != "heading"]
    for block in blocks[(at + 1 if at is not None else 0) :]:
        if block.type == "heading":
            break
        zone.append(block)
    for block in zone:
        if block.type not in ("blockquote", "paragraph", "list"):
            continue
        for at in range(block.begin, block.end):
            for name, value in header_line_fields(lines[at]):
                if name not in fields:
                    fields[name], where[name] = value, at
    return title, fields, where


def _label(text: str) -> str | None:
    return _LABELS.get(fold(text))


def _value(text: str) -> str:
    """A value without its code-span backticks: `` `VIT` / `moe` `` reads "VIT / moe"."""
    return text.replace("`", "").strip()


def header_line_fields(line: str) -> list[tuple[str, str]]:
    """(field, value) pairs of one header line, in the order written; unknown labels are skipped."""
    text = _LINE_MARK_RE.sub("", line.strip())
    text = _LINE_BREAK_RE.sub("", text).replace("**", "")
    match = _LABEL_RE.match(text)
    if match is None:
        return []
    # `Topic ｜ MVP: VIT ｜ MVP-2.1`: labels joined by bars before the colon, values likewise after it
    joined = _BAR_RE.split(match["label"].strip())
    labels = [_label(w) for w in joined]
    if len(joined) > 1 and all(labels):
        values = _BAR_RE.split(match["value"], maxsplit=len(joined) - 1)
        return [(label, _value(v)) for label, v in zip(labels, values) if label is not None and _value(v)]
    out = []
    for part in _BAR_RE.split(text):
        found = _LABEL_RE.match(part)
        name = _label(found["label"]) if found else None
        if found is not None and name is not None and _value(found["value"]):
            out.append((name, _value(found["value"])))
    return out
