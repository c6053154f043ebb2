"""The end of a run as one transaction: every target rendered first, then written, then committed.

    with locks.end_of_run(root):
        changes = [Change(report, edit=...), Change(figure, data=...), Change(hub, edit=...)]
        written = transaction.apply(root, report, changes, message="research: …", journal={...})

By the time `apply` is called every target's new content has been computed (a hand-edited
region anywhere has already stopped the run, with nothing written). `apply` then

1. writes a journal, `.research/journal/<report>.json`: the report, the targets, the commit
   message and what the report's own edit adds (log row, status) — the commit point;
2. writes each target (figures, the report, its pages), atomically, under its lock, re-reading
   documents first so edits saved meanwhile are kept;
3. commits exactly the targets that differ from HEAD (`provenance.commit_files`);
4. removes the journal.

Killed at any instant (kill -9 included), it leaves either nothing written, or a journal: the
next `research run` in the notebook — even one where every trial is cached — takes the end
lock, finds the journal (its writer is dead: it would hold the lock), renders the report again
from the run store with the journal's log row and status, writes what differs, commits the
journal's targets and removes it. Temporary files a killed write left are removed, and a
`.git/index.lock` a killed commit left is removed when no live process holds it open.

`RESEARCH_FAULT=<point>` makes the process kill itself at a named point, for the tests that
prove this: `rendered`, `journal`, `written-<k>` (after the k-th target), `written`,
`committing` (files staged, not committed), `committed` (before the journal is removed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.notebook import paths
from engine.text import textfile

FAULT_ENV = "RESEARCH_FAULT"


def fault(point: str) -> None:
    """Kill this process at `point` when the environment asks for it (fault-injection tests)."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Change:
    """One target of the end of a run: a document edit (text → text, applied to its latest
    text under its lock) or an image's bytes."""

    path: Path
    edit: Callable[[str], str] | None = None
    data: bytes | None = None

    def apply(self) -> bool:
        if self.edit is not None:
            return textfile.update(self.path, self.edit)
        assert self.data is not None
        return textfile.replace_bytes(self.path, self.data)


# ---------------------------------------------------------------------------------------------
# The journal


def journal_dir(root: Path) -> Path:
    return paths.state_dir(root) / "journal"


def _journal_path(root: Path, report: Path) -> Path:
    from engine.notebook.store import digest

    return journal_dir(root) / f"{digest(os.path.normpath(textfile.real_path(report)))}.json"


