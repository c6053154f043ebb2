"""`research adopt FILE`: make a legacy report (or hub page) runnable without touching its words.

A legacy experiment report has no front matter and no region markers. Adopting it

1. puts a front matter skeleton on top, prefilled from the report's header block (title, id,
   topic, MVP, author, date), its upstream-links table (hub, roadmap, kanban) and its hypothesis
   table (`answers`), followed by a runnable default spec the user then edits;
2. puts region markers around the placeholder parts the engine will fill (summary, hypothesis
   table, key numbers, main results, binned tables, figure images, log, reproduce command),
   recognised by their heading in English or Chinese, with or without emoji and numbering.

A hub page gets no front matter, only markers around its leaderboard, key-numbers and
changelog tables.

The guarantee: dropping the front matter and the marker lines gives back the original text
exactly (the one exception: a last line with no newline gets one when a marker follows it,
because a marker must start a line). What the spec needs and no section held (the results
table, the run record) gets an empty region at the end. Each end marker is sealed with the checksum of its body, so the
engine owns the region from the start and no region reads as hand-edited.

Positions come from markdown-it token maps (headings, tables, fences, paragraphs, images), never
from regular expressions over the whole document; a regex only ever looks at one line or cell.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote

from engine.errors import DocumentError
from engine.text import document, textfile
from engine.text.questions import ITEM_ID_RE, QUESTION_ID_RE
from engine.text.safe_yaml import YAML_UNSAFE_RE, yaml_scalar

if TYPE_CHECKING:
    from engine.adopt.draft import Draft

# ---------------------------------------------------------------------------------------------
# What the headings may say. Each name maps to its synonyms, English and Chinese; a heading
# matches when it equals a synonym after `heading_key` (emoji, numbering, a trailing
# parenthetical remark, punctuation, spaces and case all dropped: "### 6.1 🔑 Key numbers (速查)"
# and "## 关键数字" both read "keynumbers" / "关键数字").

SECTIONS: dict[str, tuple[str, ...]] = {
    # experiment reports
    "summary": ("一句话总结", "一句话结论", "one-line summary", "one-sentence summary", "tl;dr"),
    "hypotheses": (
        "对假设的验证",
        "假设验证",
        "hypothesis verification",
        "hypotheses verification",
        "verification of hypotheses",
    ),
    "key-numbers": ("关键数字", "关键数字速查", "key numbers", "key numbers at a glance"),
    "results": ("主要结果", "main results", "main result"),
    "binned": (
        "bias 分析",
        "偏差分析",
        "分箱",
        "分箱分析",
        "分箱结果",
        "bias analysis",
        "binned",
        "binned bias",
        "binned results",
        "binned metrics",
    ),
    "figures": ("实验图表", "图表", "figures", "figures & results", "figures and results"),
    "log": ("实验日志", "experiment log", "run log"),
    "reproduce": ("执行命令", "复现", "复现命令", "reproduce", "how to reproduce", "commands"),
    # hub pages
    "leaderboard": ("排行榜", "排行", "权威数字", "leaderboard", "authoritative numbers"),
    "changelog": ("变更日志", "更新日志", "changelog", "change log"),
    # not wrapped: where the front matter finds its links
    "upstream": ("上游链接", "相关链接", "upstream links", "upstream", "links"),
}

# The appendix, and its numeric tables a run fills: a heading under the appendix that *starts*
# with one of these names ("6.1.2 Per-bin R² (test)" → "perbinr2…" starts with "perbin") and
# a table of numbers under it becomes that region (results, binned-N, comparisons).
APPENDIX = ("附录", "appendix")
APPENDIX_TABLES: dict[str, tuple[str, ...]] = {
    "results": ("overall", "总体", "整体", "主要结果", "main results"),
    "binned": ("per bin", "per-bin", "by bin", "分 bin", "各 bin", "逐 bin", "分箱"),
    "comparisons": ("bootstrap", "paired bootstrap", "显著性", "significance"),
}

# The kind of page a row of the upstream-links table points to (its "Type" cell).
LINK_TYPES: dict[str, tuple[str, ...]] = {
    "hub": ("hub", "中枢", "枢纽", "假设中枢"),
    "roadmap": ("roadmap", "路线图"),
    "kanban": ("kanban", "看板"),
}

# Labels of the header block after the title, in English or Chinese, bold or not: one field a
# line (`> **ID:** X`), several on one line (`**ID:** X | **Author:** Y`), or labels joined
# by a bar and their values likewise (`**Topic ｜ MVP:** VIT ｜ MVP-2.1`).
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
FRONT_HEADER_KEYS = ("id", "topic", "mvp", "author", "date")  # the header fields the front matter carries

# A row of a data table that names what is predicted, and the names it may use for each target.
TARGET_ROWS = ("标签参数", "标签", "预测目标", "目标参数", "targets", "target", "labels")
TARGET_NAMES: dict[str, tuple[str, ...]] = {
    "log_g": ("logg", "log_g", "log g", "log(g)"),
    "T_eff": ("teff", "t_eff", "t eff"),
    "Fe_H": ("feh", "fe_h", "fe/h", "[fe/h]", "m_h", "[m/h]", "m/h", "metallicity"),
}
DEFAULT_TARGETS = ["log_g"]

EXPERIMENT_REGIONS = ("summary", "hypotheses", "key-numbers", "results", "binned", "figures", "log", "reproduce")
HUB_REGIONS = ("leaderboard", "key-numbers", "changelog")

Kind = Literal["auto", "exp", "hub"]

_TITLE_PREFIX_RE = re.compile(r"^(?:experiment\s+report|实验报告)\s*[:：]\s*", re.IGNORECASE)
_NUMBERING_RE = re.compile(r"^(?:§\s*)?\d+(?:\.\d+)*(?:[.)、:]\s*|\s+|$)")
_REMARK_RE = re.compile(r"\s*\([^()]*\)\s*$")
_BAR_RE = re.compile(r"\s*[|\uff5c]\s*")  # a bar, ASCII or full width
_LABEL_RE = re.compile(r"^(?P<label>[^:\uff1a]{1,40}?)\s*[:\uff1a]\s*(?P<value>.*)$")
_LINE_MARK_RE = re.compile(r"^(?:>\s*)*(?:[-*+]\s+)?")
_LINE_BREAK_RE = re.compile(r"(?:\\|<br\s*/?>|\s)+$", re.IGNORECASE)
_HUB_TITLE_RE = re.compile(r"(?<![a-z])hub(?![a-z])", re.IGNORECASE)
_HUB_FILE_RE = re.compile(r"(?:^|[_-])hub(?:[_-]|$)", re.IGNORECASE)
_LEADERBOARD_HEADER = ("模型", "方法", "model", "method")
_LEADERBOARD_ANCHOR = ("权威数字", "authoritative", "leaderboard", "排行")
_HYPOTHESIS_TREE = ("核心假设树", "假设树", "hypothesistree")


def _fold(text: str) -> str:
    """Drop emoji, symbols, punctuation and spaces; case-fold; full-width forms made ASCII."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def heading_key(text: str) -> str:
    """What a heading says, for matching: "## 6.4 📝 实验日志（按时间）" → "实验日志"."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn", "Me") else ch for ch in text)
    text = text.strip()
    text = _NUMBERING_RE.sub("", text, count=1)
    previous = None
    while previous != text:  # "变更日志（只记录"知识改变"）" → "变更日志"
        previous, text = text, _REMARK_RE.sub("", text)
    return _fold(text)


_SYNONYMS: dict[str, str] = {}
for _name, _words in SECTIONS.items():
    for _word in _words:
        _SYNONYMS.setdefault(heading_key(_word), _name)


def section_name(heading: str) -> str | None:
    """The SECTIONS name a heading stands for, or None."""
    return _SYNONYMS.get(heading_key(heading))


def _strip_emoji(text: str) -> str:
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Cs", "Co")
        and ch not in "\ufe0f\ufe0e\u200d\u20e3"
        and not 0x1F3FB <= ord(ch) <= 0x1F3FF
    )
    return re.sub(r"\s+", " ", kept).strip()


# ---------------------------------------------------------------------------------------------
# The result


@dataclass
class AdoptResult:
    """What adopting did: the new text, the regions it wrapped, what it looked for in vain."""

    text: str
    original: str
    kind: Literal["exp", "hub"]
    regions: list[tuple[str, int, int]] = field(default_factory=list)  # name, 1-based marker lines
    front_matter_added: bool = False
    missing: list[str] = field(default_factory=list)  # standard regions with no section found
    spec: dict = field(default_factory=dict)  # the values put in the front matter
    header: list[str] = field(default_factory=list)  # the header fields read (id, author, …)
    read: list[str] = field(default_factory=list)  # spec keys read from the design tables
    to_fill: list[str] = field(default_factory=list)  # what the report says that the spec does not hold yet
    appended: list[str] = field(
        default_factory=list
    )  # empty regions put at the end: the spec needs them, no section held them

    @property
    def found(self) -> list[str]:
        return [name for name, _, _ in self.regions]

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self, path: str | Path = "document.md") -> str:
        """The change as a unified diff (what `research adopt --dry-run` prints)."""
        return "".join(
            difflib.unified_diff(
                document.split_lines(self.original),
                document.split_lines(self.text),
                fromfile=f"{path}",
                tofile=f"{path} (adopted)",
            )
        )

    def summary(self) -> str:
        """One line per fact, for the CLI: what was added, where, and what was not found."""
        lines = []
        if self.front_matter_added:
            lines.append("front matter: added (status: planned); edit the spec before `research run`")
            lines.append("header: " + (", ".join(self.header) if self.header else "no fields found"))
            if "id" not in self.header:
                lines.append("header: no ID found; the front matter's id is the file name: choose one")
            lines.append(
                "spec read from the design tables: "
                + (", ".join(self.read) or "nothing")
                + "; guessed (marked `# guess`): model, metrics"
                + ("" if "targets" in self.read else ", data.targets")
            )
            for text in self.to_fill:
                lines.append(f"fill by hand: {text}")
        for name, first, last in self.regions:
            lines.append(f"region {name}: lines {first}-{last}")
        if self.missing:
            lines.append("no section found for: " + ", ".join(self.missing))
        if self.appended:
            lines.append("empty regions added at the end, for the run to fill: " + ", ".join(self.appended))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The outline of a document: its top-level blocks with their lines


@dataclass(frozen=True)
class _Block:
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


def _outline(tokens) -> list[_Block]:
    blocks = []
    for index, token in enumerate(tokens):
        kind = _BLOCK_TYPES.get(token.type)
        if kind is None or token.level != 0 or not token.map:
            continue
        level, text = 0, ""
        if kind == "heading":
            level = int(token.tag[1:])
        if index + 1 < len(tokens) and tokens[index + 1].type == "inline":
            text = tokens[index + 1].content
        blocks.append(_Block(kind, token.map[0], token.map[1], index, level, text))
    return blocks


def _section(blocks: list[_Block], at: int, *, container: bool = False) -> list[_Block]:
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


def _headings(blocks: list[_Block], name: str) -> list[int]:
    return [i for i, b in enumerate(blocks) if b.type == "heading" and section_name(b.text) == name]


def _table_rows(tokens, block: _Block) -> list[list]:
    """The rows of a table (header first) as lists of the cells' inline tokens."""
    rows: list[list] = []
    level = tokens[block.index].level
    for token in tokens[block.index :]:
        if token.type == "table_close" and token.level == level:
            break
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token)
    return rows


