"""`research run` end to end: a temporary git notebook, the synthetic data, real models.

Trials use a plugin model (`meanmodel:make`, written into the notebook) where a test needs a
model that fails, sleeps or edits the report mid-run, and a tiny MLP otherwise.
"""

import signal
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest
from conftest import report_body

from engine.cli import main
from engine.runner import without_running_note
from engine.text import document

PLUGIN = """\
import time
from pathlib import Path
import numpy as np


class Mean:
    def __init__(self, params, train, targets):
        self.params, self.targets = params, list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        if self.params.get("fail"):
            raise RuntimeError("this trial is meant to fail")
        if self.params.get("touch"):
            with open(self.params["touch"], "a", encoding="utf-8") as handle:
                handle.write("\\n用户在运行期间写的一句话。\\n")
        if self.params.get("promote"):  # `research promote` while the run trains
            from engine.notebook.drafts import promote
            promote(self.params["promote"])
        if self.params.get("sleep"):
            Path("started").write_text("yes")
            time.sleep(self.params["sleep"])
        self.mean = train.labels(self.targets).mean(axis=0) + self.params.get("shift", 0.0)

    def predict(self, split):
        return np.tile(self.mean, (len(split), 1)).astype(float)


def make(params, train, targets):
    return Mean(params, train, targets)
"""

REPORT = """\
---
id: EXP-TEST
title: tiny end-to-end
data: {source: synthetic, n_train: 200, n_test: 120, targets: [log_g, T_eff]}
noise: {level: 1.0, seed: 42}
model: {type: mlp, hidden: [16]}
train: {epochs: 1, batch_size: 64, seed: 1}
trials:
  base: {model: {type: "meanmodel:make"}}
  net: {}
metrics: [r2.log_g, mae.log_g]
binned:
  - {metric: bias.log_g, by: T_eff, edges: [3750, 4875, 6000]}
figures:
  - {kind: bar, metrics: [r2.log_g], file: img/bar.png}
  - {kind: binned, binned: 0, file: img/bias.png}
decision:
  baseline: base
  rules:
    - when: best.r2.log_g > baseline.r2.log_g
      verdict: pass
      says: the net beats the mean
    - otherwise: fail
      says: the net does not beat the mean
key_numbers:
  - {label: net log g R², value: trials.net.r2.log_g}
---
""" + report_body(
    "summary",
    "key-numbers",
    "results",
    "binned",
    "figures",
    title="tiny report",
    before="用户的前言，必须保留。\n",
    log=True,
    after="结尾的话。\n",
)


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    repo = git.Repo.init(tmp_path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "tester")
        config.set_value("user", "email", "tester@example.com")
    (tmp_path / "meanmodel.py").write_text(PLUGIN, encoding="utf-8")
    report = tmp_path / "research/t/exp/exp_t.md"
    report.parent.mkdir(parents=True)
    report.write_text(REPORT, encoding="utf-8")
    repo.index.add(["meanmodel.py", "research/t/exp/exp_t.md"])
    repo.index.commit("notebook")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "meanmodel", raising=False)
    return tmp_path, repo, report


def head(repo):
    return repo.head.commit.hexsha


