"""Long runs in the background: `research run --detach`, its progress in `research status`,
`research watch` to its verdict, `research logs`, and a run killed with SIGKILL named dead and
resumed. Real processes throughout; every wait polls with a deadline, never a fixed sleep."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPORT_BODY, git_notebook

from engine.browse.status import live_line
from engine.cli.entry import main
from engine.runner import running_note, with_running_note, without_running_note

RESEARCH = [sys.executable, "-m", "engine.cli"]
DEADLINE_S = 90.0
REPORT = "research/t/exp/exp_live.md"

SPEC = """\
---
id: EXP-LIVE
title: live progress
data: {source: synthetic, n_train: 300, n_test: 120, targets: [log_g]}
noise: {level: 1.0, seed: 3}
model: {type: mlp, hidden: [64]}
train: {epochs: 5, batch_size: 32, seed: 1, device: cpu}
trials:
  a: {}
  b: {train.seed: 2, train.epochs: 200}
metrics: [r2.log_g]
decision:
  rules:
    - when: best.r2.log_g > -100
      verdict: pass
      says: it trained
---
"""


def research(root: Path, *args: str, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([*RESEARCH, *args], cwd=root, capture_output=True, text=True, timeout=timeout, env=env)


def live_row(root: Path) -> dict:
    done = research(root, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]


def poll(root: Path, wanted, what: str) -> dict:
    """The report's status row once `wanted(row)` holds; fails after DEADLINE_S, saying what it saw."""
    deadline = time.monotonic() + DEADLINE_S
    row = live_row(root)
    while not wanted(row):
        assert time.monotonic() < deadline, f"waited {DEADLINE_S:g} s for {what}; last row: {row}"
        time.sleep(0.2)
        row = live_row(root)
    return row


