"""One exception hierarchy for everything a user can get wrong, and the exit code of each outcome.

The CLI maps every `ResearchError` to its class's exit code (2: bad input) and prints
`str(error)`: one paragraph, located like a compiler message (`file:line: key: what was wrong.
suggestion`), no traceback; the further problems found with it (`also`) follow, one a line.
`Exit` is the one table of exit codes the README documents.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum
from pathlib import Path


class Exit(IntEnum):
    """What `research` exits with."""

    OK = 0  #: everything ran, or nothing needed to
    FAILED = 1  #: a trial failed, or `research check` / `research reproduce` found problems
    BAD_INPUT = 2  #: the input is wrong (spec, document, data, a path): nothing ran, nothing changed
    INTERRUPTED = 130  #: stopped by Ctrl-C (SIGINT) or SIGTERM


class ResearchError(Exception):
    """A problem with the user's input: located, explained, with a way out."""

    exit_code = Exit.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        also: Iterable["ResearchError"] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key
        self.hint = hint
        #: the further problems found in the same pass: a user fixes them all in one edit, so
        #: they are printed with this one, each on its own line, not merely counted
        self.also: list[ResearchError] = list(also)

    def located(self, *, path: str | Path | None = None, line: int | None = None) -> "ResearchError":
        """Fill in where the problem is when the raiser did not know (returns self)."""
        if self.path is None and path is not None:
            self.path = str(path)
        if self.line is None and line is not None:
            self.line = line
        return self

    @property
    def where(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}"
        return self.path or (f"line {self.line}" if self.line else "")

    def __str__(self) -> str:
        parts = []
        if self.where:
            parts.append(f"{self.where}:")
        if self.key:
            parts.append(f"{self.key}:")
        parts.append(self.message)
        text = _sentence(" ".join(parts))
        if self.hint:
            text += " " + _sentence(self.hint)
        if self.also:
            more = len(self.also)
            text += f" {more} more problem{'s' if more > 1 else ''}:"
            text += "".join(f"\n  {other}" for other in self.also)
        return text


def _sentence(text: str) -> str:
    """End `text` with one full stop, unless it already ends like a sentence ("did you mean 'lr'?")."""
    text = text.rstrip().rstrip(".")
    return text if text.endswith(("?", "!")) else text + "."


class Invalid(ValueError):
    """A validator's complaint inside a pydantic model, with the part of the location pydantic
    cannot know (`loc`, below the field) and a way out (`hint`): `engine.spec.explain` turns it
    into a located `SpecError`. It lives here, not in spec, because the models' own configs
    (`engine.models.base.TrainConfig`) raise it too."""

    def __init__(self, message: str, *, loc: Iterable[str | int] = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = tuple(loc)
        self.hint = hint


class SpecError(ResearchError):
    """The front matter is not a valid spec (YAML, keys, types, sweep, expressions)."""


class ExpressionError(SpecError):
    """A `when:` or `value:` expression does not parse or cannot be evaluated."""


class DocumentError(ResearchError):
    """The markdown itself is unusable: encoding, front matter fences, region markers."""


class RegionEditedError(DocumentError):
    """A generated region was changed by hand; overwriting it would lose the user's words."""


class LockedError(ResearchError):
    """Another `research` process holds the document."""


class DataError(ResearchError):
    """The spectra are unusable: a missing file or dataset, wrong shapes, NaN/inf, an empty selection."""

    def placed(self, key: str, source: str) -> "DataError":
        """This error put at the spec key that names the files (`data.tests.ext.source`) unless
        it already names a spec key: a file's own problem (a dataset, a label) stays in words."""
        if self.key and self.key.startswith("data."):
            return self
        message = self.message if not self.key else f"{self.key}: {self.message}"
        return DataError(message, key=key, path=self.path or source, hint=self.hint)


class GitError(ResearchError):
    """git refused to commit what a run wrote (the files are written; the next run commits them)."""

    exit_code = Exit.FAILED


class RunInterrupted(ResearchError):
    """Ctrl-C or SIGTERM stopped a run."""

    exit_code = Exit.INTERRUPTED


class TemplateError(ResearchError):
    """A template is missing or a scaffold target already exists."""


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean" suggestion for a misspelled name, or None when nothing is close."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)]
    return f"did you mean '{close[0]}'?" if close else None
