"""The locks of a notebook: one per running report, one for the end of every run.

Both are OS file locks (`filelock`, fcntl on Linux) under `.research/locks/`: the kernel drops
them when their process dies, however it dies, so a lock that can be taken means nobody holds
it — no pid files to go stale.

* **A live run** of a report holds `run-<id>.lock` from its first write to its last. `research
  check` takes it to tell a report left `running` by a killed run from one that is running now.
  Beside the lock the run keeps its progress, `run-<id>.json` (`LiveRun`): which trial, which
  epoch, the last losses, elapsed time and ETAs, host, PID and executor — what `research status`
  and `research watch` show. The run removes it when it ends, however it ends in Python; a run
  killed outright (`kill -9`, a power cut) leaves it behind with its lock free: that is how a
  dead run is told from a live one and named with where it stopped (`live_runs`).
* **The end of a run** (render every target, write, commit) holds `end.lock`: two runs in one
  notebook take turns there, so their commits never race, and the journal of an unfinished end
  (see `engine.run.transaction`) is only ever read by the one process that may finish it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.notebook import paths

END_WAIT_S = 600.0


def _folder(root: Path) -> Path:
    folder = paths.state_dir(root) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run_name(report_id: str) -> str:
    return "run-" + hashlib.sha256(report_id.encode()).hexdigest()[:16]


def _run_lock(root: Path, report_id: str):
    from filelock import FileLock

    return FileLock(str(_folder(root) / f"{_run_name(report_id)}.lock"))


def progress_file(root: Path, report_id: str) -> Path:
    """Where a run of `report_id` keeps its progress: beside its lock, named like it."""
    return root / paths.STATE_DIR / "locks" / f"{_run_name(report_id)}.json"


class LiveRun:
    """The progress of one run of a report, kept current in its progress file.

    Every write replaces the whole file atomically (a reader never sees half of it), and writes
    are at most one a second (`every_s`) unless a trial begins or ends, so a run of 10 ms epochs
    does not spend its time on fsync. Fields: `id`, `report`, `pid`, `host`, `executor`,
    `command` (what resumes the run: the same command, its finished trials cached), `log`,
    `started`, `updated` (epoch seconds), `trials` (n: the trials this run trains), `trial` (i,
    1-based, of the one training now; None on Ray, where several train at once), `trial_name`,
    `trials_done`, `stored` (the report's trials in the run store now, cached ones included),
    `epoch` and `epochs` (the last epoch begun, of how many), `train_loss`, `val_loss` (of the
    last epoch finished), `elapsed_s`, `eta_trial_s`, `eta_run_s`. On Ray the epochs are heard
    from the workers (`engine.run.relay`): those of whichever trial was heard last.

    ETAs, when there is something to go on: a trial's is its mean epoch time so far times the
    epochs left (an early stop ends it sooner); the run's is the current trial's ETA plus, for
    each trial not begun, the mean wall time of the trials finished in this run — or, before any
    has finished, the current trial's projected length (its elapsed time plus its ETA). Trials of
    one report are alike (seeds and sweeps of one spec), so the mean is a fair guess; it is not
    a promise.
    """

    def __init__(self, file: Path, fields: Mapping[str, Any], *, every_s: float = 1.0) -> None:
        self.file, self.every_s = file, every_s
        now = time.time()
        self.state: dict[str, Any] = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": now,
            "updated": now,
            "trials": 0,
            "trial": None,
            "trial_name": None,
            "trials_done": 0,
            "stored": None,
            "epoch": None,
            "epochs": None,
            "train_loss": None,
            "val_loss": None,
            "elapsed_s": 0.0,
            "eta_trial_s": None,
            "eta_run_s": None,
            **fields,
        }
        self._trial_began = now
        self._epoch_seconds: list[float] = []
        self._trial_walls: list[float] = []
        self._written = 0.0

    def update(self, **fields: Any) -> None:
        """Set run-wide fields (the number of trials, how many are stored) and write."""
        self.state.update(fields)
        self.write(force=True)

    def trial(self, number: int | None, name: str | None) -> None:
        """Trial `number` (of `trials`) begins."""
        self._trial_began = time.time()
        self._epoch_seconds = []
        self.state.update(
            trial=number, trial_name=name, epoch=None, epochs=None, train_loss=None, val_loss=None, eta_trial_s=None
        )
        self.write(force=True)

    def trial_done(self, *, stored: int | None = None) -> None:
        """A trial ended (stored or failed)."""
        self._trial_walls.append(time.time() - self._trial_began)
        self.state["trials_done"] += 1
        if stored is not None:
            self.state["stored"] = stored
        self.state.update(eta_trial_s=None)
        self.write(force=True)

    def heard_from(self, name: str) -> None:
        """On Ray several trials train at once, and their epochs arrive interleaved: the live line
        names the trial its epoch and losses are of, the one heard from last."""
        self.state["trial_name"] = name

    def task(self, description: str, total: float | None = None) -> None:
        """A progress bar begins (`engine.progress.Progress` tells us): `epoch 4/10` is an epoch begun."""
        from engine.progress import parse_epoch

        begun = parse_epoch(description)
        if begun is not None:
            self.state.update(epoch=begun[0], epochs=begun[1])
            self.write()

    def line(self, text: str) -> None:
        """A line of the run's log: an epoch's summary line (`engine.progress.epoch_line`) carries
        its losses and time."""
        from engine.progress import parse_epoch_line

        done = parse_epoch_line(text)
        if done is None:
            return
        if self.state.get("epoch") is not None and done["epoch"] < self.state["epoch"]:
            self._epoch_seconds = []  # a new training within the trial (another seed of a repeated trial)
        self._epoch_seconds.append(done["seconds"])
        self.state.update(
            epoch=done["epoch"], epochs=done["epochs"], train_loss=done["train_loss"], val_loss=done["val_loss"]
        )
        mean = sum(self._epoch_seconds) / len(self._epoch_seconds)
        self.state["eta_trial_s"] = round(mean * (done["epochs"] - done["epoch"]), 1)
        self.write()

    def _eta_run(self, now: float) -> float | None:
        left = self.state["trials"] - self.state["trials_done"]
        if left <= 0:
            return 0.0
        current = self.state.get("eta_trial_s")
        if self._trial_walls:
            mean = sum(self._trial_walls) / len(self._trial_walls)
            return round((current if current is not None else mean) + (left - 1) * mean, 1)
        if current is None:
            return None
        return round(current + (left - 1) * (now - self._trial_began + current), 1)

    def write(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._written < self.every_s:
            return
        self.state.update(updated=now, elapsed_s=round(now - self.state["started"], 1), eta_run_s=self._eta_run(now))
        from engine.text import textfile

        textfile.atomic_write(self.file, (json.dumps(self.state, ensure_ascii=False, indent=1) + "\n").encode())
        self._written = now


@contextlib.contextmanager
def live_run(
    root: Path, report_id: str, *, say: Callable[[str], None] | None = None, **fields: Any
) -> Iterator[LiveRun]:
    """Hold the report's run lock — a second run of the same report waits here, and says so —
    and keep its progress file (`LiveRun`, with `fields`) while it is held; removed before the
    lock is let go, so a progress file with a free lock is always a run that died."""
    from filelock import Timeout

    lock = _run_lock(root, report_id)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if say is not None:
            say(f"waiting for another `research run` of {report_id} to finish…")
        lock.acquire()
    live = LiveRun(progress_file(root, report_id), {"id": report_id, **fields})
    try:
        live.write(force=True)
        yield live
    finally:
        try:
            live.file.unlink(missing_ok=True)
        finally:
            lock.release()


def live_runs(root: Path) -> dict[str, dict[str, Any]]:
    """Report id → the progress of its run, for every run that is going on or died: `alive`
    True while its process holds the lock; False when the lock is free but the progress file is
    still there (the process was killed before it could remove it)."""
    folder = root / paths.STATE_DIR / "locks"
    found: dict[str, dict[str, Any]] = {}
    from filelock import FileLock

    for file in sorted(folder.glob("run-*.json")) if folder.is_dir() else ():
        try:
            state = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # removed as we read it (the run just ended)
            continue
        if not isinstance(state, dict) or not isinstance(state.get("id"), str):
            continue
        alive = _held(FileLock(str(file.with_suffix(".lock"))))
        if not alive and not file.exists():  # it ended between the read and the lock's test
            continue
        found[state["id"]] = {**state, "alive": alive}
    return found


def is_running(root: Path, report_id: str) -> bool:
    """True when a live process runs this report now."""
    if not (root / paths.STATE_DIR / "locks").is_dir():
        return False
    return _held(_run_lock(root, report_id))


def any_running(root: Path) -> bool:
    """True when a live process runs any report of the notebook now."""
    from filelock import FileLock

    folder = root / paths.STATE_DIR / "locks"
    return any(_held(FileLock(str(path))) for path in (sorted(folder.glob("run-*.lock")) if folder.is_dir() else ()))


def _held(lock) -> bool:
    """True when another process holds `lock` (a run's lock is held for as long as it runs)."""
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


@contextlib.contextmanager
def end_of_run(root: Path, *, say: Callable[[str], None] | None = None, timeout: float = END_WAIT_S) -> Iterator[None]:
    """Hold the notebook's end-of-run lock; say so when another run holds it and we wait."""
    from filelock import FileLock, Timeout

    from engine.errors import LockedError

    lock = FileLock(str(_folder(root) / "end.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if say is not None:
            say("waiting for another `research run` in this notebook to finish writing and committing…")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LockedError(
                f"another `research run` has been writing this notebook for {timeout:g} s",
                path=root,
                hint="wait for it to finish, or stop it",
            ) from None
    try:
        yield
    finally:
        lock.release()
