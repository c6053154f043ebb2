"""From a spec's `data` and `noise` to the train, validation and test splits a model sees.

Rows, per side:

* **Test.** With `data.test_source`, the test rows are the rows of that source passing
  `data.test_select`, the first `n_test` of them (all when `n_test` is absent). With
  `source: synthetic` (and no test_source) the test set is its own synthetic set: rows
  2⁴⁰ … of the same seed's stream, so it never shares a star with training. Otherwise the test
  rows come out of `data.source` itself: the rows passing `test_select`, of which `n_test`
  (default: 10 % of the source) are drawn at random with `data.seed`; training then uses only
  the other rows, so train and test are disjoint and the split is deterministic.
* **Train + validation.** The training candidates (all rows of `source`, minus the test rows
  when they share it) pass `data.select`; the first `n_train + n_val` of them form the pool.
  Validation is *in addition to* the `n_train` training rows (so Ridge and the nets train on
  the same rows): `n_val` rows when given (0: no validation split), else
  round(`val_frac` · n_train) with `val_frac` = `train.val_frac` (default 0.1); they are drawn
  from the pool at random with `data.seed`. When `n_train` is absent the whole pool is used and
  validation is carved out of it. For `source: synthetic` the defaults are n_train = 20000 and
  n_test = 2000, and enough spectra are generated for the selections to leave that many.
* **Noise** (`flux + level · error · N(0, 1)`) goes to the sides `noise.apply` lists (validation
  follows training), drawn per (noise.seed, epoch, row). Training uses epoch 0 every epoch, or
  the epoch itself with `noise.redraw`; validation and test use fixed epochs of their own
  (`VAL_EPOCH`, `TEST_EPOCH`), so test noise is never training noise, even on the same row
  index of a different file.

`source: synthetic` generates once and caches under `cache_dir/synthetic/` keyed by (rows, seed,
first row, generator version, pixels, ranges); concurrent runs share it safely (a file lock,
and a temporary folder renamed into place only when complete).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from engine.notebook.paths import shown

from ..errors import DataError
from . import synth_space

if TYPE_CHECKING:
    import numpy as np

    from .shards import ShardSet
    from .split import Split

# numpy, the generator, the shard reader and the selections are imported by the functions that
# read rows: `check_data` on a synthetic spec (what `research check` and a dry run ask) needs none.

SYNTHETIC = "synthetic"
SYNTHETIC_N_TRAIN = 20000
SYNTHETIC_N_TEST = 2000
SYNTHETIC_TEST_ROW0 = 1 << 40
SHARD_ROWS = 200_000
TEST_EPOCH = -1
VAL_EPOCH = -2


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Optional[Split]
    test: Split  # the primary test set (of data.tests, when it names some)
    tests: dict[str, Split] = field(default_factory=dict)  # every named test set, in the spec's order

    def fingerprint(self) -> str:
        parts = [s.fingerprint() if s is not None else "-" for s in (self.train, self.val, self.test)]
        parts += [f"{name}={s.fingerprint()}" for name, s in self.tests.items()]
        return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]

    def seeing(self, inputs, targets, *, sources=None, device: str = "cpu") -> "Splits":
        """The same splits as a model with these `inputs` (`engine.data.inputs.Inputs`) sees
        them: fitted on the training split alone, then applied alike to every split. `sources`
        and `device`: where a latent part's stored net is, and where it runs (`input_matrix.fit`)."""
        from dataclasses import replace

        from .input_matrix import fit

        if inputs.is_flux:
            return self
        fitted = fit(inputs, self.train, targets, sources=sources, device=device)

        def sees(split):
            return None if split is None else replace(split, inputs=fitted)

        return Splits(sees(self.train), sees(self.val), sees(self.test), {n: sees(s) for n, s in self.tests.items()})


