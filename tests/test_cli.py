"""The command line as a user meets it (that the README documents every command and option: test_docs.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from engine.cli import app, main
from engine.text import document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "research/logg_1m/exp/exp_logg_1m_multitask.md"
LEGACY = ROOT / "tests/fixtures/legacy_report.md"


def command_names():
    """Every command and sub-command the CLI has, as 'new exp', 'check', …"""
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names.extend(f"{name} {s}" for s in sub) if sub else names.append(name)
    return sorted(names)


@pytest.mark.parametrize("command", command_names())
def test_every_command_has_help(command, capsys):
    assert main([*command.split(), "--help"]) == 0
    assert "Usage: research" in capsys.readouterr().out


def test_the_installed_script_runs():
    script = Path(sys.executable).parent / "research"
    if not script.exists():
        pytest.skip("the console script is not installed in this interpreter's folder")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("research ")


def test_spec_prints_the_resolved_trials_of_the_example(capsys):
    assert main(["spec", str(EXAMPLE), "--json"]) == 0
    trials = json.loads(capsys.readouterr().out)
    names = ["single-task", "equal", "inverse-variance", "logg-first"]
    assert list(trials) == [f"{name}.seed-{seed}" for name in names for seed in range(42, 47)]  # repeats: 5
    assert trials["single-task.seed-42"]["config"]["data"]["targets"] == ["log_g"]
    assert trials["equal.seed-46"]["config"]["data"]["targets"] == ["log_g", "T_eff", "Fe_H"]
    assert trials["equal.seed-46"]["config"]["train"]["seed"] == 46
    assert trials["inverse-variance.seed-43"]["config"]["train"]["loss_weights"] == "inverse_variance"


def test_set_overrides_every_trial(capsys):
    assert main(["spec", str(EXAMPLE), "--json", "--set", "train.epochs=2"]) == 0
    trials = json.loads(capsys.readouterr().out)
    assert {t["config"]["train"]["epochs"] for t in trials.values()} == {2}


def test_spec_schema_is_json_schema_of_the_whole_spec(capsys):
    assert main(["spec", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"id", "title", "data", "model", "train", "trials", "decision", "key_numbers"} <= set(schema["properties"])


def test_adopt_dry_run_shows_the_diff_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "legacy.md"
    shutil.copyfile(LEGACY, path)
    before = path.read_bytes()
    assert main(["adopt", str(path), "--dry-run"]) == 0
    diff = capsys.readouterr().out
    assert diff.startswith("---") and "+<!-- research:summary -->" in diff
    assert path.read_bytes() == before


def test_adopt_then_check_then_adopt_again(tmp_path, capsys):
    path = tmp_path / "legacy.md"
    shutil.copyfile(LEGACY, path)
    assert main(["adopt", str(path)]) == 0
    assert "regions: summary" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    assert yaml.safe_load(document.front_matter(text).text)["status"] == "planned"
    after = path.read_bytes()
    assert main(["adopt", str(path)]) == 2
    assert "already adopted" in capsys.readouterr().err
    assert path.read_bytes() == after


def test_the_example_notebook_is_clean(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["check", "research", "hubs"]) == 0
    assert "0 problems" in capsys.readouterr().err


@pytest.mark.parametrize("topic", ["logg_1m", "moe", "scaling"])
def test_the_digest_of_every_example_topic_reads_the_reports_numbers(topic, capsys):
    from engine.browse.digest.words import WORDS
    from engine.notebook import record
    from engine.notebook.config import notebook_config

    assert main(["digest", topic]) == 0
    out = capsys.readouterr().out
    w = WORDS[notebook_config(ROOT).language]
    assert w["findings"] in out and w["hypotheses"] in out
    for path in (ROOT / "research").glob(f"{topic}/exp/exp_*.md"):
        rec = record.parse(path.read_text(encoding="utf-8"))
        assert rec["key_numbers"] and all(f"| {row[1]} |" in out for row in rec["key_numbers"])
