"""`python -m engine.cli …`, the same as `research …`."""

from engine.cli.commands import run

run()
