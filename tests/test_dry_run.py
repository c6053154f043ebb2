"""`research run --dry-run` says what changed for each trial that will run: the config keys with
their old and new values (from the stored record of the trial's last key), or the data or code."""

import subprocess
import sys
from pathlib import Path

from engine.cli import main

RESEARCH = str(Path(sys.executable).with_name("research"))


def test_a_dry_run_names_the_changed_keys_old_and_new(small_notebook):
    root, report = small_notebook
    assert main(["run", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    report.write_text(
        text.replace("  cand: {}", "  cand: {model.alpha: 1000, train.seed: 7, train.val_frac: 0.2}"), encoding="utf-8"
    )
    done = subprocess.run([RESEARCH, "run", str(report), "--dry-run"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["cand"])
    assert "spec changed" in lines[at]
    assert lines[at + 1].strip() == "model.alpha: 100 → 1000"
    assert lines[at + 2].strip() == "train.val_frac: 0.1 → 0.2"  # a Ridge reads no seed: not a change to it
    assert not any(line.strip().startswith("train.seed") for line in lines)
    base = next(line for line in lines if line.split()[:1] == ["base"])
    assert "cached" in base and lines[lines.index(base) + 1].split()[:1] != [
        "model.alpha:"
    ]  # nothing said of a cached trial
