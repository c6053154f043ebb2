"""The locks of a notebook: one per running report, one for the end of every run.

Both are OS file locks (`filelock`, fcntl on Linux) under `.research/locks/`: the kernel drops
them when their process dies, however it dies, so a lock that can be taken means nobody holds
it — no pid files to go stale.

* **A live run** of a report holds `run-<id>.lock` from its first write to its last. `research
  check` takes it to tell a report left `running` by a killed run from one that is running now.
* **The end of a run** (render every target, write, commit) holds `end.lock`: two runs in one
  notebook take turns there, so their commits never race, and the journal of an unfinished end
  (see `engine.run.transaction`) is only ever read by the one process that may finish it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.notebook import paths

END_WAIT_S = 600.0


def _folder(root: Path) -> Path:
    folder = paths.state_dir(root) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _run_lock(root: Path, report_id: str):
    from filelock import FileLock

    name = hashlib.sha256(report_id.encode()).hexdigest()[:16]
    return FileLock(str(_folder(root) / f"run-{name}.lock"))


@contextlib.contextmanager
def live_run(root: Path, report_id: str, *, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the report's run lock: a second run of the same report waits here, and says so."""
    from filelock import Timeout

    lock = _run_lock(root, report_id)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if say is not None:
            say(f"waiting for another `research run` of {report_id} to finish…")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


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
