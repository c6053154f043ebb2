"""Where `research adopt` puts region markers, and putting them there.

A legacy report's placeholder parts (summary, hypothesis table, key numbers, main results,
binned tables, figure images, log, reproduce command, the appendix's numeric tables) are what a
run will fill; a hub page's are its leaderboard, key-numbers and changelog tables. Each is found
by its heading, in English or Chinese, and wrapped exactly: markers right around its content
lines, each end marker sealed with the checksum of its body, so the engine owns the region from
the start and no region reads as hand-edited. Nothing else of the text moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.adopt.headings import fold, heading_key
from engine.adopt.outline import Block, Outline, first, headings, section
from engine.text import document

EXPERIMENT_REGIONS = ("summary", "hypotheses", "key-numbers", "results", "binned", "figures", "log", "reproduce")
HUB_REGIONS = ("leaderboard", "key-numbers", "changelog")

# The appendix, and its numeric tables a run fills: a heading under the appendix that *starts*
# with one of these names ("6.1.2 Per-bin R² (test)" → "perbinr2…" starts with "perbin") and
# a table of numbers under it becomes that region (results, binned-N, comparisons).
APPENDIX = ("附录", "appendix")
APPENDIX_TABLES: dict[str, tuple[str, ...]] = {
    "results": ("overall", "总体", "整体", "主要结果", "main results"),
    "binned": ("per bin", "per-bin", "by bin", "分 bin", "各 bin", "逐 bin", "分箱"),
    "comparisons": ("bootstrap", "paired bootstrap", "显著性", "significance"),
}

_LEADERBOARD_HEADER = ("模型", "方法", "model", "method")
_LEADERBOARD_ANCHOR = ("权威数字", "authoritative", "leaderboard", "排行")
_APPENDIX_KEYS = {heading_key(w) for w in APPENDIX}
_NUMBER_CELL_RE = re.compile(r"^[*_`]*[+\-\u2212]?\d+(?:[.,]\d+)*(?:[eE][+\-]?\d+)?\s*%?[*_`]*$")

Wraps = list[tuple[str, int, int]]  # region name, 0-based first line, end line (exclusive)


def experiment_targets(doc: Outline) -> tuple[Wraps, list[str], list[str]]:
    """What to wrap in a report, the standard regions no section was found for, and the tables
    left to the user (said why)."""
    blocks = doc.blocks
    wraps: Wraps = []
    missing: list[str] = []
    kept: list[str] = []

    def first_in_section(name: str, *types: str) -> None:
        for at in headings(blocks, name):
            block = first(section(blocks, at), *types)
            if block is not None:
                wraps.append((name, block.begin, block.end))
                return
        missing.append(name)

    first_in_section("summary", "blockquote", "paragraph")
    first_in_section("hypotheses", "table")
    if wraps and wraps[-1][0] == "hypotheses":
        others = _rows_not_questions(doc, wraps[-1][1])
        if others:
            wraps.pop()
            many = len(others) > 1
            kept.append(
                f"the hypothesis table: row{'s' if many else ''} {', '.join(others)} "
                f"{'are' if many else 'is'} no hub question (Q…) a run answers, so a run would write over "
                f"{'them' if many else 'it'}; the table stays yours, as written"
            )
    first_in_section("key-numbers", "table")  # the first one: a later "quick reference" copy stays
    first_in_section("results", "table")

    binned = [b for at in headings(blocks, "binned") for b in section(blocks, at) if b.type == "table"]
    wraps += [(f"binned-{n}", b.begin, b.end) for n, b in enumerate(binned)]
    if not binned:
        missing.append("binned")

    images = figure_images(doc)
    wraps += [(f"figure-{n}", image.line, image.line + 1) for n, image in enumerate(images, start=1)]
    if not images:
        missing.append("figures")

    first_in_section("log", "table")
    first_in_section("reproduce", "fence", "code_block")
    appendix = _appendix_tables(doc, wraps, len(binned))
    wraps += appendix
    found = {name.split("-")[0] if name.startswith("binned-") else name for name, *_ in appendix}
    return wraps, [name for name in missing if name not in found], kept


def _rows_not_questions(doc: Outline, begin: int) -> list[str]:
    """The first cells of a hypothesis table's rows that are not a hub question id (H5.2, a
    sentence): a run writes the table from the questions the report answers, so wrapping it
    would replace those rows with the report's title."""
    from engine.text.questions import ITEM_ID_RE, QUESTION_ID_RE

    block = next(b for b in doc.blocks if b.type == "table" and b.begin == begin)
    others = []
    for row in doc.rows(block)[1:]:
        cell = row[0].content.strip() if row else ""
        found = ITEM_ID_RE.match(cell)
        if cell and not (found and QUESTION_ID_RE.match(found["id"])):
            others.append(f'"{(found["id"] if found else cell)[:40]}"')
    return others


