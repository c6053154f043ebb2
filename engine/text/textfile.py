"""Reading and writing the user's documents without ever losing a byte.

A write is: take the document's lock, re-read the file (edits made since we last looked are
kept), apply a pure text → text change, and only if the text changed, write it to a temporary
file in the same folder, fsync, and rename it over the original. A reader sees the old file or
the new one, never half of each; a crash leaves the old file in place.

The BOM is kept, line endings are kept by the text core, and a file that is not UTF-8 is an
error, not a guess. A path that is a symbolic link is written through to its target (the link
stays a link); a new file gets the permissions the user's umask gives, like any editor's.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from engine.errors import DocumentError, LockedError

BOM = b"\xef\xbb\xbf"
LOCK_TIMEOUT_S = 30.0


def decode(data: bytes, path: str | Path | None = None) -> tuple[str, bool]:
    """(text without BOM, whether it had one); a clear error for bytes that are not UTF-8."""
    bom = data.startswith(BOM)
    if bom:
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded",
            path=path,
            line=line,
            hint="save the file as UTF-8 (e.g. `iconv -f GBK -t UTF-8`)",
        ) from None


def encode(text: str, bom: bool) -> bytes:
    return (BOM if bom else b"") + text.encode("utf-8")


def read(path: str | Path) -> tuple[str, bool]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError("no such file", path=path) from None
    except IsADirectoryError:
        raise DocumentError("is a folder, not a markdown file", path=path) from None
    return decode(data, path)


def read_text(path: str | Path) -> str:
    return read(path)[0]


def lock_for(path: str | Path, timeout: float = LOCK_TIMEOUT_S):
    """The lock guarding one document; kept outside the user's folders so it leaves no litter."""
    from filelock import FileLock

    key = hashlib.sha256(str(real_path(path)).encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "research-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder / f"{key}.lock"), timeout=timeout)


TMP_SUFFIX = ".tmp"


def temp_files(path: str | Path) -> list[Path]:
    """Temporary files `atomic_write` makes beside `path` (left only by a process killed mid-write)."""
    path = real_path(path)
    return sorted(path.parent.glob(f".{glob_escape(path.name)}.*{TMP_SUFFIX}"))


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def real_path(path: str | Path) -> Path:
    """The file a path names, links followed (so a write through a link changes its target)."""
    return Path(os.path.realpath(path))


def _new_file_mode() -> int:
    """0o666 less the umask: what `open()` would give a new file (mkstemp gives 0o600)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename; the old content survives any crash before it."""
    path = real_path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def update(
    path: str | Path,
    change: Callable[[str], str],
    *,
    timeout: float = LOCK_TIMEOUT_S,
) -> bool:
    """Apply `change` to the file's current text under its lock; True when the file changed.

    `change` runs on text read after the lock is taken, so it sees every edit made before.
    If it raises, nothing is written.
    """
    from filelock import Timeout

    lock = lock_for(path, timeout)
    try:
        with lock:
            text, bom = read(path)
            new = change(text)
            if new == text:
                return False
            atomic_write(path, encode(new, bom))
            return True
    except Timeout:
        raise LockedError(
            f"another `research` process has held this document for {timeout:g} s",
            path=path,
            hint="wait for it to finish, or stop it",
        ) from None


def replace_bytes(path: str | Path, data: bytes, *, timeout: float = LOCK_TIMEOUT_S) -> bool:
    """Write `data` to `path` under its lock, atomically, unless it already holds them; True when written."""
    from filelock import Timeout

    try:
        with lock_for(path, timeout):
            try:
                if real_path(path).read_bytes() == data:
                    return False
            except FileNotFoundError:
                pass
            atomic_write(path, data)
            return True
    except Timeout:
        raise LockedError(f"another `research` process has held this file for {timeout:g} s", path=path) from None


def create(path: str | Path, text: str) -> None:
    """Write a new document; refuses to replace one that exists."""
    from filelock import Timeout

    path = Path(path)
    try:
        with lock_for(path):
            if path.exists():
                raise DocumentError("already exists", path=path, hint="choose another name, or delete it first")
            atomic_write(path, encode(text, False))
    except Timeout:
        raise LockedError("another `research` process holds this path", path=path) from None
