"""Every read-only command on every shipped example, as a fresh clone has them (no run store):
each exits 0 and changes no file. A command that crashes on the user's own kind of document
(as `digest` once did on every topic) is found here, not by the user."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import git_notebook, tree_digest

from engine.cli import main
from engine.text import document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "research").glob("*/exp/*.md"))


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The examples, their pages and templates in a git repository of their own: a fresh clone."""
    root = tmp_path_factory.mktemp("clone")
    for folder in ("research", "hubs", "templates"):
        shutil.copytree(ROOT / folder, root / folder)
    return git_notebook(root, {".gitignore": ".research/\n"})


def _trials(path: Path) -> list[str]:
    body = document.regions(path.read_text(encoding="utf-8"))["record"].body
    record = json.loads(body.split("```json", 1)[1].split("```", 1)[0])
    return [t["name"] for t in record["trials"] if "of" not in t]


def _commands(report: str, clone: Path) -> list[list[str]]:
    names = _trials(clone / report)
    topic = report.split("/")[1]
    return [
        ["show", report],
        ["spec", report],
        ["check", report],
        ["diff", f"{report}#{names[0]}", f"{report}#{names[-1]}"],
        ["diff", f"{report}@HEAD"],
        ["runs"],
        ["status"],
        ["sync", "--dry-run", report],
        ["digest", topic],
        ["run", report, "--dry-run"],
        ["reproduce", "--help"],
    ]


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("report", EXAMPLES)
def test_every_command_runs_on_every_example_and_writes_nothing(report, clone, monkeypatch, capsys):
    monkeypatch.chdir(clone)
    before = tree_digest(clone)
    for command in _commands(report, clone):
        code = main(command)
        captured = capsys.readouterr()
        assert code == 0, f"research {' '.join(command)} → {code}\n{captured.out}\n{captured.err}"
        assert "Traceback" not in captured.err and "internal error" not in captured.err.lower(), command
    assert tree_digest(clone) == before
