"""`--executor ray`: real Ray runs a sweep with the same results as the local executor.

A 4-trial sweep (one trial meant to fail) on Ray, then the same sweep locally in another notebook:
the numbers agree bit for bit, the failure is reported like a local one, and a local re-run of the
Ray notebook is all cache hits. Twice: on a local instance of the run's own (started while
another cluster runs on the machine, which it must not join), and on a cluster started with
`ray start --head` (`ray_cluster`, one per test session), joined with `--address`; a client
without the cluster's token is told what to set.
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
