"""The `research` command: a thin typer layer over the engine.

Each command parses its options, calls one engine function and prints the outcome. Every
`ResearchError` becomes a one-paragraph message on stderr and its exit code (`errors.Exit`: 2
for bad input); Ctrl-C and SIGTERM exit 130; a bug in the engine is one paragraph too, with its
traceback kept in a file. Heavy libraries are imported inside the commands that need them.
The commands live by group (`running`, `browsing`, `pages`, `storage`); importing them
registers them on `app`, in the order `research --help` lists them.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from engine.cli import browsing, pages, running, storage, watching  # noqa: F401  (registers the commands)
from engine.cli.app import app
from engine.cli.patches import command
from engine.errors import Exit, ResearchError

__all__ = ["app", "main", "run"]


class Interrupted(KeyboardInterrupt):
    """SIGTERM, read as Ctrl-C: the run stops the same way and leaves the same state."""


def _on_sigterm(signum, frame) -> None:
    raise Interrupted()


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point: run a command; every ending is one paragraph and an exit code, never a traceback."""
    import signal

    # A parent may hand its signal mask down (a thread that blocked SIGINT, then started us): the
    # promise that Ctrl-C and SIGTERM stop a run cleanly holds only if they can be delivered.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        command()(args=argv, prog_name="research")
    except ResearchError as error:
        typer.echo(f"research: {error}", err=True)
        return int(error.exit_code)
    except KeyboardInterrupt:
        typer.echo("research: interrupted", err=True)
        return int(Exit.INTERRUPTED)
    except SystemExit as done:  # click ends every command this way, usage errors with 2
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as error:  # a bug in the engine: say so in one paragraph, keep the traceback in a file
        typer.echo(
            f"research: internal error: {type(error).__name__}: {error}. This is a bug in research; "
            f"the traceback is in {_crash_report(error)}.",
            err=True,
        )
        return int(Exit.FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return int(Exit.OK)


def _crash_report(error: BaseException) -> str:
    import os
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if os.environ.get("RESEARCH_DEBUG"):
        typer.echo(text, err=True)
    fd, path = tempfile.mkstemp(prefix="research-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def run() -> None:
    sys.exit(main())
