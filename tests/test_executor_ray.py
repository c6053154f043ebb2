"""`--executor ray`: real Ray runs a sweep with the same results as the local executor.

A 4-trial sweep (one trial meant to fail) on Ray, then the same sweep locally in another notebook:
the numbers agree bit for bit, the failure is reported like a local one, and a local re-run of the
Ray notebook is all cache hits. Twice: on a local instance of the run's own (started while
another cluster runs on the machine, which it must not join), and on a cluster started with
`ray start --head` (`ray_cluster`, one per test session), joined with `--address`; a client
without the cluster's token is told what to set.

A trial on Ray is heard while it trains: a 150-epoch mlp's epochs reach the run's progress file
(`research status`'s `live`) with their losses before it ends, and the run's log gets its lines in
order, named by the trial; with its mailbox gone, the trial still succeeds and its log comes whole
with its result.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

from conftest import RAY_ENV

from engine.cli import main
from engine.notebook import record
from engine.text import document

PLUGIN = """\
import numpy as np


class Shifted:
    def __init__(self, params, train, targets):
        self.params, self.targets = params, list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        if self.params.get("fail"):
            raise RuntimeError("this trial is meant to fail")
        x, y = train.arrays()
        self.coef = np.linalg.lstsq(x[:, ::64].astype(np.float64), y - y.mean(axis=0), rcond=None)[0]
        self.mean = y.mean(axis=0) + self.params.get("shift", 0.0)
        log(f"fitted on {len(y)} spectra")

    def predict(self, split):
        x, _ = split.arrays()
        return x[:, ::64].astype(np.float64) @ self.coef + self.mean


def make(params, train, targets):
    return Shifted(params, train, targets)
"""

REPORT = """\
---
id: EXP-RAY
title: a sweep on Ray
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
noise: {level: 1.0, seed: 42}
model: {type: "shifted:make"}
trials:
  a: {model.shift: 0.0}
  b: {model.shift: 0.1}
  c: {model.shift: 0.2}
  broken: {model.fail: true}
metrics: [r2.log_g, mae.log_g]
---
# sweep

<!-- research:results -->
<!-- /research:results -->

<!-- research:record -->
<!-- /research:record -->
"""


def notebook(root: Path) -> Path:
    (root / ".research").mkdir(parents=True)
    (root / "shifted.py").write_text(PLUGIN, encoding="utf-8")
    report = root / "exp.md"
    report.write_text(REPORT, encoding="utf-8")
    return report


pytestmark = pytest.mark.xdist_group("ray")  # one worker, one `ray start --head` (make test: --dist loadgroup)
RESEARCH = str(Path(sys.executable).with_name("research"))


def test_a_ray_sweep_equals_the_local_one_and_shares_the_cache(tmp_path, monkeypatch, capsys, ray_cluster):
    ray_nb, local_nb = tmp_path / "ray", tmp_path / "local"
    ray_report, local_report = notebook(ray_nb), notebook(local_nb)
    monkeypatch.chdir(ray_nb)
    monkeypatch.delitem(sys.modules, "shifted", raising=False)
    assert main(["run", str(ray_report), "--executor", "ray", "--no-commit"]) == 1  # one trial failed
    out = capsys.readouterr().out
    assert "ray: 4 trials on a local Ray instance" in out
    assert "failed: RuntimeError: this trial is meant to fail" in out
    ray_record = record.parse(ray_report.read_text(encoding="utf-8"))

    monkeypatch.chdir(local_nb)
    monkeypatch.delitem(sys.modules, "shifted", raising=False)
    assert main(["run", str(local_report), "--no-commit"]) == 1
    capsys.readouterr()
    local_record = record.parse(local_report.read_text(encoding="utf-8"))

    assert [t["metrics"] for t in ray_record["trials"]] == [t["metrics"] for t in local_record["trials"]]
    assert [t["metrics"] is None for t in ray_record["trials"]] == [False, False, False, True]
    ray_runs = {
        p.parent.name: json.loads(p.read_text())["metrics"] for p in (ray_nb / ".research/runs").rglob("record.json")
    }
    local_runs = {
        p.parent.name: json.loads(p.read_text())["metrics"] for p in (local_nb / ".research/runs").rglob("record.json")
    }
    assert ray_runs == local_runs and len(ray_runs) == 3  # same keys, same numbers, bit for bit

    monkeypatch.chdir(ray_nb)
    assert (
        main(["run", str(ray_report), "--no-commit", "--trial", "a", "--trial", "b", "--trial", "c", "--dry-run"]) == 0
    )
    plan = capsys.readouterr().out
    assert plan.count("cached") == 3  # the Ray run's results serve the local executor
    assert document.regions(ray_report.read_text(encoding="utf-8"))["results"].body.count("failed") == 2


def _stored(root: Path) -> dict:
    return {p.parent.name: json.loads(p.read_text())["metrics"] for p in (root / ".research/runs").rglob("record.json")}


def test_a_sweep_on_a_started_cluster_equals_the_local_one(tmp_path, ray_cluster):
    ray_nb, local_nb = tmp_path / "ray", tmp_path / "local"
    ray_report, local_report = notebook(ray_nb), notebook(local_nb)
    env = {**os.environ, **RAY_ENV}
    on_ray = subprocess.run(
        [RESEARCH, "run", str(ray_report), "--executor", "ray", "--address", ray_cluster, "--no-commit"],
        cwd=ray_nb,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert on_ray.returncode == 1, on_ray.stdout + on_ray.stderr  # one trial is meant to fail
    assert f"ray: 4 trials on {ray_cluster}" in on_ray.stdout
    here = subprocess.run(
        [RESEARCH, "run", str(local_report), "--no-commit"], cwd=local_nb, capture_output=True, text=True, timeout=300
    )
    assert here.returncode == 1, here.stdout + here.stderr
    assert _stored(ray_nb) == _stored(local_nb) and len(_stored(ray_nb)) == 3


@pytest.mark.slow  # ~20 s of Ray's own retries before it gives up: `make test-all`
def test_a_client_without_the_clusters_token_is_told_what_to_set(tmp_path, ray_cluster):
    report = notebook(tmp_path / "nb")
    before = report.read_bytes()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")}
    refused = subprocess.run(
        [RESEARCH, "run", str(report), "--executor", "ray", "--address", ray_cluster, "--no-commit"],
        cwd=tmp_path / "nb",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "RAY_AUTH_MODE=token" in refused.stderr and "Traceback" not in refused.stderr
    assert report.read_text(encoding="utf-8") == before.decode()


LIVE_REPORT = """\
---
id: EXP-RAY-LIVE
title: a trial's epochs, heard while it trains on Ray
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
noise: {level: 1.0, seed: 42}
model: {type: mlp, hidden: [32]}
train: {epochs: 150, batch_size: 32, seed: 1, device: cpu}
trials:
  a: {}