def _first(blocks: list[_Block], *types: str) -> _Block | None:
    return next((b for b in blocks if b.type in types), None)


# ---------------------------------------------------------------------------------------------
# Finding what to wrap


def _experiment_targets(tokens, blocks: list[_Block]) -> tuple[list[tuple[str, int, int]], list[str]]:
    wraps: list[tuple[str, int, int]] = []
    missing: list[str] = []

    def first_in_section(name: str, *types: str) -> None:
        for at in _headings(blocks, name):
            block = _first(_section(blocks, at), *types)
            if block is not None:
                wraps.append((name, block.begin, block.end))
                return
        missing.append(name)

    first_in_section("summary", "blockquote", "paragraph")
    first_in_section("hypotheses", "table")
    first_in_section("key-numbers", "table")  # the first one: a later "quick reference" copy stays
    first_in_section("results", "table")

    binned = [b for at in _headings(blocks, "binned") for b in _section(blocks, at) if b.type == "table"]
    wraps += [(f"binned-{n}", b.begin, b.end) for n, b in enumerate(binned)]
    if not binned:
        missing.append("binned")

    images: list[tuple[int, int]] = []
    for at in _headings(blocks, "figures"):
        for block in _section(blocks, at, container=True):
            if block.type == "paragraph":
                images += [(line, line + 1) for line in _image_lines(tokens[block.index + 1], block.begin)]
    wraps += [(f"figure-{n}", begin, end) for n, (begin, end) in enumerate(sorted(set(images)), start=1)]
    if not images:
        missing.append("figures")

    first_in_section("log", "table")
    first_in_section("reproduce", "fence", "code_block")
    appendix = _appendix_tables(tokens, blocks, wraps, len(binned))
    wraps += appendix
    found = {name.split("-")[0] if name.startswith("binned-") else name for name, *_ in appendix}
    return wraps, [name for name in missing if name not in found]


