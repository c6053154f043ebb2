"""Small made-up spectra with a known answer, for the model tests and benchmarks.

Not the physical generator (that is `engine.data`): here every spectrum is a tilted continuum
with absorption lines whose depths depend on T_eff and [Fe/H] (and their product) and whose
widths depend on log g, plus a per-pixel error. Targets are recoverable, partly linearly
(a ridge gets most of T_eff and [Fe/H]) and partly not (log g lives in line widths), so a net
should beat a ridge on log g. Cheap: 2000 × 256 takes a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.data.source import ArraySource
from engine.data.split import Split

TARGETS = ("log_g", "T_eff", "Fe_H")


def toy_source(n: int, n_pixels: int = 256, *, n_lines: int = 12, error: float = 0.01, seed: int = 0) -> ArraySource:
    rng = np.random.default_rng(seed)
    log_g, t_eff, fe_h = rng.uniform(1, 5, n), rng.uniform(3750, 6000, n), rng.uniform(-1, 0, n)
    g, t, f = (log_g - 3) / 1.15, (t_eff - 4875) / 650, (fe_h + 0.5) / 0.29
    wave = np.linspace(6500.0, 9500.0, n_pixels)
    u = np.linspace(-1, 1, n_pixels)
    flux = 1.0 + 0.05 * t[:, None] * u[None, :]
    margin = min(8, n_pixels // 4)
    lines = rng.choice(np.arange(margin, n_pixels - margin), min(n_lines, n_pixels - 2 * margin), replace=False)
    a, b, c = rng.normal(0, 1, (3, n_lines))
    for k, centre in enumerate(lines):
        depth = 0.3 / (1 + np.exp(-(a[k] * t + b[k] * f + 0.5 * c[k] * t * f)))
        width = 1.5 * np.exp(0.25 * g)  # pixels: broader at high log g
        profile = np.exp(-0.5 * ((np.arange(n_pixels)[None, :] - centre) / width[:, None]) ** 2)
        flux -= depth[:, None] * profile
    err = np.full_like(flux, error) * (1 + 0.5 * rng.uniform(size=(n, 1)))
    flux += err * rng.standard_normal(flux.shape)  # intrinsic scatter, independent of the split's noise
    params = {"log_g": log_g, "T_eff": t_eff, "Fe_H": fe_h, "mag": rng.uniform(20.5, 22.5, n)}
    params["snr"] = np.median(np.abs(flux) / err, axis=1)
    return ArraySource(flux.astype(np.float32), err.astype(np.float32), params, wave)


def toy_splits(
    n_train: int = 2000,
    n_val: int = 400,
    n_test: int = 600,
    n_pixels: int = 256,
    *,
    targets: Sequence[str] = TARGETS,
    noise_level: float = 0.0,
    seed: int = 0,
    redraw: bool = False,
    **source,
) -> tuple[Split, Split, Split]:
    """(train, val, test) over one toy source; noise (if any) on every split, seeded per split,
    one draw each, as `engine.data.load.make_splits` cuts them; with `redraw` the training
    split draws its noise afresh every epoch (the spec's `noise.redraw`)."""
    src = toy_source(n_train + n_val + n_test, n_pixels, seed=seed, **source)
    cuts = np.cumsum([0, n_train, n_val, n_test])
    return tuple(  # type: ignore[return-value]  # tuple() of a generator of exactly three
        Split(
            src,
            np.arange(cuts[i], cuts[i + 1]),
            tuple(targets),
            noise_level,
            noise_seed=seed + i,
            noise_epoch=None if redraw and i == 0 else 0,
        )
        for i in range(3)
    )