@dataclass(frozen=True)
class Journal:
    """An end of a run in progress (or left unfinished by a killed run)."""

    path: Path
    report: Path
    targets: list[Path]
    message: str
    extra: dict[str, Any]
    phase: str

    @classmethod
    def read(cls, path: Path) -> "Journal | None":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path,
                Path(data["report"]),
                [Path(p) for p in data["targets"]],
                str(data["message"]),
                dict(data.get("extra") or {}),
                str(data.get("phase", "writing")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def pending(root: Path) -> list[Journal]:
    """The unfinished ends of killed runs (call with the end lock held: then their writers are dead)."""
    folder = root / paths.STATE_DIR / "journal"
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        journal = Journal.read(path)
        if journal is None:  # unreadable: a killed write of the journal itself, before anything else
            path.unlink(missing_ok=True)
            continue
        found.append(journal)
    return found


def pending_for(root: Path, report: Path) -> Journal | None:
    path = _journal_path(root, report)
    return Journal.read(path) if path.is_file() else None


def _write_journal(
    root: Path, report: Path, targets: Sequence[Path], message: str, extra: Mapping[str, Any], phase: str
) -> Path:
    path = _journal_path(root, report)
    data = {
        "report": str(report),
        "targets": [str(t) for t in targets],
        "message": message,
        "extra": dict(extra),
        "phase": phase,
        "pid": os.getpid(),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    textfile.atomic_write(path, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
    return path


# ---------------------------------------------------------------------------------------------
# Applying


def apply(
    root: Path,
    report: Path,
    changes: Sequence[Change],
    *,
    message: str,
    extra: Mapping[str, Any] | None = None,
    commit: bool = True,
    also_commit: Iterable[Path] = (),
    say: Callable[[str], None] = print,
) -> tuple[list[Path], str | None]:
    """Write every change, commit them (and `also_commit`: a replayed journal's targets), remove
    the journal; (the paths written, the commit sha or None). Call with the end lock held."""
    fault("rendered")
    targets = [c.path for c in changes]
    committed_too = [Path(p) for p in also_commit]
    journal = _write_journal(root, report, [*targets, *committed_too], message, extra or {}, "writing")
    fault("journal")
    written = []
    for number, change in enumerate(changes, start=1):
        _clean_temp_files(change.path)
        if change.apply():
            written.append(change.path)
        fault(f"written-{number}")
    fault("written")
    sha = None
    if commit:
        _write_journal(root, report, [*targets, *committed_too], message, extra or {}, "committing")
        sha = commit_paths(root, [*targets, *committed_too], message, say=say)
        fault("committed")
    journal.unlink(missing_ok=True)
    return written, sha


def discard(journal: Journal) -> None:
    journal.path.unlink(missing_ok=True)


def _clean_temp_files(path: Path) -> None:
    for stale in textfile.temp_files(path):
        try:
            stale.unlink()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Committing, with a killed commit's index.lock recovered


def commit_paths(
    root: Path, targets: Sequence[Path], message: str, *, say: Callable[[str], None] = print
) -> str | None:
    """Commit the targets that differ from HEAD (none: no commit, no error); the new sha or None."""
    from engine.run.provenance import commit_files, repository_root

    repo = repository_root(root)
    if repo is None:
        # a notebook outside git is fine, but a user who expects the commit must learn it did not happen
        if any(Path(t).exists() for t in targets):
            say(
                f"not committed: {root} is not inside a git repository "
                f"(`git init {root}` to keep each run's files and provenance in history; --no-commit to silence this)"
            )
        return None
    inside = [t for t in dict.fromkeys(targets) if _inside(repo, t) and Path(t).exists()]
    if not inside:
        return None
    recover_index_lock(repo, say=say)
    return commit_files(inside, message, cwd=root, staged=lambda: fault("committing"))


def _inside(repo: Path, path: Path) -> bool:
    try:
        textfile.real_path(path).relative_to(repo.resolve())
        return True
    except ValueError:
        return False


def recover_index_lock(repo: Path, *, say: Callable[[str], None] = print, wait_s: float = 10.0) -> None:
    """A `.git/index.lock` blocks every commit. One held open by a live process (a git at work)
    is waited for; one nobody holds, left by a killed commit, is removed."""
    import time

    lock = repo / ".git" / "index.lock"
    deadline = time.monotonic() + wait_s
    while lock.exists():
        if _held_open(lock):
            if time.monotonic() > deadline:
                from engine.errors import LockedError

                raise LockedError(
                    "a git process holds .git/index.lock", path=lock, hint="wait for it to finish, then run again"
                )
            time.sleep(0.1)
            continue
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            return
        if age < 1.0:  # a git that has just made it and not yet opened it: give it a moment
            time.sleep(0.2)
            continue
        say(f"removing {lock}: left by a commit that was killed (no process holds it)")
        lock.unlink(missing_ok=True)


def _held_open(lock: Path) -> bool:
    """True when some process has `lock` open, or a git process works in its repository (git
    closes the lock while a hook runs) — Linux: /proc; elsewhere, assume it is held."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    target = str(lock.resolve())
    work_tree = str(lock.resolve().parent.parent)
    for pid in proc.iterdir():
        if not pid.name.isdigit() or pid.name == str(os.getpid()):
            continue
        try:
            if (pid / "comm").read_text().strip() == "git":
                cwd = os.readlink(pid / "cwd")
                if cwd == work_tree or cwd.startswith(work_tree + os.sep):
                    return True
        except OSError:
            pass
        try:
            for fd in (pid / "fd").iterdir():
                try:
                    if os.readlink(fd) == target:
                        return True
                except OSError:
                    continue
        except OSError:
            continue
    return False