_APPENDIX_KEYS = {heading_key(w) for w in APPENDIX}
_NUMBER_CELL_RE = re.compile(r"^[*_`]*[+\-\u2212]?\d+(?:[.,]\d+)*(?:[eE][+\-]?\d+)?\s*%?[*_`]*$")


def _appendix_tables(
    tokens, blocks: list[_Block], found: list[tuple[str, int, int]], binned: int
) -> list[tuple[str, int, int]]:
    """The numeric tables under the appendix's result headings, named for the regions a run
    fills; a name already taken (the report's main results table) leaves the table alone."""
    wraps: list[tuple[str, int, int]] = []
    taken = {name for name, *_ in found}
    starts = {begin for _, begin, _ in found}
    prefixes = [(name, heading_key(w)) for name, words in APPENDIX_TABLES.items() for w in words]
    for at, block in enumerate(blocks):
        if block.type != "heading" or heading_key(block.text) not in _APPENDIX_KEYS:
            continue
        inside = _section(blocks, at, container=True)
        for offset, head in enumerate(inside):
            if head.type != "heading":
                continue
            key = heading_key(head.text)
            name = next((n for n, prefix in prefixes if key.startswith(prefix)), None)
            if not name:
                continue
            table = _first(_section(inside, offset), "table")
            if table is None or table.begin in starts or not _numeric(tokens, table):
                continue
            if name == "binned":
                name, binned = f"binned-{binned}", binned + 1
            if name in taken:
                continue
            taken.add(name)
            starts.add(table.begin)
            wraps.append((name, table.begin, table.end))
    return wraps


