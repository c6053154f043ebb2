"""Editing one cell of a markdown table row in place, every other byte of the row kept.

Hub and roadmap tables are the user's: their spacing, alignment and wording stay. Only the cells
the engine owns (an answer, a status mark, a link) are rewritten, as ` text `.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from engine.text import document

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PIPE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Table:
    header: list[str]  # stripped header cells
    rows: list[int]  # 0-based line indexes of the body rows


def cells(line: str) -> list[str]:
    """The raw cells of a row (surrounding spaces kept), without the outer pipes."""
    parts = _PIPE.split(line.rstrip("\r\n"))
    if parts and not parts[0].strip():
        parts = parts[1:]
    if parts and not parts[-1].strip():
        parts = parts[:-1]
    return parts


def set_cells(line: str, new: Mapping[int, str]) -> str:
    """The row with cells `new` (index → text) replaced; the rest of the line byte for byte."""
    ending = line[len(line.rstrip("\r\n")) :]
    body = line[: len(line) - len(ending)]
    pipes = [m.start() for m in _PIPE.finditer(body)]
    leading = bool(body[: pipes[0]].strip() == "") if pipes else False
    spans = []  # (start, end) of each cell's raw text
    bounds = ([-1] if not leading else []) + pipes + ([len(body)] if not body.rstrip().endswith("|") else [])
    for a, b in zip(bounds, bounds[1:]):
        spans.append((a + 1, b))
    out = body
    for index in sorted(new, reverse=True):
        if 0 <= index < len(spans):
            a, b = spans[index]
            out = out[:a] + f" {escape(new[index])} " + out[b:]
    return out + ending


def escape(text: str) -> str:
    return str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|").strip()


def tables(text: str, *, skip: Sequence[tuple[int, int]] = ()) -> Iterator[Table]:
    """Every pipe table outside code blocks and outside the given 0-based line ranges."""
    lines = document.split_lines(text)
    code = document.code_lines(text)
    blocked = set(code)
    for a, b in skip:
        blocked.update(range(a, b + 1))
    i = 0
    while i + 1 < len(lines):
        if i in blocked or i + 1 in blocked or "|" not in lines[i] or not _SEPARATOR.match(lines[i + 1].rstrip("\r\n")):
            i += 1
            continue
        header = [c.strip() for c in cells(lines[i])]
        rows, j = [], i + 2
        while j < len(lines) and j not in blocked and lines[j].strip().startswith("|"):
            rows.append(j)
            j += 1
        yield Table(header, rows)
        i = j


def column(header: Sequence[str], *words: str) -> int | None:
    """The first column whose header mentions one of `words` (case-insensitive)."""
    for index, name in enumerate(header):
        low = name.lower()
        if any(word.lower() in low for word in words):
            return index
    return None


def region_spans(text: str, path: str | None = None) -> list[tuple[int, int]]:
    """0-based (first, last) lines of every owned region, markers included."""
    return [(r.start_line - 1, r.end_line - 1) for r in document.regions(text, path).values()]
