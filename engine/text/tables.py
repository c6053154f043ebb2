"""Markdown tables, read in one place: their cells for reading, their rows for editing in place.

Reading (`parsed`) takes the tables from the markdown-it tokens the rest of a document is parsed
with, so a table is one exactly where the outline, the regions and the code blocks say so, and a
cell is what CommonMark's table extension makes of it (split on unescaped `|`, trimmed, its
inline parse at hand for links). `research adopt` and the API's region tables read them so.

Editing (`tables`, `cells`, `set_cells`) works on the lines themselves: hub and roadmap tables
are the user's, their spacing, alignment and wording stay. Only the cells the engine owns (an
answer, a status mark, a link) are rewritten, as ` text `, every other byte of the row kept.
That needs each row's line and raw cells, and exactly the rows the pages have always been
edited by: lines starting with `|` under a `--` separator, outside code and owned regions (the
parse would also take a table in a quote, a one-dash separator or a row with no leading pipe,
and editing those would change pages that sync has always left alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.text import document

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PIPE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Table:
    """A table found for editing: its header's texts and the lines of its rows."""

    header: list[str]  # stripped header cells
    rows: list[int]  # 0-based line indexes of the body rows


@dataclass(frozen=True)
class ParsedTable:
    """A table as markdown-it parsed it: where it is, and its cells."""

    index: int  # the index of its `table_open` token in the token list
    begin: int  # 0-based first line (the token map: relative to the text parsed)
    end: int  # exclusive
    rows: list[list[Any]]  # header row first; each cell's `inline` token (content trimmed, children its inline parse)

    def texts(self) -> list[list[str]]:
        """The rows as the cells' texts (markdown source, trimmed)."""
        return [[cell.content for cell in row] for row in self.rows]


def parsed(tokens: Sequence[Any]) -> list[ParsedTable]:
    """Every table of a markdown-it token list (`document.markdown_tokens`), nested ones
    included, in order. markdown-it gives each cell exactly one `inline` token, body rows padded
    or cut to the header's width."""
    found: list[ParsedTable] = []
    rows: list[list[Any]] | None = None
    start = 0
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            rows, start = [], index
        elif rows is None:
            continue
        elif token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token)
        elif token.type == "table_close":
            begin, end = tokens[start].map or (0, 0)
            found.append(ParsedTable(start, begin, end, rows))
            rows = None
    return found


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
