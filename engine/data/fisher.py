"""The Fisher / Cramér–Rao ceiling: the best R² any unbiased estimator can reach on synthetic data.

For a spectrum with parameters θ = (T_eff, log g, [Fe/H], mag) observed as
x = f(θ) + level·σ·N(0, 1) (σ the per-pixel error), the Fisher matrix is
F = Σ_pixels ∂f/∂θᵢ ∂f/∂θⱼ / (level·σ)², and no unbiased estimator has variance below
CRBᵢ = (F⁻¹)ᵢᵢ — the bound on one parameter with all the others unknown (nuisance; the
magnitude is one, since the flux scales with it and a model is not told it). Over a test set
the implied ceiling is

    R²ᵢ(unbiased) = 1 − mean(CRBᵢ) / var(θᵢ)

per noise level and per magnitude bin. An estimator that knows the labels' spread (every
trained model does: it shrinks towards the mean where the spectrum says little) can beat the
unbiased bound on faint spectra, so the ceiling reported as `r2` combines each spectrum's bound
with the prior variance V = var(θᵢ), as a Gaussian prior would (the Bayesian Cramér–Rao form):

    R²ᵢ = 1 − mean(CRBᵢ·V / (CRBᵢ + V)) / V          always in (0, 1), ≥ R²ᵢ(unbiased)

(`r2_unbiased` keeps the classic number, the one quoted as "Fisher R²_max"). The derivatives are central finite differences of
`engine.data.synth.spectra` in float64 — the very function that made the data, regenerated
from the stored parameters — so the ceiling belongs to the data. The ceiling is that of the flux: the
error σ follows the flux too (photon noise), so the noise's variance carries information of its
own, ½ (∂ ln σ²)² per pixel, but against the mean's (∂f / σ)² it is a fraction ½ / counts (the
source and sky counts in a pixel, ≥ 40 here), under 2 % — left out. A model that reads the error
array itself is not bound by it: that array is noise-free, the shortcut the error-only baseline
measures. CRB ∝ level², so one Fisher
matrix serves every noise level (`FisherResult.at`).

Data the generator did not make (a user's simulated spectra: noise-free flux and an error
array) get the same bound with the derivatives estimated from neighbours in parameter space
(`engine.data.fisher_local`, whose `ceiling_of` picks the method: exact whenever the data allow
it, since the estimate is slightly optimistic — that module says how much).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import synth

TARGETS = ("T_eff", "log_g", "Fe_H")
NUISANCE = ("mag",)
STEPS = {"T_eff": 2.0, "log_g": 0.004, "Fe_H": 0.004, "mag": 0.004}  # central-difference steps
MAG_EDGES = (19.5, 20.3, 21.1, 21.9, 22.7)  # four equal bins over the generator's magnitudes
SNR_EDGES = (0.0, 2.0, 4.0, 7.0, math.inf)  # SNR at the split's noise level; the MoE's SNR experts' bins


@dataclass(frozen=True)
class FisherResult:
    level: float
    sigma: np.ndarray  # (n, 3) Cramér–Rao standard deviation of T_eff, log_g, Fe_H at `level`
    r2: dict[str, float]  # ceiling R² per target over the whole set (bound combined with the prior variance)
    r2_unbiased: dict[str, float]  # 1 − mean(CRB) / var: the classic unbiased-estimator ceiling
    r2_by_mag: dict[str, list[tuple[float, float, int, float]]]  # target -> [(lo, hi, count, R²)]
    truth: dict[str, np.ndarray] = field(repr=False)
    mag: np.ndarray | None = field(repr=False)  # None where the data have no magnitudes (then no mag bins)
    r2_by_snr: dict[str, list[tuple[float, float, int, float]]] = field(default_factory=dict)  # when the SNR is known
    snr: np.ndarray | None = field(default=None, repr=False)  # per spectrum, at `level`
    method: str = "exact"  # "exact": the generator's derivatives; "data": estimated from neighbours
    details: dict[str, Any] = field(default_factory=dict)  # what the data-derived estimate chose (k, parameters …)

    def at(self, level: float, mag_edges: Sequence[float] = MAG_EDGES) -> "FisherResult":
        """The same ceiling at another noise level (the bound scales as level²)."""
        ratio = level / self.level
        snr = None if self.snr is None else self.snr / ratio
        return _result(
            self.sigma * ratio,
            level,
            self.truth,
            self.mag,
            mag_edges,
            snr=snr,
            method=self.method,
            details=self.details,
        )

    def sigma_of(self, target: str) -> np.ndarray:
        """The per-spectrum Cramér–Rao σ of one target (M_H reads as Fe_H)."""
        return self.sigma[:, TARGETS.index("Fe_H" if target == "M_H" else target)]


def fisher_matrices(
    params: Mapping[str, np.ndarray], *, n_pixels: int = synth.N_PIXELS, batch: int = 128
) -> np.ndarray:
    """(n, 4, 4) Fisher matrices of (T_eff, log_g, Fe_H, mag) at noise level 1 (σ = the generator's error)."""
    p = {name: _column(params, name) for name in (*TARGETS, "mag")}
    n = len(p["T_eff"])
    out = np.empty((n, 4, 4))
    for start in range(0, n, batch):
        piece = {k: v[start : start + batch] for k, v in p.items()}
        _, error = synth.spectra(piece, n_pixels=n_pixels, dtype=np.float64)
        assert error is not None  # with_error defaults to True
        weight = 1.0 / error**2
        grads = []
        for name in (*TARGETS, *NUISANCE):
            h = STEPS[name]
            up = dict(piece, **{name: piece[name] + h})
            down = dict(piece, **{name: piece[name] - h})
            f_up, _ = synth.spectra(up, n_pixels=n_pixels, dtype=np.float64, with_error=False)
            f_down, _ = synth.spectra(down, n_pixels=n_pixels, dtype=np.float64, with_error=False)
            grads.append((f_up - f_down) / (2 * h))
        d = np.stack(grads, axis=1)  # (b, 3, pixels)
        out[start : start + len(piece["T_eff"])] = np.einsum("bip,bjp,bp->bij", d, d, weight, optimize=True)
    return out


def ceiling(
    params: Mapping[str, np.ndarray],
    *,
    level: float = 1.0,
    n_pixels: int = synth.N_PIXELS,
    mag_edges: Sequence[float] = MAG_EDGES,
    seed: int | None = None,
) -> FisherResult:
    """The Cramér–Rao ceiling for spectra with these parameters (T_eff, log_g, Fe_H, mag arrays).

    `seed` is accepted for symmetry with the data spec; the model is deterministic in the
    parameters, so it does not change the result.
    """
    if level <= 0:
        raise ValueError("the noise level must be > 0 for a finite Cramér–Rao bound")
    fisher = fisher_matrices(params, n_pixels=n_pixels)
    cov = np.linalg.inv(fisher)
    sigma = np.sqrt(np.clip(np.diagonal(cov, axis1=1, axis2=2)[:, :3], 0, None)) * level
    truth = {name: _column(params, name) for name in TARGETS}
    return _result(sigma, level, truth, _column(params, "mag"), mag_edges)


def ceiling_for_split(split, *, level: float | None = None, mag_edges: Sequence[float] = MAG_EDGES) -> FisherResult:
    """The ceiling on a Split of synthetic data (at the split's own noise level by default)."""
    from ..errors import DataError

    check = getattr(split.source, "synthetic_info", None)
    info = check() if callable(check) else None
    if not info:
        raise DataError(
            "the Fisher ceiling needs spectra made by the synthetic generator (data.source: synthetic, "
            "or files written by `research data synth`)"
        )
    if info.get("generator_version") != synth.GENERATOR_VERSION:
        raise DataError(
            f"the data were made by generator version {info.get('generator_version')}, this engine has "
            f"version {synth.GENERATOR_VERSION}; regenerate them (research data synth) to get their ceiling"
        )
    level = split.noise_level if level is None else level
    params = {name: split.param(name) for name in (*TARGETS, "mag")}
    result = ceiling(params, level=level, n_pixels=split.n_pixels, mag_edges=mag_edges)
    if "snr" not in getattr(split.source, "columns", ()):
        return result
    return _result(result.sigma, level, result.truth, result.mag, mag_edges, snr=split.param("snr") / level)


def _column(params: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if name == "Fe_H" and name not in params and "M_H" in params:
        name = "M_H"
    return np.asarray(params[name], dtype=np.float64)


def _r2(sigma: np.ndarray, truth: np.ndarray, *, unbiased: bool = False) -> float:
    if len(truth) < 2:  # an empty or single-spectrum bin
        return float("nan")
    var = float(np.var(truth))
    if var == 0:
        return float("nan")
    crb = sigma**2
    err = crb if unbiased else crb * var / (crb + var)
    if not unbiased and np.isinf(crb).any():  # no information at all: the prior's variance
        err = np.where(np.isinf(crb), var, err)
    return 1.0 - float(np.mean(err)) / var


def _result(
    sigma, level, truth, mag, mag_edges, *, snr=None, snr_edges=SNR_EDGES, method="exact", details=None
) -> FisherResult:
    r2 = {name: _r2(sigma[:, j], truth[name]) for j, name in enumerate(TARGETS)}
    r2_unbiased = {name: _r2(sigma[:, j], truth[name], unbiased=True) for j, name in enumerate(TARGETS)}
    by_mag = _binned(sigma, truth, mag, mag_edges) if mag is not None else {name: [] for name in TARGETS}
    by_snr = _binned(sigma, truth, snr, snr_edges) if snr is not None else {}
    return FisherResult(level, sigma, r2, r2_unbiased, by_mag, truth, mag, by_snr, snr, method, dict(details or {}))


def _binned(sigma, truth, values, edges) -> dict[str, list[tuple[float, float, int, float]]]:
    """target -> [(lo, hi, count, R²)] over bins [lo, hi) of `values` (the last bin closed)."""
    out: dict[str, list[tuple[float, float, int, float]]] = {name: [] for name in TARGETS}
    edges = list(edges)
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (values >= lo) & ((values < hi) | ((hi == edges[-1]) & (values <= hi)))
        for j, name in enumerate(TARGETS):
            out[name].append((lo, hi, int(inside.sum()), _r2(sigma[inside, j], truth[name][inside])))
    return out
