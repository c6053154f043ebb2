"""`research new`: documents born with their front matter and owned regions in place.

Where files go follows the notebook layout: reports in `research/<topic>/exp/`, hub, roadmap
and kanban pages in `hubs/`. Links between them are written relative to the new file, so they
keep working wherever the notebook is cloned.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import document, textfile
from .drafts import DRAFT
from .errors import TemplateError
from .render import render

SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Scaffold:
    path: Path
    text: str


def _sealed(path: Path, text: str) -> Scaffold:
    """Seal every region the template placed, so a later hand edit inside one is caught."""
    bodies = {name: region.body for name, region in document.regions(text).items()}
    return Scaffold(path, document.replace_regions(text, bodies))


def _slug(value: str, what: str) -> str:
    if not SLUG_RE.match(value):
        raise TemplateError(
            f"{what} '{value}' is not usable in a file name",
            hint="use letters, digits, '_', '-' or '.', e.g. logg_1m",
        )
    return value


def _relative(target: str | Path | None, source_dir: Path, root: Path) -> str | None:
    """A link from the new file's folder to `target` (given relative to the notebook root)."""
    if not target:
        return None
    target = Path(target)
    if not target.is_absolute():
        target = root / target
    return Path(os.path.relpath(target, source_dir)).as_posix()


def _author() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def new_experiment(
    topic: str,
    name: str,
    *,
    root: str | Path = ".",
    title: str | None = None,
    hub: str | None = None,
    roadmap: str | None = None,
    kanban: str | None = None,
    mvp: str | None = None,
    author: str | None = None,
    prefix: str = "EXP",
    date: dt.date | None = None,
    draft: bool = False,
) -> Scaffold:
    root = Path(root)
    topic, name = _slug(topic, "topic"), _slug(name, "name")
    date = date or dt.date.today()
    path = root / "research" / topic / "exp" / f"exp_{topic}_{name}.md"
    folder = path.parent
    text = render(
        "exp.md.j2",
        root,
        id=f"{prefix}-{date:%Y%m%d}-{topic}-{name}",
        title=title or name.replace("_", " ").replace("-", " "),
        topic=topic,
        mvp=mvp,
        author=author or _author(),
        date=date.isoformat(),
        hub=_relative(hub, folder, root),
        roadmap=_relative(roadmap, folder, root),
        kanban=_relative(kanban, folder, root),
        path=path.relative_to(root).as_posix(),
        status=DRAFT if draft else "planned",
    )
    return _sealed(path, text)


def new_page(
    kind: str,
    topic: str | None = None,
    *,
    root: str | Path = ".",
    title: str | None = None,
    hub: str | None = None,
    date: dt.date | None = None,
) -> Scaffold:
    """A hub, roadmap or kanban page in `hubs/`."""
    root = Path(root)
    date = date or dt.date.today()
    if kind == "kanban":
        path = root / "hubs" / "kanban.md"
    else:
        if not topic:
            raise TemplateError(f"a {kind} needs a topic", hint=f"research new {kind} TOPIC")
        path = root / "hubs" / f"{_slug(topic, 'topic')}_{kind}.md"
    text = render(
        f"{kind}.md.j2",
        root,
        title=title or (f"{topic} {kind}" if topic else "Kanban"),
        topic=topic,
        date=date.isoformat(),
        hub=_relative(hub, path.parent, root),
    )
    return _sealed(path, text)


def write(scaffold: Scaffold) -> Path:
    """Create the file; an existing document is never overwritten."""
    textfile.create(scaffold.path, scaffold.text)
    return scaffold.path
