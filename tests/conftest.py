import os
import shutil
from pathlib import Path

# One pytest-xdist worker per core: each worker's BLAS and torch keep to one thread, or two workers
# on two cores run four threads and the MoE example test takes 85 s instead of 19 s (measured).
# Set before numpy or torch is imported, and inherited by the runs and Ray workers a test starts.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_EXAMPLES = ROOT.parent / "shared" / "examples"


@pytest.fixture
def one_torch_thread():
    """Tiny nets gain nothing from two threads, and on a busy 2-core CI runner two threads can be
    20x slower than one (measured); the numbers do not depend on it. A module that trains nets
    opts in with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def report_body(*regions: str, title: str = "report", before: str = "", after: str = "", log: bool = False) -> str:
    """A report's body, for under a test's front matter: its title, the user's words, the named
    regions empty, the log (with its header) when asked, the run record, then the user's last words."""
    parts = [f"# {title}\n", *([before] if before else [])]
    parts += [f"<!-- research:{name} -->\n<!-- /research:{name} -->\n" for name in regions]
    if log:
        parts.append("<!-- research:log -->\n| 时间 | 事件 | 提交 |\n|---|---|---|\n<!-- /research:log -->\n")
    parts += ["<!-- research:record -->\n<!-- /research:record -->\n", *([after] if after else [])]
    return "\n".join(parts)


#: The owned regions of a report, empty: what a test report's front matter goes on top of.
REPORT_BODY = "\n" + report_body("summary", "hypotheses", "key-numbers", "results", log=True)


def git(root, *args) -> str:
    """`git ARGS` in `root`; its output (a failure raises, with git's own message)."""
    import subprocess

    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def git_notebook(root, files: dict) -> Path:
    """A git notebook at `root` holding `files` (path → text), committed."""
    root = Path(root)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    for command in (
        ["init", "-q"],
        ["config", "user.email", "tester@example.com"],
        ["config", "user.name", "tester"],
        ["add", "-A"],
        ["commit", "-qm", "notebook"],
    ):
        git(root, *command)
    return root


# A model of the notebook's own (`seeded:make`, written as seeded.py) whose numbers move with its
# seed as a net's do, but by numpy's generator: the same bits on every CPU, so a test can say which
# verdict given seeds give. `skill: false` predicts the training mean; `noise` scales the seed's shift.
SEEDED_PLUGIN = '''\
import numpy as np


class Seeded:
    """A ridge on 16 binned pixel means whose predictions a seed shifts by noise × sd(y) ·
    N(0, 1), as a net's initialisation and batch order move its numbers."""

    def __init__(self, params, train, targets):
        self.params, self.targets, self.seed = params, list(targets), int(train.get("seed") or 0)

    def _features(self, split):
        x, _ = split.arrays()
        binned = x.reshape(len(x), 16, -1).mean(axis=2)
        return np.hstack([binned, np.ones((len(x), 1))])

    def fit(self, train, val=None, *, log=print, progress=None):
        y = train.labels(self.targets)
        self.mean = y.mean(axis=0)
        self.coef = None
        if self.params.get("skill", True):
            x = self._features(train)
            self.coef = np.linalg.solve(x.T @ x + 1e-3 * len(x) * np.eye(x.shape[1]), x.T @ y)
        noise = float(self.params.get("noise", 0.0))
        self.shift = noise * y.std(axis=0) * np.random.default_rng(self.seed).standard_normal(y.shape[1])

    def predict(self, split):
        base = np.tile(self.mean, (len(split), 1)) if self.coef is None else self._features(split) @ self.coef
        return base + self.shift


def make(params, train, targets):
    return Seeded(params, train, targets)
'''


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """An empty notebook folder, made the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def shared_example(tmp_path):
    """A copy of one of the user's real documents from ../shared/examples (skipped when absent)."""

    def copy(name: str) -> Path:
        source = SHARED_EXAMPLES / name
        if not source.is_file():
            pytest.skip(f"{source} is not here (../shared is absent)")
        target = tmp_path / name
        shutil.copyfile(source, target)
        return target

    return copy


# ---------------------------------------------------------------------------------------------
# A small git notebook: one report of two Ridge trials on synthetic spectra, a hub, a kanban.
# Ridge keeps it fast (no torch); the run store and synthetic cache are made once per session
# and copied, so a test starts with every trial stored but the report not yet rendered.

NOTEBOOK_REPORT = """\
---
id: EXP-NB
title: ridge on a small set
status: planned
hub: ../../../hubs/hub.md
kanban: ../../../hubs/kanban.md
answers: [Q1.1]
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
trials:
  base: {model.alpha: 1.0e+6}
  cand: {}
metrics: [r2.log_g, mae.log_g]
figures:
  - {kind: bar, file: img/bar.png}
decision:
  baseline: base
  rules:
    - when: best.r2.log_g > baseline.r2.log_g
      verdict: pass
      says: "ridge reaches R² {{ best.r2.log_g }}"
    - otherwise: fail
      says: "ridge does not beat the baseline"
key_numbers:
  - {label: cand log g R², value: trials.cand.r2.log_g}
---
# A small ridge experiment

用户写的前言。

<!-- research:summary -->
<!-- /research:summary -->

<!-- research:key-numbers -->
<!-- /research:key-numbers -->

<!-- research:results -->
<!-- /research:results -->

<!-- research:figures -->
<!-- /research:figures -->

<!-- research:log -->
| 时间 | 事件 | 提交 |
|---|---|---|
<!-- /research:log -->

<!-- research:record -->
<!-- /research:record -->
"""

