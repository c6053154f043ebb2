"""HDF5 shard sets: the user's files read as one table, in contiguous runs, checked as they are read.

A shard set is one or more HDF5 files given as a path, a folder (every `*.h5` / `*.hdf5` under
it), a glob (`train_*/dataset.h5`) or a brace pattern (`train_200k_{0..4}/dataset.h5`,
`{train,extra}.h5`), concatenated in sorted order (numbers sorted as numbers). Each file holds

    flux    N × pixels float   the spectra                (key `data.keys.flux`)
    error   N × pixels float   per-pixel 1σ errors        (key `data.keys.error`)
    wave    pixels             wavelengths, Å             (key `data.keys.wave`)
    T_eff, log_g, Fe_H (= M_H), mag, snr: N values each  (keys `data.keys.params`)

Layouts. Flux, error and wave are datasets; the labels may be datasets (`log_g`, `params/logg`),
fields of a compound dataset (`params` with fields `teff`, `logg`, `mh`), or columns of a
pandas-written table, `fixed` or `table` format, read with h5py alone (see `engine.data.layout`).
The labels may sit apart from the spectra (flux, error, wave flat; labels in a table `labels`).

Finding them without keys. A dataset named exactly like the role at the top level (`flux`,
`log_g`; `Fe_H`, then `M_H`) is taken first, as the reader always did. Otherwise every dataset
at the top level or one group down, every compound field and every pandas column is compared
with the role's usual names, ignoring case and punctuation (`layout.ALIASES`: T_eff ← teff,
Teff, TEFF, t_eff; log_g ← logg, logG; Fe_H ← feh, FeH, [Fe/H], mh, M_H, [M/H]; mag ←
magnitude; error ← err, sigma, flux_err, never ivar; wave ← wavelength, lambda …). One match of
the right shape is read; two are an error naming both and the `data.keys` entry that would
choose. `snr`, when a file lacks it, is computed as median(|flux| / error) in one streamed pass.

The key notation (`data.keys`, the spec's and `research data info --keys`). A key is a path
inside the file, `/`-separated; its last part may name a field of a compound dataset or a
column of a pandas table, so one notation reads every layout (`params.logg` is accepted too):

    data.keys:
      flux: spectra/flux                 # a dataset in a group
      params: {log_g: params/logg,       # a field of the compound dataset `params`
               T_eff: labels/teff,       # a column of the pandas table `labels`
               Fe_H: "labels/[Fe/H]",    # quote names YAML would read as a list
               mag: gmag}                # a bare name: the one member so named, anywhere searched
      files:                             # other keys for the files a glob matches
        "test_10k*": {params: {log_g: logg}}

`files` globs match a file's path relative to the report's folder, or its name; its entries
override the keys above them for the files they match, later entries over earlier ones. A key
that reads nothing is an error listing what the file holds and proposing the keys that would.
Flux, error and wave must resolve when the set is opened; a label only when a run asks for it.
`ShardSet.mapping` says where each role was found (`log_g ← params/logg (compound field)`).

`read` takes sorted global rows and reads each shard's rows in contiguous runs with
`read_direct` (runs separated by small gaps are read whole and the wanted rows picked in
memory; see PERFORMANCE.md: random row access on disk is ~50× slower). Flux and error are
checked for NaN/inf as they are read, parameters when first loaded; every problem is a
`DataError` naming the file, the dataset and the row.
"""

from __future__ import annotations

import fnmatch
import glob as _glob
import hashlib
import itertools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import layout as _layout
from .layout import ARRAYS, PARAMS, FileLayout
from .noise import snr as _snr

HDF5_SUFFIXES = (".h5", ".hdf5")
MERGE_GAP = 32  # rows: a gap this small is cheaper to read through than to seek over
PIECE_ROWS = 256  # rows of scratch when reading through gaps
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------


