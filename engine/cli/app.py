"""The `research` typer app and what its command groups share: the options' choices, colours."""

from __future__ import annotations

from enum import Enum

import typer

from engine import __version__

#: The order `research --help` lists the commands in: a run's, then reading, then pages, then storage
#: (whatever order their modules happen to be imported in).
ORDER = (
    "run",
    "reproduce",
    "promote",
    "check",
    "spec",
    "sync",
    "status",
    "watch",
    "logs",
    "runs",
    "show",
    "diff",
    "digest",
    "adopt",
    "new",
    "data",
    "cache",
)


class _Listed(typer.core.TyperGroup):
    def list_commands(self, ctx) -> list[str]:
        return sorted(self.commands, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))


app = typer.Typer(
    cls=_Listed,
    name="research",
    help="A markdown-driven research notebook: run the spec in a report's front matter, "
    "write the results back, keep every word you wrote.",
    no_args_is_help=True,
    add_completion=True,  # `research --install-completion` for bash, zsh, fish and PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"research {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


class Executor(str, Enum):
    local = "local"
    ray = "ray"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


PATHS = "PATH"  # typer adds the "..." of a list


def _verdict_colour(verdict: str | None) -> str:
    """pass green, fail red, anything else (inconclusive, incomplete) yellow."""
    return {"pass": "green", "fail": "red"}.get(str(verdict), "yellow")
