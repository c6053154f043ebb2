"""The end of a run is one transaction: killed anywhere, finished by the next run; runs take turns.

Real processes on the small git notebook (every trial already in the run store, the report not
yet rendered): `RESEARCH_FAULT=<point>` makes `research run` kill itself with SIGKILL at a named
point of its end; the next plain `research run` must finish it — the report, its figure, hub
and kanban written and committed, the tree clean, no journal, no temporary file, one log row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPORT_PATH, git, tree_digest

from engine.cli import main
from engine.errors import LockedError
from engine.run import transaction
from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))
TARGETS = [REPORT_PATH, "research/nb/exp/img/bar.png", "hubs/hub.md", "hubs/kanban.md"]


def research(root, *args, env=None, **kw):
    return subprocess.run(
        [RESEARCH, *args], cwd=root, capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw
    )


def commits(root):
    return int(git(root, "rev-list", "--count", "HEAD"))


def assert_finished(root):
    assert git(root, "status", "--porcelain") == ""
    assert not list((root / ".research").glob("journal/*.json"))
    assert not [p for p in root.rglob(".*.tmp") if ".git" not in p.parts]
    committed = git(root, "show", "--name-only", "--format=", "HEAD").split()
    text = (root / REPORT_PATH).read_text(encoding="utf-8")
    assert "status: done" in text and "ridge reaches R²" in text
    log = document.regions(text)["log"].body
    assert log.count("\n| 20") <= 1  # at most one row of this run, never one per attempt
    for target in TARGETS:
        assert (root / target).exists()
    return committed


FAULTS = ["rendered", "journal", "written-1", "written-2", "written-3", "written", "committing", "committed"]


@pytest.mark.parametrize("point", FAULTS)
def test_a_kill_at_any_point_of_the_end_is_finished_by_the_next_run(small_notebook, point):
    root, report = small_notebook
    before = commits(root)
    killed = research(root, "run", str(report), env={transaction.FAULT_ENV: point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = research(root, "run", str(report))
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stdout + again.stderr
    assert_finished(root)
    assert commits(root) == before + 1
    assert set(TARGETS) <= set(git(root, "show", "--name-only", "--format=", "HEAD").split())


def test_the_log_row_of_a_killed_run_that_trained_is_written_once(small_notebook):
    root, report = small_notebook
    report.write_text(report.read_text(encoding="utf-8").replace("alpha: 100}", "alpha: 30}"), encoding="utf-8")
    git(root, "commit", "-qam", "a new alpha")
    killed = research(root, "run", str(report), env={transaction.FAULT_ENV: "written-1"})
    assert killed.returncode == -signal.SIGKILL
    again = research(root, "run", str(report))
    assert again.returncode == 0 and "finishing the end of a run that was stopped" in again.stdout
    assert_finished(root)
    log = document.regions(report.read_text(encoding="utf-8"))["log"].body
    assert log.count("ran cand") == 1 and "1 cached" in log


def test_a_kill_inside_git_commit_leaves_an_index_lock_the_next_run_removes(small_notebook):
    root, report = small_notebook
    killed = research(root, "run", str(report), env={transaction.FAULT_ENV: "committing"})
    assert killed.returncode == -signal.SIGKILL
    lock = root / ".git" / "index.lock"
    lock.write_text("")  # what a git killed mid-commit leaves
    os.utime(lock, (time.time() - 5, time.time() - 5))
    again = research(root, "run", str(report))
    assert again.returncode == 0, again.stderr
    assert "left by a commit that was killed" in again.stdout and not lock.exists()
    assert_finished(root)


def test_an_index_lock_a_live_process_holds_is_never_removed(small_notebook):
    root, _ = small_notebook
    lock = root / ".git" / "index.lock"
    holder = subprocess.Popen([sys.executable, "-c", f"f = open({str(lock)!r}, 'w'); import time; time.sleep(30)"])
    try:
        deadline = time.time() + 10
        while not lock.exists() and time.time() < deadline:
            time.sleep(0.05)
        os.utime(lock, (time.time() - 5, time.time() - 5))
        with pytest.raises(LockedError):
            transaction.recover_index_lock(root, say=lambda _: None, wait_s=0.5)
        assert lock.exists()
    finally:
        holder.kill()
        holder.wait()
        lock.unlink(missing_ok=True)


def test_two_runs_at_once_take_turns_and_commit_once(small_notebook):
    root, report = small_notebook
    before = commits(root)
    first = subprocess.Popen(
        [RESEARCH, "run", str(report)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    second = subprocess.Popen(
        [RESEARCH, "run", str(report)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    assert all("Traceback" not in out + err for out, err in outs)
    assert any("waiting for another `research run`" in out for out, _ in outs)
    assert commits(root) == before + 1
    assert_finished(root)


def test_two_reports_of_one_notebook_run_at_once(small_notebook):
    root, report = small_notebook
    other = report.with_name("exp_other.md")
    other.write_text(
        report.read_text(encoding="utf-8").replace("id: EXP-NB", "id: EXP-OTHER").replace("alpha: 100}", "alpha: 300}"),
        encoding="utf-8",
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "another report")
    before = commits(root)
    runs = [
        subprocess.Popen([RESEARCH, "run", str(p)], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in (report, other)
    ]
    outs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    assert commits(root) == before + 2
    assert git(root, "status", "--porcelain") == ""
    hub = (root / "hubs/hub.md").read_text(encoding="utf-8")
    assert "EXP-NB" in hub and "EXP-OTHER" in hub


def test_a_hand_edit_in_a_page_stops_the_run_before_any_file_is_written(small_notebook, capsys):
    root, report = small_notebook
    assert main(["run", str(report)]) == 0
    hub = root / "hubs/hub.md"
    regions = document.regions(hub.read_text(encoding="utf-8"))
    assert "leaderboard" in regions
    text = hub.read_text(encoding="utf-8")
    body = regions["leaderboard"].body
    hub.write_text(text.replace(body, body + "| my own row |\n"), encoding="utf-8")
    report.write_text(report.read_text(encoding="utf-8").replace("alpha: 100}", "alpha: 50}"), encoding="utf-8")
    git(root, "commit", "-qam", "edits")
    before = tree_digest(root)
    assert main(["run", str(report)]) == 2
    assert "region 'leaderboard' was edited by hand" in capsys.readouterr().err
    assert tree_digest(root) == before


def test_a_report_that_is_a_link_is_written_through_to_its_target(small_notebook):
    root, report = small_notebook
    target = report.with_name("real_report.md")
    report.rename(target)
    report.symlink_to(target.name)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the report is a link")
    assert main(["run", str(report)]) == 0
    assert report.is_symlink() and os.readlink(report) == target.name
    assert "status: done" in target.read_text(encoding="utf-8")
    assert git(root, "status", "--porcelain") == ""


def test_new_figures_and_pages_get_the_users_umask(small_notebook):
    root, report = small_notebook
    old = os.umask(0o027)
    try:
        assert main(["run", str(report), "--no-commit"]) == 0
    finally:
        os.umask(old)
    figure = root / "research/nb/exp/img/bar.png"
    assert figure.stat().st_mode & 0o777 == 0o640


def test_a_corrupt_run_store_record_is_replaced(small_notebook, capsys):
    root, report = small_notebook
    records = sorted((root / ".research/runs").glob("*/*/record.json"))
    assert len(records) == 2
    records[0].write_text("{not json", encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert out.count("(new)") + out.count("(code changed)") + out.count("(spec changed)") == 1
    assert main(["run", str(report), "--no-commit"]) == 0
    assert "up to date" in capsys.readouterr().out  # repaired: the next run re-trains nothing


def test_region_bodies_that_quote_markers_or_open_fences_keep_the_document_whole():
    text = "# r\n\n<!-- research:summary -->\n<!-- /research:summary -->\n\nafter\n"
    nasty = "says <!-- /research:summary -->\n<!-- research:summary -->\n```python\nunclosed\n"
    new = document.replace_regions(text, {"summary": nasty})
    regions = document.regions(new)
    assert list(regions) == ["summary"] and new.endswith("\nafter\n")
    assert "&lt;!-- research:summary -->" in regions["summary"].body
    assert not regions["summary"].edited


PLUGIN = """\
import time
from pathlib import Path
import numpy as np


