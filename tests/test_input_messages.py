"""What a user sees for the commonest slips, through the `research` command: every problem of a
spec (not "N more" that nothing lists), a YAML indentation mistake in plain words at its line,
a dedented key said to belong under its section, and a mistyped report path answered with the
report it is closest to. Each exits 2, with no traceback, and changes no file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPORT_BODY, tree_digest

from engine.cli import main

RESEARCH = str(Path(sys.executable).with_name("research"))
REPORT = "research/t/exp/exp_multitask.md"

SPEC = """\
id: EXP-MSG
title: messages
data:
  source: synthetic
  n_train: 300
  n_test: 100
  targets: [log_g]
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
train:
  epochs: 3
  seed: 7
metrics: [r2.log_g]
"""


def _write(root: Path, spec: str, path: str = REPORT) -> Path:
    report = root / path
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        f"---\n{spec}---\n{REPORT_BODY}\n<!-- research:figures -->\n<!-- /research:figures -->\n", encoding="utf-8"
    )
    return report


def _line(report: Path, fragment: str) -> int:
    """The file line of the first line holding `fragment`."""
    rows = report.read_text(encoding="utf-8").splitlines()
    return next(i for i, row in enumerate(rows, 1) if fragment in row)


def _refused(root: Path, *args: str) -> str:
    """Run `research args…` as a user does; it must refuse (exit 2), say it without a traceback,
    and leave every file as it was. Its stderr."""
    before = tree_digest(root)
    done = subprocess.run([RESEARCH, *args], capture_output=True, text=True, cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("research: ") and "Traceback" not in done.stderr
    assert tree_digest(root) == before
    return done.stderr


# --- every problem is listed ------------------------------------------------------------------


def test_run_lists_every_problem_of_the_spec_and_check_lists_the_same(notebook):
    report = _write(
        notebook,
        SPEC.replace("epochs: 3", "epochs: three")
        .replace("level: 1.0", "level: loud")
        .replace("n_test: 100", "n_test: -5"),
    )
    err = _refused(notebook, "run", REPORT)
    first, *rest = err.rstrip("\n").splitlines()
    assert first.endswith("2 more problems:")
    said = [first, *rest]
    for key, fragment in (("data.n_test", "n_test:"), ("noise.level", "noise:"), ("train.epochs", "epochs:")):
        assert sum(f"{REPORT}:{_line(report, fragment)}: {key}:" in row for row in said) == 1, (key, err)
    assert all(row.startswith("  ") for row in rest)  # the further problems, one a line, under the first
    done = subprocess.run([RESEARCH, "check", REPORT], capture_output=True, text=True, cwd=notebook)
    assert done.returncode == 1
    listed = [row.strip().removeprefix("research: ").removesuffix(" 2 more problems:") for row in said]
    assert [row for row in done.stdout.splitlines() if row] == listed


def test_the_problems_found_after_the_spec_loads_are_listed_too(notebook):
    _write(
        notebook,
        SPEC.replace("alpha: 100}", "alpah: 100}") + "figures:\n  - {kind: bar, file: ../../../../outside.png}\n",
    )
    err = _refused(notebook, "run", REPORT)
    assert "more problem" in err and "model.alpah" in err and "outside the notebook" in err
    assert len(err.rstrip("\n").splitlines()) == 2


# --- YAML mistakes in plain words --------------------------------------------------------------

INDENTATION = {
    "a key indented too far": ("  n_train: 300\n", "   n_train: 300\n", "   n_train"),
    "a key indented too little": ("  n_test: 100\n", " n_test: 100\n", " n_test"),
    "a list item out of line": ("  targets: [log_g]\n", "  targets:\n    - log_g\n   - T_eff\n", "   - T_eff"),
    "a key of a list item out of line": (
        "metrics: [r2.log_g]\n",
        "figures:\n  - kind: bar\n    file: a.png\n   metric: r2.log_g\n",
        "   metric",
    ),
}


@pytest.mark.parametrize("case", sorted(INDENTATION))
def test_an_indentation_slip_is_said_in_plain_words_at_its_line(notebook, case):
    old, new, fragment = INDENTATION[case]
    report = _write(notebook, SPEC.replace(old, new))
    err = _refused(notebook, "run", REPORT)
    assert err.startswith(f"research: {REPORT}:{_line(report, fragment)}: ")
    assert "the indentation does not match the lines above" in err
    assert "the same number of spaces" in err  # what to do
    assert "(" in err and ")" in err  # the parser's own words stay, in parentheses, after the plain ones


def test_a_tab_and_a_colon_in_a_value_are_named(notebook):
    report = _write(notebook, SPEC.replace("  seed: 7\n", "\tseed: 7\n"))
    err = _refused(notebook, "spec", REPORT)
    assert err.startswith(f"research: {REPORT}:{_line(report, 'seed: 7')}: ") and "a tab character" in err
    assert "spaces only" in err
    report = _write(notebook, SPEC.replace("title: messages", "title: ridge: a baseline"))
    err = _refused(notebook, "spec", REPORT)
    assert err.startswith(f"research: {REPORT}:{_line(report, 'title:')}: ")
    assert 'put quotes around the value: title: "ridge: a baseline"' in err


DEDENTED = {  # key → (its block, the block with the key's line dedented, the section it belongs to)
    "targets": ("  targets: [log_g]\n", "targets: [log_g]\n", "data"),
    "n_train": (
        "  n_train: 300\n  n_test: 100\n  targets: [log_g]\n",
        "  n_test: 100\n  targets: [log_g]\nn_train: 300\n",
        "data",
    ),
    "epochs": ("train:\n  epochs: 3\n  seed: 7\n", "train:\n  seed: 7\nepochs: 3\n", "train"),
    "alpha": ("model: {type: ridge, alpha: 100}\n", "model:\n  type: ridge\nalpha: 100\n", "model"),
    "level": ("noise: {level: 1.0}\n", "noise:\n  seed: 1\nlevel: 1.0\n", "noise"),
}


@pytest.mark.parametrize("key", sorted(DEDENTED))
def test_a_dedented_key_is_said_to_belong_under_its_section(notebook, key):
    old, new, section = DEDENTED[key]
    assert old in SPEC
    report = _write(notebook, SPEC.replace(old, new))
    err = _refused(notebook, "spec", REPORT)
    line = next(
        i for i, row in enumerate(report.read_text(encoding="utf-8").splitlines(), 1) if row.startswith(f"{key}:")
    )
    assert (
        f"{REPORT}:{line}: {key}: not a top-level key: it belongs under `{section}:`. indent it under {section}:" in err
    )
    assert "did you mean" not in err  # `targets` is no misspelled `status`


def test_a_key_under_the_wrong_section_is_said_to_belong_under_its_own(notebook):
    report = _write(notebook, SPEC.replace("  n_test: 100\n", "").replace("  seed: 7\n", "  seed: 7\n  n_test: 100\n"))
    err = _refused(notebook, "run", REPORT)
    assert f"{REPORT}:{_line(report, 'n_test')}: train.n_test: not a key of `train:`: it belongs under `data:`" in err
    report = _write(
        notebook,
        SPEC.replace("  epochs: 3\n", "").replace(
            "model: {type: ridge, alpha: 100}\n", "model:\n  type: ridge\n  epochs: 3\n"
        ),
    )
    err = _refused(notebook, "run", REPORT)
    assert f"{REPORT}:{_line(report, 'epochs: 3')}: model.epochs: " in err and "`epochs` belongs under train:" in err


def test_a_misspelled_top_level_key_still_gets_its_did_you_mean(notebook):
    _write(notebook, SPEC.replace("metrics:", "metric:"))
    assert "metric: unknown key. did you mean 'metrics'?" in _refused(notebook, "spec", REPORT)


# --- a mistyped report path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", ["run", "check", "spec", "show", "status", "runs", "sync", "reproduce", "promote", "adopt", "diff"]
)
def test_a_mistyped_report_gets_the_closest_report_for_every_command(notebook, command):
    _write(notebook, SPEC)
    _write(notebook, SPEC.replace("EXP-MSG", "EXP-OTHER"), "research/t/exp/exp_baselines.md")
    given = "research/t/exp/exp_multitsk.md"
    err = _refused(notebook, command, given)
    assert f"{given}: no such file. did you mean '{REPORT}'?" in err


def test_a_mistyped_folder_or_name_elsewhere_gets_the_notebooks_report(notebook):
    _write(notebook, SPEC)
    assert f"did you mean '{REPORT}'?" in _refused(notebook, "run", "research/tt/exp/exp_multitask.md")
    assert f"did you mean '{REPORT}'?" in _refused(notebook, "run", "exp_multitsk.md")
    assert "reserch: no such file or folder. did you mean 'research'?" in _refused(notebook, "check", "reserch")


def test_a_trial_or_revision_of_a_report_is_checked_as_the_report(notebook, capsys):
    _write(notebook, SPEC)
    assert main(["diff", "research/t/exp/exp_multitsk.md#a", f"{REPORT}#b"]) == 2
    assert f"did you mean '{REPORT}'?" in capsys.readouterr().err
