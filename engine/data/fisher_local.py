"""The Fisher / Cramér–Rao ceiling estimated from the data: derivatives from neighbours in parameter space.

`engine.data.fisher` differentiates the generator itself, which only works for spectra the
generator made. A user's simulated set has no generator to call, but it has what the bound
needs: noise-free fluxes f(θ) at many θ and, for each spectrum, the per-pixel error σ of the
noise x = f(θ) + level·σ·N(0, 1). The derivatives ∂f/∂θ at a spectrum are read off its
neighbours, so the ceiling comes from the data alone:

**Estimator.** Each parameter is measured in units of the spacing of the points along it over
the neighbour pool (all rows of the source): √12·std / N^(1/d) for scattered draws — the same
factor for every column, so in effect standardised — or the step of a grid where that is larger
(else a grid's few magnitudes would never differ among a spectrum's nearest neighbours). For
each spectrum i, its k nearest neighbours j (Euclidean in those units, i itself excluded) give
a weighted least-squares fit of the flux differences

    f_j − f_i = B (θ_j − θ_i) + ½ (θ_j − θ_i)ᵀ C (θ_j − θ_i)           (every pixel at once)

anchored at i's own noise-free flux (so no intercept is fitted: it is known exactly), with
tricube weights (1 − (r_j / r_k)³)³ on the distance. B is the derivative estimate; the
quadratic term C is fitted only so that curvature does not leak into B (at the edges of the
parameter box the neighbourhood is one-sided, and a linear fit there mistakes curvature for
slope); a faint ridge on C gives the slope the whole change where a parameter takes only two
values among the neighbours (a grid's edge, where its square is collinear with it). Then, as
in `fisher.py`, F = Σ_pixels Bᵢ Bⱼ / (level·σ_i)², CRB = diag(F⁻¹) with every fitted parameter
unknown, σ = √CRB, and the ceiling R² in the two forms (`r2`, the bound combined with the prior
variance; `r2_unbiased`, the classic 1 − mean(CRB)/var) per target, per SNR bin (SNR at the
split's noise level) and per magnitude bin where mag is a column.
Pixels whose error is not > 0 carry no weight: in noise-free simulated sets a zero error is a
mask or padding, not a perfect pixel.

**Which parameters.** T_eff, log_g, Fe_H (and every target) are fitted when they vary. Any
other varying column except `snr` (computed from the flux, not a cause of it) — `mag` in the
synthetic data, whose scale the flux follows — is a nuisance, marginalised in F⁻¹, if it
affects the flux: it is kept when it lowers the leave-one-out error of the local fits (neighbour
fluxes predicted from the others, in noise units, median over 100 spectra) — `mag` on the
synthetic data cuts it by a factor > 100; a column of pure noise raises it (×1.03 – 1.2). The
test matters both ways: a column that does not affect the flux, fitted anyway, steals
information (−0.01 in R² on the synthetic set) and thins the neighbourhoods; a parameter that
does affect the flux but is left out makes the ceiling far too optimistic (dropping mag on the
synthetic set: +0.06 in R² of log_g, +0.13 of Fe_H). `nuisance=` overrides the test.

**Neighbourhood size.** Default k = 3q, q = d + d(d+1)/2 the fitted coefficients per pixel
(d = 4: q = 14, k = 42). Measured against the exact ceiling (1000 spectra, 4096 pixels), the
error is flat for k between 2q and 6q and grows below 2q (k = 20 < 1.5q: twice the error at 5k
spectra); a larger k only costs time (linear in k). A linear fit (k = 12 – 20) was measured too:
3 – 10× the bias of the quadratic (Fe_H +0.013 in r2, +0.04 – 0.06 in r2_unbiased at 2k
spectra), as were a fit in log-flux (no better) and a correction of F for the residual "noise"
of the fits (it over-corrects: the residuals are curvature, not noise).

**Bias.** The derivatives of a local fit are averages over a neighbourhood plus what the
quadratic cannot follow (third and higher orders); these errors are not noise around the truth
but behave like it in F = B W Bᵀ: they make nearly collinear derivatives (the log_g–T_eff–mag
degeneracies) look less collinear, so the Fisher information is over-estimated and the ceiling
is slightly optimistic — σ low, R² high. Measured on the synthetic set (`bench/bench_fisher.py`,
2000 test spectra, 4096 pixels, level 1): ΔR² ≤ +0.004 (r2) and ≤ +0.010 (r2_unbiased; Fe_H,
the weakest target) at 2k spectra, ≤ +0.001 and ≤ +0.003 at 20k, ≤ +0.0005 and ≤ +0.002 at
50k; per spectrum the 5–95 % range of σ_data / σ_exact is 0.83 – 1.11 at 2k, 0.95 – 1.04 at
20k. With fewer pixels (512) the bound is more degenerate and the bias larger (+0.009 in r2
at 3k spectra, +0.003 at 20k). On a grid (19 × 17 × 9 × 5 nodes, 512 pixels): ≤ +0.003.

`fit_chi2` in the details flags what this estimate cannot see: the χ² over all pixels (noise
units, at the split's level) of a neighbour's flux predicted by the local fit without it,
median over 100 spectra. Well below 1 the neighbours differ only as their parameters say
(synthetic set: ≈ 0.01 at 20k spectra, 0.3 at 2k); above 1 they differ by more than the noise
could hide — a parameter the file does not list (the synthetic set without its Fe_H column:
23, the ceiling of log_g then +0.06 too high; without mag: 36 000) or a set too sparse for its
curvature — and the ceiling is too optimistic.

**Assumptions.** The stored parameters are all the parameters that change the flux: one the
file does not list acts as noise in the fit, and then both the derivatives and the missing
marginalisation over it make the ceiling too high. The flux is smooth (twice differentiable) on
the scale of the neighbourhoods, and the noise is Gaussian with the stored error, independent
between pixels (the information in the error's own dependence on θ is left out, as in the
exact ceiling, since models see only the noisy flux).

**Memory.** The parameter columns are read whole; fluxes only for the neighbours of the spectra
asked: all of them at once when they fit in `memory` bytes (1 GiB: any N up to 65k at 4096
pixels), else the spectra are taken in Z-order of their parameters (neighbouring spectra share
neighbours) in blocks whose neighbours fit, each block's rows read sorted. The spectra's own
flux and error are read per block too, at most `memory` bytes of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError, SpecError
from . import synth
from .fisher import MAG_EDGES, SNR_EDGES, TARGETS, FisherResult, _result, ceiling_for_split

METHODS = ("auto", "exact", "data")
MEMORY = 1 << 30  # bytes of neighbour flux held at once (and, apart, of the spectra's own flux and error)
DERIVED = ("snr",)  # columns computed from the flux: never a parameter of it
CV_SAMPLE = 100  # spectra whose local fits decide which nuisance columns affect the flux
FIT_BATCH = 16  # spectra per vectorised fit (their neighbours' flux differences: 16 × k × pixels float32)
LOO_PIXELS = 1024  # about this many pixels (a strided subset) measure the leave-one-out residual
READ_ROWS = 8192  # rows per read call
RIDGE = 1e-6  # penalty on the local fits' curvature coefficients, relative to their mean weight


def coefficients(d: int) -> int:
    """Fitted coefficients per pixel of the anchored local quadratic in d parameters."""
    return d + d * (d + 1) // 2


def default_neighbours(d: int) -> int:
    """k = 3q: the flat part of the measured error-vs-k curve, at the cheap end."""
    return 3 * coefficients(d)


# ---------------------------------------------------------------------------------------------
# The ceiling
# ---------------------------------------------------------------------------------------------


def made_by_generator(source) -> bool:
    """Whether this engine's generator (its current version) made every file of the source."""
    check = getattr(source, "synthetic_info", None)
    info = check() if callable(check) else None
    return bool(info and info.get("generator_version") == synth.GENERATOR_VERSION)


