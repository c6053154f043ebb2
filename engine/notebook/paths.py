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
    from engine.errors import ResearchError

    path = Path(root).expanduser()
    if not path.exists():
        raise ResearchError("no such folder", path=path, key="--root", hint="give the notebook's root folder")
    if not path.is_dir():
        raise ResearchError("is a file, not a folder", path=path, key="--root", hint="give the notebook's root folder")
    if notebook and not ((path / STATE_DIR).is_dir() or (path / ".git").exists()):
        found = notebook_root(path)
        hint = (
            f"the notebook holding it is {found}: --root {found}"
            if (found / STATE_DIR).is_dir() or (found / ".git").exists()
            else "a notebook's root holds .research/ (made by its first run) or .git"
        )
        raise ResearchError(
            "is not a notebook's root (it holds neither .research/ nor .git)", path=path, key="--root", hint=hint
        )
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


def given(raw: str | Path) -> None:
    """Refuse a path a command was given that does not exist, before anything runs, with the
    report its name is closest to: a mistyped report name is the commonest slip, and "no such
    file" alone sends the user to `ls`. `FILE#trial` is checked as FILE; `FILE@REV` is left to
    git (a revision may hold a file the working tree no longer has)."""
    from engine.errors import ResearchError

    text = str(raw)
    if Path(text).exists():
        return
    text = text.split("#", 1)[0]
    if not text or Path(text).exists() or "@" in Path(text).name:
        return
    path = Path(text)
    meant = _closest(path.name, _neighbours(path)) if path.parent.is_dir() else None
    if meant is not None:
        meant = shown(path.parent / meant) if str(path.parent) != "." else meant
    else:  # the folder is mistyped too, or the report is in another: the notebook's, by path, then by name
        reports = _reports(path)
        by_name = {Path(r).name: r for r in reversed(reports)}
        meant = _closest(shown(path), reports) or by_name.get(_closest(path.name, list(by_name)) or "")
    raise ResearchError(
        "no such file" if path.suffix else "no such file or folder",
        path=text,
        hint=f"did you mean '{meant}'?"
        if meant
        else "give a report (a .md file with front matter) or a folder of them",
    )


def _closest(word: str, choices: list[str]) -> str | None:
    from engine.errors import did_you_mean

    said = did_you_mean(word, choices)
    return said.split("'", 2)[1] if said else None


def _neighbours(path: Path) -> list[str]:
    """What `path` could have meant in its own folder: its .md files (and, for a name with no
    suffix, its folders)."""
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    return sorted(
        p.name
        for p in entries
        if not p.name.startswith(".") and (p.suffix == ".md" or (not path.suffix and p.is_dir()))
    )


def _reports(path: Path, limit: int = 20_000) -> list[str]:
    """Every .md file of the notebook around `path` (as `shown` writes them), hidden folders
    skipped and the walk cut after `limit` entries: a suggestion must not cost a scan of a disk
    (outside a notebook the "notebook" is the current folder, which may be a home folder)."""
    import os

    start = next((p for p in (path.parent, *path.parent.parents) if p.is_dir()), Path.cwd())
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(notebook_root(start)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [shown(Path(folder) / f) for f in sorted(files) if f.endswith(".md")]
        seen += len(dirs) + len(files)
        if seen > limit:
            break
    return found