def _appendix_tables(doc: Outline, found: Wraps, binned: int) -> Wraps:
    """The numeric tables under the appendix's result headings, named for the regions a run
    fills; a name already taken (the report's main results table) leaves the table alone."""
    wraps: Wraps = []
    taken = {name for name, *_ in found}
    starts = {begin for _, begin, _ in found}
    prefixes = [(name, heading_key(w)) for name, words in APPENDIX_TABLES.items() for w in words]
    for at, block in enumerate(doc.blocks):
        if block.type != "heading" or heading_key(block.text) not in _APPENDIX_KEYS:
            continue
        inside = section(doc.blocks, at, container=True)
        for offset, head in enumerate(inside):
            if head.type != "heading":
                continue
            key = heading_key(head.text)
            name = next((n for n, prefix in prefixes if key.startswith(prefix)), None)
            if not name:
                continue
            table = first(section(inside, offset), "table")
            if table is None or table.begin in starts or not _numeric(doc, table):
                continue
            if name == "binned":
                name, binned = f"binned-{binned}", binned + 1
            if name in taken:
                continue
            taken.add(name)
            starts.add(table.begin)
            wraps.append((name, table.begin, table.end))
    return wraps


def _numeric(doc: Outline, table: Block) -> bool:
    """A table with a number in at least one body cell (not a design table of words)."""
    return any(_NUMBER_CELL_RE.match(cell.content.strip()) for row in doc.rows(table)[1:] for cell in row)


@dataclass(frozen=True)
class Image:
    """A figure of the report: an image alone on its line, under a figures heading."""

    line: int  # 0-based body line
    src: str  # the path as written
    alt: str


def figure_images(doc: Outline) -> list[Image]:
    """The figures a run fills, in order: each image alone on its line in a figures section
    (region figure-N is the N-th; the draft spec's figures[N-1] is drawn into it)."""
    found: dict[int, Image] = {}
    for at in headings(doc.blocks, "figures"):
        for block in section(doc.blocks, at, container=True):
            if block.type == "paragraph":
                for image in _images(doc.tokens[block.index + 1], block.begin):
                    found.setdefault(image.line, image)
    return [found[line] for line in sorted(found)]


def _images(inline, first_line: int) -> list[Image]:
    """The images of a paragraph that stand alone on their line (a link around one is fine)."""
    found = []
    line, other = first_line, False
    images: list = []
    for child in (inline.children or []) + [None]:
        if child is None or child.type in ("softbreak", "hardbreak"):
            if len(images) == 1 and not other:
                token = images[0]
                found.append(Image(line, str(token.attrGet("src") or ""), token.content or ""))
            line, images, other = line + 1, [], False
        elif child.type == "image":
            images.append(child)
        elif child.type in ("link_open", "link_close"):
            pass
        elif child.type == "text" and not child.content.strip():
            pass
        else:
            other = True
    return found


