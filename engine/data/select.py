"""Which spectra of a source to use: parameter ranges, SNR top fraction, first n, random n.

Filters apply in the order the spec documents — ranges, then SNR, then first/random — to a set
of candidate rows, and always return sorted row indices (sorted rows read as contiguous runs).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError


def select(
    source, selection=None, *, seed: int = 0, candidates: np.ndarray | None = None, where: str = "data.select"
) -> np.ndarray:
    """Sorted rows of `source` (among `candidates`, all rows when None) that pass `selection`.

    `selection` is an `engine.spec.Selection` (or None: every candidate). `random` draws with
    `selection.seed`, or `seed` when that is absent. A selection that leaves nothing, or asks
    for more rows than it has, is a `DataError` naming `where`.
    """
    rows = np.arange(source.n, dtype=np.int64) if candidates is None else np.asarray(candidates, dtype=np.int64)
    if selection is None:
        return rows
    for name, (lo, hi) in (selection.ranges or {}).items():
        values = source.param(name, rows)
        rows = rows[(values >= lo) & (values <= hi)]
        if len(rows) == 0:
            raise DataError(f"no spectrum has {name} in [{lo}, {hi}]", key=f"{where}.ranges.{name}")
    if selection.snr_top_frac is not None:
        rows = snr_top(source, rows, selection.snr_top_frac)
    if selection.first is not None:
        if selection.first > len(rows):
            raise DataError(
                f"asks for the first {selection.first} spectra but only {len(rows)} pass the filters",
                key=f"{where}.first",
            )
        rows = rows[: selection.first]
    if selection.random is not None:
        if selection.random > len(rows):
            raise DataError(
                f"asks for {selection.random} random spectra but only {len(rows)} pass the filters",
                key=f"{where}.random",
            )
        rows = random_subset(rows, selection.random, selection.seed if selection.seed is not None else seed)
    if len(rows) == 0:
        raise DataError("the selection leaves no spectra", key=where)
    return rows


def snr_top(source, rows: np.ndarray, fraction: float) -> np.ndarray:
    """The ⌈fraction · len(rows)⌉ rows of highest SNR (the `snr` column, or median |flux|/error)."""
    if not 0 < fraction <= 1:
        raise DataError(f"snr_top_frac must be in (0, 1], got {fraction}")
    keep = max(1, math.ceil(fraction * len(rows) - 1e-9))
    snr = source.param("snr", rows)
    order = np.argsort(-snr, kind="stable")[:keep]
    return np.sort(rows[order])


def random_subset(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` of `rows` drawn without replacement, seeded, sorted."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFFFFFF, 0x5E1EC7]))
    return np.sort(rng.choice(rows, size=count, replace=False))
