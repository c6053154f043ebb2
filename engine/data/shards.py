"""HDF5 shard sets: the user's files read as one table, in contiguous runs, checked as they are read.

A shard set is one or more HDF5 files given as a path, a glob (`train_*/dataset.h5`) or a brace
pattern (`train_200k_{0..4}/dataset.h5`, `{train,extra}.h5`), concatenated in sorted order
(numbers sorted as numbers). Each file holds

    flux    N × pixels float   the spectra                (key `data.keys.flux`)
    error   N × pixels float   per-pixel 1σ errors        (key `data.keys.error`)
    wave    pixels             wavelengths, Å             (key `data.keys.wave`)
    T_eff, log_g, M_H or Fe_H, mag, snr: N-vectors        (names via `data.keys.params`)

`M_H` and `Fe_H` are one parameter: either name in the file satisfies either name asked. A
parameter key may be a path inside the file (`params/logg`). `snr`, when a file lacks it, is
computed as median(|flux| / error) in one streamed pass.

`read` takes sorted global rows and reads each shard's rows in contiguous runs with
`read_direct` (runs separated by small gaps are read whole and the wanted rows picked in
memory; see PERFORMANCE.md: random row access on disk is ~50× slower). Flux and error are
checked for NaN/inf as they are read, parameters when first loaded; every problem is a
`DataError` naming the file, the dataset and the row.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import itertools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from .noise import snr as _snr

PARAMS = ("T_eff", "log_g", "Fe_H", "mag", "snr")
ALIASES = {"Fe_H": ("Fe_H", "M_H"), "M_H": ("M_H", "Fe_H")}
MERGE_GAP = 32  # rows: a gap this small is cheaper to read through than to seek over
PIECE_ROWS = 256  # rows of scratch when reading through gaps
_BRACE = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------


def _braces(pattern: str) -> list[str]:
    """Expand `{0..4}` (zero padding kept: `{00..04}`) and `{a,b}`; several braces multiply out."""
    match = _BRACE.search(pattern)
    if not match:
        return [pattern]
    body = match.group(1)
    ranged = _RANGE.match(body)
    if ranged:
        lo_text, hi_text = ranged.groups()
        lo, hi = int(lo_text), int(hi_text)
        width = len(lo_text) if lo_text.startswith("0") and len(lo_text) > 1 else 0
        step = 1 if hi >= lo else -1
        options = [str(i).zfill(width) for i in range(lo, hi + step, step)]
    elif "," in body:
        options = body.split(",")
    else:
        options = ["{" + body + "}"]  # a literal brace pair
        head, tail = pattern[: match.end()], pattern[match.end() :]
        return [head + rest for rest in _braces(tail)]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [head + option + rest for option in options for rest in _braces(tail)]


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


def _keys(keys) -> tuple[str, str, str, dict[str, str]]:
    if keys is None:
        return "flux", "error", "wave", {}
    return keys.flux, keys.error, keys.wave, dict(keys.params)


def _runs(local: np.ndarray, gap: int) -> list[tuple[int, int, int, int]]:
    """Split sorted rows into spans [lo, hi) read in one go: (lo, hi, first position, count)."""
    if len(local) == 0:
        return []
    breaks = np.flatnonzero(np.diff(local) > gap) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [len(local)]])
    return [(int(local[a]), int(local[b - 1]) + 1, int(a), int(b - a)) for a, b in zip(starts, stops)]


class ShardSet:
    """HDF5 shards read as one table of spectra (implements `Source`)."""

    def __init__(self, paths: Sequence[str | Path], keys=None, *, pattern: str | None = None):
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise DataError("no data files", hint=f"pattern '{pattern}'" if pattern else None)
        self.pattern = pattern or str(self.paths[0])
        self.flux_key, self.error_key, self.wave_key, self._param_keys = _keys(keys)
        self._files: list | None = None
        self._columns: dict[str, np.ndarray] = {}
        counts, wave, self._param_paths = [], None, []
        for path in self.paths:
            f = self._open_file(path)
            try:
                flux = self._dataset(f, path, self.flux_key)
                if flux.ndim != 2 or flux.dtype.kind != "f":
                    raise self._error(path, self.flux_key, f"expected 2-D float array N × pixels, got {_describe(flux)}")
                error = self._dataset(f, path, self.error_key)
                if error.shape != flux.shape or error.dtype.kind != "f":
                    raise self._error(
                        path, self.error_key,
                        f"expected a float array the shape of '{self.flux_key}' {flux.shape}, got {_describe(error)}",
                    )  # fmt: skip
                w = self._dataset(f, path, self.wave_key)
                if w.shape != (flux.shape[1],):
                    raise self._error(path, self.wave_key, f"expected {flux.shape[1]} wavelengths (one per pixel), got {_describe(w)}")
                w = np.asarray(w[()], dtype=np.float64)
                if wave is None:
                    wave = w
                elif w.shape != wave.shape or not np.allclose(w, wave, rtol=1e-9, atol=0):
                    raise self._error(path, self.wave_key, f"wavelength grid differs from that of {self.paths[0]}")
                found = {}
                for name in PARAMS:
                    key = self._find_param(f, name)
                    if key is None:
                        continue
                    ds = f[key]
                    if ds.shape != (flux.shape[0],):
                        raise self._error(path, key, f"expected {flux.shape[0]} values (one per spectrum), got {_describe(ds)}")
                    found[name] = key
                self._param_paths.append(found)
                counts.append(flux.shape[0])
                self._dtypes = (flux.dtype, error.dtype)
            finally:
                f.close()
        self.counts = np.array(counts, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)])
        self.n = int(self.offsets[-1])
        self.wave = wave
        self.n_pixels = int(wave.shape[0])
        common = [name for name in PARAMS if all(name in found for found in self._param_paths)]
        if "snr" not in common:
            common.append("snr")  # computed when read
        self.columns = tuple(common)
        if self.n == 0:
            raise DataError(f"no spectra in {self.pattern}", key=f"dataset '{self.flux_key}'")

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

    def _dataset(self, f, path, key: str):
        import h5py

        obj = f.get(key)
        if not isinstance(obj, h5py.Dataset):
            have = ", ".join(sorted(f.keys())) or "nothing"
            what = "is not a dataset" if obj is not None else "missing"
            raise DataError(
                f"{what}; the file has {have}", path=path, key=f"dataset '{key}'",
                hint="name the datasets with data.keys (flux, error, wave, params)",
            )  # fmt: skip
        return obj

    def _find_param(self, f, name: str) -> str | None:
        import h5py

        wanted = self._param_keys.get(name) or self._param_keys.get("M_H" if name == "Fe_H" else name)
        candidates = [wanted] if wanted else []
        for alias in ALIASES.get(name, (name,)):
            candidates.append(self._param_keys.get(alias, alias))
            candidates.append(alias)
        for key in dict.fromkeys(c for c in candidates if c):
            if isinstance(f.get(key), h5py.Dataset):
                return key
        return None

    def _handles(self) -> list:
        if self._files is None:
            self._files = [self._open_file(p) for p in self.paths]
        return self._files

    def close(self) -> None:
        for f in self._files or []:
            f.close()
        self._files = None

    def __enter__(self) -> "ShardSet":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_files"] = None
        return state

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    # -- parameters ---------------------------------------------------------------------------
    def param(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        name = "Fe_H" if name == "M_H" else name
        if name not in self._columns:
            self._columns[name] = self._load_column(name)
        values = self._columns[name]
        return values if index is None else values[np.asarray(index, dtype=np.int64)]

    def _load_column(self, name: str) -> np.ndarray:
        if name not in PARAMS:
            raise DataError(f"unknown parameter '{name}'; parameters are {', '.join(PARAMS)}")
        missing = [p for p, found in zip(self.paths, self._param_paths) if name not in found]
        if missing:
            if name == "snr":
                return self._computed_snr()
            key = self._param_keys.get(name, name)
            alias = " (or M_H)" if name == "Fe_H" else ""
            raise DataError(
                f"missing{alias}", path=missing[0], key=f"dataset '{key}'",
                hint="name the parameter's dataset with data.keys.params, e.g. {Fe_H: M_H}",
            )  # fmt: skip
        out = np.empty(self.n, dtype=np.float64)
        for k, f in enumerate(self._handles()):
            key = self._param_paths[k][name]
            part = out[self.offsets[k] : self.offsets[k + 1]]
            part[:] = f[key][()]
            bad = np.flatnonzero(~np.isfinite(part))
            if len(bad):
                raise self._error(self.paths[k], key, f"row {bad[0]} is {part[bad[0]]} (labels must be finite)")
        return out

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
        self._read_into(index, [(self.flux_key, flux), (self.error_key, error)])
        return flux, error

    def read_flux(self, index, *, out: np.ndarray | None = None) -> np.ndarray:
        """Only the fluxes (half the reading, for noise-free splits)."""
        index = self._check_index(index)
        flux = out if out is not None else np.empty((len(index), self.n_pixels), dtype=np.float32)
        self._read_into(index, [(self.flux_key, flux)])
        return flux

    def _read_into(self, index: np.ndarray, targets: list[tuple[str, np.ndarray]]) -> None:
        files = self._handles()
        bounds = np.searchsorted(index, self.offsets)
        scratch: dict[str, np.ndarray] = {}
        for k, f in enumerate(files):
            a, b = int(bounds[k]), int(bounds[k + 1])
            if a == b:
                continue
            local = index[a:b] - self.offsets[k]
            datasets = [(key, f[key], dest[a:b]) for key, dest in targets]
            chunk_rows = datasets[0][1].chunks[0] if datasets[0][1].chunks else 1
            for lo, hi, pos, count in _runs(local, max(MERGE_GAP, chunk_rows)):
                if hi - lo == count:  # dense: straight into the destination
                    for key, ds, dest in datasets:
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
                    for key, ds, dest in datasets:
                        buf = scratch.get(key)
                        if buf is None:
                            buf = scratch[key] = np.empty((PIECE_ROWS, self.n_pixels), dtype=np.float32)
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
        row = (first_row + bad) if rows is None else int(rows[bad])
        value = piece[bad][~np.isfinite(piece[bad])][0]
        raise self._error(self.paths[shard], key, f"row {row} has a {value} value (spectra must be finite)")

    # -- identity -----------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Shapes, dtypes, sizes, mtimes and a hash of sampled rows of every shard."""
        digest = hashlib.sha256()
        digest.update(repr((self.flux_key, self.error_key, self.wave_key, sorted(self._param_keys.items()))).encode())
        for k, (path, f) in enumerate(zip(self.paths, self._handles())):
            stat = path.stat()
            n = int(self.counts[k])
            digest.update(repr((n, self.n_pixels, str(self._dtypes), stat.st_size, stat.st_mtime_ns)).encode())
            sample = sorted({*range(min(4, n)), *range(max(0, n // 2 - 2), min(n, n // 2 + 2)), *range(max(0, n - 4), n)})
            for start, stop in _contiguous(sample):
                for key in (self.flux_key, self.error_key):
                    digest.update(np.ascontiguousarray(f[key][start:stop]).tobytes())
                for name, key in sorted(self._param_paths[k].items()):
                    digest.update(np.ascontiguousarray(f[key][start:stop]).tobytes())
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


def _contiguous(rows: Iterable[int]) -> list[tuple[int, int]]:
    out = []
    for _, group in itertools.groupby(enumerate(rows), key=lambda t: t[1] - t[0]):
        items = [r for _, r in group]
        out.append((items[0], items[-1] + 1))
    return out


def _describe(ds) -> str:
    return f"shape {tuple(ds.shape)} {ds.dtype}"


def open_shards(pattern: str | Path, *, base_dir: str | Path = ".", keys=None) -> ShardSet:
    """Expand a path / glob / brace pattern and open the files as one `ShardSet`."""
    return ShardSet(expand(pattern, base_dir), keys, pattern=str(pattern))