def make_splits(
    data,
    noise,
    *,
    base_dir: str | Path = ".",
    cache_dir: str | Path = ".research/cache",
    val_frac: float = 0.1,
    say=None,
    progress=None,
) -> Splits:
    """Train, validation (None when there is none) and test splits for a spec (see the module doc).
    `say` and `progress` hear of the one slow step, generating synthetic spectra the first time."""
    import numpy as np

    from .select import random_subset, select
    from .shards import open_shards
    from .split import Split

    base_dir, cache_dir = Path(base_dir), Path(cache_dir)
    targets = tuple("Fe_H" if t == "M_H" else t for t in data.targets)
    synthetic = data.source == SYNTHETIC
    n_train = data.n_train if data.n_train is not None else (SYNTHETIC_N_TRAIN if synthetic else None)
    n_val = data.n_val if data.n_val is not None else (round(val_frac * n_train) if n_train is not None else None)
    n_test = data.n_test if data.n_test is not None else (SYNTHETIC_N_TEST if synthetic else None)

    # the test side
    if data.test_source is not None or synthetic:
        test_pattern = data.test_source or SYNTHETIC
        if test_pattern == SYNTHETIC:
            need = n_test if n_test is not None else SYNTHETIC_N_TEST
            test_src, test_rows = _synthetic_rows(
                need,
                data.test_select,
                seed=data.seed,
                start=SYNTHETIC_TEST_ROW0,
                cache_dir=cache_dir,
                where="data.test_select",
                say=say,
                progress=progress,
            )
        else:
            test_src = _open_named(test_pattern, "data.test_source", base_dir, data.keys)
            test_rows = select(test_src, data.test_select, seed=data.seed, where="data.test_select")
            test_rows = _take_first(test_rows, n_test, "data.n_test", test_src)
    else:
        test_src = test_rows = None
    train_candidates = None

    # the training side
    if synthetic:
        assert n_train is not None  # SYNTHETIC_N_TRAIN when the spec gives none
        need = n_train + (n_val or 0)
        train_src, pool = _synthetic_rows(
            need,
            data.select,
            seed=data.seed,
            start=0,
            cache_dir=cache_dir,
            where="data.select",
            say=say,
            progress=progress,
        )
    else:
        train_src = open_shards(data.source, base_dir=base_dir, keys=data.keys)
        if test_src is None:  # test rows carved out of the training source
            test_src = train_src
            candidates = select(train_src, data.test_select, seed=data.seed, where="data.test_select")
            count = n_test if n_test is not None else max(1, round(0.1 * train_src.n))
            if count > len(candidates):
                raise DataError(
                    f"asks for {count} test spectra but only {len(candidates)} pass data.test_select",
                    key="data.n_test",
                    path=data.source,
                )
            test_rows = random_subset(candidates, count, data.seed)
            train_candidates = np.setdiff1d(np.arange(train_src.n, dtype=np.int64), test_rows, assume_unique=True)
            if len(train_candidates) == 0:
                raise DataError("no spectra left for training after the test rows", key="data.n_test", path=data.source)
        pool = select(train_src, data.select, seed=data.seed, candidates=train_candidates, where="data.select")
        if n_train is not None:
            pool = _take_first(pool, n_train + (n_val or 0), "data.n_train", train_src, what="training + validation")
    if n_val is None:
        n_val = round(val_frac * len(pool))
    if n_val >= len(pool):
        raise DataError(f"n_val {n_val} leaves no training spectra (the pool has {len(pool)})", key="data.n_val")
    val_rows = random_subset(pool, n_val, data.seed + 1) if n_val else None  # None exactly when n_val is 0
    train_rows = np.setdiff1d(pool, val_rows, assume_unique=True) if val_rows is not None else pool

    level = float(noise.level)
    train_level = level if "train" in noise.apply else 0.0
    test_level = level if "test" in noise.apply else 0.0
    for src in {id(train_src): train_src, id(test_src): test_src}.values():
        _check_targets(src, targets)
    train = Split(train_src, train_rows, targets, train_level, noise.seed, None if noise.redraw else 0, "train")
    val = None if val_rows is None else Split(train_src, val_rows, targets, train_level, noise.seed, VAL_EPOCH, "val")
    assert test_rows is not None  # from the test source, the synthetic test stream or carved out of the training source
    test = Split(test_src, test_rows, targets, test_level, noise.seed, TEST_EPOCH, "test")
    named = named_tests(
        data, test, test_level, noise.seed, base_dir=base_dir, cache_dir=cache_dir, say=say, progress=progress
    )
    return Splits(train, val, named[data.primary] if named else test, named)