def next_progress(root: Path, wanted) -> dict:
    """The run's progress file, read directly (a status process takes a second to start), once `wanted` holds."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        for file in (root / ".research" / "locks").glob("run-*.json"):
            try:
                progress = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if wanted(progress):
                return progress
        assert time.monotonic() < deadline, f"waited {DEADLINE_S:g} s for the run's progress"
        time.sleep(0.05)


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_detached_run_shows_its_progress_dies_by_sigkill_and_its_resume_command_finishes_it(tmp_path):
    root = git_notebook(tmp_path, {REPORT: SPEC + REPORT_BODY})
    before = (root / REPORT).read_text(encoding="utf-8")

    started = research(root, "run", REPORT, "--detach", timeout=60)
    assert started.returncode == 0, started.stderr
    assert "running in the background, pid " in started.stdout
    pid = int(started.stdout.split("pid ", 1)[1].split()[0])
    log = started.stdout.split("log: ", 1)[1].split()[0]
    assert log.startswith(".research/logs/EXP-LIVE-") and log.endswith(".log")

    # trial b (200 epochs, seconds) has begun and finished an epoch: seen in its progress file at once,
    # then in `research status`, a new process, while b still trains
    progress = next_progress(root, lambda p: p.get("trial") == 2 and p.get("train_loss") is not None)
    assert progress["pid"] == pid and progress["stored"] == 1
    row = live_row(root)
    live = row["live"]
    assert row["status"] == "running" and live["alive"] is True
    assert (live["trial"], live["trials"], live["trial_name"], live["epochs"]) == (2, 2, "b", 200)
    assert live["pid"] == pid and live["executor"] == "local" and live["host"] and live["trials_done"] == 1
    assert isinstance(live["train_loss"], float) and isinstance(live["val_loss"], float)
    assert live["elapsed_s"] > 0 and live["eta_trial_s"] is not None and live["eta_run_s"] is not None
    assert live["log"].endswith(log)
    assert live["line"].startswith("trial 2/2 b, epoch ") and f"; pid {pid} on " in live["line"]
    # the report says it runs, and that what it shows is the previous result
    text = (root / REPORT).read_text(encoding="utf-8")
    assert "status: running" in text and "> 🔆 running since " in text and "previous result: none." in text

    # kill -9: no chance to clean up
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + DEADLINE_S
    while not pid_gone(pid):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    row = poll(root, lambda r: r["status"] == "died", "the run named dead")
    assert row["live"]["alive"] is False
    assert row["live"]["line"].startswith("died at trial 2/2 b")
    assert "ago; 1 trial stored — resume: research run research/t/exp/exp_live.md" in row["live"]["line"]
    shown = research(root, "status")
    assert "EXP-LIVE: died at trial 2/2 b" in shown.stdout and "│ died " in shown.stdout
    dead = research(root, "watch", REPORT)
    assert dead.returncode == 1 and "died at trial 2/2" in dead.stdout
    logged = research(root, "logs", REPORT)
    assert logged.returncode == 0 and "[2/2] b (new)" in logged.stdout
    assert any(line[:2].isdigit() and line[2] == ":" for line in logged.stdout.splitlines())  # timestamped

    # the resume command, in the background again; `watch` follows it to its verdict
    command = shlex.split(row["live"]["command"])
    assert command[:2] == ["research", "run"]
    resumed = research(root, *command[1:], "--detach", timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    watched = research(root, "watch", REPORT, timeout=DEADLINE_S * 2)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert watched.stdout.rstrip().splitlines()[-1].startswith("EXP-LIVE: done — verdict: pass (r2.log_g = ")
    row = live_row(root)
    assert row["status"] == "done" and row["live"] is None and row["verdict"] == "pass"
    text = (root / REPORT).read_text(encoding="utf-8")
    assert "running since" not in text and "research-running" not in text
    assert "a                        cached" in research(root, "logs", REPORT).stdout  # the stored trial was kept
    # outside the regions and the front matter's run keys, not a byte moved
    assert (
        text.split("<!-- research:summary -->")[0].split("---\n", 2)[2]
        == before.split("<!-- research:summary -->")[0].split("---\n", 2)[2]
    )


def test_detach_checks_the_spec_in_the_foreground(tmp_path, capsys, monkeypatch):
    root = git_notebook(tmp_path, {REPORT: SPEC.replace("hidden: [64]", "hiden: [64]") + REPORT_BODY})
    monkeypatch.chdir(root)
    assert main(["run", REPORT, "--detach"]) == 2
    assert "unknown parameter of the 'mlp' model" in capsys.readouterr().err
    assert not (root / ".research" / "logs").exists()


def test_watch_and_logs_of_a_report_with_no_run(tmp_path, capsys, monkeypatch):
    root = git_notebook(tmp_path, {REPORT: SPEC + REPORT_BODY})
    monkeypatch.chdir(root)
    assert main(["watch", REPORT]) == 0
    assert "EXP-LIVE: no run is going on (status planned)" in capsys.readouterr().out
    assert main(["watch"]) == 0
    assert "no run is going on in this notebook" in capsys.readouterr().out
    assert main(["logs", REPORT]) == 2
    assert "has no log: only `research run --detach` keeps one" in capsys.readouterr().err


def test_the_running_note_goes_above_the_summary_and_comes_out_leaving_every_byte():
    text = SPEC.replace("---\n", "---\nlast_run: 2026-12-01T09:12:00+01:00\n", 1) + REPORT_BODY.replace(
        "<!-- research:record -->\n<!-- /research:record -->",
        '<!-- research:record -->\n```json\n{"verdict": "pass"}\n```\n<!-- /research:record -->',
    )
    text = text.replace("\n", "\r\n")  # a Windows file keeps its line ends
    import datetime as dt

    note = running_note(text, since=dt.datetime(2026, 12, 4, 10, 31), host="box")
    assert note == (
        "> 🔆 running since 2026-12-04 10:31 on box; previous result: ✅ pass (run 2026-12-01) — shown below until "
        "this run ends. <!-- research-running -->"
    )
    marked = with_running_note(text, note)
    assert marked.index(note) < marked.index("<!-- research:summary -->")
    assert without_running_note(marked) == text


def test_the_status_line_of_a_run_and_of_a_dead_one():
    state = {
        "trial": 3,
        "trials": 5,
        "trial_name": "equal-s2",
        "epoch": 12,
        "epochs": 40,
        "train_loss": 0.4123,
        "val_loss": 0.455,
        "started": 1000.0,
        "updated": 1190.0,
        "eta_trial_s": 65,
        "eta_run_s": 360,
        "pid": 4242,
        "host": "box",
        "executor": "local",
        "stored": 2,
        "command": "research run exp.md --set train.epochs=40",
    }
    assert live_line({**state, "alive": True}, now=1190.0) == (
        "trial 3/5 equal-s2, epoch 12/40, train_loss 0.4123 val_loss 0.455; 3 min 10 s elapsed, "
        "ETA trial 1 min 5 s, run 6 min; pid 4242 on box (local)"
    )
    assert live_line({**state, "alive": False}, now=1190.0 + 14 * 60) == (
        "died at trial 3/5 equal-s2, epoch 12/40, 14 min ago; 2 trials stored — resume: "
        "research run exp.md --set train.epochs=40"
    )
