"""Where spectra come from: the protocol every source follows, and an in-memory source.

A source is a table of N spectra: `flux` and `error` (N × pixels, float32), a wavelength grid,
and per-spectrum parameter columns (T_eff, log_g, Fe_H, mag, snr …). Rows are addressed by a
global index 0..N-1; readers take sorted index arrays so a disk-backed source can read
contiguous runs (random row access on disk is 50× slower than slices, see PERFORMANCE.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Source(Protocol):
    n: int
    n_pixels: int
    wave: np.ndarray  # (pixels,) float64, Å
    columns: tuple[str, ...]  # parameter names available

    def param(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        """One parameter column (float64) at the given sorted rows (all rows when None)."""

    def read(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flux, error) float32 arrays (len(index) × pixels) for sorted global rows."""

    def fingerprint(self) -> str:
        """A short hash that changes when the data changes (for the run cache)."""


class ArraySource:
    """Spectra already in memory (tests, plugins, data made on the fly)."""

    def __init__(
        self, flux: np.ndarray, error: np.ndarray, params: Mapping[str, np.ndarray], wave: np.ndarray | None = None
    ):
        flux = np.ascontiguousarray(flux, dtype=np.float32)
        error = np.ascontiguousarray(error, dtype=np.float32)
        if flux.ndim != 2 or flux.shape != error.shape:
            raise ValueError(f"flux {flux.shape} and error {error.shape} must be the same N × pixels shape")
        self.flux, self.error = flux, error
        self.n, self.n_pixels = flux.shape
        self.wave = np.arange(self.n_pixels, dtype=np.float64) if wave is None else np.asarray(wave, dtype=np.float64)
        self._params = {name: np.asarray(values, dtype=np.float64) for name, values in params.items()}
        for name, values in self._params.items():
            if values.shape != (self.n,):
                raise ValueError(f"parameter {name} has shape {values.shape}, expected ({self.n},)")
        self.columns = tuple(self._params)

    def param(self, name: str, index: np.ndarray | None = None) -> np.ndarray:
        if name not in self._params and name in ("Fe_H", "M_H"):
            name = "M_H" if name == "Fe_H" else "Fe_H"  # one parameter, two names
        values = self._params[name]
        return values if index is None else values[index]

    def read(
        self, index: np.ndarray, *, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        index = np.asarray(index, dtype=np.int64)
        if out is None:
            return self.flux[index], self.error[index]
        np.take(self.flux, index, axis=0, out=out[0])
        np.take(self.error, index, axis=0, out=out[1])
        return out

    def read_flux(self, index: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        if out is None:
            return self.flux[index]
        return np.take(self.flux, index, axis=0, out=out)

    def fingerprint(self) -> str:
        import hashlib

        digest = hashlib.sha256()
        for array in (self.flux, self.error, self.wave, *(self._params[k] for k in sorted(self._params))):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]
