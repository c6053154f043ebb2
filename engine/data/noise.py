"""Observational noise as the user adds it: `flux + level · error · N(0, 1)`.

The draw for one spectrum depends only on (seed, epoch, global spectrum index), never on which
block or worker reads it, so a result does not change with block size or executor.
"""

from __future__ import annotations

import numpy as np


def standard_normal(seed: int, epoch: int, index: np.ndarray, n_pixels: int) -> np.ndarray:
    """N(0, 1) draws, one row per spectrum index, reproducible per (seed, epoch, index)."""
    index = np.asarray(index, dtype=np.int64)
    out = np.empty((len(index), n_pixels), dtype=np.float32)
    for row, i in enumerate(index):
        rng = np.random.Generator(np.random.Philox(key=[seed & 0xFFFFFFFFFFFFFFFF, (epoch << 40) ^ int(i)]))
        out[row] = rng.standard_normal(n_pixels, dtype=np.float32)
    return out


def add_noise(flux: np.ndarray, error: np.ndarray, level: float, seed: int, epoch: int, index: np.ndarray) -> np.ndarray:
    """A noisy copy of `flux` (float32); `flux` itself is not modified."""
    if level == 0:
        return np.array(flux, dtype=np.float32, copy=True)
    return (flux + np.float32(level) * error * standard_normal(seed, epoch, index, flux.shape[1])).astype(np.float32, copy=False)


def snr(flux: np.ndarray, error: np.ndarray) -> np.ndarray:
    """Per-spectrum signal-to-noise: median over pixels of |flux| / error."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(flux) / error
    return np.nanmedian(np.where(np.isfinite(ratio), ratio, np.nan), axis=1)
