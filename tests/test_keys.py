"""A trial's cache key holds what its model reads, nothing else: a Ridge's key does not move with
`train.epochs`, and two trials of one report with one key (a swept value equal to a written
trial) train once and show as one row, in the results table and in a binned one."""

import subprocess
import sys
from pathlib import Path

from conftest import REPORT_BODY, git_notebook

from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))

SPEC = """\
---
id: EXP-KEYS
title: keys
data: {source: synthetic, n_train: 300, n_test: 150, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
trials:
  hand: {}
sweep:
  model.alpha: [100, 1.0e+4]
metrics: [r2.log_g]
binned:
  - {metric: bias.log_g, by: T_eff, edges: [3750, 5000, 6000]}
---
"""
BODY = REPORT_BODY + "\n<!-- research:binned -->\n<!-- /research:binned -->\n"


def _research(root, *args):
    return subprocess.run([RESEARCH, *args], cwd=root, capture_output=True, text=True)


def _keys(output: str) -> dict[str, tuple[str, str]]:
    """The dry run's lines `  name  reason  key` → {name: (reason, key)}."""
    out = {}
    for line in output.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            words = line.split()
            out[words[0]] = (" ".join(words[1:-1]), words[-1])
    return out


def test_a_key_holds_only_the_train_keys_the_model_reads(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + BODY})
    plain = _research(root, "run", "exp.md", "--dry-run")
    longer = _research(root, "run", "exp.md", "--dry-run", "--set", "train.epochs=80", "--set", "train.lr=0.1")
    other = _research(root, "run", "exp.md", "--dry-run", "--set", "train.val_frac=0.2")  # the split: Ridge reads it
    assert plain.returncode == longer.returncode == other.returncode == 0, plain.stderr + longer.stderr + other.stderr
    assert _keys(plain.stdout)["hand"][1] == _keys(longer.stdout)["hand"][1]
    assert _keys(plain.stdout)["hand"][1] != _keys(other.stdout)["hand"][1]


def test_trials_with_one_key_train_once_and_show_once(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + BODY})
    dry = _keys(_research(root, "run", "exp.md", "--dry-run").stdout)
    assert dry["alpha-100"] == ("same as hand", dry["hand"][1])
    assert dry["alpha-1e4"][1] != dry["hand"][1]
    done = _research(root, "run", "exp.md")
    assert done.returncode == 0, done.stderr
    assert "2 trained" in done.stdout and done.stdout.count("(new)") == 2, done.stdout
    text = (root / "exp.md").read_text(encoding="utf-8")
    results = document.regions(text)["results"].body
    rows = [line for line in results.splitlines() if line.startswith("| ") and "---" not in line]
    names = [row.split("|")[1].replace("🥇", "").strip() for row in rows[1:]]
    assert names == ["hand (= alpha-100)", "alpha-1e4"], results
    binned = document.regions(text)["binned"].body
    header = next(line for line in binned.splitlines() if line.startswith("| ") and "n |" in line)
    assert "hand (= alpha-100)" in header and header.count("alpha-100") == 1, binned  # one model, one column
    again = _research(root, "run", "exp.md")
    assert again.returncode == 0 and "0 trained, 2 cached" in again.stdout, again.stdout


def test_a_trial_asked_for_by_its_twin_s_name_trains_under_the_first_name(tmp_path):
    """`--trial alpha-100` names the twin of `hand`: the one model of that key is what runs, with
    the reason the first name would have (`new` here; `retrain` when asked to train again)."""
    root = git_notebook(tmp_path, {"exp.md": SPEC + BODY})
    fresh = _keys(_research(root, "run", "exp.md", "--dry-run", "--trial", "alpha-100").stdout)
    assert fresh["hand"][0] == "new" and fresh["alpha-1e4"][0] == "skipped", fresh
    assert _research(root, "run", "exp.md").returncode == 0
    again = _keys(_research(root, "run", "exp.md", "--dry-run", "--trial", "alpha-100", "--retrain").stdout)
    assert again["hand"][0] == "retrain" and again["alpha-1e4"][0] == "cached", again
