"""The text core: front matter and owned regions of a markdown document, as text → text.

Everything here is pure: it takes the document's text and returns new text, touching only the
bytes it owns. Owned regions are marked in the style of cog, with a checksum of the generated
body in the end marker, so a hand edit inside a region is caught rather than overwritten:

    <!-- research:key-numbers -->
    | Metric | Value |
    <!-- /research:key-numbers sha256:0123456789abcdef -->

Marker lines are whole lines; markers inside code blocks are text, not markers (code spans come
from markdown-it-py's token map, not from regular expressions over the whole document). Line
endings are kept as the file has them; the checksum is over the body with LF endings, so a file
converted to CRLF by an editor or git is not taken for a hand edit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from engine.errors import DocumentError, RegionEditedError
from engine.text.safe_yaml import yaml_scalar

BOM = "\ufeff"
NAME = r"[a-z0-9][a-z0-9_.-]*"
START_RE = re.compile(rf"^[ \t]*<!--[ \t]*research:(?P<name>{NAME})[ \t]*-->[ \t]*$")
END_RE = re.compile(rf"^[ \t]*<!--[ \t]*/research:(?P<name>{NAME})(?:[ \t]+sha256:(?P<sum>[0-9a-f]+))?[ \t]*-->[ \t]*$")
# Anything that looks like it wants to be a marker, to report typos instead of ignoring them.
MARKERISH_RE = re.compile(r"^[ \t]*<!--[ \t]*/?research:")
# A live number in prose (`engine.render.live`): an inline span on one line, not a region marker.
VALUE_RE = re.compile(
    r"<!--[ \t]*research:value[ \t]+(?P<source>(?:(?!-->).)+?)[ \t]*-->(?P<shown>(?:(?!<!--).)*?)<!--[ \t]*/research:value[ \t]*-->"
)
CHECKSUM_LEN = 16


def checksum(body: str) -> str:
    """Checksum of a region body, independent of the file's line endings."""
    normal = body.replace("\r\n", "\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:CHECKSUM_LEN]


def split_lines(text: str) -> list[str]:
    """Lines with their endings; only LF ends a line (str.splitlines also splits on \\x0c, U+2028…)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def with_newlines(text: str, newline: str) -> str:
    """Give generated text (LF) the document's line endings."""
    text = text.replace("\r\n", "\n")
    return text.replace("\n", newline) if newline != "\n" else text


# ---------------------------------------------------------------------------------------------
# Front matter


@dataclass(frozen=True)
class FrontMatter:
    """The YAML between the opening and closing `---` fences, with where it sits in the file."""

    text: str  # the YAML, line endings as in the file
    first_line: int  # 1-based file line of the first YAML line
    start: int  # offset of the YAML text in the document text
    end: int  # offset just past the YAML text (the closing fence starts here)
    body_start: int  # offset of the first character after the closing fence line


_FENCE_RE = re.compile(r"^---[ \t]*\r?\n?$")
_CLOSE_RE = re.compile(r"^(---|\.\.\.)[ \t]*\r?\n?$")


def front_matter(text: str, path: str | None = None) -> FrontMatter | None:
    """The front matter block at the very top of the text, or None when there is none.

    As in Jekyll and mdformat: a '---' line first, YAML, and a closing '---' (or '...') line.
    """
    lines = split_lines(text)
    if not lines or not _FENCE_RE.match(lines[0]):
        return None
    offset = len(lines[0])
    start = offset
    for line in lines[1:]:
        if _CLOSE_RE.match(line):
            return FrontMatter(text[start:offset], 2, start, offset, offset + len(line))
        offset += len(line)
    return None  # a lone '---' on line 1 is a thematic break, not front matter


def body_of(text: str, path: str | None = None) -> tuple[str, int]:
    """The markdown after the front matter, and the 0-based line index it starts at."""
    fm = front_matter(text, path)
    if fm is None:
        return text, 0
    return text[fm.body_start :], text[: fm.body_start].count("\n")


# ---------------------------------------------------------------------------------------------
# Code spans: lines where marker-like text is content, not a marker


@lru_cache(maxsize=3)
def _parser(blocks_only: bool = False, inline: bool = True):
    from markdown_it import MarkdownIt

    if blocks_only:
        # Where code blocks are needs no inline parsing, tables or setext headings (a setext
        # underline is a paragraph line either way): 5x faster on a long report.
        return MarkdownIt("commonmark").disable(["inline", "lheading"])
    if not inline:  # the full parse's blocks; the caller parses the inline content it wants
        return MarkdownIt("commonmark").enable("table").disable("inline")
    return MarkdownIt("commonmark").enable("table")


def local_images(body: str) -> Iterator[tuple[int | None, str, str, str]]:
    """(0-based line in `body`, src, the file it names, alt text) of every image that names a file:
    `![alt](src)` and `![alt][ref]`; URLs and bare anchors left out. What `check` holds to disk and
    `show` lists, read one way."""
    if "![" not in body:  # every markdown image, inline or by reference, starts so: no parse needed
        return
    for token in markdown_tokens(body, inline_with="!["):
        for child in token.children or []:
            if child.type != "image":
                continue
            src = str(child.attrGet("src") or "")
            if not src or src.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I):
                continue
            yield (token.map[0] if token.map else None), src, src.split("#")[0].split("?")[0], child.content