def test_a_run_fills_the_report_and_commits_exactly_what_it_wrote(notebook, capsys):
    root, repo, report = notebook
    (root / "unrelated.txt").write_text("staged, not ours")
    repo.index.add(["unrelated.txt"])
    assert main(["run", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    regions = document.regions(text)
    assert "verdict" not in regions["summary"].body and regions["summary"].body.startswith("> **")
    assert "| base (baseline) |" in regions["results"].body and "| net" in regions["results"].body
    assert "net log g R²" in regions["key-numbers"].body
    assert "**std of bin means**" in regions["binned"].body
    assert "![r2.log_g per trial](img/bar.png)" in regions["figures"].body
    assert (report.parent / "img/bar.png").stat().st_size > 1000 and (report.parent / "img/bias.png").exists()
    assert "ran base, net" in regions["log"].body
    assert "用户的前言，必须保留。" in text and text.endswith("结尾的话。\n")
    assert "status: done" in text and "last_run:" in text
    commit = repo.head.commit
    assert commit.message.startswith("research: EXP-TEST ")
    assert sorted(commit.stats.files) == [
        "research/t/exp/exp_t.md",
        "research/t/exp/img/bar.png",
        "research/t/exp/img/bias.png",
    ]
    assert "unrelated.txt" in [d.a_path for d in repo.index.diff("HEAD")]  # still staged, not committed
    assert main(["check", str(root / "research")]) == 0


def test_a_second_run_is_a_cache_hit_that_changes_nothing(notebook, capsys):
    root, repo, report = notebook
    assert main(["run", str(report)]) == 0
    before, commit = report.read_bytes(), head(repo)
    figure = (report.parent / "img/bar.png").read_bytes()
    capsys.readouterr()
    assert main(["run", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.count(" cached ") == 2 and "up to date" in out
    assert report.read_bytes() == before and head(repo) == commit
    assert (report.parent / "img/bar.png").read_bytes() == figure


def test_set_runs_exactly_the_trials_it_changes(notebook, capsys):
    root, repo, report = notebook
    assert main(["run", str(report)]) == 0
    capsys.readouterr()
    assert main(["run", str(report), "--set", "trials.net.train.epochs=2", "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert "base" in plan and " cached " in plan.split("base", 1)[1].splitlines()[0]
    assert "spec changed" in plan.split("net", 1)[1].splitlines()[0] or "new" in plan.split("net", 1)[1].splitlines()[0]


def test_a_prose_edit_does_not_invalidate_the_cache(notebook, capsys):
    root, repo, report = notebook
    assert main(["run", str(report)]) == 0
    report.write_text(
        report.read_text(encoding="utf-8").replace("用户的前言，必须保留。", "改写过的前言。"), encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["run", str(report)]) == 0
    assert capsys.readouterr().out.count(" cached ") == 2
    assert "改写过的前言。" in report.read_text(encoding="utf-8")


def test_a_hand_edit_inside_a_region_stops_the_run_and_leaves_the_file(notebook, capsys):
    root, repo, report = notebook
    assert main(["run", str(report)]) == 0
    edited = report.read_text(encoding="utf-8").replace("| base (baseline) |", "| base (我改的) |")
    report.write_text(edited, encoding="utf-8")
    main(["run", str(report), "--set", "trials.base.model.shift=0.1"])
    err = capsys.readouterr().err
    assert "region 'results' was edited by hand" in err and "--force" in err
    assert report.read_text(encoding="utf-8") == edited


def test_an_edit_made_while_the_run_is_going_is_kept(notebook):
    root, repo, report = notebook
    text = REPORT.replace(
        '{model: {type: "meanmodel:make"}}', '{model: {type: "meanmodel:make", touch: research/t/exp/exp_t.md}}'
    )
    report.write_text(text, encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 0
    final = report.read_text(encoding="utf-8")
    assert "用户在运行期间写的一句话。" in final and "| net" in document.regions(final)["results"].body


def test_a_failing_trial_is_reported_and_the_rest_written(notebook, capsys):
    root, repo, report = notebook
    report.write_text(
        REPORT.replace('type: "meanmodel:make"}', 'type: "meanmodel:make", fail: true}'), encoding="utf-8"
    )
    assert main(["run", str(report), "--no-commit"]) == 1
    text = report.read_text(encoding="utf-8")
    regions = document.regions(text)
    assert "| base (baseline) | - | failed |" in regions["results"].body
    assert (
        "| net" in regions["results"].body and "failed" not in regions["results"].body.split("| net")[1].split("\n")[0]
    )
    assert "base failed: RuntimeError: this trial is meant to fail" in regions["log"].body
    assert "status: failed" in text


def test_a_killed_run_leaves_the_report_whole_and_the_rerun_resumes(notebook):
    root, repo, report = notebook
    text = REPORT.replace(
        'trials:\n  base: {model: {type: "meanmodel:make"}}\n  net: {}',
        'trials:\n  base: {model: {type: "meanmodel:make"}}\n  slow: {model: {type: "meanmodel:make", sleep: 60}}',
    )
    text = text.replace("trials.net.r2.log_g", "trials.base.r2.log_g")
    report.write_text(text, encoding="utf-8")
    research = Path(sys.executable).parent / "research"
    command = [str(research)] if research.exists() else [sys.executable, "-m", "engine.cli"]
    proc = subprocess.Popen(
        [*command, "run", str(report), "--no-commit"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while not (root / "started").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (root / "started").exists(), "the slow trial never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after_kill = report.read_text(encoding="utf-8")
    document.regions(after_kill)  # every marker still balanced
    assert "> 🔆 running since " in after_kill  # the running note above the summary, and the status line:
    assert without_running_note(after_kill).replace("status: running\n", "") == text  # nothing else was added
    (root / "started").unlink()
    report.write_text(after_kill.replace("sleep: 60", "sleep: 0"), encoding="utf-8")
    plan = subprocess.run([*command, "run", str(report), "--dry-run"], cwd=root, capture_output=True, text=True)
    base_line = next(line for line in plan.stdout.splitlines() if line.strip().startswith("base"))
    assert " cached " in base_line  # the trial that finished before the kill is not run again


def test_check_reports_a_report_whose_spec_changed_since_its_numbers(notebook, capsys):
    root, repo, report = notebook
    assert main(["run", str(report)]) == 0
    assert main(["check", str(report)]) == 0
    report.write_text(report.read_text(encoding="utf-8").replace("hidden: [16]", "hidden: [8]"), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(report)]) == 1
    out = capsys.readouterr().out
    assert "stale" in out and "net (spec changed)" in out and "base" not in out.split("stale")[1]


def test_a_draft_promoted_while_it_runs_ends_promoted(notebook):
    """The end of a run writes the status the report has then, not the one it read at its start:
    a draft promoted during its run ends `done`, its kanban written, its commit no draft's."""
    root, repo, report = notebook
    (root / "hubs").mkdir()
    (root / "hubs/kanban.md").write_text(
        "# Kanban\n\n<!-- research:board -->\n<!-- /research:board -->\n", encoding="utf-8"
    )
    text = REPORT.replace("id: EXP-TEST\n", "id: EXP-TEST\nstatus: draft\nkanban: ../../../hubs/kanban.md\n")
    text = text.replace(
        'base: {model: {type: "meanmodel:make"}}',
        'base: {model: {type: "meanmodel:make", promote: research/t/exp/exp_t.md}}',
    )
    report.write_text(text, encoding="utf-8")
    repo.index.add(["research/t/exp/exp_t.md", "hubs/kanban.md"])
    repo.index.commit("a draft")
    assert main(["run", str(report)]) == 0
    assert "status: done" in report.read_text(encoding="utf-8")
    assert "tiny end-to-end" in (root / "hubs/kanban.md").read_text(encoding="utf-8")
    assert "(draft)" not in repo.head.commit.message and not repo.is_dirty()


def test_the_engines_own_status_edit_is_not_an_uncommitted_change(notebook):
    """A run killed mid-training leaves `status: running`; the run that resumes must not record
    its code as "+dirty" for it. A change of the user's still is."""
    from engine.run.provenance import git_state

    root, repo, report = notebook
    assert git_state(root)["dirty"] is False
    text = report.read_text(encoding="utf-8")
    report.write_text(
        text.replace("id: EXP-TEST\n", "id: EXP-TEST\nstatus: running\nlast_run: '2026-12-03T10:00:00'\n"),
        encoding="utf-8",
    )
    assert git_state(root)["dirty"] is False
    report.write_text(report.read_text(encoding="utf-8") + "\n一句新的话。\n", encoding="utf-8")
    assert git_state(root)["dirty"] is True
    report.write_text(text, encoding="utf-8")
    (root / "meanmodel.py").write_text(PLUGIN + "\n# changed\n", encoding="utf-8")
    assert git_state(root)["dirty"] is True
