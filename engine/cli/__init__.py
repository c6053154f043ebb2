"""The command line: a thin typer layer over the engine; nothing in the engine imports it."""

from engine.cli.entry import app, main, run

__all__ = ["app", "main", "run"]