def _braces(pattern: str) -> list[str]:
    """Expand `{0..4}` (zero padding kept: `{00..04}`) and `{a,b}` as a shell does: several
    braces multiply out, braces nest (`{train_{0..4},test}.h5`), and a pair with neither a comma
    nor a range is literal text."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "{":
            close = _closing(pattern, i)
            if close is None:
                break
            options = _alternatives(pattern[i + 1 : close])
            if options is not None:
                head, tail = pattern[:i], pattern[close + 1 :]
                return [head + a + b for option in options for a in _braces(option) for b in _braces(tail)]
        i += 1
    return [pattern]


def _closing(text: str, start: int) -> int | None:
    depth = 0
    for j in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j
    return None


def _alternatives(body: str) -> list[str] | None:
    ranged = _RANGE.match(body)
    if ranged:
        lo_text, hi_text = ranged.groups()
        lo, hi = int(lo_text), int(hi_text)
        width = len(lo_text) if lo_text.startswith("0") and len(lo_text) > 1 else 0
        step = 1 if hi >= lo else -1
        return [str(i).zfill(width) for i in range(lo, hi + step, step)]
    parts, depth, last = [], 0, 0
    for j, char in enumerate(body):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[last:j])
            last = j + 1
    if not parts:
        return None
    return parts + [body[last:]]


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def expand(pattern: str | Path, base_dir: str | Path = ".") -> list[Path]:
    """The files a path / glob / brace pattern names, relative to `base_dir`, sorted naturally."""
    text = os.path.expanduser(str(pattern)).strip()
    if not text:
        raise DataError("empty data path")
    base = Path(base_dir)
    found: set[Path] = set()
    missing: list[str] = []
    for item in _braces(text):
        full = item if os.path.isabs(item) else str(base / item)
        if _glob.has_magic(full):
            hits = [Path(p) for p in _glob.glob(full, recursive=True) if os.path.isfile(p)]
            if not hits:
                missing.append(item)
            found.update(hits)
        elif os.path.isfile(full):
            found.add(Path(full))
        elif os.path.isdir(full):  # what `research data synth --out DIR` wrote: shard_K/dataset.h5
            hits = [p for p in Path(full).rglob("*") if p.suffix.lower() in HDF5_SUFFIXES and p.is_file()]
            if not hits:
                raise DataError(
                    f"no *.h5 or *.hdf5 file under the folder {item}",
                    path=str(base) if str(base) != "." else None,
                    hint="give the files as a path, glob or brace pattern such as 'train_{0..4}/dataset.h5'",
                )
            found.update(hits)
        else:
            missing.append(item)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        what = "no file matches" if len(missing) == 1 and _glob.has_magic(missing[0]) else "missing file"
        raise DataError(
            f"{what} {shown}" + (f" (pattern '{text}')" if shown != text else ""),
            path=str(base) if str(base) != "." else None,
            hint="data paths are relative to the report's folder; brace patterns look like 'train_{0..4}/dataset.h5'",
        )
    return sorted(found, key=_natural)


# ---------------------------------------------------------------------------------------------
# The shard set
# ---------------------------------------------------------------------------------------------


def _explicit(keys, path: Path, base_dir: Path | None) -> tuple[dict[str, tuple[str, str | None]], tuple[str, ...]]:
    """role → (key, the `files` glob it came from or None) for one file, and the globs that applied.

    A top-level array key equal to its default is no key: the search then finds `flux` first
    and other tools' names after it, as when nothing is said."""
    if keys is None:
        return {}, ()
    out: dict[str, tuple[str, str | None]] = {}
    for role in ARRAYS:
        value = getattr(keys, role, role)
        if value and value != role:
            out[role] = (value, None)
    for name, key in dict(getattr(keys, "params", None) or {}).items():
        out[_canonical(name)] = (key, None)
    globs = []
    for glob, entry in dict(getattr(keys, "files", None) or {}).items():
        if not _matches(glob, path, base_dir):
            continue
        globs.append(glob)
        for role in ARRAYS:
            value = getattr(entry, role, None)
            if value:
                out[role] = (value, glob)
        for name, key in dict(getattr(entry, "params", None) or {}).items():
            out[_canonical(name)] = (key, glob)
    return out, tuple(globs)


