"""Numbers a reader would otherwise work out by hand are first-class: a rule reads what a trial
was run with (`trials.x.config.model.<param>`, defaults filled in) and what its model reports
(`trials.x.info.receptive_field`), checked against the real keys before anything trains."""

import subprocess
import sys
from pathlib import Path

from conftest import REPORT_BODY, git_notebook

from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))

SPEC = """\
---
id: EXP-DERIVED
title: derived
data: {source: synthetic, n_train: 300, n_test: 120, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 10}
trials:
  small: {}
  large: {model.alpha: 1000}
metrics: [r2.log_g]
key_numbers:
  - {label: large α, value: "trials.large.config.model.alpha"}
  - {label: standardised, value: "trials.small.config.model.standardize"}
  - {label: training spectra, value: "trials.small.config.data.n_train"}
---
"""
BODY = REPORT_BODY  # it has a key-numbers region


def _research(root, *args):
    return subprocess.run([RESEARCH, *args], cwd=root, capture_output=True, text=True)


def test_a_key_number_reads_a_trials_config_with_its_defaults(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + BODY})
    done = _research(root, "run", "exp.md", "--no-commit")
    assert done.returncode == 0, done.stdout + done.stderr
    text = (root / "exp.md").read_text()
    region = document.regions(text)["key-numbers"].body
    assert "1,000" in region or "1000" in region, region
    assert "True" in region or "true" in region, region  # the default the spec did not write
    assert "300" in region, region


def test_a_config_key_that_does_not_exist_is_refused_before_training(tmp_path):
    spec = SPEC.replace("trials.large.config.model.alpha", "trials.large.config.model.alpah")
    root = git_notebook(tmp_path, {"exp.md": spec + BODY})
    refused = _research(root, "run", "exp.md", "--dry-run")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "alpah" in refused.stderr and "Traceback" not in refused.stderr


def test_a_report_that_answers_no_hub_question_keeps_its_own_hypotheses(tmp_path):
    """The hypotheses region shows the hub questions a report answers; without `answers:` it is
    the user's (an adopted report's own H-rows), and a run leaves it as written."""
    mine = "| Hypothesis | Status |\n|---|---|\n| H5.2: the MSE gate helps hot metal-poor stars | open |\n"
    body = REPORT_BODY.replace(
        "<!-- research:hypotheses -->\n<!-- /research:hypotheses -->",
        f"<!-- research:hypotheses -->\n{mine}<!-- /research:hypotheses -->",
    )
    assert mine in body
    root = git_notebook(tmp_path, {"exp.md": SPEC + body})
    done = _research(root, "run", "exp.md", "--no-commit")
    assert done.returncode == 0, done.stdout + done.stderr
    text = (root / "exp.md").read_text()
    assert document.regions(text)["hypotheses"].body == mine
    assert "derived" not in document.regions(text)["hypotheses"].body  # not the title