def _numeric(tokens, table: _Block) -> bool:
    """A table with a number in at least one body cell (not a design table of words)."""
    return any(_NUMBER_CELL_RE.match(cell.content.strip()) for row in _table_rows(tokens, table)[1:] for cell in row)


def _image_lines(inline, first_line: int) -> list[int]:
    """Lines of a paragraph that hold one image and nothing else (a link around it is fine)."""
    found = []
    line, images, other = first_line, 0, False
    for child in (inline.children or []) + [None]:
        if child is None or child.type in ("softbreak", "hardbreak"):
            if images == 1 and not other:
                found.append(line)
            line, images, other = line + 1, 0, False
        elif child.type == "image":
            images += 1
        elif child.type in ("link_open", "link_close"):
            pass
        elif child.type == "text" and not child.content.strip():
            pass
        else:
            other = True
    return found


def _hub_targets(tokens, blocks: list[_Block]) -> tuple[list[tuple[str, int, int]], list[str]]:
    wraps: list[tuple[str, int, int]] = []
    missing: list[str] = []

    board = _leaderboard(tokens, blocks)
    if board is not None:
        wraps.append(("leaderboard", board.begin, board.end))
    else:
        missing.append("leaderboard")
    for name in ("key-numbers", "changelog"):  # the first section of each: not an appendix copy
        for at in _headings(blocks, name):
            block = _first(_section(blocks, at), "table")
            if block is not None:
                wraps.append((name, block.begin, block.end))
                break
        else:
            missing.append(name)
    return wraps, missing


def _leaderboard(tokens, blocks: list[_Block]) -> _Block | None:
    # 1. a section called so
    for at in _headings(blocks, "leaderboard"):
        block = _first(_section(blocks, at), "table")
        if block is not None:
            return block
    # 2. near the top (before the first section under the title), a table whose first column
    #    names the model
    headings = 0
    for block in blocks:
        headings += block.type == "heading"
        if headings > 1:
            break
        if block.type == "table":
            rows = _table_rows(tokens, block)
            if rows and rows[0] and any(w in heading_key(rows[0][0].content) for w in _LEADERBOARD_HEADER):
                return block
    # 3. the first table after a line that announces the authoritative numbers
    anchored = False
    for block in blocks:
        if block.type == "heading":
            anchored = False
        if block.type in ("paragraph", "blockquote", "heading"):
            words = _fold(_block_text(tokens, block))
            if any(_fold(w) in words for w in _LEADERBOARD_ANCHOR):
                anchored = True
        elif block.type == "table" and anchored:
            return block
    return None