def named_tests(
    data, test: Split, level: float, noise_seed: int, *, base_dir: Path, cache_dir: Path, say=None, progress=None
) -> dict[str, Split]:
    """The splits of `data.tests`. A set without a source is a subset of the report's test set
    (its rows pass the set's selection), so a row scored in both has the same noise draw and
    `r2@low_noise` is literally the score on part of the full set's rows; a set with a source
    reads its own files (or the synthetic test stream). The test noise epoch is shared: test
    noise is never training noise."""
    from .select import select
    from .split import Split

    out: dict[str, Split] = {}
    for name, spec in data.tests.items():
        where = f"data.tests.{name}"
        if spec.source is None:
            source = test.source
            rows = select(source, spec.select, seed=data.seed, candidates=test.index, where=f"{where}.select")
        elif spec.source == SYNTHETIC:
            need = spec.n if spec.n is not None else SYNTHETIC_N_TEST
            source, rows = _synthetic_rows(
                need,
                spec.select,
                seed=data.seed,
                start=SYNTHETIC_TEST_ROW0,
                cache_dir=cache_dir,
                where=f"{where}.select",
                say=say,
                progress=progress,
            )
        else:
            source = _open_named(spec.source, f"{where}.source", base_dir, data.keys)
            rows = select(source, spec.select, seed=data.seed, where=f"{where}.select")
        rows = _take_first(rows, spec.n, f"{where}.n", source)
        _check_targets(source, test.targets)
        set_level = float(spec.noise) if spec.noise is not None else level
        out[name] = Split(source, rows, test.targets, set_level, noise_seed, TEST_EPOCH, f"test {name}")
    return out


def check_data(
    data,
    noise,
    *,
    base_dir: str | Path = ".",
    cache_dir: str | Path = ".research/cache",
    val_frac: float = 0.1,
    scan: bool = True,
    say=None,
    inputs=None,
) -> None:
    """Raise the `DataError` a trial would meet, without training and without generating data.

    Synthetic data: the selections must be able to leave enough spectra. HDF5 files: they must
    open, hold the datasets and labels with the right shapes and dtypes, and the selections must
    leave `n_train` + `n_val` + `n_test` spectra — the very row choice `make_splits` makes, from
    the parameter columns only. With `scan`, the fluxes and errors of every row a trial will read
    are checked to be finite; a file set that passed once is remembered by its fingerprint, so a
    re-run does not read it again. `inputs` (`engine.data.inputs.Inputs`): its wavelength windows
    and top-K counts must fit the training data's wavelengths.
    """
    if inputs is not None and inputs.is_flux:
        inputs = None  # nothing to check: the default reads every pixel (and a check loads no numpy)
    if inputs is not None:
        from .input_matrix import check as check_inputs

    base_dir, cache_dir = Path(base_dir), Path(cache_dir)
    synthetic = data.source == SYNTHETIC
    test_synthetic = data.test_source == SYNTHETIC or (data.test_source is None and synthetic)
    n_train = data.n_train if data.n_train is not None else (SYNTHETIC_N_TRAIN if synthetic else None)
    n_val = data.n_val if data.n_val is not None else (round(val_frac * n_train) if n_train is not None else None)
    if synthetic:
        assert n_train is not None  # SYNTHETIC_N_TRAIN when the spec gives none
        _check_synthetic_selection(n_train + (n_val or 0), data.select, "data.select")
        _check_room(_synthetic_size(n_train + (n_val or 0), data.select), data.seed, 0, cache_dir, "data.n_train")
    if test_synthetic:
        need = data.n_test if data.n_test is not None else SYNTHETIC_N_TEST
        _check_synthetic_selection(need, data.test_select, "data.test_select")
        _check_room(_synthetic_size(need, data.test_select), data.seed, SYNTHETIC_TEST_ROW0, cache_dir, "data.n_test")
    sides = (
        _check_named_sources(data, base_dir, cache_dir, n_test=data.n_test or SYNTHETIC_N_TEST)
        if test_synthetic
        else []
    )
    if synthetic and inputs is not None:
        from .synth import wavelength

        check_inputs(inputs, wavelength())
    if synthetic and test_synthetic:
        if scan:
            for source, rows in sides:
                _scan(source, rows, cache_dir, say)
        return  # nothing else on disk: the generator makes as many finite spectra as asked
    from .select import select
    from .shards import open_shards
    from .split import Split

    targets = tuple(data.targets)
    if not synthetic and not test_synthetic:  # every row choice as a run makes it
        splits = make_splits(data, noise, base_dir=base_dir, cache_dir=cache_dir, val_frac=val_frac)
        sides = [
            (s.source, s.index)
            for s in (splits.train, splits.val, splits.test, *splits.tests.values())
            if s is not None
        ]
        if inputs is not None:
            check_inputs(inputs, splits.train.wave)
    elif synthetic:  # a test file beside synthetic training data
        source = _open_named(data.test_source, "data.test_source", base_dir, data.keys)
        rows = _take_first(
            select(source, data.test_select, seed=data.seed, where="data.test_select"),
            data.n_test,
            "data.n_test",
            source,
        )
        _check_targets(source, targets)
        named = named_tests(data, Split(source, rows, targets), 0.0, 0, base_dir=base_dir, cache_dir=cache_dir)
        sides += [(source, rows), *((s.source, s.index) for s in named.values())]
    else:  # training files, a synthetic test set
        source = open_shards(data.source, base_dir=base_dir, keys=data.keys)
        pool = select(source, data.select, seed=data.seed, where="data.select")
        if n_train is not None:
            pool = _take_first(pool, n_train + (n_val or 0), "data.n_train", source, what="training + validation")
        _check_targets(source, targets)
        sides += [(source, pool)]
        if inputs is not None:
            check_inputs(inputs, source.wave)
    if scan:
        for source, rows in sides:
            _scan(source, rows, cache_dir, say)


