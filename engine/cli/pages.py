"""Commands that write pages: `sync` (findings into hub, roadmap, kanban), `adopt`, `new`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from engine.cli.app import app

new_app = typer.Typer(help="Scaffold a report, hub, roadmap or kanban page from templates/.", no_args_is_help=True)
app.add_typer(new_app, name="new")


@app.command(epilog="Examples:  research sync --dry-run  ·  research sync research/moe/")
def sync(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="Reports or folders whose pages to rebuild (default: all)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the pages that would change; write nothing."),
) -> None:
    """Rebuild hub, roadmap and kanban pages from the reports and their run records."""
    from engine.notebook.locks import end_of_run
    from engine.notebook.paths import notebook_root
    from engine.pages.sync import sync as sync_pages
    from engine.runner import run_paths

    root = notebook_root(paths[0] if paths else None)
    with end_of_run(root, say=typer.echo):  # never beside a run's write-and-commit
        written = sync_pages(root, only=run_paths(paths) if paths else None, dry_run=dry_run)
    for page in written:
        typer.echo(f"{page}: {'would change' if dry_run else 'updated'}")
    typer.echo(
        f"{len(written)} page{'s' if len(written) != 1 else ''} {'to update' if dry_run else 'updated'}", err=True
    )


class AdoptKind(str, Enum):
    auto = "auto"
    exp = "exp"
    hub = "hub"


@app.command(
    epilog="Examples:  research adopt research/moe/exp/exp_old_report.md --dry-run  ·  "
    "research adopt research/moe/exp/exp_old_report.md --no-commit"
)
def adopt(
    file: Path = typer.Argument(..., help="A legacy report or hub page without markers."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the diff; write nothing."),
    kind: AdoptKind = typer.Option(AdoptKind.auto, "--kind", help="What the page is."),
    no_commit: bool = typer.Option(
        False, "--no-commit", help="Write the adopted file but do not commit it (commit it before its first run)."
    ),
) -> None:
    """Add a front matter spec and region markers to a legacy page, changing nothing else.

    The front matter takes the header's id, author, date, topic, MVP and status, and a draft
    spec from the report's design tables, method names, result tables, figures, prose and
    acceptance criterion; the placeholder and appendix result tables get region markers. It
    says what it read (`# read from` in the YAML), what it guessed (`# guessed from …: check`)
    and what to fill by hand, and commits the adopted file in a git notebook, so prose that
    quotes the old numbers is found from the first run."""
    from engine.adopt.legacy import adopt_file

    result = adopt_file(file, dry_run=dry_run, kind=kind.value, commit=not no_commit)
    if dry_run:
        typer.echo(result.diff(str(file)), nl=False)
        typer.echo(result.summary(), err=True)
        return
    names = ", ".join(name for name, *_ in result.regions) or "none"
    typer.echo(f"{file}: adopted as {result.kind}; regions: {names}")
    for line in result.summary().splitlines():
        if not line.startswith("region "):
            typer.echo(f"  {line}")


class Language(str, Enum):
    en = "en"
    zh = "zh"


LANG_HELP = (
    "The page's language, headings and all, and the language later runs fill its regions in "
    "(default: `language:` in the notebook's research.yaml, else zh)."
)


def _created(path: Path) -> None:
    typer.echo(f"created {path}")


@new_app.command("exp", epilog="Example:  research new exp logg_1m multitask --hub hubs/logg_1m_hub.md --mvp MVP-1.5")
def new_exp(
    topic: str = typer.Argument(..., help="Topic folder, e.g. logg_1m."),
    name: str = typer.Argument(..., help="Short name, e.g. multitask."),
    title: Optional[str] = typer.Option(None, help="Title (default: from the name)."),
    hub: Optional[str] = typer.Option(None, help="Hub page, relative to the notebook root."),
    roadmap: Optional[str] = typer.Option(None, help="Roadmap page, relative to the notebook root."),
    kanban: Optional[str] = typer.Option(None, help="Kanban page, relative to the notebook root."),
    mvp: Optional[str] = typer.Option(None, help="The roadmap's MVP this experiment serves, e.g. MVP-1.5."),
    author: Optional[str] = typer.Option(None, help="Author (default: your login)."),
    prefix: str = typer.Option("EXP", help="Project prefix of the id."),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    draft: bool = typer.Option(
        False,
        "--draft",
        help="Start it as a draft: its runs never write the hub, roadmap or kanban until `research promote`.",
    ),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new experiment report in research/TOPIC/exp/, spec and regions in place."""
    from engine.notebook.paths import given_root
    from engine.pages.scaffold import new_experiment, write

    root = given_root(root)
    _created(
        write(
            new_experiment(
                topic,
                name,
                root=root,
                title=title,
                hub=hub,
                roadmap=roadmap,
                kanban=kanban,
                mvp=mvp,
                author=author,
                prefix=prefix,
                draft=draft,
                language=lang.value if lang else None,
            )
        )
    )


def _new_page(
    kind: str, topic: Optional[str], title: Optional[str], hub: Optional[str], root: Path, lang: Optional[Language]
) -> None:
    from engine.notebook.paths import given_root
    from engine.pages.scaffold import new_page, write

    root = given_root(root)

    _created(write(new_page(kind, topic, root=root, title=title, hub=hub, language=lang.value if lang else None)))


@new_app.command("hub", epilog="Example:  research new hub logg_1m")
def new_hub(
    topic: str = typer.Argument(...),
    title: Optional[str] = typer.Option(None),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new hub page in hubs/."""
    _new_page("hub", topic, title, None, root, lang)


@new_app.command("roadmap", epilog="Example:  research new roadmap logg_1m --hub hubs/logg_1m_hub.md")
def new_roadmap(
    topic: str = typer.Argument(...),
    title: Optional[str] = typer.Option(None),
    hub: Optional[str] = typer.Option(None, help="Its hub, relative to the notebook root."),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new roadmap page in hubs/."""
    _new_page("roadmap", topic, title, hub, root, lang)


@new_app.command("kanban", epilog="Example:  research new kanban")
def new_kanban(
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The kanban page, hubs/kanban.md."""
    _new_page("kanban", None, None, None, root, lang)