def _block_text(tokens, block: _Block) -> str:
    parts = []
    level = tokens[block.index].level
    for token in tokens[block.index :]:
        if token.type == "inline":
            parts.append(token.content)
        if token.nesting == -1 and token.level == level:
            break
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# The front matter


def _header_fields(tokens, blocks: list[_Block], lines: list[str]) -> tuple[str | None, dict[str, str]]:
    """The H1 title and the labelled fields of the header: every quote, paragraph or list
    before the first heading under the title (a rule, a fence or a comment between them is
    fine; so is a header above the title), one regex per line, on that line alone."""
    at = next((i for i, b in enumerate(blocks) if b.type == "heading" and b.level == 1), None)
    title = _TITLE_PREFIX_RE.sub("", _strip_emoji(blocks[at].text)).strip() or None if at is not None else None
    fields: dict[str, str] = {}
    zone = [b for b in blocks[: at or 0] if b.type != "heading"]
    for block in blocks[(at + 1 if at is not None else 0) :]:
        if block.type == "heading":
            break
        zone.append(block)
    for block in zone:
        if block.type not in ("blockquote", "paragraph", "list"):
            continue
        for line in lines[block.begin : block.end]:
            for name, value in header_line_fields(line):
                fields.setdefault(name, value)
    return title, fields


_LABELS: dict[str, str] = {_fold(w): name for name, words in HEADER_FIELDS.items() for w in words}


def _label(text: str) -> str | None:
    return _LABELS.get(_fold(text))


def _value(text: str) -> str:
    return text.strip().strip("`").strip()


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


def _links(tokens, blocks: list[_Block]) -> dict[str, str]:
    """hub / roadmap / kanban: the link target of the first row of each type in a links table."""
    kinds = {_fold(w): name for name, words in LINK_TYPES.items() for w in words}
    found: dict[str, str] = {}
    for block in blocks:
        if block.type != "table":
            continue
        rows = _table_rows(tokens, block)
        if not rows or not rows[0] or _fold(rows[0][0].content) not in ("type", "类型", "类别"):
            continue
        for row in rows[1:]:
            kind = kinds.get(_fold(row[0].content)) if row else None
            if kind is None or kind in found:
                continue
            href = next(
                (c.attrGet("href") for cell in row[1:] for c in (cell.children or []) if c.type == "link_open"),
                None,
            )
            if href:
                found[kind] = unquote(str(href))
    return {name: found[name] for name in LINK_TYPES if name in found}


def _answers(tokens, blocks: list[_Block]) -> list[str]:
    ids: list[str] = []
    for at in _headings(blocks, "hypotheses"):
        table = _first(_section(blocks, at), "table")
        if table is None:
            continue
        for row in _table_rows(tokens, table)[1:]:
            match = ITEM_ID_RE.match(row[0].content) if row else None
            if match and QUESTION_ID_RE.match(match["id"]) and match["id"] not in ids:
                ids.append(match["id"])
        break
    return ids


def _hypothesis_ids(text: str) -> list[str]:
    """The question id a header's `Hypothesis:` field starts with ("Q3.2: …"), if any."""
    match = ITEM_ID_RE.match(text)
    return [match["id"]] if match and QUESTION_ID_RE.match(match["id"]) else []


def _targets(tokens, blocks: list[_Block]) -> list[str] | None:
    """The targets when a data table names them clearly (every item a known target), else None."""
    rows_named = {_fold(w) for w in TARGET_ROWS}
    aliases = {_fold(w): name for name, words in TARGET_NAMES.items() for w in words}
    for block in blocks:
        if block.type != "table":
            continue
        for row in _table_rows(tokens, block)[1:]:
            if len(row) < 2 or _fold(row[0].content) not in rows_named:
                continue
            items = [i for i in re.split(r"[,，、;；+]|\band\b|和", row[1].content.replace("`", "")) if i.strip()]
            names = [aliases.get(_fold(item)) for item in items]
            if names and all(names) and len(set(names)) == len(names):
                return [name for name in names if name]  # all named: the same list, typed
    return None


def _comment(text: str) -> str:
    return " ".join(YAML_UNSAFE_RE.sub(" ", text).split())


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(yaml_scalar(i) for i in items) + "]"


