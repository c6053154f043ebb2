"""Where a value of an adopted report's draft spec came from, said beside it in the YAML.

A draft spec is only useful if the user can tell, line by line, what the report stated and what
adopting inferred: a value stated in a design table is probably right; a model type inferred from
a gate's name, a noise level found in a sentence or a rule made from an acceptance sentence may
not be. So every value carries a `Said`: the words it was read from, the line they are on in the
adopted file, and whether it is a guess — rendered as `# read from "…" (line 57)` or
`# guessed from "…" (line 83): check`. A value with no words behind it (a default) is
`# guess: …`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.text.safe_yaml import YAML_UNSAFE_RE

QUOTE_CHARS = 70  # a longer quote is cut: the line number finds the rest


@dataclass(frozen=True)
class Said:
    """The words a value was read from: its 0-based body line (None: no words, a default)."""

    line: int | None
    quote: str
    guess: bool = True
    why: str = ""  # what to check, or how the words became the value

    def comment(self, line_at: Callable[[int], int] | None = None) -> str:
        """The YAML comment (without `#`): `guessed from "…" (line 83): why; check`."""
        if self.line is None or not self.quote:
            return clean(f"guess: {self.why}" if self.guess else self.why)
        where = f" (line {line_at(self.line) if line_at else self.line + 1})"
        said = f'"{short(self.quote)}"{where}'
        if self.guess:
            return clean(f"guessed from {said}" + (f": {self.why}" if self.why else "") + "; check")
        return clean(f"read from {said}" + (f"; {self.why}" if self.why else ""))


@dataclass(frozen=True)
class Unread:
    """Something the report says that the draft does not hold (yet): what, and its body line."""

    text: str
    line: int | None = None

    def say(self, line_at: Callable[[int], int] | None = None) -> str:
        if self.line is None:
            return self.text
        return f"{self.text} (line {line_at(self.line) if line_at else self.line + 1})"


def default(why: str) -> Said:
    """A guess with no words behind it: the engine's default, or the runnable choice."""
    return Said(None, "", True, why)


def short(text: str) -> str:
    """One line of at most QUOTE_CHARS characters, markdown emphasis and quotes dropped."""
    text = " ".join(text.replace("**", "").replace("`", "").replace('"', "'").split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


def clean(text: str) -> str:
    """A comment YAML keeps as written: no character that could end it or start another token."""
    return " ".join(YAML_UNSAFE_RE.sub(" ", text).split())
