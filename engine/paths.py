"""Where a notebook's root, run store and cache are, found from any file inside it."""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".research"


def notebook_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above `start` holding `.research/` or `.git`; else the cwd."""
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / STATE_DIR).is_dir() or (folder / ".git").exists():
            return folder
    return Path.cwd().resolve()


def given_root(root: str | Path, *, notebook: bool = False) -> Path:
    """A `--root` as given: an existing folder — and with `notebook`, the root of a notebook (it
    holds `.research/` or `.git`). Never another folder in its place: `research cache clear
    --root elsewhere` must not clear the notebook that holds the current directory."""
    from .errors import ResearchError

    path = Path(root).expanduser()
    if not path.exists():
        raise ResearchError("no such folder", path=path, key="--root", hint="give the notebook's root folder")
    if not path.is_dir():
        raise ResearchError("is a file, not a folder", path=path, key="--root", hint="give the notebook's root folder")
    if notebook and not ((path / STATE_DIR).is_dir() or (path / ".git").exists()):
        found = notebook_root(path)
        hint = (f"the notebook holding it is {found}: --root {found}" if (found / STATE_DIR).is_dir() or (found / ".git").exists()
                else "a notebook's root holds .research/ (made by its first run) or .git")
        raise ResearchError("is not a notebook's root (it holds neither .research/ nor .git)", path=path, key="--root",
                            hint=hint)
    return path.resolve()


def state_dir(root: Path) -> Path:
    """`.research/` (created on first use, ignoring itself so git never sees run data)."""
    folder = root / STATE_DIR
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".gitignore").write_text("# run store and caches of `research`; not for git\n*\n", encoding="utf-8")
    return folder


def runs_dir(root: Path) -> Path:
    return state_dir(root) / "runs"


def cache_dir(root: Path) -> Path:
    return state_dir(root) / "cache"


def inside(root: Path, path: Path) -> bool:
    """True when `path` lies inside `root` (output paths must never escape the notebook)."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def shown(path: str | Path) -> str:
    """A path as the user reads it: relative to the current directory, as every path the
    commands print is (absolute only on another drive)."""
    import os

    try:
        return os.path.relpath(Path(path).resolve(), Path.cwd().resolve())
    except ValueError:  # another drive
        return str(Path(path).resolve())
