"""The README's command table and the CLI agree: every command and every option the CLI knows is
in the table, and every command the table names exists (in the style of sqlite-utils' docs test).

The CLI side is read from typer's own command tree, so a new command or option fails this test
until it is documented; the README side from the table under "## The commands": a row's first
cell names commands in code spans (`research cache info [--top N]`, or `new kanban` after a
slash), and an option counts as documented for a command when it appears anywhere in its row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from engine.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
OPTION_RE = re.compile(r"--[a-z][a-z0-9-]*")
CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")


def cli_commands() -> dict[tuple[str, ...], set[str]]:
    """Every command path typer knows (groups and the root too) → its long option names."""
    found: dict[tuple[str, ...], set[str]] = {}

    def walk(command, path: tuple[str, ...]) -> None:
        found[path] = {
            name
            for param in command.params
            if param.param_type_name == "option"
            for name in (*param.opts, *param.secondary_opts)
            if name.startswith("--") and name != "--help"
        }
        for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def leaves(commands: dict[tuple[str, ...], set[str]]) -> set[tuple[str, ...]]:
    """The commands one runs (not the groups that only hold others); the root, for its options."""
    return {
        path for path in commands if not any(other[: len(path)] == path and other != path for other in commands)
    } | {()}


def table_rows() -> list[tuple[list[tuple[str, ...]], str, str]]:
    """(the command paths a row names, its first cell, the whole row) for the command table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## The commands\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first = CELL_SPLIT_RE.split(line)[1]
        paths = []
        for span in re.findall(r"`([^`]+)`", first):
            words = span.replace("\\|", "|").split()
            named = words[:1] == ["research"]
            words = words[1:] if named else words
            path = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                path.append(word)
            if path or named:
                paths.append(tuple(path))
        rows.append((paths, first, line))
    return rows


def test_the_table_is_found():
    rows = table_rows()
    assert len(rows) > 10 and all(paths for paths, _, _ in rows)


def test_every_command_the_table_names_exists():
    commands = cli_commands()
    named = {path for paths, _, _ in table_rows() for path in paths}
    assert sorted(" ".join(p) for p in named - set(commands)) == []


@pytest.mark.parametrize("path", sorted(leaves(cli_commands())), ids=lambda p: " ".join(p) or "research")
def test_every_command_and_option_is_in_the_table(path):
    commands = cli_commands()
    rows = [line for paths, _, line in table_rows() if path in paths]
    assert rows, f"`research {' '.join(path)}` has no row in README.md's command table"
    documented = {name for line in rows for name in OPTION_RE.findall(line)}
    missing = sorted(commands[path] - documented)
    assert missing == [], f"`research {' '.join(path)}`: options not in README.md's command table: {missing}"


def test_every_option_a_row_shows_belongs_to_a_command_of_that_row():
    commands = cli_commands()
    for paths, first, _ in table_rows():
        known = set().union(*(commands.get(path, set()) for path in paths))
        shown = set(OPTION_RE.findall(first))
        assert shown <= known, f"{first.strip()}: {sorted(shown - known)} belong to none of its commands"