def markdown_tokens(text: str, *, blocks_only: bool = False, inline_with: str | None = None):
    """markdown-it tokens of a document body (line maps are 0-based, relative to the body).

    `inline_with`: only the blocks whose text holds it get their inline tokens (children), each
    exactly as a full parse gives them; the others keep none. Inline parsing is most of a full
    parse, and `research check` looks for one thing in every report: images (`![`)."""
    # markdown-it ends a line at a lone CR too; `split_lines` does not. Blank it out so that the
    # token maps count lines as the rest of this module does.
    if "\r" in text:
        text = re.sub(r"\r(?!\n)", " ", text)
    if inline_with is None:
        return _parser(blocks_only).parse(text)
    md = _parser(False, inline=False)
    env: dict = {}  # the link reference definitions the block parse collects, for `![alt][ref]`
    tokens = md.parse(text, env)
    for token in tokens:  # what markdown-it's own `inline` core rule does, for these blocks only
        if token.type == "inline" and inline_with in token.content:
            token.children = []
            md.inline.parse(token.content, md, env, token.children)
    return tokens


_MAYBE_CODE_RE = re.compile(r"^(?: {0,3}(?:```|~~~)| {4}|\t| {0,3}[-*+>]| {0,3}\d+[.)])", re.M)


@lru_cache(maxsize=32)
def code_lines(text: str) -> frozenset[int]:
    """0-based indexes of document lines inside fenced or indented code blocks (remembered per
    text: a run asks for the same report and pages several times)."""
    body, skip = body_of(text)
    if not _MAYBE_CODE_RE.search(body):  # no fence, no indent, no container: no code anywhere
        return frozenset()
    inside: set[int] = set()
    for token in markdown_tokens(body, blocks_only=True):
        if token.type in ("fence", "code_block") and token.map:
            begin, end = token.map
            inside.update(range(begin + skip, end + skip))
    return frozenset(inside)


_INDENTED_MARKER_RE = re.compile(r"^(?: {4}|[ ]{0,3}\t)[ \t]*<!--[ \t]*/?research:", re.M)


def _markers_may_be_code(text: str) -> bool:
    """Whether a marker line of `text` could sit in a code block, so that `regions` needs the
    code map. Without a fence anywhere, the only code blocks are indented ones, whose every line
    is indented four columns or more: a marker indented less is never code. This spares a full
    markdown parse of most documents (a check reads every page and the history of every report)."""
    if "research:" not in text:
        return False
    return "```" in text or "~~~" in text or _INDENTED_MARKER_RE.search(text) is not None


# ---------------------------------------------------------------------------------------------
# Regions


@dataclass(frozen=True)
class Region:
    """One owned region; line numbers are 1-based lines of the markers in the file."""

    name: str
    start_line: int
    end_line: int
    body: str
    recorded: str | None  # checksum in the end marker, None when the user wrote none
    body_start: int  # offset of the body in the text
    body_end: int  # offset of the end marker line in the text
    end_marker_start: int
    end_marker_end: int

    @property
    def edited(self) -> bool:
        """True when the body no longer matches the checksum the engine wrote."""
        return self.recorded is not None and self.recorded != checksum(self.body)


