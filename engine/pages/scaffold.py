"""`research new`: documents born with their front matter and owned regions in place.

Where files go follows the notebook layout: reports in `research/<topic>/exp/`, hub, roadmap
and kanban pages in `hubs/`. Links between them are written relative to the new file, so they
keep working wherever the notebook is cloned.

Every page comes in English and Chinese (`templates/<kind>.en.md.j2`, `<kind>.zh.md.j2`: the same
sections and regions, the headings in that language); the language is `--lang`, else the
notebook's `research.yaml` (`engine.notebook.config`). A report's front matter gets `language:` too, so
its run writes its sentences in the same language; a hub, roadmap or kanban page gets a
`<!-- research-language: … -->` last line for the same reason (it has no front matter). A
notebook's own `templates/<kind>.md.j2` replaces both.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import TemplateError
from engine.notebook.config import LANGS, notebook_config, page_language_line, page_language_mark
from engine.notebook.drafts import DRAFT
from engine.render.templates import render
from engine.text import document, textfile

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


def _template(kind: str, language: str | None, root: Path) -> tuple[str, str]:
    """(the template of a `kind` page, its language): the notebook's own template for that
    language, else its own template for every language, else the packaged one."""
    language = language or notebook_config(root).language
    if language not in LANGS:
        raise TemplateError(f"no templates in '{language}'", key="--lang", hint=f"use one of {', '.join(LANGS)}")
    for name in (f"{kind}.{language}.md.j2", f"{kind}.md.j2"):
        if (root / "templates" / name).is_file():
            return name, language
    return f"{kind}.{language}.md.j2", language


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
    language: str | None = None,
) -> Scaffold:
    root = Path(root)
    topic, name = _slug(topic, "topic"), _slug(name, "name")
    date = date or dt.date.today()
    path = root / "research" / topic / "exp" / f"exp_{topic}_{name}.md"
    folder = path.parent
    template, language = _template("exp", language, root)
    text = render(
        template,
        root,
        language=language,
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
    language: str | None = None,
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
    template, language = _template(kind, language, root)
    text = render(
        template,
        root,
        language=language,
        title=title or (f"{topic} {kind}" if topic else "Kanban"),
        topic=topic,
        date=date.isoformat(),
        hub=_relative(hub, path.parent, root),
    )
    # the page remembers the language it was made in: its later runs fill its regions in it, whatever
    # research.yaml says (or does not say) then
    if page_language_line(text) is None:  # a notebook's own template may say it already
        newline = "\r\n" if "\r\n" in text else "\n"
        text += ("" if text.endswith("\n") else newline) + newline + page_language_mark(language) + newline
    return _sealed(path, text)


def write(scaffold: Scaffold) -> Path:
    """Create the file; an existing document is never overwritten."""
    textfile.create(scaffold.path, scaffold.text)
    return scaffold.path