def _check_named_sources(data, base_dir: Path, cache_dir: Path, *, n_test: Optional[int]) -> list:
    """The named test sets a synthetic test set cannot check by building them: those with files
    of their own (opened, selected and counted: their (source, rows) are returned for the scan),
    the synthetic stream, and subsets of a synthetic test set (their selection must be able to
    leave their n)."""
    sides = []
    targets = tuple(data.targets)
    for name, spec in data.tests.items():
        where = f"data.tests.{name}"
        if spec.source == SYNTHETIC or (spec.source is None and n_test is not None):
            frac, _ = _check_synthetic_selection(spec.n or 1, spec.select, f"{where}.select")
            if spec.source is None and spec.n is not None and n_test is not None and spec.n > frac * n_test:
                raise DataError(
                    f"asks for {spec.n} spectra, but its selection keeps about {int(frac * n_test)} of the "
                    f"{n_test} test spectra",
                    key=f"{where}.n",
                )
            if spec.source == SYNTHETIC:
                need = spec.n or SYNTHETIC_N_TEST
                _check_room(_synthetic_size(need, spec.select), data.seed, SYNTHETIC_TEST_ROW0, cache_dir, f"{where}.n")
        elif spec.source is not None:
            from .select import select

            source = _open_named(spec.source, f"{where}.source", base_dir, data.keys)
            rows = _take_first(
                select(source, spec.select, seed=data.seed, where=f"{where}.select"), spec.n, f"{where}.n", source
            )
            _check_targets(source, targets)
            sides.append((source, rows))
    return sides


def _open_named(pattern, key: str, base_dir: Path, keys) -> ShardSet:
    """Test files, opened; a problem with them is at their own key (`data.test_source`,
    `data.tests.ext.source`), not at the report's `data.source`."""
    from .shards import open_shards

    try:
        return open_shards(pattern, base_dir=base_dir, keys=keys)
    except DataError as error:
        raise error.placed(key, str(pattern)) from None