def regions(text: str, path: str | None = None) -> dict[str, Region]:
    """Every owned region by name, in document order; malformed markers are errors."""
    found: dict[str, Region] = {}
    lines = split_lines(text)
    code = code_lines(text) if _markers_may_be_code(text) else frozenset()
    _, front_lines = body_of(text, path)  # YAML is not markdown: no markers there
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    open_name: str | None = None
    open_line = 0
    body_start = 0
    for index, line in enumerate(lines):
        if index < front_lines or index in code or "research:" not in line:
            continue
        content = line.rstrip("\r\n")
        number = index + 1
        start, end = START_RE.match(content), END_RE.match(content)
        if start:
            name = start["name"]
            if open_name is not None:
                raise DocumentError(
                    f"region '{name}' starts inside region '{open_name}' (opened on line {open_line})",
                    path=path,
                    line=number,
                    hint=f"close '{open_name}' with <!-- /research:{open_name} --> first; regions cannot nest",
                )
            if name in found:
                raise DocumentError(
                    f"region '{name}' appears twice (first on line {found[name].start_line})",
                    path=path,
                    line=number,
                    hint="give each region its own name",
                )
            open_name, open_line, body_start = name, number, offsets[index] + len(line)
        elif end:
            name = end["name"]
            if open_name is None:
                raise DocumentError(
                    f"end marker of region '{name}' has no start marker",
                    path=path,
                    line=number,
                    hint=f"add <!-- research:{name} --> above it, or delete it",
                )
            if name != open_name:
                raise DocumentError(
                    f"end marker of region '{name}' closes region '{open_name}' (opened on line {open_line})",
                    path=path,
                    line=number,
                    hint=f"the end marker should read <!-- /research:{open_name} -->",
                )
            body_end = offsets[index]
            found[name] = Region(
                name=name,
                start_line=open_line,
                end_line=number,
                body=text[body_start:body_end],
                recorded=end["sum"],
                body_start=body_start,
                body_end=body_end,
                end_marker_start=body_end,
                end_marker_end=body_end + len(content),
            )
            open_name = None
        elif MARKERISH_RE.match(content) and not VALUE_RE.match(content.lstrip()):
            raise DocumentError(
                f"malformed region marker {content.strip()!r}",
                path=path,
                line=number,
                hint="markers read <!-- research:NAME --> and <!-- /research:NAME sha256:… -->, "
                "NAME in lower case letters, digits, '-', '_' or '.'",
            )
    if open_name is not None:
        raise DocumentError(
            f"region '{open_name}' is never closed",
            path=path,
            line=open_line,
            hint=f"add <!-- /research:{open_name} --> after its content",
        )
    return found


def safe_body(body: str) -> str:
    """A generated region body that cannot break its document: a line that reads like a region
    marker is escaped (`&lt;!--`), and a code fence left open is closed (it would swallow the
    end marker). The document re-parses to the same regions, whatever text a body quotes."""
    lines = body.replace("\r\n", "\n").split("\n")
    escaped = ["&lt;!--" + line.split("<!--", 1)[1] if MARKERISH_RE.match(line) else line for line in lines]
    body = "\n".join(escaped)
    fence = _open_fence(body)
    if fence:
        body = body.rstrip("\n") + "\n" + fence + "\n"
    return body


def _open_fence(text: str) -> str | None:
    """The fence that closes the text's last code fence when it is never closed, else None."""
    if "```" not in text and "~~~" not in text:
        return None
    lines = text.split("\n")
    for token in markdown_tokens(text, blocks_only=True):
        if token.type != "fence" or not token.map:
            continue
        begin, end = token.map
        last = lines[end - 1].strip() if end - 1 > begin and end - 1 < len(lines) else ""
        marker = token.markup
        if not (last.startswith(marker[0] * len(marker)) and set(last) <= {marker[0]}):
            return marker
    return None


def end_marker(name: str, body: str) -> str:
    return f"<!-- /research:{name} sha256:{checksum(body)} -->"


def wrap(name: str, body: str, newline: str = "\n") -> str:
    """A complete region (start marker, body, sealed end marker), body ending in a newline."""
    body = with_newlines(body, newline)
    if body and not body.endswith("\n"):
        body += newline
    return f"<!-- research:{name} -->{newline}{body}{end_marker(name, body)}{newline}"


