"""One side of an experiment (train, val or test): which rows, which labels, what noise.

Models see data only through a `Split`: in memory with `arrays()` (the nets), or streamed in
blocks with `blocks()` (Ridge, memory bounded independently of N). Noise is applied on the way
out, per (seed, epoch, global row index), so blocks of any size give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .noise import add_noise
from .source import Source

BLOCK_ROWS = 8192


@dataclass(frozen=True)
class Block:
    start: int  # position of the first row within the split
    x: np.ndarray  # (rows, pixels) float32, noisy when the split is
    y: np.ndarray  # (rows, targets) float32
    index: np.ndarray  # global row indices in the source


@dataclass(frozen=True)
class Split:
    source: Source
    index: np.ndarray  # sorted global rows
    targets: tuple[str, ...]
    noise_level: float = 0.0
    noise_seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", np.asarray(self.index, dtype=np.int64))
        object.__setattr__(self, "targets", tuple(self.targets))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def n_pixels(self) -> int:
        return self.source.n_pixels

    @property
    def wave(self) -> np.ndarray:
        return self.source.wave

    def param(self, name: str) -> np.ndarray:
        """A parameter column of these rows (float64), e.g. for binning by T_eff or snr."""
        return self.source.param(name, self.index)

    def labels(self, names: Sequence[str] | None = None) -> np.ndarray:
        """(rows, targets) float32 labels, in target order."""
        names = self.targets if names is None else tuple(names)
        return np.stack([self.param(name) for name in names], axis=1).astype(np.float32)

    def blocks(self, rows: int = BLOCK_ROWS, *, epoch: int = 0) -> Iterator[Block]:
        """Stream the split in blocks of `rows` (noisy per epoch when the split has noise)."""
        y_all = self.labels()
        for start in range(0, len(self.index), rows):
            index = self.index[start : start + rows]
            flux, error = self.source.read(index)
            x = self._noisy(flux, error, epoch, index)
            yield Block(start, x, y_all[start : start + len(index)], index)

    def arrays(self, *, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in memory: x (rows, pixels) float32 noisy as the split says, y (rows, targets)."""
        flux, error = self.source.read(self.index)
        return self._noisy(flux, error, epoch, self.index), self.labels()

    def clean(self) -> tuple[np.ndarray, np.ndarray]:
        """(flux, error) without noise, for models that draw noise themselves (on a GPU)."""
        return self.source.read(self.index)

    def _noisy(self, flux: np.ndarray, error: np.ndarray, epoch: int, index: np.ndarray) -> np.ndarray:
        if self.noise_level == 0:
            return flux
        return add_noise(flux, error, self.noise_level, self.noise_seed, epoch, index)