def ceiling_of(
    split,
    *,
    method: str = "auto",
    neighbours: int | None = None,
    nuisance: Sequence[str] | None = None,
    level: float | None = None,
) -> FisherResult:
    """The ceiling of a Split by `method`: "exact" (the generator's own derivatives; a DataError on
    other data), "data" (derivatives estimated from neighbours), or "auto": exact when the current
    generator made the data — it is exact, the estimate only close — else data-derived."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "exact" or (method == "auto" and made_by_generator(split.source)):
        return ceiling_for_split(split, level=level)
    return data_ceiling_for_split(split, level=level, neighbours=neighbours, nuisance=nuisance)


def data_ceiling_for_split(
    split,
    *,
    level: float | None = None,
    neighbours: int | None = None,
    nuisance: Sequence[str] | None = None,
    memory: int = MEMORY,
) -> FisherResult:
    """The data-derived ceiling of a Split's spectra (at the split's own noise level by default);
    neighbours come from every row of the split's source."""
    return data_ceiling(
        split.source,
        split.index,
        level=split.noise_level if level is None else level,
        targets=split.targets,
        neighbours=neighbours,
        nuisance=nuisance,
        memory=memory,
    )


def data_ceiling(
    source,
    rows,
    *,
    level: float = 1.0,
    targets: Sequence[str] = TARGETS,
    neighbours: int | None = None,
    nuisance: Sequence[str] | None = None,
    pool=None,
    mag_edges: Sequence[float] | None = None,
    snr_edges: Sequence[float] = SNR_EDGES,
    memory: int = MEMORY,
) -> FisherResult:
    """The Cramér–Rao ceiling of the spectra `rows` of `source`, derivatives from their
    neighbours among the rows `pool` (all rows of the source by default).

    `neighbours`: k (default 3q, see the module doc); `nuisance`: the non-target columns to fit
    and marginalise (default: those that measurably affect the flux). σ of a target the data do
    not hold is NaN; a singular Fisher matrix (a target the flux does not depend on) gives σ = inf.
    """
    if not level > 0:
        raise ValueError("the noise level must be > 0 for a finite Cramér–Rao bound")
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    pool = np.arange(source.n, dtype=np.int64) if pool is None else np.unique(np.asarray(pool, dtype=np.int64))
    if len(rows) == 0:
        raise DataError("no spectra to compute the ceiling of")
    names, chosen, tested = _parameters(source, rows, pool, targets, nuisance, neighbours, level, memory)
    d = len(names)
    k = _neighbours(neighbours, d, len(pool), names)
    estimate = LocalFisher(source, pool, names, k, memory=memory)
    fisher, flux_error = estimate.matrices(rows)
    sigma_fit, singular = _sigma(fisher, level)

    sigma = np.full((len(rows), len(TARGETS)), np.nan)
    truth = {}
    for j, name in enumerate(TARGETS):
        truth[name] = _param(source, name, rows) if _has(source, name) else np.full(len(rows), np.nan)
        if name in names:
            sigma[:, j] = sigma_fit[:, names.index(name)]
    mag = _param(source, "mag", rows) if _has(source, "mag") else None
    snr = (_param(source, "snr", rows) if _has(source, "snr") else flux_error) / level
    residual = tested.get(tuple(names))
    details = {
        "neighbours": k,
        "parameters": list(names),
        "nuisance": [n for n in names if n in chosen],
        "pool": int(len(pool)),
        "singular": int(singular),
        "fit_chi2": None if residual is None else float(np.median(residual)),
        "nuisance_test": {"+".join(key): float(np.median(v)) for key, v in tested.items()},
    }
    edges = _mag_edges(mag) if mag_edges is None and mag is not None else (mag_edges or MAG_EDGES)
    return _result(sigma, level, truth, mag, edges, snr=snr, snr_edges=snr_edges, method="data", details=details)