def front_matter_text(values: dict, *, legacy_status: str | None = None, notes: dict[str, str] | None = None) -> str:
    """The front matter skeleton (LF endings, fences included) for the values `_spec_values` gives."""
    notes = notes or {}
    out = [
        "---",
        "# Adopted by `research adopt`: the header of the report, then a runnable default spec.",
        "# Check the header, edit the spec (data, model, metrics; add trials, decision, key_numbers),",
        "# then `research run` this file. `research spec --schema` lists every key.",
    ]

    def line(key: str, rendered: str, comment: str = "") -> None:
        out.append(f"{key}: {rendered}" + (f"  # {_comment(comment)}" if comment else ""))

    for key in ("id", "title", "topic", "mvp", "author", "date"):
        if key in values:
            line(key, yaml_scalar(values[key]), notes.get(key, ""))
    status_note = "engine-maintained: planned | running | done | failed"
    if legacy_status:
        status_note += f"; the report said: {legacy_status}"
    line("status", values["status"], status_note)
    for key in ("hub", "roadmap", "kanban"):
        if key in values:
            line(key, yaml_scalar(values[key]))
    line("answers", _flow(values["answers"]), "ids in the hub's hypothesis tree this experiment answers")
    data = values["data"]
    out.append("data:")
    out.append(
        f'  source: {data["source"]}  # the embedded generator; or HDF5 shards, e.g. "train_{{0..4}}/dataset.h5"'
    )
    out.append(f"  targets: {_flow(data['targets'])}  # {notes.get('targets', 'what to predict')}")
    for key in ("n_train", "n_test"):
        if key in data:
            out.append(f"  {key}: {yaml_scalar(data[key])}  # {_comment(notes.get('data.' + key, ''))}".rstrip(" #"))
    if "noise" in values:
        line("noise", "{level: " + yaml_scalar(values["noise"]["level"]) + "}", notes.get("noise.level", ""))
    line(
        "model",
        "{type: " + yaml_scalar(values["model"]["type"]) + "}",
        notes.get("model", "the model to train, e.g. ridge, lightgbm, mlp, cnn, vit"),
    )
    if "train" in values:
        weights = ", ".join(f"{t}: {yaml_scalar(w)}" for t, w in values["train"]["loss_weights"].items())
        line("train", "{loss_weights: {" + weights + "}}", notes.get("train.loss_weights", ""))
    if "trials" in values:
        out.append("trials:" + (f"  # {_comment(notes['trials'])}" if notes.get("trials") else ""))
        for name, overrides in values["trials"].items():
            weights = overrides["train.loss_weights"]
            flow = "{train.loss_weights: {" + ", ".join(f"{t}: {yaml_scalar(w)}" for t, w in weights.items()) + "}}"
            note = notes.get(f"trials.{name}")
            out.append(f"  {yaml_scalar(name)}: {flow}" + (f"  # {_comment(note)}" if note else ""))
    if "sweep" in values:
        out.append("sweep:" + (f"  # {_comment(notes['sweep'])}" if notes.get("sweep") else ""))
        for key, items in values["sweep"].items():
            out.append(f"  {key}: [{', '.join(yaml_scalar(v) for v in items)}]")
    line("metrics", _flow(values["metrics"]), notes.get("metrics", "the first is the primary metric"))
    for text in notes.get("unread", "").split("\n"):
        if text:
            out.append(f"# not in the spec, fill by hand if it matters: {_comment(text)}")
    out.append("---")
    return "\n".join(out) + "\n"


def _spec_values(
    title: str | None,
    fields: dict[str, str],
    links: dict[str, str],
    answers: list[str],
    targets: list[str] | None,
    path: str | None,
) -> tuple[dict, dict[str, str]]:
    values: dict = {}
    notes: dict[str, str] = {}
    stem = Path(path).stem if path else "untitled"
    values["id"] = fields.get("id") or stem
    if not fields.get("id"):
        notes["id"] = "the report has no ID: choose one"
    name = fields.get("name") if _fold(fields.get("name", "")) not in ("", "todo", "tbd") else None
    values["title"] = title or name or stem
    if not (title or name):
        notes["title"] = "the report has no H1 title"
    for key in FRONT_HEADER_KEYS[1:]:
        if fields.get(key):
            values[key] = fields[key]
    values["status"] = "planned"
    values.update(links)
    values["answers"] = answers
    chosen = targets or list(DEFAULT_TARGETS)
    notes["targets"] = "what to predict (read from the report)" if targets else "guess: what to predict; edit"
    values["data"] = {"source": "synthetic", "targets": chosen}
    values["model"] = {"type": "ridge"}
    notes["model"] = "guess: the runnable default; the report's model is not read (ridge, lightgbm, mlp, cnn, vit, moe)"
    primary = "log_g" if "log_g" in chosen else chosen[0]
    values["metrics"] = [f"r2.{primary}", f"mae.{primary}"]
    notes["metrics"] = "guess: the first is the primary metric"
    return values, notes