def hub_targets(doc: Outline) -> tuple[Wraps, list[str]]:
    """What to wrap in a hub page, and the regions no section was found for."""
    wraps: Wraps = []
    missing: list[str] = []

    board = _leaderboard(doc)
    if board is not None:
        wraps.append(("leaderboard", board.begin, board.end))
    else:
        missing.append("leaderboard")
    for name in ("key-numbers", "changelog"):  # the first section of each: not an appendix copy
        for at in headings(doc.blocks, name):
            block = first(section(doc.blocks, at), "table")
            if block is not None:
                wraps.append((name, block.begin, block.end))
                break
        else:
            missing.append(name)
    return wraps, missing


def _leaderboard(doc: Outline) -> Block | None:
    blocks = doc.blocks
    # 1. a section called so
    for at in headings(blocks, "leaderboard"):
        block = first(section(blocks, at), "table")
        if block is not None:
            return block
    # 2. near the top (before the first section under the title), a table whose first column
    #    names the model
    count = 0
    for block in blocks:
        count += block.type == "heading"
        if count > 1:
            break
        if block.type == "table":
            rows = doc.rows(block)
            if rows and rows[0] and any(w in heading_key(rows[0][0].content) for w in _LEADERBOARD_HEADER):
                return block
    # 3. the first table after a line that announces the authoritative numbers
    anchored = False
    for block in blocks:
        if block.type == "heading":
            anchored = False
        if block.type in ("paragraph", "blockquote", "heading"):
            words = fold(doc.text(block))
            if any(fold(w) in words for w in _LEADERBOARD_ANCHOR):
                anchored = True
        elif block.type == "table" and anchored:
            return block
    return None


def wrap(lines: list[str], wraps: Wraps, newline: str) -> tuple[list[str], Wraps]:
    """The lines with markers around each wrap, and the spans wrapped (name, first line, end),
    in order. Markers go right around the content lines: trailing blank lines of a block stay
    outside; a wrap that overlaps one already taken is left out."""
    spans = []
    taken: set[int] = set()
    for name, begin, end in wraps:
        while end > begin and not lines[end - 1].strip():
            end -= 1
        if end <= begin or taken & set(range(begin, end)):
            continue
        taken.update(range(begin, end))
        spans.append((begin, end, name))
    spans.sort()

    out: list[str] = []
    position = 0
    for begin, end, name in spans:
        out += lines[position:begin]
        content = "".join(lines[begin:end])
        if not content.endswith("\n"):
            content += newline  # the last line of the file: a marker must start a line
        out += [f"<!-- research:{name} -->{newline}", content, document.end_marker(name, content) + newline]
        position = end
    out += lines[position:]
    return out, [(name, begin, end) for begin, end, name in spans]


def shifted(spans: Wraps, line: int) -> int:
    """Where body line `line` (0-based) is once the spans are wrapped: each marker above it moves it down."""
    return line + sum(2 if end <= line else 1 if begin <= line else 0 for _, begin, end in spans)


def needed_empty(front: str, wrapped: set[str], path: str | None) -> list[str]:
    """The regions the adopted spec needs that no section held (`report.needed_regions`: the
    results table, the run record, a binned table or figure more than the report shows): they
    go empty at the end, so the report runs. Numbered like the ones the report has
    (`binned-2` beside `binned-0`, `figure-5` beside `figure-1`)."""
    from engine.notebook.report import needed_regions
    from engine.spec import load_spec

    spec = load_spec("".join(document.split_lines(front)[1:-1]), path=path, first_line=2)
    out = []
    for need in needed_regions(spec):
        if wrapped.intersection(need.regions):
            continue
        numbered = need.regions[-1]
        stem = numbered.rsplit("-", 1)[0] + "-" if len(need.regions) > 1 else None
        out.append(numbered if stem and any(name.startswith(stem) for name in wrapped) else need.regions[0])
    return out


def append_empty(out: list[str], names: list[str], newline: str) -> list[str]:
    """The lines with an empty, sealed region for each name at the end."""
    if names and out and not out[-1].endswith(("\n", "\r")):
        out = [*out, newline]  # a marker must start a line
    return out + [f"<!-- research:{name} -->{newline}{document.end_marker(name, '')}{newline}" for name in names]
