"""One side of an experiment (train, val or test): which rows, which labels, what noise.

Models see data only through a `Split`: in memory with `arrays()` (the nets), or streamed in
blocks with `blocks()` (Ridge, memory bounded independently of N). Noise is applied on the way
out, per (seed, epoch, global row index), so blocks of any size give the same numbers.

Epochs: `noise_epoch` fixes the draw when set (training without redraw uses 0, validation and
test use their own fixed epochs, so their noise differs from training noise on the same row);
when it is None the `epoch` argument picks the draw (training with `noise.redraw`). A model that
draws noise itself (on a GPU, with `noise.standard_normal_torch`) takes `clean()` and uses
`noise_level`, `noise_seed` and `noise_epoch_for(epoch)`.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Optional

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
    noise_epoch: Optional[int] = None  # a fixed draw, whatever the epoch; None: the epoch's draw
    name: str = ""
    #: what the model sees (`engine.data.inputs.Fitted`): None, the noisy flux itself; else
    #: `blocks()` and `arrays()` give the input matrix it makes of the noisy flux, the errors
    #: and the rows, and `n_pixels` / `wave` describe its columns
    inputs: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", np.asarray(self.index, dtype=np.int64))
        object.__setattr__(self, "targets", tuple(self.targets))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def n_pixels(self) -> int:
        """The width of what a model reads: the spectrum's pixels, or the inputs' columns."""
        return self.source.n_pixels if self.inputs is None else self.inputs.width

    @property
    def wave(self) -> np.ndarray:
        return self.source.wave if self.inputs is None else self.inputs.wave

    @property
    def redraws(self) -> bool:
        """Whether training on this split draws its noise afresh every epoch (the spec's
        `noise.redraw`): the split says so by pinning no draw. Read by the nets' trainer; a
        model has no setting of its own for it."""
        return self.noise_level > 0 and self.noise_epoch is None

    def noise_epoch_for(self, epoch: int = 0) -> int:
        """The epoch whose noise this split uses when asked for `epoch`."""
        return epoch if self.noise_epoch is None else self.noise_epoch

    def param(self, name: str) -> np.ndarray:
        """A parameter column of these rows (float64), e.g. for binning by T_eff or snr."""
        return self.source.param(name, self.index)

    def labels(self, names: Sequence[str] | None = None) -> np.ndarray:
        """(rows, targets) float32 labels, in target order."""
        names = self.targets if names is None else tuple(names)
        return np.stack([self.param(name) for name in names], axis=1).astype(np.float32)

    def blocks(self, rows: int = BLOCK_ROWS, *, epoch: int = 0, reuse: bool = False) -> Iterator[Block]:
        """Stream the split in blocks of `rows` (noisy per epoch when the split has noise).

        Memory is one block (plus a reused error buffer) whatever the split's length. By default
        each block's arrays are its own; with `reuse=True` the next block overwrites `x` in place
        (no allocation, ~1.5× faster reading) — for consumers that are done with a block before
        asking for the next, such as a Gram-matrix accumulation.
        """
        y_all = self.labels()
        pixels = self.source.n_pixels
        x_buf = error_buf = None
        with_error = self.noise_level != 0 or (self.inputs is not None and self.inputs.needs_error)
        for start in range(0, len(self.index), rows):
            index = self.index[start : start + rows]
            n = len(index)
            if reuse:
                if x_buf is None:
                    x_buf = np.empty((min(rows, len(self.index)), pixels), dtype=np.float32)
                x = x_buf[:n]
            else:
                x = np.empty((n, pixels), dtype=np.float32)
            err = None
            if not with_error:
                self._read_flux(index, x)
            else:
                if error_buf is None:
                    error_buf = np.empty((min(rows, len(self.index)), pixels), dtype=np.float32)
                err = error_buf[:n]
                self._read(index, x, err)
                if self.noise_level != 0:
                    add_noise(x, err, self.noise_level, self.noise_seed, self.noise_epoch_for(epoch), index, out=x)
            if self.inputs is not None:
                x = self.inputs.transform(x, err, self.source, index)
            yield Block(start, x, y_all[start : start + n], index)

    def arrays(self, *, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) in memory: x (rows, pixels) float32 noisy as the split says, y (rows, targets)."""
        x = np.empty((len(self.index), self.n_pixels), dtype=np.float32)
        for block in self.blocks(epoch=epoch):
            x[block.start : block.start + len(block.index)] = block.x
        return x, self.labels()

    def clean(self) -> tuple[np.ndarray, np.ndarray]:
        """(flux, error) without noise, for models that draw noise themselves (on a GPU)."""
        return self.source.read(self.index)

    def fingerprint(self) -> str:
        """The source's fingerprint, these rows, targets and noise: a run-cache key."""
        digest = hashlib.sha256(self.source.fingerprint().encode())
        digest.update(np.ascontiguousarray(self.index).tobytes())
        digest.update(repr((self.targets, float(self.noise_level), self.noise_seed, self.noise_epoch)).encode())
        if self.inputs is not None:
            digest.update(self.inputs.digest.encode())
        return digest.hexdigest()[:16]

    # -- reading through the fastest path the source offers -----------------------------------
    def _read(self, index: np.ndarray, flux: np.ndarray, error: np.ndarray) -> None:
        if "out" in inspect.signature(self.source.read).parameters:
            self.source.read(index, out=(flux, error))  # type: ignore[call-arg]  # `out` checked just above
        else:  # a plugin source with the bare protocol
            f, e = self.source.read(index)
            flux[...] = f
            error[...] = e

    def _read_flux(self, index: np.ndarray, out: np.ndarray) -> None:
        read_flux = getattr(self.source, "read_flux", None)
        if read_flux is not None and "out" in inspect.signature(read_flux).parameters:
            read_flux(index, out=out)
        else:
            out[...] = read_flux(index) if read_flux is not None else self.source.read(index)[0]
