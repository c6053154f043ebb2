"""One validation before anything runs: every error class, through the CLI, changes nothing.

Each case breaks the small notebook's report (or its data, its hub, a plugin) in one way. Through
`research run`, `run --dry-run`, `check` and (for what the spec alone shows) `spec`, each must
give the located one-paragraph message — the report's file and line, the key, what was
expected — exit 2 (check: 1), no traceback, and not one byte of the notebook changed: not even
the report's `status:`, which a refusal leaves as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tree_digest

from engine.cli import main

RUN, DRY, CHECK, SPEC = "run", "dry-run", "check", "spec"
ALL = (RUN, DRY, CHECK, SPEC)
NOT_SPEC = (RUN, DRY, CHECK)


def _replace(old, new):
    def change(root, report):
        text = report.read_text(encoding="utf-8")
        assert old in text, old
        report.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def _shards(root, rows=60):
    assert main(["data", "synth", "--n", str(rows), "--out", str(root / "data")]) == 0
    return root / "data" / "shard_0" / "dataset.h5"


def _hdf5(n_train, *, nan_row=None):
    def change(root, report):
        path = _shards(root)
        if nan_row is not None:
            import h5py
            import numpy as np

            with h5py.File(path, "r+") as handle:
                handle["flux"][nan_row, 7] = np.nan
        _replace(
            "data: {source: synthetic, n_train: 300, n_test: 100",
            f"data: {{source: ../../../data/shard_0/dataset.h5, n_train: {n_train}, n_test: 10",
        )(root, report)

    return change


def _plugin(body):
    def change(root, report):
        sys.modules.pop("myplugin", None)  # another case's plugin of the same name
        (root / "myplugin.py").write_text(body, encoding="utf-8")
        _replace("cand: {}", 'cand: {model: {type: "myplugin:make"}}')(root, report)

    return change


def _hub_edit(root, report):
    hub = root / "hubs" / "hub.md"
    text = hub.read_text(encoding="utf-8")
    # a sealed but edited region: seal it first as the engine would, then edit inside
    from engine.text import document

    sealed = document.replace_regions(text, {"leaderboard": "| model |\n|---|\n"})
    hub.write_text(sealed.replace("| model |\n", "| model | my note |\n"), encoding="utf-8")


def _outside_link(root, report):
    outside = root.parent / "elsewhere.md"
    outside.write_text(report.read_text(encoding="utf-8"), encoding="utf-8")
    report.unlink()
    report.symlink_to(outside)


# name → (break it, the text on the located line or None, fragments of the message, commands)
CASES = {
    "unknown model type": (
        _replace("type: ridge, alpha", "type: ridgee, alpha"),
        "model: {type",
        ["model.type", "unknown model type 'ridgee'", "did you mean 'ridge'"],
        ALL,
    ),
    "unknown model parameter": (
        _replace("alpha: 100}", "alpah: 100}"),
        "model: {type",
        ["model.alpah", "unknown parameter", "did you mean 'alpha'"],
        ALL,
    ),
    "wrong parameter type in a trial": (
        _replace("cand: {}", "cand: {model.alpha: lots}"),
        "cand:",
        ["model.alpha", "expected a number", "trial 'cand'"],
        ALL,
    ),
    "dunder in a rule": (
        _replace("when: best.r2.log_g", "when: ().__class__"),
        "when:",
        ["decision.rules[0].when", "'__class__'", "not allowed"],
        ALL,
    ),
    "dunder in says": (
        _replace("{{ best.r2.log_g }}", "{{ best.__class__ }}"),
        'says: "ridge reaches',
        ["decision.rules[0].says", "not allowed"],
        ALL,
    ),
    "method call in says": (
        _replace("{{ best.r2.log_g }}", "{{ ''.join(best) }}"),
        'says: "ridge reaches',
        ["decision.rules[0].says", "calling a method is not allowed"],
        ALL,
    ),
    "dunder in a key number": (
        _replace("value: trials.cand.r2.log_g", "value: trials.cand.__dict__"),
        "- {label",
        ["key_numbers[0].value", "not allowed"],
        ALL,
    ),
    "a target no trial predicts": (
        _replace("value: trials.cand.r2.log_g", "value: trials.cand.r2.T_eff"),
        "- {label",
        ["key_numbers[0].value", "has no 'T_eff'", "log_g"],
        ALL,
    ),
    "an interval of an unlisted metric": (
        _replace("value: trials.cand.r2.log_g", "value: best.ci.rmse.log_g.lo"),
        "- {label",
        ["best.ci has no 'rmse'"],
        ALL,
    ),
    "a bootstrap field that does not exist": (
        _replace("value: trials.cand.r2.log_g", "value: best.delta.r2.log_g.median"),
        "- {label",
        ["has no 'median'", "p_positive"],
        ALL,
    ),
    "a binned index out of range": (
        _replace(
            "value: trials.cand.r2.log_g}\n",
            "value: \"binned[0]['cand'][5]\"}\nbinned:\n  - {metric: bias.log_g, by: T_eff, edges: [3750, 4875, 6000]}\n",
        ),
        "- {label",
        ["key_numbers[0].value", "has no element 5"],
        ALL,
    ),
    "figure outside the notebook": (
        _replace("file: img/bar.png", "file: ../../../../outside.png"),
        "- {kind: bar",
        ["figures[0].file", "outside the notebook"],
        NOT_SPEC,
    ),
    "hub outside the notebook": (
        _replace("hub: ../../../hubs/hub.md", "hub: ../../../../outside/hub.md"),
        "hub:",
        ["hub:", "outside the notebook"],
        NOT_SPEC,
    ),
    "a missing hub": (
        _replace("hub: ../../../hubs/hub.md", "hub: ../../../hubs/nohub.md"),
        "hub:",
        ["hub:", "does not exist"],
        NOT_SPEC,
    ),
    "an answers id the hub lacks": (
        _replace("answers: [Q1.1]", "answers: [Q1.2]"),
        "answers:",
        ["answers:", "'Q1.2' is not in the hypothesis tree", "closest ids"],
        NOT_SPEC,
    ),
    "a NUL byte in the front matter": (
        _replace("title: ridge on a small set", "title: ridge\x00"),
        "title:",
        ["control character", "U+0000"],
        ALL,
    ),
    "a builtin as a plugin": (
        _replace("type: ridge, alpha: 100", 'type: "os:system"'),
        "model: {type",
        ["model.type", "'os:system'", "not a model factory"],
        ALL,
    ),
    "a plugin that returns no model": (
        _plugin("def make(params, train, targets):\n    return 42\n"),
        "cand:",
        ["model.type", "returned int", "no fit or predict"],
        (RUN, DRY),
    ),
    "a plugin factory with the wrong signature": (
        _plugin("def make(params):\n    return params\n"),
        "cand:",
        ["model.type", "does not take (params, train, targets)"],
        ALL,
    ),
    "n_train larger than the data": (
        _hdf5(500),
        "data: {source",
        ["data.n_train", "asks for 550", "only 50"],
        NOT_SPEC,
    ),
    "a NaN in the flux": (
        _hdf5(40, nan_row=3),
        "data: {source",
        ["row", "nan", "must be finite", "dataset.h5"],
        (RUN,),
    ),
    "a missing data file": (
        _replace("source: synthetic", "source: ../../../data/nothere.h5"),
        "data: {source",
        ["missing file"],
        NOT_SPEC,
    ),
    "more synthetic spectra than the disk holds": (
        _replace("n_train: 300,", "n_train: 300000000000,"),
        "data: {source",
        ["data.n_train", "on disk", "free"],
        NOT_SPEC,
    ),
    "a hand edit in a hub region": (
        _hub_edit,
        None,
        ["hub.md", "region 'leaderboard' was edited by hand", "--force"],
        NOT_SPEC,
    ),
    "a report linked from outside the notebook": (_outside_link, None, ["outside the notebook"], (RUN, DRY, CHECK)),
}


def _line(text: str, needle: str | None) -> int | None:
    if needle is None:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the report")


@pytest.mark.parametrize("command", [RUN, DRY, CHECK, SPEC])
@pytest.mark.parametrize("name", list(CASES))
def test_every_mistake_is_found_before_anything_runs_and_changes_nothing(small_notebook, capsys, name, command):
    root, report = small_notebook
    change, needle, fragments, commands = CASES[name]
    if command not in commands:
        pytest.skip(f"{command} does not look at this")
    change(root, report)
    line = _line(report.read_text(encoding="utf-8"), needle)
    before = tree_digest(root)
    args = {
        RUN: ["run", str(report)],
        DRY: ["run", str(report), "--dry-run"],
        CHECK: ["check", str(report)],
        SPEC: ["spec", str(report)],
    }[command]
    code = main(args)
    out, err = capsys.readouterr()
    text = err if command != CHECK else out
    assert code == (1 if command == CHECK else 2), (out, err)
    assert "Traceback" not in out + err
    for fragment in fragments:
        assert fragment in text, (fragment, text)
    if line is not None:
        assert f"exp_nb.md:{line}:" in text, text
    assert tree_digest(root) == before  # not one byte, the status included
    assert not list((root / ".research").glob("journal/*.json"))


def test_a_trial_left_out_by_trial_that_a_rule_needs_is_refused_before_training(small_notebook, capsys):
    root, report = small_notebook
    _replace("  cand: {}\n", "  cand: {}\n  extra: {model.alpha: 10}\n")(root, report)
    _replace("value: trials.cand.r2.log_g", "value: trials.extra.r2.log_g")(root, report)
    before = tree_digest(root)
    assert main(["run", str(report), "--trial", "cand"]) == 2
    err = capsys.readouterr().err
    assert "reads trial 'extra', which will have no result" in err and "--trial extra" in err
    assert tree_digest(root) == before


def test_the_cli_never_shows_a_traceback_even_for_an_engine_bug(small_notebook, tmp_path):
    """A subprocess, stderr as a user sees it: a refusal is one paragraph; so is a crash, whose
    traceback goes to a file."""
    root, report = small_notebook
    _replace("type: ridge, alpha", "type: ridgee, alpha")(root, report)
    research = Path(sys.executable).with_name("research")
    done = subprocess.run([str(research), "run", str(report)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    crash = (
        "import engine.cli as c\n"
        "run = next(cmd for cmd in c.app.registered_commands if cmd.name == 'run')\n"
        "run.callback = lambda **k: 1 / 0\nraise SystemExit(c.main(['run', 'x']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", crash],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "RESEARCH_DEBUG": ""},
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "internal error: ZeroDivisionError" in done.stderr and "traceback is in" in done.stderr
    saved = Path(done.stderr.rsplit("traceback is in ", 1)[1].strip().rstrip("."))
    assert "ZeroDivisionError" in saved.read_text(encoding="utf-8")
    saved.unlink()


def test_check_and_run_list_every_problem(small_notebook, capsys):
    root, report = small_notebook
    _replace("alpha: 100}", "alpah: 100}")(root, report)
    _replace("file: img/bar.png", "file: ../../../../outside.png")(root, report)
    assert main(["check", str(report)]) == 1
    out = capsys.readouterr().out
    assert "model.alpah" in out and "outside the notebook" in out
    assert main(["run", str(report)]) == 2
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.endswith("1 more problem:") and len(rest) == 1  # the other problem, on its own line
    assert ("outside the notebook" in first and "model.alpah" in rest[0]) or (
        "model.alpah" in first and "outside the notebook" in rest[0]
    )