def _scan(source: ShardSet, rows: np.ndarray, cache_dir: Path, say=None) -> None:
    """Read the rows' flux and error in blocks (the reader refuses a NaN or inf, naming file and row).
    Minutes over the user's 1M spectra, so `say` hears of it: once per file set and rows."""
    import numpy as np

    from engine.notebook.store import digest

    memo_path = cache_dir / "scanned.json"
    key = digest(source.fingerprint(), hashlib.sha256(np.ascontiguousarray(rows).tobytes()).hexdigest())
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    if memo.get(key):
        return
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    began = time.perf_counter()
    if say is not None:
        size = len(rows) * source.n_pixels * 2 * 4
        say(
            f"checking {len(rows):,} spectra ({_size(size)} of flux and error) in {len(source.paths)} file"
            f"{'s' if len(source.paths) != 1 else ''} for NaN and inf — once: the files' fingerprint is remembered"
        )
    step = 8192
    flux = np.empty((min(step, len(rows)), source.n_pixels), dtype=np.float32)
    error = np.empty_like(flux)
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        source.read(part, out=(flux[: len(part)], error[: len(part)]))
    memo[key] = True
    if say is not None:
        say(f"checked in {time.perf_counter() - began:.1f} s: every value finite")
    try:
        from engine.text.textfile import atomic_write

        atomic_write(memo_path, json.dumps(memo, sort_keys=True).encode())
    except OSError:
        pass


def _take_first(rows: np.ndarray, count: Optional[int], key: str, source, what: str = "") -> np.ndarray:
    if count is None:
        return rows
    if count > len(rows):
        label = f" {what}" if what else ""
        raise DataError(
            f"asks for {count}{label} spectra but only {len(rows)} are available after the selection",
            key=key,
            path=getattr(source, "pattern", None),
        )
    return rows[:count]


def _check_targets(source, targets) -> None:
    for name in targets:
        source.param(name)  # loads the column once: a missing or non-finite label fails here


# ---------------------------------------------------------------------------------------------
# Synthetic data, generated once and cached
# ---------------------------------------------------------------------------------------------


def _kept_fraction(selection) -> float:
    """How much of a synthetic set a selection's ranges and SNR cut keep (an estimate)."""
    if selection is None:
        return 1.0
    frac = 1.0
    for name, (lo, hi) in (selection.ranges or {}).items():
        if name in synth_space.RANGES:
            a, b = synth_space.RANGES[name]
            overlap = max(0.0, min(b, hi) - max(a, lo))
            frac *= overlap / (b - a) if b > a else float(a >= lo and a <= hi)
    if selection.snr_top_frac is not None:
        frac *= selection.snr_top_frac
    return frac


def _synthetic_size(need: int, selection) -> int:
    """How many spectra `_synthetic_rows` first generates for `need` rows passing `selection`."""
    frac = _kept_fraction(selection)
    counted = [c for c in (getattr(selection, "first", None), getattr(selection, "random", None)) if c is not None]
    target = max(need, *counted) if counted else need
    return math.ceil(target / max(frac, 1e-12) * 1.02) + 16


def check_disk(n: int, cache_dir: Path, *, key: str, n_pixels: int = synth_space.N_PIXELS) -> None:
    """Refuse to generate n synthetic spectra that the cache's disk cannot hold (flux + error, float32)."""
    need = n * n_pixels * 8
    folder = Path(cache_dir)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if need > 0.9 * free:
        raise DataError(
            f"{n:,} synthetic spectra need {_size(need)} on disk (in {Path(cache_dir)}), but it has {_size(free)} free",
            key=key,
            hint="ask for fewer spectra (the embedded examples use 20,000), or free disk space",
        )


