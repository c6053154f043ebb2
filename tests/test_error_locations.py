"""Every validation error names the key and the line that hold the bad value, whatever the
section: `file:LINE: dotted.key[index]: …`, with LINE the line of the bad value in the file.

One report in block style (so each value has a line of its own) is broken one way per case, then
`research run` (and `research check`) must refuse it: exit 2 (check: 1), no traceback, nothing
written, and the message located at the line computed from the broken text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPORT_BODY, tree_digest

from engine.cli import main

REPORT = "research/loc/exp/exp_locations.md"

SPEC = """\
---
id: EXP-LOC
title: error locations
data:
  source: synthetic
  n_train: 300
  n_test: 100
  targets: [log_g, T_eff]
  tests:
    full: {}
    noisy:
      noise: 3.0
    small:
      n: 50
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
trials:
  base:
    model.alpha: 1.0e+6
  cand: {}
sweep:
  train.val_frac: [0.1, 0.2]
metrics: [r2.log_g, mae.log_g]
binned:
  - metric: mae.log_g
    by: T_eff
    edges: [3500, 5000, 7000]
figures:
  - kind: bar
    file: img/bar.png
decision:
  baseline: base
  rules:
    - when: best.r2.log_g > baseline.r2.log_g
      verdict: pass
      says: better
    - otherwise: fail
      says: worse
key_numbers:
  - label: cand R²
    value: trials.cand.r2.log_g