def _with_draft(values: dict, notes: dict[str, str], found: Draft) -> None:
    """Put what the design tables said into the values (each with where it was read)."""
    for key, value in found.values.items():
        section, _, name = key.partition(".")
        if section in ("sweep", "trials"):
            values[section] = value
        elif section == "data":
            values["data"][name] = value
        else:
            values.setdefault(section, {})[name] = value
        notes[key] = f"read from {found.sources[key]}"
        if key in found.guesses:
            notes[key] = f"guess: {found.guesses[key]}; {notes[key]}"
    for name, label in found.labels.items():
        notes[f"trials.{name}"] = f'the report\'s "{label}"'
    if found.unread:
        notes["unread"] = "\n".join(found.unread)


def _design_tables(tokens, blocks: list[_Block]) -> list[list[list[str]]]:
    """Every table of the document as rows of cell texts, in order (the draft reads the first of each kind)."""
    return [[[cell.content for cell in row] for row in _table_rows(tokens, b)] for b in blocks if b.type == "table"]


def _target_of(text: str) -> str | None:
    aliases = {_fold(w): name for name, words in TARGET_NAMES.items() for w in words}
    return aliases.get(_fold(text.replace("`", "")))


def _validated(values: dict, notes: dict[str, str], path: str | None) -> list[str]:
    """Drop what the design tables said that the spec refuses (each said in a note), until the
    draft loads as a spec; return the refusals."""
    from engine.errors import ResearchError
    from engine.spec import load_spec

    refused: list[str] = []
    for _ in range(8):
        text = front_matter_text(values, notes=notes)
        try:
            load_spec("".join(document.split_lines(text)[1:-1]), path=path, first_line=2)
            return refused
        except ResearchError as error:
            key = error.key or ""
            read = [
                k
                for k in ("trials", "sweep", "train.loss_weights", "noise.level", "data.n_train", "data.n_test")
                if k in notes and "read from" in notes[k] and (key.startswith(k.split(".")[0]) or not key)
            ]
            if not read:
                raise AssertionError(f"the adopted spec does not load: {error}") from None
            dropped = read[0]
            section, _, name = dropped.partition(".")
            if section == "data":
                values["data"].pop(name, None)
            else:
                values.pop(section, None)
            notes.pop(dropped)
            refused.append(f"{dropped} from the report ({error.message})")
            notes["unread"] = "\n".join([*filter(None, notes.get("unread", "").split("\n")), refused[-1]])
    return refused


# ---------------------------------------------------------------------------------------------
# Adopting


def detect_kind(text: str, path: str | None = None) -> Literal["exp", "hub"]:
    """'hub' for a page with a hypothesis tree or "Hub" in its H1 title, else 'exp'."""
    body, _ = document.body_of(text, path)
    blocks = _outline(document.markdown_tokens(body))
    h1 = next((b for b in blocks if b.type == "heading" and b.level == 1), None)
    if h1 is not None and _TITLE_PREFIX_RE.match(_strip_emoji(h1.text)):
        return "exp"
    if h1 is not None and _HUB_TITLE_RE.search(h1.text):
        return "hub"
    if any(b.type == "heading" and heading_key(b.text) in _HYPOTHESIS_TREE for b in blocks):
        return "hub"
    if path and _HUB_FILE_RE.search(Path(path).stem):
        return "hub"
    return "exp"