def _size(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n_bytes < 1000 or unit == "TB":
            return f"{n_bytes:.1f} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1000
    return f"{n_bytes:.1f} PB"


def _check_room(n: int, seed: int, start: int, cache_dir: Path, key: str) -> None:
    if not (Path(cache_dir) / "synthetic" / synthetic_key(n, seed, start) / "complete.json").is_file():
        check_disk(n, cache_dir, key=key)


def _check_synthetic_selection(need: int, selection, where: str) -> tuple[float, list[int]]:
    """(the fraction a selection keeps, its explicit counts), or a DataError when it cannot leave `need` rows."""
    counted = [c for c in (getattr(selection, "first", None), getattr(selection, "random", None)) if c is not None]
    if counted and counted[0] < need:
        raise DataError(f"selects {counted[0]} spectra but {need} are needed", key=where)
    frac = _kept_fraction(selection)
    if frac <= 0:
        raise DataError(
            "the ranges exclude every spectrum the synthetic generator makes",
            key=f"{where}.ranges",
            hint=f"the generator's ranges are {synth_space.RANGES}",
        )
    return frac, counted


def _synthetic_rows(
    need: int, selection, *, seed: int, start: int, cache_dir: Path, where: str, say=None, progress=None
):
    """A cached synthetic set big enough that `selection` leaves `need` rows; (source, first `need` rows)."""
    from .select import select

    frac, counted = _check_synthetic_selection(need, selection, where)
    target = max(need, *counted) if counted else need
    n = math.ceil(target / frac * 1.02) + 16
    for _ in range(5):
        source = synthetic_source(n, seed=seed, start=start, cache_dir=cache_dir, say=say, progress=progress)
        filtered = select(source, _filters_only(selection), seed=seed, where=where)
        if len(filtered) >= target:
            rows = select(source, selection, seed=seed, where=where)
            return source, rows[:need]
        n = math.ceil(n * target / max(len(filtered), 1) * 1.1) + 64
    raise DataError(f"cannot generate enough spectra for the selection ({need} needed)", key=where)


def _filters_only(selection):
    if selection is None:
        return None
    return selection.model_copy(update={"first": None, "random": None})


def synthetic_key(n: int, seed: int, start: int = 0, n_pixels: int = synth_space.N_PIXELS, ranges=None) -> str:
    blob = json.dumps(
        [n, seed, start, synth_space.GENERATOR_VERSION, n_pixels, synth_space.resolve_ranges(ranges)], sort_keys=True
    )
    return f"n{n}-s{seed}-v{synth_space.GENERATOR_VERSION}-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def synthetic_source(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    cache_dir: str | Path = ".research/cache",
    ranges=None,
    n_pixels: int = synth_space.N_PIXELS,
    say=None,
    progress=None,
) -> ShardSet:
    """The synthetic set of n rows (from global row `start`), generated on first use and cached.
    Generating is the one long step a first run has before training (tens of seconds for the
    example): `say` hears what is made, where and how big, and `progress` gets a bar of rows."""
    from filelock import FileLock

    from .shards import ShardSet

    root = Path(cache_dir) / "synthetic"
    root.mkdir(parents=True, exist_ok=True)
    key = synthetic_key(n, seed, start, n_pixels, ranges)
    final = root / key
    with FileLock(str(root / f"{key}.lock")):
        if not (final / "complete.json").is_file():
            check_disk(n, root, key="data", n_pixels=n_pixels)
            if final.exists():
                shutil.rmtree(final)
            for stale in root.glob(f".tmp-{key}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            tmp = root / f".tmp-{key}-{os.getpid()}"
            shards = max(1, math.ceil(n / SHARD_ROWS))
            began = time.perf_counter()
            if say is not None:
                size = n * n_pixels * 2 * 4  # flux and error, float32
                say(
                    f"generating {n:,} synthetic spectra × {n_pixels} pixels ({_size(size)}) into "
                    f"{shown(final)} — once; later runs read them from there (research cache info)"
                )
            task = progress.task("generating spectra", total=n) if progress is not None else None
            _write(tmp, n, shards, seed, start, ranges, n_pixels, on_rows=task.advance if task is not None else None)
            if task is not None:
                task.done()
            if say is not None:
                seconds = time.perf_counter() - began
                say(f"generated {n:,} spectra in {seconds:.1f} s ({n / max(seconds, 1e-9):,.0f} spectra/s)")
            (tmp / "complete.json").write_text(json.dumps({"n": n, "seed": seed, "start": start, "shards": shards}))
            os.replace(tmp, final)
    shards = json.loads((final / "complete.json").read_text())["shards"]
    paths = [final / f"shard_{k}" / "dataset.h5" for k in range(shards)]
    return ShardSet(paths, pattern=f"synthetic:{key}")


def _write(out: Path, n: int, shards: int, seed: int, start: int, ranges, n_pixels: int, on_rows=None) -> None:
    from . import synth

    # rows are the same whatever the block (generator v4): a bar's blocks are small enough to move
    synth.write_shards(
        out,
        n,
        shards,
        seed,
        ranges=ranges,
        n_pixels=n_pixels,
        start=start,
        on_rows=on_rows,
        block=2048 if on_rows is not None else 8192,
    )
