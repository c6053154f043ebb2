"""The input matrix a trial's `inputs:` (`engine.data.inputs`) makes: the columns each spectral
part keeps (windows resolved on the data's wavelengths, a top-K ranking fitted on the training
split alone), and the features, computed from the noisy flux block by block — the same for
every split, so that the test rows never choose what the model sees. A latent part is a stored
net's embeddings of that noisy flux (`engine.models.latent`, the probe's code), the net loaded
from the source trial's record folder the run hands on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .features import error_statistics, line_features, normalise
from .inputs import BANDS, FEATURES, Inputs, Part


@dataclass(frozen=True)
class Fitted:
    """`Inputs` with each spectral part's pixels chosen (windows resolved on the data's
    wavelengths, a top-K ranking fitted on the training split): what turns a block of noisy
    flux, its errors and its rows into the model's input matrix, identically on every split."""

    inputs: Inputs
    columns: tuple[np.ndarray | None, ...]  # per part: the pixels kept (None: all, or not spectral)
    source_wave: np.ndarray = field(repr=False)
    digest: str = ""
    #: per part: a latent part's net (`engine.models.latent.Latent`), its width and source key; else None
    latents: tuple[Any, ...] = ()

    @property
    def width(self) -> int:
        return sum(self._width(part, cols) for part, cols in zip(self.inputs.parts, self.columns))

    def _width(self, part: Part, cols: np.ndarray | None) -> int:
        if part.spectral:
            return len(self.source_wave) if cols is None else len(cols)
        if part.kind == "latent":
            return self._latent(part).width
        return len(part.labels) if part.kind == "labels" else FEATURES[part.kind]

    def _latent(self, part: Part) -> "Read":
        read = self.latents[self.inputs.parts.index(part)]
        assert read is not None, "a latent part is fitted with its net"
        return read

    @property
    def wave(self) -> np.ndarray:
        """The wavelengths of the input's columns when it is one spectral part (what a net's
        positional code reads); else the column numbers."""
        if self.inputs.spectral:
            cols = self.columns[0]
            return self.source_wave if cols is None else self.source_wave[cols]
        return np.arange(self.width, dtype=np.float64)

    @property
    def needs_error(self) -> bool:
        return any(part.kind in ("error", "quality") for part in self.inputs.parts)

    def transform(self, flux: np.ndarray, error: np.ndarray | None, source, index: np.ndarray) -> np.ndarray:
        """(rows, width) float32 from a block's noisy flux, its errors and its global rows."""
        blocks = []
        for part, cols in zip(self.inputs.parts, self.columns):
            if part.kind == "flux":
                blocks.append(flux if cols is None else flux[:, cols])
            elif part.kind == "error":
                assert error is not None
                blocks.append(error if cols is None else error[:, cols])
            elif part.kind == "quality":
                assert error is not None
                blocks.append(error_statistics(error))
            elif part.kind == "lines":
                blocks.append(line_features(flux.astype(np.float64), self.source_wave))
            elif part.kind == "global":
                blocks.append(global_features(flux, self.source_wave))
            elif part.kind == "latent":
                blocks.append(self._latent(part).latent.rows(flux))
            else:
                blocks.append(np.column_stack([source.param(name, index) for name in part.labels]))
        out = np.concatenate([np.asarray(b, dtype=np.float32).reshape(len(flux), -1) for b in blocks], axis=1)
        return np.ascontiguousarray(out)

    def info(self) -> dict[str, Any]:
        """What a trial's info records: the inputs, their width, and the wavelengths a top-K kept."""
        out: dict[str, Any] = {"inputs": self.inputs.describe(), "input_width": self.width}
        for part, cols in zip(self.inputs.parts, self.columns):
            if part.top_k is not None and cols is not None:
                out[f"top_k_wave.{part.kind}"] = [round(float(w), 3) for w in self.source_wave[cols]]
        read = [r for r in self.latents if r is not None]
        if read:
            out["latent"] = [r.info() for r in read]
        return out


@dataclass(frozen=True)
class Read:
    """A latent part as fitted: the stored net it reads, which trial that is, and its width."""

    of: str  # as the spec names it
    source_key: str  # the source trial's key (its record folder's name)
    latent: Any  # engine.models.latent.Latent
    width: int

    def info(self) -> dict[str, Any]:
        return {
            "of": self.of,
            "source_key": self.source_key,
            "net": self.latent.net_type,
            "layer": self.latent.layer_name,
            "width": self.width,
        }


def check(inputs: Inputs, wave: np.ndarray) -> None:
    """A `DataError` for a selection the data's wavelengths cannot meet (a window with no pixel,
    more top-K pixels than there are): what `fit` would meet, found before anything trains."""
    for part in inputs.parts:
        if part.spectral:
            _kept(part, np.asarray(wave, dtype=np.float64))


def _kept(part: Part, wave: np.ndarray) -> np.ndarray:
    """The pixels a spectral part's windows keep (all without windows), checked against its top_k."""
    from engine.errors import DataError

    keep = np.arange(len(wave))
    if part.wave is not None:
        inside = np.zeros(len(wave), bool)
        for lo, hi in part.wave:
            inside |= (wave >= lo) & (wave <= hi)
        keep = np.flatnonzero(inside)
        if not len(keep):
            shown = ", ".join(f"[{lo:g}, {hi:g}]" for lo, hi in part.wave)
            raise DataError(
                f"no pixel of the data lies in the windows {shown} Å (its wavelengths run {wave.min():g}–{wave.max():g} Å)",
                key=f"inputs.{part.kind}.wave",
            )
    if part.top_k is not None and part.top_k > len(keep):
        raise DataError(
            f"top_k is {part.top_k}, but only {len(keep)} pixels are there to rank", key=f"inputs.{part.kind}.top_k"
        )
    return keep