class LocalFisher:
    """Fisher matrices (noise level 1) from anchored local quadratic fits over `pool`'s rows."""

    def __init__(self, source, pool: np.ndarray, names: Sequence[str], k: int, *, memory: int = MEMORY):
        self.source, self.pool, self.names, self.k = source, pool, tuple(names), int(k)
        self.theta = np.stack([_param(source, n, pool) for n in self.names], axis=1)
        self.scale = _scales(self.theta)
        self.z = self.theta / self.scale
        self.max_rows = max(self.k + 1, int(memory // (4 * source.n_pixels)))  # neighbour rows per block
        self.max_queries = max(1, self.max_rows // 2)  # spectra per block (flux and error: two rows each)
        self._tree = None

    @property
    def tree(self):
        if self._tree is None:
            from sklearn.neighbors import KDTree  # scikit-learn is a declared dependency; scipy is only its dependency

            self._tree = KDTree(self.z)
        return self._tree

    def neighbours(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(z of the rows, positions in the pool of their k neighbours, distances), the row itself excluded."""
        zq = np.stack([_param(self.source, n, rows) for n in self.names], axis=1) / self.scale
        dist, pos = self.tree.query(zq, k=min(self.k + 1, len(self.pool)))
        at = np.searchsorted(self.pool, rows)
        at = np.minimum(at, len(self.pool) - 1)
        own = np.where(self.pool[at] == rows, at, -1)
        drop = pos == own[:, None]
        drop[~drop.any(axis=1), -1] = True  # not its own neighbour: drop the farthest instead
        keep = ~drop
        return zq, pos[keep].reshape(len(rows), -1), dist[keep].reshape(len(rows), -1)

    def matrices(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(len(rows), d, d) Fisher matrices at level 1, and the rows' median |flux| / error."""
        d = len(self.names)
        out = np.empty((len(rows), d, d))
        snr = np.empty(len(rows))
        for part in _chunks(len(rows), self.max_rows):  # the neighbour lists of a part stay small
            zq, pos, dist = self.neighbours(rows[part])
            for block in self._blocks(zq, pos):
                q = part[block]
                flux, error, nflux, npos = self._read(rows[q], pos[block])
                out[q] = self._fit(zq[block], npos, pos[block], dist[block], flux, error, nflux)
                snr[q] = _snr(flux, error)
        return out, snr

    def loo_residual(self, rows: np.ndarray, level: float) -> np.ndarray:
        """Per spectrum: the χ² (all pixels, noise units (level · σ)²) of its neighbours' fluxes
        predicted by the local fit without them — how well the fitted parameters explain them."""
        zq, pos, dist = self.neighbours(rows)
        out = np.empty(len(rows))
        for block in self._blocks(zq, pos):
            flux, error, nflux, npos = self._read(rows[block], pos[block])
            out[block] = self._fit(zq[block], npos, pos[block], dist[block], flux, error, nflux, loo=True) / level**2
        return out

    # -- the pieces ---------------------------------------------------------------------------
    def _blocks(self, zq: np.ndarray, pos: np.ndarray):
        """Index arrays of spectra whose neighbours together fit in `max_rows` rows."""
        n = len(pos)
        if n <= self.max_queries and len(np.unique(pos)) <= self.max_rows:
            yield np.arange(n)
            return
        order = np.argsort(_zorder(zq), kind="stable")
        start = 0
        while start < n:
            window = order[start : start + self.max_queries]
            flat = pos[window].reshape(-1)
            _, first = np.unique(flat, return_index=True)
            new = np.zeros(flat.size, dtype=np.int64)
            new[first] = 1
            union = np.cumsum(new.reshape(len(window), -1).sum(axis=1))
            count = max(1, int(np.searchsorted(union, self.max_rows, side="right")))
            yield np.sort(window[:count])
            start += count

    def _read(self, rows: np.ndarray, pos: np.ndarray):
        """The rows' flux and error, the neighbours' flux, and the neighbours' positions in it."""
        flux, error = _read_rows(self.source, rows, with_error=True)
        used = np.unique(pos)
        nflux, _ = _read_rows(self.source, self.pool[used], with_error=False)
        return flux, error, nflux, np.searchsorted(used, pos)

    def _fit(self, zq, npos, pos, dist, flux, error, nflux, *, loo: bool = False) -> np.ndarray:
        d, n_pix = len(self.names), flux.shape[1]
        iu = np.triu_indices(d)
        with np.errstate(divide="ignore"):
            weight_px = np.where(error > 0, 1.0 / np.square(error.astype(np.float64)), 0.0)
        # the leave-one-out χ² is a sum over pixels: a strided subset of them, scaled up, estimates it
        px = slice(None, None, max(1, n_pix // LOO_PIXELS)) if loo else slice(None)
        out = np.empty(len(zq)) if loo else np.empty((len(zq), d, d))
        y = None
        for s in range(0, len(zq), FIT_BATCH):
            b = slice(s, s + FIT_BATCH)
            m = len(zq[b])
            x = self.z[pos[b]] - zq[b, None, :]  # (m, k, d)
            design = np.concatenate([x, x[..., iu[0]] * x[..., iu[1]]], axis=-1)  # (m, k, q)
            h = np.maximum(dist[b, -1:] * 1.0001, 1e-300)
            w = (1.0 - np.clip(dist[b] / h, 0.0, 1.0) ** 3) ** 3  # tricube
            gram = np.einsum("mki,mk,mkj->mij", design, w, design)
            # a faint ridge on the curvature terms only: where the neighbours hold two values of a
            # parameter (a grid's edge) its square is collinear with it, and the slope must take
            # the whole change, not share it with the square (the pseudo-inverse alone halves it)
            quad = np.arange(d, design.shape[-1])
            gram[:, quad, quad] += RIDGE * gram[:, quad, quad].mean(axis=1, keepdims=True)
            a_inv = _pinv(gram)
            # the neighbours' flux differences in float32 (a difference of nearby float32 values
            # is exact to rounding, and summing k of them in float32 adds ~1e-6 relative: far below
            # the fit's own error), in one buffer reused batch after batch
            if y is None:
                y = np.empty((min(FIT_BATCH, len(zq)) * self.k, n_pix), dtype=np.float32)
            yb = y[: m * self.k]
            np.take(nflux, npos[b].reshape(-1), axis=0, out=yb)
            yb = yb.reshape(m, self.k, n_pix)
            yb -= flux[b, None, :]
            wpx = weight_px[b][:, px]
            if loo:
                yb = yb[..., px].astype(np.float64)
                hat = np.matmul(np.matmul(design, a_inv), np.swapaxes(design * w[..., None], 1, 2))  # fitted = hat @ y
                resid = yb - np.matmul(hat, yb)
                # a linear smoother's leave-one-out residual without refitting: r_j / (1 − h_jj)
                lever = np.diagonal(hat, axis1=1, axis2=2)
                resid /= np.maximum(1.0 - lever, 1e-3)[..., None]
                np.square(resid, out=resid)
                per = np.matmul(resid, wpx[..., None])[..., 0]  # (m, k)
                scale = (weight_px[b] > 0).sum(axis=1) / np.maximum((wpx > 0).sum(axis=1), 1)  # to all pixels
                out[b] = (per * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300) * scale
                continue
            hat = np.einsum("mij,mkj,mk->mik", a_inv[:, :d], design, w)  # slope rows of the fit
            grad = np.matmul(hat.astype(np.float32), yb).astype(np.float64)
            grad /= self.scale[None, :, None]  # (m, d, pixels), per unit of θ
            out[b] = np.matmul(grad * wpx[:, None, :], np.swapaxes(grad, 1, 2))
        return out


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _parameters(source, rows, pool, targets, nuisance, neighbours, level, memory):
    """(fitted names, the nuisance columns chosen, {names tried: per-spectrum leave-one-out χ²})."""

    def varies(name: str) -> bool:  # a constant column needs no derivative, nor marginalising
        return _has(source, name) and float(np.ptp(_param(source, name, pool))) > 0

    wanted = [_canonical(t) for t in (*TARGETS, *targets)]
    base = [n for n in dict.fromkeys(wanted) if varies(n)]
    missing = [t for t in targets if not varies(_canonical(t))]
    if missing:
        raise DataError(
            f"the target {missing[0]} does not vary in the data: there is no derivative of the "
            "flux with respect to it to estimate, so no Cramér–Rao bound"
        )
    others = [c for c in getattr(source, "columns", ()) if c not in DERIVED and _canonical(c) not in base]
    sample = (
        rows if len(rows) <= CV_SAMPLE else np.sort(np.random.default_rng(0).choice(rows, CV_SAMPLE, replace=False))
    )
    tested: dict[tuple[str, ...], np.ndarray] = {}

    def residual(names):
        key = tuple(names)
        if key not in tested:
            k = _neighbours(neighbours, len(names), len(pool), names)
            tested[key] = LocalFisher(source, pool, names, k, memory=memory).loo_residual(sample, level)
        return tested[key]

    if nuisance is not None:
        chosen = []
        for name in nuisance:
            if name in DERIVED:
                raise SpecError(f"'{name}' is computed from the flux, not a parameter of it", key="model.nuisance")
            if not _has(source, name):
                raise DataError(
                    f"model.nuisance names '{name}', which the data do not hold; "
                    f"their columns are {', '.join(getattr(source, 'columns', ()))}"
                )
            if _canonical(name) not in base and varies(name):
                chosen.append(name)
        names = base + chosen
        residual(names)
        return names, chosen, tested
    chosen = []
    for name in others:
        if not varies(name):
            continue
        without = residual(base + chosen)
        with_it = residual(base + chosen + [name])
        if float(np.median(with_it / np.maximum(without, 1e-300))) < 1.0:
            chosen.append(name)
    names = base + chosen
    residual(names)
    return names, chosen, tested


def _neighbours(k: int | None, d: int, pool: int, names) -> int:
    need = coefficients(d) + 1
    if k is None:
        k = min(default_neighbours(d), pool - 1)
    elif k < need:
        raise SpecError(
            f"{k} neighbours cannot fit a local quadratic in the {d} parameters "
            f"{', '.join(names)}: it needs at least {need} (the default is {default_neighbours(d)})",
            key="model.neighbours",
        )
    if k > pool - 1 or k < need:
        raise DataError(
            f"the data hold {pool} spectra; the derivatives in {d} parameters need at least "
            f"{max(k, need) + 1} to take {max(k, need)} neighbours from"
        )
    return int(k)


def _sigma(fisher: np.ndarray, level: float) -> tuple[np.ndarray, int]:
    """√diag(F⁻¹) · level per spectrum (inf where F is singular), and how many were singular."""
    d = fisher.shape[1]
    try:
        cov = np.linalg.inv(fisher)
        bad = np.zeros(len(fisher), dtype=bool)
    except np.linalg.LinAlgError:
        cov = np.empty_like(fisher)
        bad = np.zeros(len(fisher), dtype=bool)
        for i, f in enumerate(fisher):
            try:
                cov[i] = np.linalg.inv(f)
            except np.linalg.LinAlgError:
                cov[i], bad[i] = np.inf, True
    diag = np.diagonal(cov, axis1=1, axis2=2)[:, :d]
    bad |= ~np.isfinite(diag).all(axis=1) | (diag <= 0).any(axis=1)
    sigma = np.sqrt(np.clip(diag, 0, None)) * level
    sigma[bad] = np.inf
    return sigma, int(bad.sum())


def _scales(theta: np.ndarray) -> np.ndarray:
    """Per parameter, the unit of the neighbour search: the typical spacing of the points along it.

    Drawn at random, n points in d parameters are spaced about √12·std / n^(1/d) along each (the
    std scaled alike in every column, so the neighbourhoods are those of standardised
    parameters). On a grid the spacing along a parameter is its step, which may be much larger
    (a few magnitudes among many temperatures): in standardised units the nearest neighbours
    would all share the query's magnitude, the fit would see no change along it, and the slope
    there would be lost. The larger of the two keeps every parameter explored."""
    n, d = theta.shape
    spread = np.sqrt(12.0) * theta.std(axis=0) / n ** (1.0 / d)
    steps = np.empty(d)
    for j in range(d):
        gaps = np.diff(np.unique(theta[:, j]))
        steps[j] = np.median(gaps) if len(gaps) else 0.0
    return np.maximum(spread, steps)


def _pinv(a: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a stack of symmetric PSD matrices: a design that leaves a direction
    unexplored (parameters on a grid, duplicates) gives no slope there rather than a blow-up."""
    vals, vecs = np.linalg.eigh(a)
    tol = vals[:, -1:] * 1e-10
    inv = np.where(vals > tol, 1.0 / np.where(vals > tol, vals, 1.0), 0.0)
    return np.einsum("mij,mj,mkj->mik", vecs, inv, vecs)


def _read_rows(source, rows: np.ndarray, *, with_error: bool):
    """Flux (and error) float32 of unique rows in any order, read in sorted chunks."""
    order = np.argsort(rows, kind="stable")
    srt = rows[order]
    flux = np.empty((len(rows), source.n_pixels), dtype=np.float32)
    error = np.empty_like(flux) if with_error else None
    read_flux = getattr(source, "read_flux", None)
    takes_out = _takes_out(source.read) and (read_flux is None or _takes_out(read_flux))
    for s in range(0, len(srt), READ_ROWS):
        part, idx = slice(s, s + READ_ROWS), srt[s : s + READ_ROWS]
        if error is not None and takes_out:  # error is None iff not with_error
            source.read(idx, out=(flux[part], error[part]))
        elif error is not None:
            flux[part], error[part] = source.read(idx)
        elif read_flux is not None and takes_out:
            read_flux(idx, out=flux[part])
        else:
            flux[part] = read_flux(idx) if read_flux is not None else source.read(idx)[0]
    if np.any(order != np.arange(len(rows))):
        back = np.empty_like(order)
        back[order] = np.arange(len(rows))
        flux = flux[back]
        error = error[back] if error is not None else None
    return flux, error


def _takes_out(method) -> bool:
    import inspect

    try:
        return "out" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _chunks(n: int, size: int):
    """Index arrays of consecutive pieces of at most `size` of range(n)."""
    for s in range(0, n, max(1, size)):
        yield np.arange(s, min(s + size, n))


def _zorder(z: np.ndarray) -> np.ndarray:
    """Z-order (Morton) codes of points: nearby points get nearby codes, so blocks taken in this
    order share most of their neighbours."""
    d = z.shape[1]
    bits = max(1, min(16, 63 // d))
    lo, hi = z.min(axis=0), z.max(axis=0)
    cells = ((z - lo) / np.where(hi > lo, hi - lo, 1.0) * ((1 << bits) - 1)).astype(np.uint64)
    code = np.zeros(len(z), dtype=np.uint64)
    for bit in range(bits):
        for dim in range(d):
            code |= ((cells[:, dim] >> np.uint64(bit)) & np.uint64(1)) << np.uint64(bit * d + dim)
    return code


def _snr(flux: np.ndarray, error: np.ndarray) -> np.ndarray:
    from .noise import snr

    return snr(flux, error)


def _mag_edges(mag: np.ndarray) -> list[float]:
    """The synthetic magnitude bins when they cover the data, else quartiles of the data's mag."""
    if mag.min() >= MAG_EDGES[0] and mag.max() <= MAG_EDGES[-1]:
        return list(MAG_EDGES)
    edges = np.unique(np.round(np.quantile(mag, np.linspace(0, 1, 5)), 3))
    edges[0], edges[-1] = min(edges[0], mag.min()), max(edges[-1], mag.max())
    return [float(e) for e in edges] if len(edges) > 1 else [float(mag.min()), float(mag.max()) + 1.0]


def _canonical(name: str) -> str:
    return "Fe_H" if name == "M_H" else name


def _has(source, name: str) -> bool:
    columns = getattr(source, "columns", ())
    name = _canonical(name)
    return name in columns or (name == "Fe_H" and "M_H" in columns)


def _param(source, name: str, rows) -> np.ndarray:
    return np.asarray(source.param(_canonical(name), rows), dtype=np.float64)


__all__ = [
    "LocalFisher",
    "ceiling_of",
    "coefficients",
    "data_ceiling",
    "data_ceiling_for_split",
    "default_neighbours",
    "made_by_generator",
]
