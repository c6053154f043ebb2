"""The outline of a legacy document: its top-level blocks with their lines, and its tables.

Adopting must put markers exactly around a table or a paragraph and read the header, the links
and the design tables without ever mistaking a line of code or a quote for one. So every
position comes from markdown-it's token maps (headings, tables, fences, paragraphs, images),
never from a regular expression over the whole document; the tables' cells are those
`engine.text.tables` reads from the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.adopt.headings import section_name
from engine.text import document
from engine.text.tables import ParsedTable, parsed


@dataclass(frozen=True)
class Block:
    type: str  # heading, hr, table, fence, code_block, paragraph, blockquote, list, html_block
    begin: int  # 0-based line in the body
    end: int  # exclusive
    index: int  # index of the opening token
    level: int = 0  # heading level
    text: str = ""  # heading text / first inline content


_BLOCK_TYPES = {
    "heading_open": "heading",
    "hr": "hr",
    "table_open": "table",
    "fence": "fence",
    "code_block": "code_block",
    "paragraph_open": "paragraph",
    "blockquote_open": "blockquote",
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "html_block": "html_block",
}


@dataclass(frozen=True)
class Table:
    """A top-level table as adopting reads it: its rows of cell texts, where it is, and the
    headings above it (outermost first), so a value read from it can say which line it came from
    and a table can be told by its section ("6.1.2 Per bin" under "6. Appendix")."""

    begin: int  # 0-based body line of its header row
    rows: list[list[str]]  # header row first, each cell's text
    headings: tuple[str, ...] = ()  # the heading texts it sits under, outermost first

    def line(self, row: int) -> int:
        """The 0-based body line of rows[row] (the delimiter row sits between the header and the body)."""
        return self.begin if row == 0 else self.begin + 1 + row

    @property
    def heading(self) -> str:
        return self.headings[-1] if self.headings else ""


@dataclass(frozen=True)
class Outline:
    """A document body parsed once: its tokens, its top-level blocks, its tables by token index."""

    tokens: list[Any]
    blocks: list[Block]
    tables: dict[int, ParsedTable]

    @classmethod
    def of(cls, body: str) -> Outline:
        tokens = document.markdown_tokens(body)
        return cls(tokens, top_blocks(tokens), {table.index: table for table in parsed(tokens)})

    def rows(self, block: Block) -> list[list[Any]]:
        """The rows of a table block (header first) as lists of the cells' inline tokens."""
        return self.tables[block.index].rows

    def table_texts(self) -> list[list[list[str]]]:
        """Every top-level table as rows of cell texts, in order."""
        return [self.tables[b.index].texts() for b in self.blocks if b.type == "table"]

    def tables_in_place(self) -> list[Table]:
        """Every top-level table with its first line and the headings above it, in order."""
        found = []
        above: list[Block] = []
        for block in self.blocks:
            if block.type == "heading":
                above = [b for b in above if b.level < block.level] + [block]
            elif block.type == "table":
                found.append(Table(block.begin, self.tables[block.index].texts(), tuple(b.text for b in above)))
        return found

    def prose_lines(self, lines: Sequence[str]) -> list[tuple[int, str]]:
        """(0-based body line, its text) of every line a sentence, heading or table row can be on:
        every top-level block but code and HTML, so a number in a code block is never read."""
        out = []
        for block in self.blocks:
            if block.type in ("fence", "code_block", "html_block"):
                continue
            out += [(i, lines[i].rstrip("\r\n")) for i in range(block.begin, min(block.end, len(lines)))]
        return out

    def text(self, block: Block) -> str:
        """The inline text of a block, its parts joined by spaces."""
        parts = []
        level = self.tokens[block.index].level
        for token in self.tokens[block.index :]:
            if token.type == "inline":
                parts.append(token.content)
            if token.nesting == -1 and token.level == level:
                break
        return " ".join(parts)


def top_blocks(tokens: Sequence[Any]) -> list[Block]:
    """The top-level blocks of a token list, in order."""
    found = []
    for index, token in enumerate(tokens):
        kind = _BLOCK_TYPES.get(token.type)
        if kind is None or token.level != 0 or not token.map:
            continue
        level, text = 0, ""
        if kind == "heading":
            level = int(token.tag[1:])
        if index + 1 < len(tokens) and tokens[index + 1].type == "inline":
            text = tokens[index + 1].content
        found.append(Block(kind, token.map[0], token.map[1], index, level, text))
    return found


def section(blocks: list[Block], at: int, *, container: bool = False) -> list[Block]:
    """The blocks under the heading blocks[at]: up to the next heading or rule, or (container)
    up to the next heading of the same or a higher level."""
    head = blocks[at]
    out = []
    for block in blocks[at + 1 :]:
        if container:
            if block.type == "heading" and block.level <= head.level:
                break
        elif block.type in ("heading", "hr"):
            break
        out.append(block)
    return out


def headings(blocks: list[Block], name: str) -> list[int]:
    """The indexes of the headings that stand for the section `name`."""
    return [i for i, b in enumerate(blocks) if b.type == "heading" and section_name(b.text) == name]


def first(blocks: list[Block], *types: str) -> Block | None:
    return next((b for b in blocks if b.type in types), None)
