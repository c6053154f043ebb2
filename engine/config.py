"""The notebook's own settings: `research.yaml` at its root, optional, committed with it.

    language: zh      # en | zh: the language `research new` writes pages in (default: zh)
    numerics: avx2    # machine | avx2: pin the CPU's vector kernels (default: machine; engine.numerics)

Only what belongs to the notebook rather than to one report lives here — the language of new
pages, and the CPU kernels its nets train with. A report's own `language:` (its front matter) is what its run writes in; `research
new` sets it from `--lang`, else from here. A misspelled key or value is bad input (exit 2) at
its line, like a spec's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import textfile
from .errors import SpecError, did_you_mean
from .observations import LANGS
from .safe_yaml import read_yaml

CONFIG_FILE = "research.yaml"
DEFAULT_LANGUAGE = "zh"  # the language of the notebook's pages before this setting existed
KEYS = ("language", "numerics")


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
            raise SpecError(f"unknown setting '{key}'", path=path, line=lines.get((key,)), key=str(key),
                            hint=did_you_mean(str(key), KEYS) or f"the settings are: {', '.join(KEYS)}")
    language = data.get("language", DEFAULT_LANGUAGE)
    if language not in LANGS:
        raise SpecError(f"expected one of {', '.join(LANGS)}, got '{language}'", path=path,
                        line=lines.get(("language",)), key="language", hint="language: en (or zh)")
    from .numerics import SETTINGS

    numerics = data.get("numerics", "machine")
    if numerics not in SETTINGS:
        raise SpecError(f"expected one of {', '.join(SETTINGS)}, got '{numerics}'", path=path,
                        line=lines.get(("numerics",)), key="numerics", hint=did_you_mean(str(numerics), list(SETTINGS))
                        or "numerics: avx2 (or machine)")
    return NotebookConfig(language=language, numerics=numerics)