---
"""
BODY = (
    REPORT_BODY
    + "\n<!-- research:binned -->\n<!-- /research:binned -->\n\n<!-- research:figures -->\n<!-- /research:figures -->\n"
)

# name → (text replaced, its replacement, the dotted key named, a fragment of the bad value's line)
CASES = {
    # data.tests.<name>.*
    "a test set's n": ("      n: 50", "      n: -4", "data.tests.small.n", "n: -4"),
    "a test set's n as words": ("      n: 50", "      n: many", "data.tests.small.n", "n: many"),
    "a test set's noise": ("      noise: 3.0", "      noise: loud", "data.tests.noisy.noise", "noise: loud"),
    "a test set's unknown key": ("      n: 50", "      nn: 50", "data.tests.small.nn", "nn: 50"),
    "a test set's selection": (
        "    full: {}",
        "    full:\n      select: {snr_top_fra: 0.2}",
        "data.tests.full.select.snr_top_fra",
        "snr_top_fra",
    ),
    "a test set's missing file": (
        "      n: 50",
        "      n: 50\n      source: other/missing.h5",
        "data.tests.small.source",
        "other/missing.h5",
    ),
    # sweep
    "a swept key": ("  train.val_frac: [0.1, 0.2]", "  train.val_frc: [0.1, 0.2]", "sweep.train.val_frc", "val_frc"),
    "a swept model parameter": ("  train.val_frac: [0.1, 0.2]", "  model.alpah: [1, 2]", "sweep.model.alpah", "alpah"),
    "a swept section": (
        "  train.val_frac: [0.1, 0.2]",
        "  trian.val_frac: [0.1, 0.2]",
        "sweep.trian.val_frac",
        "trian",
    ),
    "a swept value": ("  train.val_frac: [0.1, 0.2]", "  train.val_frac: [0.1, 2.5]", "sweep.train.val_frac[1]", "2.5"),
    "a swept value in a block list": (
        "  train.val_frac: [0.1, 0.2]",
        "  train.val_frac:\n    - 0.1\n    - lots",
        "sweep.train.val_frac[1]",
        "- lots",
    ),
    "a swept model value": (
        "  train.val_frac: [0.1, 0.2]",
        "  model.alpha:\n    - 1\n    - -1",
        "sweep.model.alpha[1]",
        "- -1",
    ),
    # trials.<name>.<key>
    "a trial's model parameter": (
        "    model.alpha: 1.0e+6",
        "    model.alpah: 1.0e+6",
        "trials.base.model.alpah",
        "alpah",
    ),
    "a trial's train key": ("    model.alpha: 1.0e+6", "    train.epoch: 3", "trials.base.train.epoch", "epoch: 3"),
    "a trial's section": ("    model.alpha: 1.0e+6", "    trian.epochs: 3", "trials.base.trian.epochs", "trian"),
    "a trial's value": ("    model.alpha: 1.0e+6", "    model.alpha: big", "trials.base.model.alpha", "alpha: big"),
    "a trial's value a model refuses": (
        "    model.alpha: 1.0e+6",
        "    model.alpha: -1",
        "trials.base.model.alpha",
        "alpha: -1",
    ),
    "a trial's data value": (
        "    model.alpha: 1.0e+6",
        "    data.n_train: -3",
        "trials.base.data.n_train",
        "n_train: -3",
    ),
    "a key of a trial's model": (
        "  cand: {}",
        "  cand:\n    model:\n      type: ridge\n      alpah: 3",
        "trials.cand.model.alpah",
        "alpah: 3",
    ),
    # figures[i].*
    "a figure's kind": ("  - kind: bar", "  - kind: pie", "figures[0].kind", "kind: pie"),
    "a figure's unknown field": (
        "    file: img/bar.png",
        "    file: img/bar.png\n    colour: red",
        "figures[0].colour",
        "colour",
    ),
    "a figure's metric": (
        "    file: img/bar.png",
        "    file: img/bar.png\n    metrics: [r2.logg]",
        "figures[0].metrics[0]",
        "r2.logg",
    ),
    "a figure's file": ("    file: img/bar.png", "    file: ../../../../x.png", "figures[0].file", "x.png"),
    # binned[i].*
    "a binned metric": ("  - metric: mae.log_g", "  - metric: mea.log_g", "binned[0].metric", "mea.log_g"),
    "a binned target": ("  - metric: mae.log_g", "  - metric: mae.Fe_H", "binned[0].metric", "mae.Fe_H"),
    "binned edges out of order": (
        "    edges: [3500, 5000, 7000]",
        "    edges: [5000, 3500, 7000]",
        "binned[0].edges[1]",
        "edges:",
    ),
    "too few binned edges": ("    edges: [3500, 5000, 7000]", "    edges: [3500]", "binned[0].edges", "edges:"),
    "a binned parameter": ("    by: T_eff", "    by: T_ef", "binned[0].by", "by: T_ef"),
    # key_numbers[i]
    "a key number's trial": (
        "    value: trials.cand.r2.log_g",
        "    value: trials.cnd.r2.log_g",
        "key_numbers[0].value",
        "cnd",
    ),
    "a key number that does not parse": (
        "    value: trials.cand.r2.log_g",
        "    value: trials.cand.r2.log_g +",
        "key_numbers[0].value",
        "log_g +",
    ),
    "a key number's field": ("  - label: cand R²", "  - lable: cand R²", "key_numbers[0].lable", "lable"),
    # decision.rules[i].when
    "a rule that does not parse": (
        "    - when: best.r2.log_g > baseline.r2.log_g",
        "    - when: best.r2.log_g >",
        "decision.rules[0].when",
        "when: best",
    ),
    "a rule's unknown name": (
        "    - when: best.r2.log_g > baseline.r2.log_g",
        "    - when: bset.r2.log_g > 0.5",
        "decision.rules[0].when",
        "bset",
    ),
    "a rule's unknown trial": (
        "    - when: best.r2.log_g > baseline.r2.log_g",
        "    - when: trials.nope.r2.log_g > 0.5",
        "decision.rules[0].when",
        "nope",
    ),
    "a second rule": (
        "    - otherwise: fail\n      says: worse",
        "    - when: best.mae.logg < 1\n      verdict: pass\n      says: ok\n    - otherwise: fail\n      says: worse",
        "decision.rules[1].when",
        "mae.logg",
    ),
}


def _broken(root: Path, name: str) -> tuple[str, int]:
    """Write the report broken as `name` says; (the key it must name, the line of the bad value)."""
    old, new, key, fragment = CASES[name]
    assert SPEC.count(old) == 1, old
    text = SPEC.replace(old, new)
    report = root / REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text + BODY, encoding="utf-8")
    starts = text.index(new)  # the line of the fragment within the replacement, 1-based in the file
    line = text.count("\n", 0, starts + new.index(fragment)) + 1
    return key, line


@pytest.mark.parametrize("name", list(CASES))
def test_run_names_the_key_and_line_of_the_bad_value(notebook, capsys, name):
    key, line = _broken(notebook, name)
    before = tree_digest(notebook)
    assert main(["run", REPORT]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("research: ")
    assert f"{REPORT}:{line}: {key}:" in err, err
    assert tree_digest(notebook) == before


@pytest.mark.parametrize(
    "name",
    [
        "a test set's n",
        "a swept value in a block list",
        "a trial's value a model refuses",
        "a figure's kind",
        "binned edges out of order",
        "a key number's trial",
        "a second rule",
    ],
)
def test_check_names_the_same_place(notebook, capsys, name):
    key, line = _broken(notebook, name)
    assert main(["check", REPORT]) == 1
    assert f"{REPORT}:{line}: {key}:" in capsys.readouterr().out
