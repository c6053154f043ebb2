"""What `research run`'s options promise, through the CLI on real files and a real git notebook.

`--retrain` and `--force` are two choices: one trains the trials again, the other writes over a
hand edit in a generated region — a user who wants one must not get the other. A notebook
outside git is fine, but the run says that it committed nothing. `--sweep` reads list values
with their brackets and names their trials by the values, as a `sweep:` in the file does.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import REPORT_BODY

from engine.cli import main
from engine.text import document

HAND = "| cand log g R² | 0.9999 (mine) |"


def _edit_key_numbers(report) -> str:
    text = report.read_text(encoding="utf-8")
    body = document.regions(text)["key-numbers"].body
    line = next(row for row in body.splitlines() if row.startswith("| cand log g R²"))
    edited = text.replace(line, HAND)
    report.write_text(edited, encoding="utf-8")
    return edited


def _plan_lines(out: str) -> dict[str, str]:
    """trial name → its reason on the plan lines a run prints first."""
    return {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.startswith("  ") and line.split()[:1] in (["base"], ["cand"])
    }


def test_retrain_keeps_a_hand_edit_and_force_keeps_the_cache(small_notebook, capsys):
    root, report = small_notebook
    assert main(["run", str(report), "--no-commit"]) == 0
    edited = _edit_key_numbers(report)
    capsys.readouterr()

    # --retrain is no licence to discard the user's words: the run stops before training
    assert main(["run", str(report), "--retrain", "--no-commit"]) == 2
    captured = capsys.readouterr()
    assert "region 'key-numbers' was edited by hand" in captured.err and "--force" in captured.err
    assert report.read_text(encoding="utf-8") == edited
    assert "Traceback" not in captured.err

    # --force writes over the edit and trains nothing
    assert main(["run", str(report), "--force", "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert _plan_lines(out) == {"base": "cached", "cand": "cached"}
    assert "0 trained, 2 cached" in out, out
    text = report.read_text(encoding="utf-8")
    assert HAND not in text and not document.regions(text)["key-numbers"].edited

    # --retrain trains every trial again, cached or not
    assert main(["run", str(report), "--retrain", "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert _plan_lines(out) == {"base": "retrain", "cand": "retrain"}
    assert "2 trained, 0 cached" in out


def test_force_writes_over_a_hand_edit_in_the_hub_without_training(small_notebook, capsys):
    root, report = small_notebook
    assert main(["run", str(report), "--no-commit"]) == 0
    hub = root / "hubs/hub.md"
    text = hub.read_text(encoding="utf-8")
    body = document.regions(text)["leaderboard"].body
    hub.write_text(text.replace(body, body + "| my own row | 1.0 |\n"), encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(report), "--no-commit"]) == 2
    assert "region 'leaderboard' was edited by hand" in capsys.readouterr().err
    assert main(["run", str(report), "--force", "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert "0 trained, 2 cached" in out
    assert "my own row" not in hub.read_text(encoding="utf-8")


def test_retrain_and_force_are_documented_as_two_options():
    import os
    import subprocess
    import sys
    from pathlib import Path

    research = str(Path(sys.executable).with_name("research"))
    done = subprocess.run(
        [research, "run", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "240", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    rows = {
        line.split()[1]: line for line in done.stdout.splitlines() if line.split()[1:2] in (["--retrain"], ["--force"])
    }
    assert "Train every selected trial again" in rows["--retrain"]
    assert "retrains nothing" in rows["--force"] and "hand edits" in rows["--force"]


def test_a_run_outside_git_says_it_committed_nothing(small_notebook, capsys):
    from engine.run.provenance import repository_root

    root, report = small_notebook
    shutil.rmtree(root / ".git")
    if repository_root(root) is not None:
        pytest.skip("the temporary folder is itself inside a git repository")
    assert main(["run", str(report)]) == 0
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if line.startswith("not committed:")]
    assert len(said) == 1 and str(root) in said[0] and "not inside a git repository" in said[0]
    assert "git init" in said[0]
    assert "committed " not in out.replace("not committed:", "")
    # --no-commit asked for no commit: nothing to tell
    assert main(["run", str(report), "--retrain", "--no-commit"]) == 0
    assert "not committed" not in capsys.readouterr().out


MLP = (
    """\
---
id: EXP-MLP
title: widths
data: {source: synthetic, n_train: 64, n_test: 32, targets: [log_g]}
model: {type: mlp, hidden: [16]}
train: {epochs: 1, batch_size: 32}
metrics: [r2.log_g]
SWEEP---
"""
    + REPORT_BODY
)


def _dry_names(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line.startswith("  ") and len(line.split()) >= 3]


def test_sweep_list_values_keep_their_brackets_and_name_trials_by_value(notebook, capsys):
    report = notebook / "exp.md"
    report.write_text(MLP.replace("SWEEP", ""), encoding="utf-8")
    before = report.read_bytes()
    assert main(["run", "exp.md", "--dry-run", "--sweep", "model.hidden=[32],[32,16]"]) == 0
    assert _dry_names(capsys.readouterr().out) == ["hidden-32", "hidden-32x16"]
    assert report.read_bytes() == before

    # the same grid written in the file gets the same names
    report.write_text(MLP.replace("SWEEP", "sweep: {model.hidden: [[32], [32, 16]]}\n"), encoding="utf-8")
    assert main(["run", "exp.md", "--dry-run"]) == 0
    assert _dry_names(capsys.readouterr().out) == ["hidden-32", "hidden-32x16"]

    # a single bracketed list is still the list of values, as a recorded --sweep says it
    assert main(["run", "exp.md", "--dry-run", "--sweep", "model.hidden=[[8],[8,4]]"]) == 0
    assert _dry_names(capsys.readouterr().out) == ["hidden-8", "hidden-8x4"]


def test_an_unbalanced_sweep_value_is_bad_input(notebook, capsys):
    report = notebook / "exp.md"
    report.write_text(MLP.replace("SWEEP", ""), encoding="utf-8")
    before = report.read_bytes()
    assert main(["run", "exp.md", "--dry-run", "--sweep", "model.hidden=[32],[32,16"]) == 2
    err = capsys.readouterr().err
    assert "--sweep model.hidden" in err and "unclosed" in err and "model.hidden=[32],[64,32]" in err
    assert "Traceback" not in err
    assert report.read_bytes() == before
