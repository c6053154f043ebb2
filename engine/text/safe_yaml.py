"""YAML read safely, with the file line of every key.

A spec is user text: it is read with PyYAML's `SafeLoader` in two steps. The document is
*composed* into a node tree first, which is checked — expanded size (an alias bomb is refused
before anything is built), recursive aliases, tags, duplicate keys — and gives every key its
line; only then is it constructed into Python values. Floats in exponent form (`1e-3`) are read
as numbers, as YAML 1.2 does (PyYAML's YAML 1.1 would read a string).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Union

import yaml

from engine.errors import SpecError

Loc = tuple[Union[str, int], ...]
MAX_YAML_NODES = 100_000  # expanded size (aliases counted each time they are used)

_FLOAT_TAG = "tag:yaml.org,2002:float"
_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads `1e-3` as a float (YAML 1.2), not as a string."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
_CLoader: type[yaml.CSafeLoader] | None = None  # None: PyYAML built without libyaml
if getattr(yaml, "__with_libyaml__", False):

    class _LibyamlLoader(yaml.CSafeLoader):
        """libyaml's parser with the same resolvers: composing is 5x faster (a check reads every
        report's spec). It is only tried: whatever it refuses is read again by `_Loader`, so an
        error says exactly what it said before (libyaml words problems its own way)."""

        yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers

    _CLoader = _LibyamlLoader


def compose(text: str, loader: yaml.SafeLoader | None = None) -> yaml.Node | None:
    """The node tree of one YAML document: libyaml's when it reads the text, else `loader`'s
    (a `_Loader` of the same text), which raises the error a reader sees."""
    if _CLoader is not None:
        fast = _CLoader(text)
        try:
            return fast.get_single_node()
        except Exception:
            pass
        finally:
            fast.dispose()
    return (loader or _Loader(text)).get_single_node()


_MERGE_TAG = "tag:yaml.org,2002:merge"
_ALLOWED_TAGS = (frozenset(_Loader.yaml_constructors) - {None}) | {_MERGE_TAG}


def read_yaml(
    text: str, *, path: str | None, first_line: int | None, what: str, key: str | None = None
) -> tuple[Any, dict[Loc, int]]:
    """Compose, check and construct a YAML document; also return its key → line map.

    `first_line` is the file line of the text's first line; None when the text is not from a
    file (a `--set` value), and then errors name `key` instead of a line.
    """
    offset = first_line or 1

    def error(message: str, mark: Any = None, hint: str | None = None) -> SpecError:
        if first_line is None:
            return SpecError(message, path=path, key=key, hint=hint)
        line = offset + mark.line if mark is not None else None
        return SpecError(message, path=path, line=line, hint=hint)

    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader refuses a NUL or other control character up front
        mark = getattr(exc, "position", None)
        line = text[:mark].count("\n") if isinstance(mark, int) else None
        character = getattr(exc, "character", None)
        shown = f" (U+{character:04X})" if isinstance(character, int) else ""
        message = f"the {what} holds a control character{shown} YAML does not allow"
        if first_line is None:
            raise SpecError(message, path=path, key=key, hint="remove it") from None
        raise SpecError(
            message,
            path=path,
            line=offset + line if line is not None else None,
            hint="remove it (a NUL byte often comes from a file saved as UTF-16)",
        ) from None
    try:
        try:
            node = compose(text, loader)
        except yaml.MarkedYAMLError as exc:
            raise error(*_yaml_problem(exc, what, offset, text, exc.problem_mark or exc.context_mark)) from None
        except yaml.YAMLError as exc:
            raise error(f"invalid YAML in the {what}: {exc}") from None
        except RecursionError:
            raise error(f"the {what} is nested too deeply") from None
        if node is None:
            return None, {}
        _check_nodes(node, error, offset)
        lines: dict[Loc, int] = {(): offset}
        _map_lines(node, (), lines, offset)
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            raise error(*_yaml_problem(exc, what, offset, text, exc.problem_mark)) from None
        return data, lines
    finally:
        loader.dispose()


_INDENT_HINT = "indent every key of a section with the same number of spaces as the keys beside it (spaces, not tabs)"


def _yaml_problem(
    exc: yaml.MarkedYAMLError, what: str, offset: int, text: str, mark: Any
) -> tuple[str, Any, str | None]:
    """(message, where, hint) for a parser's refusal: what went wrong in words a user knows first —
    most are an indentation slip in a hand-edited file — and the parser's own words after it
    in parentheses, for whoever searches for them."""
    if exc.problem and "found another document" in exc.problem:
        return f"the {what} holds more than one YAML document (a '---' line inside it)", mark, None
    problem = exc.problem or exc.context or "unreadable"
    started = ""
    if exc.context_mark is not None and exc.problem_mark is not None and exc.context_mark.line != exc.problem_mark.line:
        started = f" that starts at line {offset + exc.context_mark.line}"
    plain, hint = _plain_words(exc, text, started)
    context = f"{exc.context}{started}" if exc.context and exc.problem else ""
    if plain is None:
        return f"invalid YAML in the {what}: {problem}" + (f" ({context})" if context else ""), mark, hint
    return f"invalid YAML in the {what}: {plain} ({problem}" + (f", {context})" if context else ")"), mark, hint


def _plain_words(exc: yaml.MarkedYAMLError, text: str, started: str) -> tuple[str | None, str | None]:
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark
    row = text.splitlines()[mark.line] if mark is not None and mark.line < len(text.splitlines()) else ""
    found = re.search(r"found character '(.+?)' that cannot start any token", problem)
    if found and found.group(1) == "\\t":
        return (
            "a tab character; YAML indents with spaces only",
            "replace the tab with spaces, as many as the lines beside it use",
        )
    if found:
        return (
            f"a value cannot start with '{found.group(1)}'",
            f'put quotes around the value, e.g. "{row.strip().split(": ", 1)[-1]}"'
            if row.strip()
            else "put quotes around the value",
        )
    if problem == "mapping values are not allowed here":
        if mark is not None and re.search(r":\s", row[: mark.column].lstrip(" -")):
            key, _, value = row.strip().partition(": ")
            return (
                "a value holds ': ' (a colon and a space), which YAML reads as a new key",
                f'put quotes around the value: {key}: "{value}"',
            )
        return (
            "the indentation does not match the lines above: this line is read as more of the value on the line above",
            _INDENT_HINT + ", and give every key a ':'",
        )
    if problem.startswith("expected <block end>, but found"):
        if "'<block mapping start>'" in problem or "'<block sequence start>'" in problem:
            return "the indentation does not match the lines above", _INDENT_HINT
        if problem.endswith("'-'"):
            return (
                "a list item ('- ') where a key is expected: the indentation does not match the lines above",
                "a list goes under its own key, its items on the lines below it, e.g. `metrics:` then `  - r2.log_g`",
            )
        if problem.endswith("'<scalar>'"):
            return "more text after a complete value", "put the whole value inside the quotes, or quote none of it"
        return f"a stray {problem.rsplit(' ', 1)[-1]}", "remove it, or open the list or mapping it closes"
    if problem.startswith("expected the node content, but found"):
        return f"a stray {problem.rsplit(' ', 1)[-1]}", "remove it, or open the list or mapping it closes"
    if "while parsing a flow mapping" in context:
        return (
            f"the inline mapping {{…}}{started} is not closed, or lacks a ',' between its items",
            "close it with '}' and separate its key: value pairs with ', '",
        )
    if "while parsing a flow sequence" in context:
        return (
            f"the inline list […]{started} is not closed, or lacks a ',' between its items",
            "close it with ']' and separate its items with ', '",
        )
    if "while scanning a quoted scalar" in context:
        return f"the quoted text{started} is never closed", "end it with the quote it starts with"
    if "could not find expected ':'" in problem:
        return "a key without its ':', or a line that does not line up with the lines above", _INDENT_HINT
    if problem.startswith("found undefined alias"):
        return (
            "a value that starts with '*' names an anchor (&name) that is not defined",
            "put quotes around the value if it is text",
        )
    return None, None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: yaml.Node, error: Callable[..., SpecError], offset: int) -> None:
    """Refuse alias bombs, recursive aliases, tags and duplicate keys, before building anything."""
    # Expanded size, memoised per node: each alias counts the whole subtree it stands for.
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            on_path.discard(nid)
            sizes[nid] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[nid] > MAX_YAML_NODES:
                raise error(
                    f"the YAML expands to more than {MAX_YAML_NODES:,} values (anchors and aliases "
                    "repeat what they point to); refusing to read it",
                    node.start_mark,
                )
            continue
        if nid in sizes:
            continue
        on_path.add(nid)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise error("a YAML alias refers to a node that contains it", child.start_mark)
            if id(child) not in sizes:
                stack.append((child, False))

    seen: set[int] = set()
    stack2 = [root]
    while stack2:
        node = stack2.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise error(
                f"YAML tags are not allowed here (found '{tag}')",
                node.start_mark,
                hint="a spec holds plain values: strings, numbers, lists and mappings",
            )
        if isinstance(node, yaml.MappingNode):
            keys: dict[tuple[str, Any], yaml.Node] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                ident = (key_node.tag, key_node.value)
                if ident in keys:
                    raise error(
                        f"duplicate key '{key_node.value}' (first at line {offset + keys[ident].start_mark.line})",
                        key_node.start_mark,
                        hint="a key can appear only once in a mapping",
                    )
                keys[ident] = key_node
        stack2.extend(_children(node))


def _map_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        merged = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merged.append(value_node)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            lines[loc + (key,)] = offset + key_node.start_mark.line
            _map_lines(value_node, loc + (key,), lines, offset)
        for value_node in merged:  # `<<: *base`: keys from the anchor, where not set here
            for source in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                if isinstance(source, yaml.MappingNode):
                    sub: dict[Loc, int] = {}
                    _map_lines(source, loc, sub, offset)
                    for k, v in sub.items():
                        lines.setdefault(k, v)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[loc + (i,)] = offset + item.start_mark.line
            _map_lines(item, loc + (i,), lines, offset)


# ---------------------------------------------------------------------------------------------
# Writing one scalar back (engine-maintained keys, scaffolds, adopted front matter)

_PLAIN_RE = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./+ -]*")
#: What YAML reads differently from JSON inside a double-quoted string, or refuses: DEL, C1
#: controls, U+FFFE/FFFF, NEL, U+2028/2029 (line breaks, folded to spaces) and the BOM.
YAML_UNSAFE_RE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def yaml_scalar(value: Any) -> str:
    """A YAML scalar that reads back as exactly `value`: plain when that is safe, else quoted.

    None, booleans and numbers are written as JSON writes them (which YAML reads back)."""
    import json

    if value is None:
        return "null"
    if isinstance(value, (bool, int, float)):
        text = json.dumps(value)
        if isinstance(value, float) and "e" in text and "." not in text:  # YAML 1.1 reads "1e-05" as a string
            text = text.replace("e", ".0e", 1)
        return text
    text = str(value)
    if _PLAIN_RE.fullmatch(text) and text == text.strip():
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    quoted = json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one
    return YAML_UNSAFE_RE.sub(_escape, quoted)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