class Slow:
    def __init__(self, params, train, targets):
        self.targets = list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        Path("started").write_text("yes")
        time.sleep(60)

    def predict(self, split):
        return np.zeros((len(split), len(self.targets)))


def make(params, train, targets):
    return Slow(params, train, targets)
"""


def _in_a_terminal():
    """Ctrl-C reaches a command run in a terminal's foreground: SIGINT at its default, whatever the
    test worker's own disposition (a disposition set to ignore is inherited through exec, as a
    shell does for a background job, and a full suite's worker was seen to hand one down)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _block_stop_signals():  # what a parent thread that blocked them hands down through fork and exec
    _in_a_terminal()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


@pytest.mark.parametrize(
    "how, blocked",
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-inherited-blocked"],
)
def test_stopping_a_run_while_it_trains_exits_130_and_leaves_the_status_failed(small_notebook, how, blocked):
    root, report = small_notebook
    (root / "slowplugin.py").write_text(PLUGIN, encoding="utf-8")
    report.write_text(
        report.read_text(encoding="utf-8").replace("cand: {}", 'cand: {model: {type: "slowplugin:make"}}'),
        encoding="utf-8",
    )
    run = subprocess.Popen(
        [RESEARCH, "run", str(report), "--no-commit"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_block_stop_signals if blocked else _in_a_terminal,
    )
    deadline = time.time() + 120
    while not (root / "started").exists() and time.time() < deadline and run.poll() is None:
        time.sleep(0.1)
    run.send_signal(how)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    assert "status: failed" in report.read_text(encoding="utf-8")


def test_check_reports_a_report_left_running_by_a_killed_run(small_notebook, capsys):
    root, report = small_notebook
    report.write_text(
        report.read_text(encoding="utf-8").replace("status: planned", "status: running"), encoding="utf-8"
    )
    assert main(["check", str(report)]) == 1
    assert "status is 'running' but no run is going on" in capsys.readouterr().out
