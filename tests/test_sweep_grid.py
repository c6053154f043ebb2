"""Grid sweeps: `sweep:` in the spec and `research run --sweep` expand into named trials beside the
hand-written ones; a `line` figure draws one line per value of a swept key."""

import json
import subprocess
import sys
from pathlib import Path

import git
import pytest

from engine.cli import main
from engine.errors import SpecError
from engine.spec import load_spec, parse_sweep_option
from engine.spec.sweep import grid_trials
from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))

SPEC = """\
id: EXP-GRID
title: alpha by N
data: {source: synthetic, n_train: 300, n_test: 150, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
trials:
  hand: {model.alpha: 1.0e+4}
sweep:
  model.alpha: [1.0e+1, 1.0e+3, 1.0e+5]
  data.n_train: [200, 2000]
metrics: [r2.log_g]
"""


def test_a_grid_expands_into_named_trials_beside_the_hand_written_ones():
    spec = load_spec(SPEC, path="exp.md")
    assert spec.trial_names == [
        "hand",
        "alpha-10.n_train-200",
        "alpha-10.n_train-2k",
        "alpha-1e3.n_train-200",
        "alpha-1e3.n_train-2k",
        "alpha-1e5.n_train-200",
        "alpha-1e5.n_train-2k",
    ]
    trials = {t.name: t for t in spec.resolve_trials()}
    assert trials["alpha-1e5.n_train-2k"].model.params["alpha"] == 1e5
    assert trials["alpha-1e5.n_train-2k"].data.n_train == 2000
    assert trials["hand"].data.n_train == 300 and trials["hand"].model.params["alpha"] == 1e4


def test_names_read_well_and_stay_distinct():
    names = list(
        grid_trials(
            {
                "model.alpha": [0.001, 1e-4, 2.5, 1e6],
                "train.lr": [3e-4],
                "train.schedule": ["cosine"],
                "model.hidden": [[64], [64, 32]],
            }
        )
    )
    assert names[0] == "alpha-0.001.lr-3e-4.schedule-cosine.hidden-64"
    assert "alpha-1e6.lr-3e-4.schedule-cosine.hidden-64x32" in names
    assert len(set(names)) == len(names) == 8
    # two swept keys with one last name: the whole key tells them apart
    assert list(grid_trials({"model.seed": [1], "train.seed": [2]})) == ["model_seed-1.train_seed-2"]
    # two values one short name would merge: each keeps every digit, none disappears
    assert list(grid_trials({"model.alpha": [1234567.1, 1234567.2, 100.0]})) == [
        "alpha-1234567.1",
        "alpha-1234567.2",
        "alpha-100",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("sweep:\n  alpha: [1, 2]\n", "expected a dotted key of data, noise, inputs, model, train"),
        ("sweep:\n  model.alpha: []\n", "expected at least one value"),
        ("sweep:\n  model.alpha: [10, 100, 10]\n", "10 is swept twice"),
        ("trials:\n  alpha-1: {}\nsweep:\n  model.alpha: [1]\n", "the sweep makes a trial named 'alpha-1'"),
    ],
)
def test_a_bad_grid_is_a_located_error(text, message):
    base = SPEC.split("trials:")[0] + "metrics: [r2.log_g]\n" + text
    with pytest.raises(SpecError) as caught:
        load_spec(base, path="exp.md")
    assert message in str(caught.value)
    assert caught.value.line is not None


def test_the_command_line_sweep_is_read_as_yaml_values():
    assert parse_sweep_option("model.alpha=1e2,1e3") == ("model.alpha", [100.0, 1000.0])
    assert parse_sweep_option("model.hidden=[[64], [64, 32]]") == ("model.hidden", [[64], [64, 32]])
    with pytest.raises(SpecError):
        parse_sweep_option("alpha=1,2")


REPORT = """\
---
id: EXP-LINES
title: lines
data: {source: synthetic, n_train: 300, n_test: 150, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
sweep:
  model.alpha: [1.0e+1, 1.0e+3]
  data.n_train: [100, 400]
metrics: [r2.log_g]
figures:
  - {kind: line, x: data.n_train, group: model.alpha, file: img/lines.svg}
---
# Lines

<!-- research:results -->
<!-- /research:results -->

<!-- research:figures -->
<!-- /research:figures -->

<!-- research:reproduce -->
<!-- /research:reproduce -->

<!-- research:record -->
<!-- /research:record -->
"""


@pytest.fixture
def grid_notebook(notebook):
    (notebook / "exp.md").write_text(REPORT, encoding="utf-8")
    repo = git.Repo.init(notebook)
    repo.index.add(["exp.md"])
    repo.index.commit("init")
    return notebook


def test_a_line_figure_draws_one_line_per_value_and_a_command_line_sweep_is_recorded(grid_notebook):
    report = grid_notebook / "exp.md"
    assert main(["run", "exp.md", "--sweep", "train.val_frac=0.1,0.2"]) == 0
    text = report.read_text(encoding="utf-8")
    results = document.regions(text)["results"].body
    assert "| alpha-10.n_train-100.val_frac-0.1 |" in results and "| alpha-1e3.n_train-400.val_frac-0.2 |" in results
    assert results.count("\n| alpha-") == 8  # 2 α × 2 N × 2 splits
    reproduce = document.regions(text)["reproduce"].body
    assert "research run exp.md --sweep train.val_frac=0.1,0.2" in reproduce
    record = json.loads(document.regions(text)["record"].body.split("```json", 1)[1].split("```", 1)[0])
    assert record["sweeps"] == ["train.val_frac=0.1,0.2"]
    svg = (grid_notebook / "img" / "lines.svg").read_text(encoding="utf-8")
    assert "= 10" in svg and "= 1e3" in svg  # a legend entry per α
    assert "N_{\\rm train}" in svg or "train" in svg
    figures = document.regions(text)["figures"].body
    assert "one line per model.alpha" in figures and "Key observations:" in figures
    # the record's --sweep is what `check` replays: nothing is stale
    done = subprocess.run([RESEARCH, "check", "exp.md"], cwd=grid_notebook, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    # and a plain re-run without it is a different plan: the grid without the splits
    again = subprocess.run([RESEARCH, "run", "exp.md", "--dry-run"], cwd=grid_notebook, capture_output=True, text=True)
    assert "alpha-10.n_train-100 " in again.stdout and "val_frac-0.1" not in again.stdout
