"""Provenance: what code, data and machine produced a number, and committing what a run wrote.

Git is optional: outside a repository every field is None and nothing is committed.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "h5py", "torch", "scikit-learn", "lightgbm", "research-notebook")


def repository(path: Path):
    try:
        import git
    except ImportError:  # gitpython needs a git binary; without one there is no provenance
        return None
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def file_history(path: str | Path, max_count: int) -> list[tuple[str, bytes]]:
    """(commit, the file's bytes there) for the last `max_count` commits that changed it, newest
    first; [] outside a repository, before the first commit or without git.

    Plain git in two processes (the commits, then every version through one `cat-file --batch`):
    `research check` reads each report's history, and importing gitpython costs more than both."""
    import shutil
    import subprocess

    git = shutil.which("git")
    path = Path(path).resolve()
    if git is None or not path.parent.is_dir():
        return []

    def run(*args: str, given: bytes | None = None) -> bytes | None:
        done = subprocess.run([git, *args], input=given, capture_output=True, cwd=top or path.parent)
        return done.stdout if done.returncode == 0 else None

    top = None
    found = run("rev-parse", "--show-toplevel")
    if not found:
        return []
    top = Path(os.fsdecode(found.rstrip(b"\n"))).resolve()
    try:
        rel = path.relative_to(top).as_posix()
    except ValueError:
        return []
    shas = run("rev-list", f"--max-count={max_count}", "HEAD", "--", rel)
    if not shas:
        return []
    commits = shas.decode().split()
    batch = run("cat-file", "--batch", given="".join(f"{sha}:{rel}\n" for sha in commits).encode())
    if batch is None:
        return []
    out, pos = [], 0
    for sha in commits:  # each answer: "<object> blob <size>\n<bytes>\n", or "<name> missing\n"
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split()
        pos = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        out.append((sha, batch[pos : pos + size]))
        pos += size + 1
    return out


def git_state(path: str | Path) -> dict[str, Any]:
    """HEAD commit (short and full), branch, and whether the work tree has uncommitted changes."""
    repo = repository(Path(path))
    if repo is None:
        return {"commit": None, "short": None, "branch": None, "dirty": None}
    try:
        head = repo.head.commit.hexsha
    except ValueError:  # a repository with no commit yet
        head = None
    try:
        branch = repo.active_branch.name
    except (TypeError, ValueError):
        branch = None
    return {
        "commit": head,
        "short": head[:7] if head else None,
        "branch": branch,
        "dirty": _dirty(repo) if head else repo.is_dirty(untracked_files=False),
    }


#: Front matter keys the engine itself edits: a change to them alone is not the user's.
ENGINE_KEYS = ("status", "last_run")


def _dirty(repo) -> bool:
    """Whether the work tree holds changes of the user's: a report whose only change is the
    engine's own `status: running` (a run killed mid-training leaves it) is not one."""
    if not repo.is_dirty(untracked_files=False):
        return False
    changed = {d.a_path for d in repo.index.diff(None)} | {d.a_path for d in repo.index.diff("HEAD")}
    root = Path(repo.working_tree_dir)
    for name in changed:
        if not name.endswith(".md"):
            return True
        try:
            old = repo.head.commit.tree[name].data_stream.read().decode("utf-8")
            new = (root / name).read_text(encoding="utf-8")
        except (KeyError, OSError, UnicodeDecodeError):
            return True
        if _without_engine_keys(old) != _without_engine_keys(new):
            return True
    return False


def _without_engine_keys(text: str) -> str:
    """The text with the engine-maintained front matter lines taken out."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return text
    out, inside = [], True
    for i, line in enumerate(lines):
        if i and line.strip() == "---":
            inside = False
        if inside and i and any(line.startswith(f"{key}:") for key in ENGINE_KEYS):
            continue
        out.append(line)
    return "\n".join(out)


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def environment() -> dict[str, Any]:
    from engine.numerics import in_effect

    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": package_versions(),
        "argv": sys.argv[1:],
        **({"numerics": in_effect()} if in_effect() else {}),
    }


def repository_root(path: str | Path) -> Path | None:
    """The work tree of the git repository holding `path`, or None."""
    repo = repository(Path(path))
    return Path(repo.working_tree_dir).resolve() if repo is not None and repo.working_tree_dir else None


def commit_files(paths: Iterable[str | Path], message: str, *, cwd: str | Path, staged=None) -> str | None:
    """Commit exactly `paths` (and nothing else that was staged); the new commit's sha, or None.

    None when not in a git repository or when the files hold no change against HEAD (also when
    another run committed them a moment ago: "nothing to commit" is not an error). Other staged
    changes stay staged, uncommitted. `staged` is called between `git add` and `git commit`.
    """
    import git

    from engine.errors import GitError

    repo = repository(Path(cwd))
    if repo is None:
        return None
    root = Path(repo.working_tree_dir).resolve()
    relative = sorted({Path(os.path.realpath(p)).relative_to(root).as_posix() for p in paths})
    if not relative:
        return None
    try:
        changed = set(repo.git.status("--porcelain", "--untracked-files=all", "--", *relative).splitlines())
        if not changed:
            return None
        repo.git.add("--", *relative)
        if staged is not None:
            staged()
        # `git commit -- paths` commits those paths only, whatever else is in the index.
        repo.git.commit("-m", message, "--only", "--", *relative)
    except git.GitCommandError as error:
        text = f"{error.stdout or ''}\n{error.stderr or ''}"
        if "nothing to commit" in text or "no changes added to commit" in text:
            return None
        detail = " ".join(line.strip() for line in (error.stderr or str(error)).splitlines() if line.strip())
        raise GitError(
            f"git could not commit the run's files: {detail[:400]}",
            path=root,
            hint="the files are written; fix git (e.g. `git config user.email …`) and run again to commit them, "
            "or pass --no-commit",
        ) from None
    return repo.head.commit.hexsha


def text_at(path: str | Path, revision: str) -> str:
    """A file's text as it was at a git revision (`HEAD~1`, a branch, a sha): what `research
    diff FILE@REV` holds against today's. A revision git does not know, or one without the file,
    is bad input that names the revisions that touched it."""
    import git

    from engine.errors import ResearchError
    from engine.text import textfile

    path = Path(path)
    repo = repository(path.resolve().parent)
    if repo is None or not repo.working_tree_dir:
        raise ResearchError(
            f"'{path}@{revision}' names a git revision, but {path} is not in a git repository",
            path=path,
            hint="commit the notebook with git, or compare two files",
        )
    relative = Path(os.path.realpath(path)).relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    try:
        commit = repo.commit(revision)
    except (git.BadName, git.BadObject, KeyError, ValueError):  # all: "git does not know it"
        raise ResearchError(f"unknown revision '{revision}'", path=path, hint=_revisions_hint(repo, relative)) from None
    try:
        data = (commit.tree / relative).data_stream.read()
    except KeyError:
        raise ResearchError(
            f"the file is not in revision '{revision}' ({commit.hexsha[:7]})",
            path=path,
            hint=_revisions_hint(repo, relative),
        ) from None
    return textfile.decode(data, f"{path}@{revision}")[0]


def _revisions_hint(repo, relative: str) -> str:
    import git

    try:
        log = repo.git.log("--format=%h %s", "-5", "--", relative).splitlines()
    except git.GitCommandError:  # no commit yet
        log = []
    if not log:
        return "no commit holds this file yet; commit it first"
    return "revisions that changed it: " + "; ".join(log) + " (or HEAD, HEAD~1, a branch)"
