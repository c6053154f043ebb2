"""`python -m engine.cli …`, the same as `research …`."""

from engine.cli.entry import run

run()