def fit(
    inputs: Inputs,
    train,
    targets: Sequence[str],
    *,
    sources: Mapping[str, Path] | None = None,
    device: str = "cpu",
) -> Fitted:
    """Resolve `inputs` on the training split `train` (a `Split` without inputs). `sources`: the
    record folder of each latent part's stored net, by the name `Inputs.latents` gives it (what
    the run hands on from the plan); `device`: where a latent's net runs."""
    wave = np.asarray(train.wave, dtype=np.float64)
    columns: list[np.ndarray | None] = []
    for part in inputs.parts:
        if not part.spectral:
            columns.append(None)
            continue
        keep = _kept(part, wave)
        if part.top_k is not None:
            by = part.by or targets[0]
            score = np.abs(_correlations(train, part.kind, by))[keep]
            order = np.argsort(-score, kind="stable")[: part.top_k]  # ties: the bluer pixel first
            keep = np.sort(keep[order])
        columns.append(None if len(keep) == len(wave) else keep)
    latents = _latents(inputs, len(wave), sources or {}, device)
    digest = hashlib.sha256(json.dumps(inputs.model_dump(), sort_keys=True).encode())
    for cols in columns:
        digest.update(b"-" if cols is None else np.ascontiguousarray(cols, dtype=np.int64).tobytes())
    for read in latents:  # which stored net: the same words may name another training of it
        digest.update(b"-" if read is None else f"{read.source_key}:{read.latent.layer_name}".encode())
    return Fitted(inputs, tuple(columns), wave, digest.hexdigest()[:16], tuple(latents))


def _latents(inputs: Inputs, n_pixels: int, sources: Mapping[str, Path], device: str) -> list[Read | None]:
    """Each part's stored net when it is a latent (loaded once, frozen), else None."""
    named = {id(part): name for name, part in inputs.latents.items()}
    out: list[Read | None] = []
    for part in inputs.parts:
        if part.kind != "latent":
            out.append(None)
            continue
        name = named[id(part)]
        if name not in sources:
            raise ValueError(
                f"{name} reads the stored trial '{part.of}', but none was handed on "
                "(run it through `research run`, which finds the stored trial)"
            )
        from engine.models.latent import Latent

        folder = Path(sources[name])
        latent = Latent.load(folder, str(part.of), part.layer, part.pool, device)
        out.append(Read(str(part.of), folder.name, latent, latent.width(n_pixels)))
    return out


def _correlations(train, kind: str, by: str) -> np.ndarray:
    """Pearson r of every pixel's noisy flux (or error) with label `by` over the training split,
    accumulated block by block in float64 (memory: one block)."""
    y = train.source.param(by, train.index).astype(np.float64)
    n = len(y)
    sx = sxx = sxy = None
    for block, error in _blocks(train, kind == "error"):
        values = (error if kind == "error" else block.x).astype(np.float64)
        rows = y[block.start : block.start + len(block.index)]
        if sx is None:
            sx, sxx, sxy = values.sum(0), (values * values).sum(0), rows @ values
        else:
            sx += values.sum(0)
            sxx += (values * values).sum(0)
            sxy += rows @ values
    assert sx is not None and sxx is not None and sxy is not None
    my = y.mean()
    cov = sxy / n - my * sx / n
    var = np.maximum(sxx / n - (sx / n) ** 2, 0.0)
    sd_y = y.std()
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / (np.sqrt(var) * sd_y)
    return np.nan_to_num(r, nan=0.0)


def _blocks(split, with_error: bool):
    """The split's noisy blocks, each with its rows' errors when asked for."""
    for block in split.blocks():
        if not with_error:
            yield block, None
            continue
        flux = np.empty_like(block.x)
        error = np.empty_like(block.x)
        split._read(block.index, flux, error)
        yield block, error


def global_features(flux: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """(rows, 128): the mean and spread of each of 40 bands (equal pixel counts) of the
    brightness-normalised flux, the 39 colours (differences of adjacent band means), and the 9
    line features. Normalised, so a star's brightness is not among them (the quality features
    carry the signal-to-noise)."""
    x = normalise(flux.astype(np.float64))
    bands = np.array_split(np.arange(x.shape[1]), BANDS)
    means = np.column_stack([x[:, b].mean(axis=1) for b in bands])
    spreads = np.column_stack([x[:, b].std(axis=1) for b in bands])
    colours = np.diff(means, axis=1)
    return np.concatenate([means, spreads, colours, line_features(x, wave)], axis=1)


def global_names() -> list[str]:
    """The 128 global features' names, in their columns' order."""
    from .features import LINE_FEATURES

    return (
        [f"band{i}_mean" for i in range(BANDS)]
        + [f"band{i}_std" for i in range(BANDS)]
        + [f"colour{i}_{i + 1}" for i in range(BANDS - 1)]
        + list(LINE_FEATURES)
    )
