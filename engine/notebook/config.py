"""The notebook's own settings: `research.yaml` at its root, optional, committed with it.

    language: zh      # en | zh: the language `research new` writes pages in (default: zh)
    numerics: avx2    # machine | avx2: pin the CPU's vector kernels (default: machine; engine.numerics)

Only what belongs to the notebook rather than to one report lives here — the language of new
pages, and the CPU kernels its nets train with. A report's own `language:` (its front matter) is what its run writes in; `research
new` sets it from `--lang`, else from here. A hub, roadmap or kanban page says its own language
in a `<!-- research-language: en -->` line `research new` writes; a page without one (made before
it existed) is in the notebook's language. A misspelled key or value is bad input (exit 2) at
its line, like a spec's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SpecError, did_you_mean
from engine.text import textfile
from engine.text.safe_yaml import read_yaml

CONFIG_FILE = "research.yaml"
LANGS = ("en", "zh")  # the languages of pages, observations and templates
DEFAULT_LANGUAGE = "zh"  # the language of the notebook's pages before this setting existed
KEYS = ("language", "numerics")


#: A page's own language (hub, roadmap, kanban have no front matter to say it): `research new`
#: writes it, so the page keeps the language it was made in whatever research.yaml says later.
PAGE_LANGUAGE_RE = re.compile(r"^[ \t]*<!--[ \t]*research-language:[ \t]*(?P<lang>[^\s>]*)[ \t]*-->[ \t]*\r?$", re.M)


def page_language_mark(language: str) -> str:
    return f"<!-- research-language: {language} -->"


def page_language_line(text: str) -> tuple[str, int] | None:
    """(the value the page's language mark gives, its line), or None when it has none."""
    match = PAGE_LANGUAGE_RE.search(text)
    if match is None:
        return None
    return match.group("lang"), text.count("\n", 0, match.start()) + 1


def page_language(text: str) -> str | None:
    """The page's own language, when its mark names one the engine writes; else None (the
    notebook's then: a misspelled mark must not stop a run after its training — `research check`
    reports it)."""
    found = page_language_line(text)
    return found[0] if found is not None and found[0] in LANGS else None


@dataclass(frozen=True)
class NotebookConfig:
    language: str = DEFAULT_LANGUAGE
    numerics: str = "machine"


def notebook_config(root: str | Path) -> NotebookConfig:
    """The settings of the notebook at `root` (the defaults when it has no `research.yaml`)."""
    path = Path(root) / CONFIG_FILE
    if not path.is_file():
        return NotebookConfig()
    data, lines = read_yaml(textfile.read_text(path), path=str(path), first_line=1, what="notebook settings")
    if data is None:
        return NotebookConfig()
    if not isinstance(data, dict):
        raise SpecError("expected a mapping of settings, e.g. `language: en`", path=path, line=1)
    for key in data:
        if key not in KEYS:
            raise SpecError(
                f"unknown setting '{key}'",
                path=path,
                line=lines.get((key,)),
                key=str(key),
                hint=did_you_mean(str(key), KEYS) or f"the settings are: {', '.join(KEYS)}",
            )
    language = data.get("language", DEFAULT_LANGUAGE)
    if language not in LANGS:
        raise SpecError(
            f"expected one of {', '.join(LANGS)}, got '{language}'",
            path=path,
            line=lines.get(("language",)),
            key="language",
            hint="language: en (or zh)",
        )
    from engine.numerics import SETTINGS

    numerics = data.get("numerics", "machine")
    if numerics not in SETTINGS:
        raise SpecError(
            f"expected one of {', '.join(SETTINGS)}, got '{numerics}'",
            path=path,
            line=lines.get(("numerics",)),
            key="numerics",
            hint=did_you_mean(str(numerics), list(SETTINGS)) or "numerics: avx2 (or machine)",
        )
    return NotebookConfig(language=language, numerics=numerics)
