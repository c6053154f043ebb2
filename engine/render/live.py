"""Live numbers in prose: a number in the user's sentence that every run keeps true.

    The attention head reaches <!-- research:value best.r2.log_g -->0.8537<!-- /research:value --> on the test set.

GitHub and any markdown viewer show only "0.8537": the comments are invisible. The opening
comment holds an expression (the sandboxed language of `key_numbers:`, `engine.spec.expressions`);
every run evaluates it and writes its value between the two comments, formatted as the key
numbers are (`engine.render.decision.shown_value`). The span is one line; a span in a code block or
code span is text, and spans inside owned regions belong to the region.

No checksum, unlike a region: a span holds no words of the user's, only the number its
expression gives, so a hand edit loses nothing when the next run puts the true number back;
and the closing comment stays short enough to sit in a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import DocumentError
from engine.text import document

if TYPE_CHECKING:
    from engine.spec.expressions import Expression

_OPEN_RE = re.compile(r"<!--[ \t]*research:value\b")


@dataclass(frozen=True)
class Span:
    """One live number: its expression, where it is, what it shows now."""

    source: str
    line: int  # 1-based file line
    start: int  # offset of the shown text in the document
    end: int
    shown: str

    @property
    def key(self) -> str:
        return f"research:value (line {self.line})"


def spans(text: str, path: str | None = None) -> list[Span]:
    """Every live number of the document, in order; a span left open on its line is an error."""
    if "research:value" not in text:
        return []
    lines = document.split_lines(text)
    _, front_lines = document.body_of(text, path)
    code = document.code_lines(text)
    owned: set[int] = set()
    for region in document.regions(text, path).values():
        owned.update(range(region.start_line - 1, region.end_line))
    found = []
    offset = 0
    for index, line in enumerate(lines):
        start_of_line, offset = offset, offset + len(line)
        if index < front_lines or index in code or index in owned or "research:value" not in line:
            continue
        matches = [m for m in document.VALUE_RE.finditer(line) if line[: m.start()].count("`") % 2 == 0]
        opened = [m for m in _OPEN_RE.finditer(line) if line[: m.start()].count("`") % 2 == 0]
        if len(opened) != len(matches):
            raise DocumentError(
                "a live number is not closed on its line",
                path=path,
                line=index + 1,
                hint="write <!-- research:value EXPRESSION -->…<!-- /research:value --> on one line, "
                "e.g. <!-- research:value best.r2.log_g -->?<!-- /research:value -->",
            )
        for match in matches:
            found.append(
                Span(
                    match["source"].strip(),
                    index + 1,
                    start_of_line + match.start("shown"),
                    start_of_line + match.end("shown"),
                    match["shown"],
                )
            )
    return found


def shown(text: str, path: str | None = None) -> dict[str, str]:
    """What each span shows now, by line and expression (to tell whether a write is due)."""
    return {f"{s.line}:{s.source}": s.shown for s in spans(text, path)}


def fill(text: str, values: Mapping[str, str], path: str | None = None) -> str:
    """The text with each span showing its expression's value; every other byte as it was."""
    for span in reversed(spans(text, path)):
        value = values.get(span.source)
        if value is not None and value != span.shown:
            text = text[: span.start] + value + text[span.end :]
    return text


def compiled(spec, text: str, path: str | None = None) -> list[tuple[Span, Expression]]:
    """(span, its compiled expression) for every span, checked as a `key_numbers:` value is:
    a syntax error, an unknown trial or name is a located ExpressionError."""
    from engine.errors import ExpressionError
    from engine.spec.expressions import EXPRESSION_NAMES, compile_expression

    out = []
    for span in spans(text, path):
        expression = compile_expression(
            span.source, names=spec.trial_names, path=path, line=span.line, key=span.key, allowed=EXPRESSION_NAMES
        )
        if "baseline" in expression.names and spec.decision.baseline is None:
            raise ExpressionError(
                f"`{span.source}` uses baseline, but decision.baseline is not set",
                path=path,
                line=span.line,
                key=span.key,
                hint="set decision.baseline to a trial name",
            )
        out.append((span, expression))
    return out


def values(spec, text: str, context: Mapping, path: str | None = None, *, failed: bool = False) -> dict[str, str]:
    """Expression → the text its span shows after this run ('-' when a trial it reads failed)."""
    from engine.errors import ExpressionError
    from engine.render.decision import no_value, shown_value
    from engine.spec.expressions import NoValue

    out: dict[str, str] = {}
    for span, expression in compiled(spec, text, path):
        try:
            out[span.source] = shown_value(expression, expression.evaluate(context))
        except NoValue as error:  # an empty bin: the run goes on, the prose says so
            out[span.source] = no_value(error)
        except ExpressionError:
            if not failed:
                raise
            out[span.source] = "-"
    return out