def replace_regions(
    text: str,
    bodies: Mapping[str, str],
    *,
    force: bool = False,
    path: str | None = None,
    missing_ok: bool = False,
) -> str:
    """Put new bodies into named regions; every byte outside them stays as it was.

    A region edited by hand stops the whole replacement (nothing is changed) unless `force`.
    A name with no region in the document is an error unless `missing_ok`, when it is skipped.
    """
    found = regions(text, path)
    missing = [name for name in bodies if name not in found]
    if missing and not missing_ok:
        raise DocumentError(
            f"no region named {', '.join(repr(m) for m in missing)}",
            path=path,
            hint=f"add <!-- research:{missing[0]} --> / <!-- /research:{missing[0]} --> where it "
            "belongs, or run `research adopt` on the file",
        )
    edits = []
    for name, body in bodies.items():
        region = found.get(name)
        if region is None:
            continue
        # The start marker's own line ending: right even in a file that mixes LF and CRLF.
        newline = "\r\n" if text[: region.body_start].endswith("\r\n") else "\n"
        if region.edited and not force:
            raise RegionEditedError(
                f"region '{name}' was edited by hand since the engine wrote it",
                path=path,
                line=region.start_line,
                hint="move your words outside the markers (they would be overwritten), "
                "or pass --force to discard the edit",
            )
        body = with_newlines(safe_body(body), newline)
        if body and not body.endswith(newline):
            body += newline
        edits.append((region.body_start, region.end_marker_end, body + end_marker(name, body)))
    for begin, end, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[end:]
    return text


def edited_regions(text: str, path: str | None = None) -> list[Region]:
    return [r for r in regions(text, path).values() if r.edited]


def strip_markers(text: str, path: str | None = None) -> str:
    """The text without its marker lines (the bodies stay): what the user's words look like."""
    found = regions(text, path)
    drop = set()
    for region in found.values():
        drop.add(region.start_line - 1)
        drop.add(region.end_line - 1)
    return "".join(line for i, line in enumerate(split_lines(text)) if i not in drop)


# ---------------------------------------------------------------------------------------------
# Front matter keys maintained by the engine (status, last_run): edited in place as text


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.M)


def key_blocks(front_text: str) -> dict[str, str]:
    """The front matter's text split by top-level key (each block: its line and the indented ones)."""
    starts = [(m.start(), m.group(1)) for m in _TOP_KEY.finditer(front_text)]
    blocks = {}
    for (start, key), (end, _) in zip(starts, starts[1:] + [(len(front_text), "")]):
        blocks[key] = front_text[start:end]
    return blocks


def front_matter_values(text: str, keys) -> dict[str, object]:
    """The values of a few top-level scalar keys (`status`, `last_run`), read without the spec."""
    import yaml

    fm = front_matter(text)
    if fm is None:
        return {}
    out: dict[str, object] = {}
    for name, block in key_blocks(fm.text).items():
        if name in keys and name not in out:
            rest = block.split("\n", 1)[0].partition(":")[2].strip()
            try:
                out[name] = yaml.safe_load(rest or "null")
            except yaml.YAMLError:
                out[name] = rest
    return out


def set_front_matter_keys(text: str, values: Mapping[str, str], path: str | None = None) -> str:
    """Set top-level scalar keys of the front matter without re-serialising the YAML.

    The value of an existing key is replaced where it stands (its comment stays); a new key is
    added just before the closing fence. The user's key order and comments never move.
    """
    import yaml

    fm = front_matter(text, path)
    if fm is None:
        raise DocumentError("the document has no front matter", path=path, hint="run `research adopt` on it")
    try:
        root = yaml.compose(fm.text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = fm.first_line + mark.line if mark is not None else fm.first_line
        raise DocumentError(
            f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}", path=path, line=line
        ) from exc
    if root is not None and not isinstance(root, yaml.MappingNode):
        raise DocumentError("front matter is not a mapping", path=path, line=fm.first_line)
    newline = newline_of(text)
    yaml_text = fm.text
    existing = {}
    for key_node, value_node in root.value if root is not None else []:
        existing[key_node.value] = value_node
    appended = []
    edits = []
    for key, value in values.items():
        rendered = yaml_scalar(value)
        node = existing.get(key)
        if node is None:
            appended.append(f"{key}: {rendered}{newline}")
        elif not isinstance(node, yaml.ScalarNode):
            raise DocumentError(
                f"front matter key '{key}' is not a scalar", path=path, line=fm.first_line + node.start_mark.line
            )
        elif node.start_mark.index == node.end_mark.index:  # `key:` with no value
            edits.append((node.start_mark.index, node.end_mark.index, " " + rendered))
        else:
            edits.append((node.start_mark.index, node.end_mark.index, rendered))
    for begin, end, replacement in sorted(edits, reverse=True):
        yaml_text = yaml_text[:begin] + replacement + yaml_text[end:]
    if appended:
        if yaml_text and not yaml_text.endswith("\n"):
            yaml_text += newline
        yaml_text += "".join(appended)
    return text[: fm.start] + yaml_text + text[fm.end :]