def adopt_text(text: str, *, path: str | None = None, kind: Kind = "auto") -> AdoptResult:
    """Adopt a legacy document: front matter (reports) and sealed markers, every word kept."""
    if kind not in ("auto", "exp", "hub"):
        raise DocumentError(f"unknown document kind {kind!r}", path=path, hint="use 'auto', 'exp' or 'hub'")
    bom = text.startswith(document.BOM)
    if bom:
        text = text[len(document.BOM) :]
    existing = document.regions(text, path)
    fm = document.front_matter(text, path)
    if kind == "auto":
        kind = "hub" if fm is None and detect_kind(text, path) == "hub" else "exp"
    if existing:
        first = next(iter(existing.values()))
        raise DocumentError(
            f"already adopted: it has research regions ({', '.join(existing)})",
            path=path,
            line=first.start_line,
            hint="adopting twice would nest markers; the file is left as it is",
        )
    if kind == "exp" and fm is not None:
        raise DocumentError(
            "already adopted: it has front matter",
            path=path,
            line=1,
            hint="edit its spec instead; `research adopt` is for reports with no front matter",
        )

    newline = document.newline_of(text)
    body, _ = document.body_of(text, path)
    head = text[: len(text) - len(body)]
    lines = document.split_lines(body)
    tokens = document.markdown_tokens(body)
    blocks = _outline(tokens)

    header: list[str] = []
    read: list[str] = []
    to_fill: list[str] = []
    spec: dict
    if kind == "hub":
        wraps, missing = _hub_targets(tokens, blocks)
        front, spec = "", {}
    else:
        wraps, missing = _experiment_targets(tokens, blocks)
        title, fields = _header_fields(tokens, blocks, lines)
        from engine.adopt import draft

        answers = _answers(tokens, blocks) or _hypothesis_ids(fields.get("hypothesis", ""))
        targets = _targets(tokens, blocks)
        spec, notes = _spec_values(title, fields, _links(tokens, blocks), answers, targets, path)
        _with_draft(
            spec, notes, draft.read(_design_tables(tokens, blocks), spec["data"]["targets"], heading_key, _target_of)
        )
        _validated(spec, notes, path)
        header = [name for name in HEADER_FIELDS if name in fields]
        read = (["targets"] if targets else []) + [
            k for k, note in notes.items() if "read from" in note and k != "targets"
        ]
        to_fill = [t for t in notes.get("unread", "").split("\n") if t]
        front = front_matter_text(spec, legacy_status=fields.get("status"), notes=notes)
        _check_round_trip(front, spec)
        front = document.with_newlines(front, newline)

    # Markers go right around the content lines: trailing blank lines of a block stay outside.
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
    appended = _appended(front, {name for _, _, name in spans}, path) if kind == "exp" else []
    if appended and out and not out[-1].endswith(("\n", "\r")):
        out.append(newline)  # a marker must start a line
    out += [f"<!-- research:{name} -->{newline}{document.end_marker(name, '')}{newline}" for name in appended]
    new = front + head + "".join(out)
    wrapped = [
        (r.name, r.start_line, r.end_line) for r in document.regions(new, path).values() if r.name not in appended
    ]
    if bom:
        new, text = document.BOM + new, document.BOM + text
    return AdoptResult(
        text=new,
        original=text,
        kind=kind,
        regions=wrapped,
        front_matter_added=bool(front),
        missing=missing,
        spec=spec,
        header=header,
        read=read,
        to_fill=to_fill,
        appended=appended,
    )


def _appended(front: str, wrapped: set[str], path: str | None) -> list[str]:
    """The regions the adopted spec needs that no section held (`report.needed_regions`: the
    results table, the run record): they go empty at the end, so the report runs."""
    from engine.notebook.report import needed_regions
    from engine.spec import load_spec

    spec = load_spec("".join(document.split_lines(front)[1:-1]), path=path, first_line=2)
    return [need.regions[0] for need in needed_regions(spec) if not wrapped.intersection(need.regions)]


def _check_round_trip(front: str, values: dict) -> None:
    """The skeleton must load back as exactly the values it was rendered from (a bug otherwise)."""
    import yaml

    loaded = yaml.safe_load("".join(document.split_lines(front)[1:-1]))
    if loaded != values:
        raise AssertionError(f"front matter does not round-trip: {loaded!r} != {values!r}")


def adopt_file(path: str | Path, *, dry_run: bool = False, kind: Kind = "auto") -> AdoptResult:
    """Adopt the file in place (atomically, under its lock), or only compute it on a dry run."""
    name = str(path)
    if dry_run:
        text, _ = textfile.read(path)
        return adopt_text(text, path=name, kind=kind)
    results: list[AdoptResult] = []

    def change(text: str) -> str:
        result = adopt_text(text, path=name, kind=kind)
        results.append(result)
        return result.text

    textfile.update(path, change)
    return results[-1]