metrics: [r2.log_g]
---
# one trial

<!-- research:results -->
<!-- /research:results -->

<!-- research:record -->
<!-- /research:record -->
"""


def _epoch_lines(out: str, trial: str) -> list[int]:
    """The epochs of `trial` the run's log said, in its order: `    [a] epoch 3/150 train_loss …`."""
    from engine.progress import parse_epoch_line

    said = [
        parse_epoch_line(line.split(f"[{trial}] ", 1)[1]) for line in out.splitlines() if f"[{trial}] epoch " in line
    ]
    return [found["epoch"] for found in said if found is not None]


def _live_notebook(root: Path) -> Path:
    (root / ".research").mkdir(parents=True)
    report = root / "exp.md"
    report.write_text(LIVE_REPORT, encoding="utf-8")
    return report


def test_a_ray_trials_epochs_reach_the_progress_file_while_it_trains(tmp_path, monkeypatch, capsys):
    import threading
    import time

    from engine.browse.status import rows
    from engine.notebook.locks import LiveRun
    from engine.progress import parse_epoch_line

    root = tmp_path / "nb"
    report = _live_notebook(root)
    monkeypatch.chdir(root)

    # what the run's progress made of each epoch line it was told, and how many trials were done then
    heard: list[tuple[dict, int]] = []
    told = LiveRun.line

    def line(self, text: str) -> None:
        told(self, text)
        if parse_epoch_line(text) is not None:
            fields = {k: self.state[k] for k in ("epoch", "epochs", "train_loss", "val_loss")}
            heard.append((fields, self.state["trials_done"]))

    monkeypatch.setattr(LiveRun, "line", line)
    shown: list[dict] = []  # `research status --json`'s `live`, read while the run goes on
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            shown.extend(row["live"] for row in rows(root) if row["live"] is not None)
            time.sleep(0.05)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert main(["run", str(report), "--executor", "ray", "--no-commit"]) == 0
    finally:
        stop.set()
        reader.join(timeout=30)
    out = capsys.readouterr().out

    # every epoch reached the run's progress, with its losses, in order, before the trial ended
    assert [state["epoch"] for state, _ in heard] == list(range(1, 151))
    assert all(state["epochs"] == 150 and isinstance(state["train_loss"], float) for state, _ in heard)
    assert all(isinstance(state["val_loss"], float) and done == 0 for state, done in heard)
    # and the file showed them while the trial trained: losses with no trial done yet
    training = [live for live in shown if live["trials_done"] == 0 and live["train_loss"] is not None]
    assert training, f"the progress file never showed a loss while the trial trained: {shown[-3:]}"
    assert all(live["executor"] == "ray" and live["epochs"] == 150 and 1 <= live["epoch"] <= 150 for live in training)
    assert all(live["trial_name"] == "a" for live in training)  # named by the trial its epochs are of
    assert isinstance(training[0]["val_loss"], float) and "epoch " in training[0]["line"]
    # the run's log: each epoch line once, named by its trial, in order, said before the trial ended
    assert _epoch_lines(out, "a") == list(range(1, 151))
    assert out.index("[a] epoch 150/150") < out.index("[1/1] a (new) — ray task done")
    assert out.count("[a] done in ") == 1


def test_a_ray_trial_that_cannot_reach_the_driver_still_succeeds_and_logs_every_line(tmp_path, monkeypatch, capsys):
    import ray

    from engine.notebook.locks import LiveRun
    from engine.run import relay

    root = tmp_path / "nb"
    report = _live_notebook(root)
    monkeypatch.chdir(root)
    opened = relay.open_mailbox

    def unreachable():  # the mailbox is gone before any worker posts to it, or the driver reads it
        mailbox = opened()
        ray.kill(mailbox)
        return mailbox

    monkeypatch.setattr(relay, "open_mailbox", unreachable)
    heard: list[str] = []
    told = LiveRun.line

    def line(self, text: str) -> None:
        heard.append(text)
        told(self, text)

    monkeypatch.setattr(LiveRun, "line", line)

    assert main(["run", str(report), "--executor", "ray", "--no-commit", "--set", "train.epochs=5"]) == 0
    out = capsys.readouterr().out
    assert heard == []  # progress lost
    assert _epoch_lines(out, "a") == [1, 2, 3, 4, 5]  # the log whole, from the trial's result, after it ended
    assert out.index("[1/1] a (new) — ray task done") < out.index("[a] epoch 1/5") < out.index("[a] done in ")
    assert len(_stored(root)) == 1