def _canonical(name: str) -> str:
    return "Fe_H" if name == "M_H" else name


def _matches(glob: str, path: Path, base_dir: Path | None) -> bool:
    names = {path.name, path.as_posix()}
    if base_dir is not None:
        for a, b in ((path, base_dir), (path.resolve(), Path(base_dir).resolve())):
            try:
                names.add(a.relative_to(b).as_posix())
            except ValueError:
                pass
    return any(fnmatch.fnmatchcase(name, g) for g in _braces(glob) for name in names)


def _runs(local: np.ndarray, gap: int) -> list[tuple[int, int, int, int]]:
    """Split sorted rows into spans [lo, hi) read in one go: (lo, hi, first position, count)."""
    if len(local) == 0:
        return []
    breaks = np.flatnonzero(np.diff(local) > gap) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [len(local)]])
    return [(int(local[a]), int(local[b - 1]) + 1, int(a), int(b - a)) for a, b in zip(starts, stops)]


class ShardSet:
    """HDF5 shards read as one table of spectra (implements `Source`).

    `layouts[k]` is where file k keeps each array and label (`engine.data.layout.FileLayout`);
    `mapping` says it in words, one line per role; `warnings` lists what a reader should know
    but that does not stop a run (an empty parameter table)."""

    def __init__(
        self, paths: Sequence[str | Path], keys=None, *, pattern: str | None = None, base_dir: str | Path | None = None
    ):
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise DataError("no data files", hint=f"pattern '{pattern}'" if pattern else None)
        self.pattern = pattern or str(self.paths[0])
        # the keys as configured: the fingerprint of a flat layout has always hashed these
        self._configured = (
            getattr(keys, "flux", "flux"),
            getattr(keys, "error", "error"),
            getattr(keys, "wave", "wave"),
            {_canonical(k): v for k, v in dict(getattr(keys, "params", None) or {}).items()},
        )
        self._files: list | None = None
        self._arrays: list | None = None
        self._columns: dict[str, np.ndarray] = {}
        base = Path(base_dir) if base_dir is not None else None
        self.layouts: list[FileLayout] = []
        wave = None
        for path in self.paths:
            f = self._open_file(path)
            try:
                explicit, globs = _explicit(keys, path, base)
                lay = _layout.read_layout(f, path, explicit, globs)
                flux, error, w_col = lay.arrays["flux"], lay.arrays["error"], lay.arrays["wave"]
                if error.shape != flux.shape or error.numpy_kind != "f":
                    raise DataError(
                        f"expected a float array the shape of '{flux.key}' {flux.shape}, got shape {error.shape} {error.dtype}",
                        path=path,
                        key=error.label,
                    )
                if w_col.shape != (flux.shape[1],):
                    raise DataError(
                        f"expected {flux.shape[1]} wavelengths (one per pixel), got shape {w_col.shape} {w_col.dtype}",
                        path=path,
                        key=w_col.label,
                    )
                w = np.asarray(w_col.read(f), dtype=np.float64)
                if wave is None:
                    wave = w
                elif w.shape != wave.shape or not np.allclose(w, wave, rtol=1e-9, atol=0):
                    raise DataError(f"wavelength grid differs from that of {self.paths[0]}", path=path, key=w_col.label)
                self.layouts.append(lay)
                self._dtypes = (
                    f[flux.dataset].dtype,
                    f[error.dataset].dtype,
                )  # as h5py says them: the fingerprint hashes the text
            finally:
                f.close()
        self.counts = np.array([lay.rows for lay in self.layouts], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        self.n = int(self.offsets[-1])
        assert wave is not None  # read from the first of the (non-empty) paths
        self.wave = wave
        self.n_pixels = int(wave.shape[0])
        first = self.layouts[0].arrays
        self.flux_key, self.error_key, self.wave_key = first["flux"].key, first["error"].key, first["wave"].key
        self._keys = [(lay.arrays["flux"].key, lay.arrays["error"].key) for lay in self.layouts]
        common = [name for name in PARAMS if all(name in lay.params for lay in self.layouts)]
        if "snr" not in common:
            common.append("snr")  # computed when read
        self.columns = tuple(common)
        self.warnings = [w for lay in self.layouts for w in lay.warnings]
        if self.n == 0:
            raise DataError(f"no spectra in {self.pattern}", key=f"dataset '{self.flux_key}'")

    # -- where things are ---------------------------------------------------------------------
    @property
    def mapping(self) -> dict[str, str]:
        """Role → where it is read from, e.g. `{'log_g': 'params/logg (compound field)'}`.

        A role read differently in different files lists each way with the files it applies
        to; a label no file has is absent (`snr` then says it is computed)."""
        out = {}
        for role in (*ARRAYS, *PARAMS):
            ways: dict[str, list[Path]] = {}
            for lay in self.layouts:
                column = lay.arrays.get(role) or lay.params.get(role)
                if column is not None:
                    text = str(column)
                elif role in lay.problems:
                    text = f"unreadable: {lay.problems[role].message.split('; the file holds')[0]}"
                else:
                    text = "computed: median |flux| / error" if role == "snr" else "missing"
                ways.setdefault(text, []).append(lay.path)
            if set(ways) == {"missing"}:
                continue
            if len(ways) == 1:
                out[role] = next(iter(ways))
            else:
                out[role] = "; ".join(f"{text} in {_files_text(files)}" for text, files in ways.items())
        return out

    # -- files --------------------------------------------------------------------------------
    @staticmethod
    def _open_file(path: Path):
        import h5py

        if not path.is_file():
            raise DataError("missing file", path=path)
        try:
            return h5py.File(path, "r")
        except OSError as exc:
            raise DataError(f"cannot open as HDF5 ({exc})", path=path) from None

    @staticmethod
    def _error(path, key: str, message: str) -> DataError:
        return DataError(message, path=path, key=f"dataset '{key}'")

    def _handles(self) -> list:
        if self._files is None:
            self._files = [self._open_file(p) for p in self.paths]
            # the datasets a read touches, looked up once rather than by name on every read
            self._arrays = [(f[flux], f[error]) for f, (flux, error) in zip(self._files, self._keys)]
        return self._files

    def close(self) -> None:
        for f in self._files or []:
            f.close()
        self._files = None
        self._arrays = None

    def __enter__(self) -> "ShardSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_files"] = None
        state["_arrays"] = None
        return state

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    # -- parameters ---------------------------------------------------------------------------
    def param(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        name = _canonical(name)
        if name not in self._columns:
            self._columns[name] = self._load_column(name)
        values = self._columns[name]
        return values if index is None else values[np.asarray(index, dtype=np.int64)]

    def _load_column(self, name: str) -> np.ndarray:
        if name not in PARAMS:
            raise DataError(f"unknown parameter '{name}'; parameters are {', '.join(PARAMS)}")
        for lay in self.layouts:
            if name in lay.problems:
                raise lay.problems[name]
        missing = [lay for lay in self.layouts if name not in lay.params]
        if missing:
            if name == "snr":
                return self._computed_snr()
            raise self._missing(name, missing[0])
        out = np.empty(self.n, dtype=np.float64)
        for k, f in enumerate(self._handles()):
            column = self.layouts[k].params[name]
            part = out[self.offsets[k] : self.offsets[k + 1]]
            part[:] = column.read(f)
            bad = np.flatnonzero(~np.isfinite(part))
            if len(bad):
                raise DataError(
                    f"row {bad[0]} is {part[bad[0]]} (labels must be finite)", path=self.paths[k], key=column.label
                )
        return out

    def _missing(self, name: str, lay: FileLayout) -> DataError:
        """A label no search found: what the file holds, and keys for this file alone when
        the other files have it (a test file written by another tool)."""
        others = [other for other in self.layouts if name in other.params]
        glob = lay.path.name if others else None
        key = self._configured[3].get(name, name)
        alias = " (or M_H)" if name == "Fe_H" else ""
        named = " or ".join(_layout.ALIASES[name])
        return _layout.layout_error(
            lay.path,
            lay.inventory,
            name,
            f"missing{alias}: no dataset, field or column is named {named} (any case)",
            key=f"dataset '{key}'",
            rows=lay.rows,
            file_glob=glob,
        )

    def _computed_snr(self) -> np.ndarray:
        out = np.empty(self.n, dtype=np.float64)
        step = 4096
        for start in range(0, self.n, step):
            rows = np.arange(start, min(start + step, self.n))
            flux, error = self.read(rows)
            out[rows] = _snr(flux, error)
        return out

    # -- spectra ------------------------------------------------------------------------------
    def _check_index(self, index) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        if len(index) and (index[0] < 0 or index[-1] >= self.n or (len(index) > 1 and np.any(np.diff(index) <= 0))):
            raise ValueError(f"rows must be sorted, unique and within 0..{self.n - 1}")
        return index

    def read(self, index, *, out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        index = self._check_index(index)
        flux = out[0] if out is not None else np.empty((len(index), self.n_pixels), dtype=np.float32)
        error = out[1] if out is not None else np.empty((len(index), self.n_pixels), dtype=np.float32)
        self._read_into(index, [(0, flux), (1, error)])
        return flux, error

    def read_flux(self, index, *, out: np.ndarray | None = None) -> np.ndarray:
        """Only the fluxes (half the reading, for noise-free splits)."""
        index = self._check_index(index)
        flux = out if out is not None else np.empty((len(index), self.n_pixels), dtype=np.float32)
        self._read_into(index, [(0, flux)])
        return flux

    def _read_into(self, index: np.ndarray, targets: list[tuple[int, np.ndarray]]) -> None:
        """`targets`: (0 for flux, 1 for error, destination rows)."""
        self._handles()
        assert self._arrays is not None  # set by _handles
        bounds = np.searchsorted(index, self.offsets)
        scratch: dict[int, np.ndarray] = {}
        for k, arrays in enumerate(self._arrays):
            a, b = int(bounds[k]), int(bounds[k + 1])
            if a == b:
                continue
            local = index[a:b] - self.offsets[k]
            keys = self._keys[k]
            datasets = [(keys[role], arrays[role], dest[a:b], role) for role, dest in targets]
            chunk_rows = datasets[0][1].chunks[0] if datasets[0][1].chunks else 1
            for lo, hi, pos, count in _runs(local, max(MERGE_GAP, chunk_rows)):
                if hi - lo == count:  # dense: straight into the destination
                    for key, ds, dest, _ in datasets:
                        piece = dest[pos : pos + count]
                        ds.read_direct(piece, source_sel=np.s_[lo:hi])
                        self._check_finite(piece, k, key, lo)
                    continue
                rows = local[pos : pos + count]
                for p in range(lo, hi, PIECE_ROWS):  # gaps: read the span piecewise, keep the rows asked
                    q = min(p + PIECE_ROWS, hi)
                    i0, i1 = np.searchsorted(rows, [p, q])
                    if i0 == i1:
                        continue
                    for key, ds, dest, role in datasets:
                        buf = scratch.get(role)
                        if buf is None:
                            buf = scratch[role] = np.empty((PIECE_ROWS, self.n_pixels), dtype=np.float32)
                        ds.read_direct(buf[: q - p], source_sel=np.s_[p:q])
                        piece = dest[pos + i0 : pos + i1]
                        np.take(buf, rows[i0:i1] - p, axis=0, out=piece)
                        self._check_finite(piece, k, key, None, rows[i0:i1])

    def _check_finite(self, piece: np.ndarray, shard: int, key: str, first_row: int | None, rows=None) -> None:
        # x @ 0 is NaN exactly in the rows holding a NaN or ±inf (IEEE: nan·0 = inf·0 = nan); BLAS
        # does it at memory speed, about 5× faster than np.isfinite(x).all()
        with np.errstate(invalid="ignore"):
            probe = piece @ np.zeros(piece.shape[1], dtype=piece.dtype)
        if not np.isnan(probe).any():
            return
        bad = int(np.flatnonzero(np.isnan(probe))[0])
        if rows is None:
            assert first_row is not None  # a dense read gives its first row instead of the rows
            row = first_row + bad
        else:
            row = int(rows[bad])
        value = piece[bad][~np.isfinite(piece[bad])][0]
        raise self._error(self.paths[shard], key, f"row {row} has a {value} value (spectra must be finite)")

    # -- identity -----------------------------------------------------------------------------
    def _plain(self) -> bool:
        """The layout the fingerprint always described: the configured datasets, labels as
        datasets, no per-file keys. Anything else adds the mapping to the fingerprint."""
        flux, error, wave, _ = self._configured
        for lay in self.layouts:
            if lay.globs or (lay.arrays["flux"].key, lay.arrays["error"].key, lay.arrays["wave"].key) != (
                flux,
                error,
                wave,
            ):
                return False
            if any(c.kind != "dataset" for c in lay.params.values()):
                return False
        return True

    def fingerprint(self) -> str:
        """Shapes, dtypes, sizes, mtimes and a hash of sampled rows of every shard."""
        flux_key, error_key, wave_key, param_keys = self._configured
        digest = hashlib.sha256()
        digest.update(repr((flux_key, error_key, wave_key, sorted(param_keys.items()))).encode())
        if not self._plain():
            digest.update(repr([lay.signature() for lay in self.layouts]).encode())
        for k, (path, f) in enumerate(zip(self.paths, self._handles())):
            stat = path.stat()
            n = int(self.counts[k])
            digest.update(repr((n, self.n_pixels, str(self._dtypes), stat.st_size, stat.st_mtime_ns)).encode())
            sample = sorted(
                {*range(min(4, n)), *range(max(0, n // 2 - 2), min(n, n // 2 + 2)), *range(max(0, n - 4), n)}
            )
            assert self._arrays is not None  # set by _handles
            for start, stop in _contiguous(sample):
                for ds in self._arrays[k]:
                    digest.update(np.ascontiguousarray(ds[start:stop]).tobytes())
                for _name, column in sorted(self.layouts[k].params.items()):
                    digest.update(np.ascontiguousarray(column.read(f, start, stop)).tobytes())
        return digest.hexdigest()[:16]

    def synthetic_info(self) -> dict | None:
        """The generator's attributes when every shard was written by `engine.data.synth`."""
        from . import synth

        infos = []
        for f in self._handles():
            attrs = dict(f.attrs)
            if attrs.get("generator") != synth.GENERATOR:
                return None
            infos.append(attrs)
        first = infos[0]
        return {
            "generator": synth.GENERATOR,
            "generator_version": int(first.get("generator_version", -1)),
            "seed": int(first.get("seed", 0)),
            "n_pixels": int(first.get("n_pixels", self.n_pixels)),
        }

    def __repr__(self) -> str:
        return f"ShardSet({self.pattern!r}, {len(self.paths)} files, {self.n} × {self.n_pixels})"


def _files_text(files: list[Path]) -> str:
    names = [p.name if len({q.name for q in files}) == len(files) else str(p) for p in files]
    return (
        names[0] if len(names) == 1 else f"{len(names)} files ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
    )


def _contiguous(rows: Iterable[int]) -> list[tuple[int, int]]:
    out = []
    for _, group in itertools.groupby(enumerate(rows), key=lambda t: t[1] - t[0]):
        items = [r for _, r in group]
        out.append((items[0], items[-1] + 1))
    return out


def open_shards(pattern: str | Path, *, base_dir: str | Path = ".", keys=None) -> ShardSet:
    """Expand a path / folder / glob / brace pattern and open the files as one `ShardSet`
    (`data.keys.files` globs match paths relative to `base_dir`)."""
    return ShardSet(expand(pattern, base_dir), keys, pattern=str(pattern), base_dir=base_dir)
