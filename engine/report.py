"""An experiment report on disk: its text, its front matter and the spec in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import document, textfile
from .errors import SpecError


@dataclass(frozen=True)
class Report:
    path: Path
    text: str
    front: document.FrontMatter
    spec: object  # engine.spec.Spec


def load_report(path: str | Path) -> Report:
    """Read a report and validate its spec; every error names the file and line."""
    from .spec import load_spec

    path = Path(path)
    text = textfile.read_text(path)
    fm = document.front_matter(text, str(path))
    if fm is None:
        raise SpecError(
            "has no front matter spec",
            path=path,
            line=1,
            hint="start the file with a '---' YAML block (`research new exp` writes one), "
            "or run `research adopt` on a legacy report",
        )
    return Report(path, text, fm, load_spec(fm.text, path=str(path), first_line=fm.first_line))


def write_back(
    path: str | Path,
    bodies: Mapping[str, str],
    *,
    front: Mapping[str, str] | None = None,
    force: bool = False,
) -> bool:
    """Put region bodies and engine-maintained front matter keys into the report on disk.

    The file is re-read under its lock, so whatever the user saved meanwhile is kept; a hand
    edit inside a region, or broken markers, stop the write before a byte changes.
    """

    def change(text: str) -> str:
        new = document.replace_regions(text, bodies, force=force, path=str(path))
        if front:
            new = document.set_front_matter_keys(new, front, path=str(path))
        return new

    return textfile.update(path, change)