NOTEBOOK_HUB = """\
# Hub

```
Q1: does ridge work? → ⏳
├── Q1.1: does it beat a heavy penalty? → ⏳ MVP-1
```

<!-- research:leaderboard -->
<!-- /research:leaderboard -->

<!-- research:changelog -->
| 日期 | 事件 |
|---|---|
<!-- /research:changelog -->
"""

NOTEBOOK_KANBAN = "# Kanban\n\n<!-- research:board -->\n<!-- /research:board -->\n"
REPORT_PATH = "research/nb/exp/exp_nb.md"


@pytest.fixture(scope="session")
def _template_notebook(tmp_path_factory):
    from engine.cli import main

    root = tmp_path_factory.mktemp("template") / "nb"
    (root / "research/nb/exp").mkdir(parents=True)
    (root / "hubs").mkdir()
    (root / REPORT_PATH).write_text(NOTEBOOK_REPORT, encoding="utf-8")
    (root / "hubs/hub.md").write_text(NOTEBOOK_HUB, encoding="utf-8")
    (root / "hubs/kanban.md").write_text(NOTEBOOK_KANBAN, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "config", "user.email", "tester@example.com")
    git(root, "config", "user.name", "tester")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notebook")
    assert main(["run", str(root / REPORT_PATH), "--no-commit"]) == 0  # fills the run store and the cache
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-qfd", "research", "hubs")
    shutil.rmtree(root / ".research" / "reports")
    return root


@pytest.fixture
def small_notebook(_template_notebook, tmp_path, monkeypatch):
    """(root, report path): a copy of the template notebook, every trial stored, nothing rendered."""
    root = tmp_path / "nb"
    shutil.copytree(_template_notebook, root, symlinks=True)
    for leftover in ("locks", "journal"):
        shutil.rmtree(root / ".research" / leftover, ignore_errors=True)
    monkeypatch.chdir(root)
    return root, root / REPORT_PATH


def tree_digest(root) -> dict:
    """Every file of the notebook (but .git and .research) with a hash of its bytes."""
    import hashlib
    from pathlib import Path

    out = {}
    for path in sorted(Path(root).rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and parts[0] not in (".git", ".research"):
            out[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session")
def ray_cluster():
    """A real cluster, `ray start --head` on 127.0.0.1, started once for the Ray tests (they share
    one xdist group, so one worker runs them all) and stopped by its own process group — never
    `ray stop`, which would stop every cluster of the machine. Ray ≥ 2.59 gives such a cluster
    token authentication: a client joins it with RAY_AUTH_MODE=token (`RAY_ENV`)."""
    import signal
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    pytest.importorskip("ray")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # Ray's socket paths must stay short
    log = open(Path(temp) / "head.log", "w")  # closed at teardown
    head = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ray")),
            *("start", "--head", "--block", "--port", str(port), "--node-ip-address", "127.0.0.1"),
            *("--num-cpus", "2", "--include-dashboard", "false", "--temp-dir", temp, "--disable-usage-stats"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("ray start --head did not come up:\n" + (Path(temp) / "head.log").read_text()[-2000:])
            time.sleep(0.5)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # Ray drains for up to 30 s after a SIGTERM: a test cluster need not
        try:
            head.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)  # the head's processes, all of them in its session
        except ProcessLookupError:
            pass
        head.wait()
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


#: What a client of `ray_cluster` runs with.
RAY_ENV = {"RAY_AUTH_MODE": "token"}


#: the tiny notebook's shard, as a report under research/<topic>/exp/ names it
TINY_DATA = "../../../data/shard_0/dataset.h5"
#: a tiny notebook report's base spec: a ridge on 400 of the shard's spectra, one cpu epoch for nets
TINY_BASE = f"""
data: {{source: {TINY_DATA}, n_train: 400, n_test: 100, targets: [log_g]}}
noise: {{level: 1.0, seed: 42}}
model: {{type: ridge, alpha: 10.0}}
train: {{epochs: 1, batch_size: 64, seed: 1, device: cpu}}
"""


@pytest.fixture(scope="session")
def shards_512(tmp_path_factory):
    """1,600 synthetic spectra of 512 pixels in one shard: the data of the tiny notebooks whose
    reports train real nets in seconds (made once per session, copied into each notebook)."""
    from engine.data import synth

    folder = tmp_path_factory.mktemp("shards") / "data"
    synth.write_shards(folder, 1600, n_pixels=512, seed=2)
    return folder


@pytest.fixture
def tiny_nb(tmp_path, shards_512, monkeypatch):
    """An empty notebook (not a git repository) with the 512-pixel shards under data/
    (`../../../data/shard_0/dataset.h5` from research/<topic>/exp/)."""
    import shutil

    root = tmp_path / "nb"
    (root / ".research").mkdir(parents=True)
    shutil.copytree(shards_512, root / "data")
    monkeypatch.chdir(root)
    return root


def spec_report(
    root: Path, rel: str, front: str, *, status: str = "planned", regions: tuple[str, ...] = ("results", "record")
) -> Path:
    """A report at `rel` with this front matter and these (empty) regions, nothing else."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    name = Path(rel).stem
    body = "".join(f"<!-- research:{r} -->\n<!-- /research:{r} -->\n\n" for r in regions)
    path.write_text(
        f"---\nid: EXP-{name}\ntitle: {name}\nstatus: {status}\n{front.strip()}\n---\n# {name}\n\n{body}",
        encoding="utf-8",
    )
    return path
