"""Streaming closed-form ridge regression with the whole α path from the Gram matrix.

One pass over the training blocks accumulates, in float64, the moments of the data shifted by
the first block's mean (so squaring float32 fluxes loses nothing): n, Σx, Σy, XᵀX, Xᵀy, yᵀy.
Centring (the intercept) and per-pixel scaling (`standardize`, as scikit-learn's StandardScaler)
are then exact algebra on those sums. Each α's coefficients solve (G + αI) w = Xᵀy on the P × P
Gram, by the cheapest exact route for the path's length (`alpha_route`): a Cholesky solve per
α, or for long paths one `eigh`, G = V Λ Vᵀ, that gives every α at once,

    w(α) = V diag(1 / (λ + α)) Vᵀ Xᵀy

α is fixed, or picked per target from `alphas`: on the validation split (its squared error for
every α comes from one pass over it), or, without one, by generalised cross-validation, whose
degrees of freedom need the eigenvalues (`eigvalsh`, without vectors, beside the solves). Memory is O(P²) whatever N is. On CPU the Gram product is BLAS
`syrk` through scipy (faster than torch here, see PERFORMANCE.md); on cuda it is torch on the GPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Log, Model, quiet, resolve_device
from .configs import RidgeConfig

CHUNK_ROWS = 2048  # rows converted to float64 at a time (64 MiB at 4096 pixels)


@dataclass
class Moments:
    """Centred second moments of a split (float64 numpy): what ridge and PCA need of the data."""

    n: int
    mean_x: np.ndarray  # (P,)  zero when not centred
    mean_y: np.ndarray  # (T,)
    gram: np.ndarray  # (P, P) Σ (x - mean_x)(x - mean_x)ᵀ
    xty: np.ndarray  # (P, T) Σ (x - mean_x)(y - mean_y)ᵀ
    yty: np.ndarray  # (T,)   Σ (y - mean_y)²


def moments(split, *, center: bool = True, precision: str = "float64", block_rows: int = 8192,
            device: str = "cpu", progress=None) -> Moments:
    """One streaming pass over `split.blocks()`; memory independent of its length."""
    acc = _TorchAccumulator(device, precision) if device != "cpu" else _NumpyAccumulator(precision)
    task = progress.task("ridge: XᵀX (spectra)", total=len(split)) if progress else None
    # The CPU accumulator is done with a block before it asks for the next: one buffer, reused.
    for block in split.blocks(block_rows, reuse=device == "cpu"):
        acc.add(block.x, block.y, center)
        if task:
            task.advance(len(block.y))
    if task:
        task.done()
    if acc.n == 0:
        raise ValueError("cannot fit on an empty split")
    n, shift_x, shift_y, sx, sy, g, xty, yty = acc.result()
    _mirror_upper(g)  # syrk fills the upper triangle
    if not center:  # nothing was shifted: these are the raw sums
        return Moments(n, np.zeros(len(g)), np.zeros(len(sy)), g, xty, np.diag(yty).copy())
    m, my = sx / n, sy / n  # means of the shifted data
    g -= n * np.outer(m, m)
    return Moments(n, shift_x + m, shift_y + my, g, xty - n * np.outer(m, my), np.diag(yty) - n * my * my)


def _mirror_upper(g: np.ndarray, rows: int = 256) -> None:
    """Copy the upper triangle onto the lower, in place, a band of rows at a time."""
    for i in range(0, len(g), rows):
        j = min(i + rows, len(g))
        g[i:j, :i] = g[:i, i:j].T
        band = g[i:j, i:j]
        band[...] = np.triu(band) + np.triu(band, 1).T


class _NumpyAccumulator:
    def __init__(self, precision: str) -> None:
        self.dtype = np.float32 if precision == "float32" else np.float64
        self.n = 0

    def add(self, x: np.ndarray, y: np.ndarray, center: bool) -> None:
        from scipy.linalg import blas

        y = y.astype(np.float64)
        if self.n == 0:
            p, t = x.shape[1], y.shape[1]
            self.shift_x = x.mean(axis=0, dtype=np.float64) if center else np.zeros(p)
            self.shift_y = y.mean(axis=0) if center else np.zeros(t)
            self.g = np.zeros((p, p), order="F")  # symmetric, so its Fortran layout is its transpose's
            self.sx, self.sy = np.zeros(p), np.zeros(t)
            self.xty, self.yty = np.zeros((p, t)), np.zeros((t, t))
            self._xc = np.empty((CHUNK_ROWS, p), self.dtype)  # the centred chunk, reused: no allocation per chunk
            self._y1 = np.empty((CHUNK_ROWS, t + 1))  # [y − shift, 1]: Xᵀy and Σx in one float64 product
        syrk = blas.dsyrk if self.dtype == np.float64 else blas.ssyrk
        block_g = self.g if self.dtype == np.float64 else np.zeros(self.g.shape, np.float32, order="F")
        shift = self.shift_x.astype(self.dtype)
        t = y.shape[1]
        for start in range(0, len(x), CHUNK_ROWS):
            part = x[start : start + CHUNK_ROWS]
            rows = len(part)
            xc, y1 = self._xc[:rows], self._y1[:rows]
            np.subtract(part, shift, out=xc)  # the cast and the shift in one pass
            yc = y[start : start + CHUNK_ROWS] - self.shift_y
            y1[:, :t] = yc
            y1[:, t] = 1.0
            # xc.T is a Fortran-ordered P × rows matrix: syrk(trans=0) gives xcᵀ xc, upper triangle.
            block_g = syrk(1.0, xc.T, beta=1.0, c=block_g, trans=0, lower=0, overwrite_c=1)
            # One float64 GEMM gives [Xᵀy | Σx] of the chunk (a float32 chunk is upcast for it: a
            # float32 Xᵀy made the float32 coefficients 4× further from RidgeCV's, 9.9e-5 vs 2.4e-5).
            both = xc.T @ y1
            self.xty += both[:, :t]
            self.sx += both[:, t]
            self.yty += yc.T @ yc
            self.sy += yc.sum(axis=0)
        if self.dtype != np.float64:
            self.g += block_g  # the float32 block sum, added in float64
        else:
            self.g = block_g
        self.n += len(x)

    def result(self):
        return self.n, self.shift_x, self.shift_y, self.sx, self.sy, np.asarray(self.g), self.xty, self.yty


class _TorchAccumulator:
    """The same sums on a GPU (torch has no syrk; a full product is still I/O-bound there)."""

    def __init__(self, device: str, precision: str) -> None:
        import torch

        self.torch, self.device = torch, device
        self.dtype = torch.float32 if precision == "float32" else torch.float64
        self.n = 0

    def add(self, x: np.ndarray, y: np.ndarray, center: bool) -> None:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device, non_blocking=True)
        y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)).to(self.device)
        if self.n == 0:
            p, t = x.shape[1], y.shape[1]
            f64 = dict(device=self.device, dtype=torch.float64)
            self.shift_x = x.double().mean(0) if center else torch.zeros(p, **f64)
            self.shift_y = y.mean(0) if center else torch.zeros(t, **f64)
            self.g = torch.zeros(p, p, **f64)
            self.sx, self.sy = torch.zeros(p, **f64), torch.zeros(t, **f64)
            self.xty, self.yty = torch.zeros(p, t, **f64), torch.zeros(t, t, **f64)
        xc = x.to(self.dtype) - self.shift_x.to(self.dtype)
        yc = y - self.shift_y
        self.g += (xc.T @ xc).double()
        self.sx += xc.double().sum(0)
        self.xty += xc.T.double() @ yc
        self.yty += yc.T @ yc
        self.sy += yc.sum(0)
        self.n += len(x)

    def result(self):
        cpu = [t.cpu().numpy() for t in (self.shift_x, self.shift_y, self.sx, self.sy, self.g, self.xty, self.yty)]
        return (self.n, *cpu)


class Ridge(Model):
    type = "ridge"
    Config = RidgeConfig

    coef: np.ndarray  # (P, T) in pixel units (after the fit)
    intercept: np.ndarray  # (T,)

    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        self._check_split(train)
        cfg, t0 = self.config, time.perf_counter()
        device = resolve_device(self.train.device)
        blocks = math.ceil(len(train) / cfg.block_rows)
        log(f"ridge: XᵀX over {len(train):,} spectra × {train.n_pixels} pixels, {blocks} block{'s' if blocks > 1 else ''} "
            f"of ≤ {cfg.block_rows:,}")
        mo = moments(train, center=cfg.fit_intercept, precision=cfg.precision, block_rows=cfg.block_rows,
                     device=device, progress=progress)
        t_pass = time.perf_counter() - t0
        alphas = np.asarray(cfg.path, dtype=np.float64)
        selection = "fixed" if len(alphas) == 1 else "validation" if val is not None and len(val) else "gcv"
        route = alpha_route(len(alphas), selection)
        size = f"{len(mo.gram)} × {len(mo.gram)}"
        log(f"ridge: pass done in {t_pass:.1f} s; " + {
            "cholesky": f"{len(alphas)} Cholesky solve{'s' if len(alphas) > 1 else ''} of the {size} Gram"
                        + (" and its eigenvalues (GCV)" if selection == "gcv" else ""),
            "eigh": f"one eigendecomposition of the {size} Gram for the {len(alphas)}-α path"}[route])
        task = progress.task("ridge: solve", total=None) if progress else None

        # Per-pixel scale (population std, 1 where a pixel is constant), then the eigenbasis.
        scale = np.sqrt(np.maximum(np.diag(mo.gram), 0.0) / mo.n) if cfg.standardize else np.ones(len(mo.gram))
        scale[scale < 1e-12 * max(scale.max(), 1e-300)] = 1.0
        gram, mo.gram = mo.gram, None  # scaled in place: one P × P copy in memory, not two
        gram /= scale[:, None]
        gram /= scale[None, :]
        b = mo.xty / scale[:, None]
        w, lam, rss = alpha_path(gram, b, alphas, route, device, yty=mo.yty, need_rss=selection == "gcv")
        del gram
        t_path = time.perf_counter() - t0 - t_pass
        if task:
            task.done()
        self.coef_path = w / scale[:, None, None]
        self.intercept_path = mo.mean_y[:, None] - np.einsum("p,pta->ta", mo.mean_x, self.coef_path)

        if selection == "fixed":
            best, how, scores = np.zeros(len(self.targets), int), "fixed", None
        elif selection == "validation":
            self._check_split(val)
            scores, how = self._val_mse(val, cfg.block_rows), "validation"
            best = scores.argmin(axis=1)
        else:
            dof = (lam[:, None] / (lam[:, None] + alphas)).sum(axis=0) + cfg.fit_intercept
            scores = (np.maximum(rss, 0.0) / mo.n) / np.maximum(1.0 - dof / mo.n, 1e-12) ** 2
            best, how = scores.argmin(axis=1), "gcv"
        cols = np.arange(len(self.targets))
        self.coef = self.coef_path[:, cols, best]
        self.intercept = self.intercept_path[cols, best]
        chosen = {t: float(alphas[best[i]]) for i, t in enumerate(self.targets)}
        self._info = {
            "alpha": chosen,
            "alpha_selection": how,
            "alphas": alphas.tolist(),
            "scores": None if scores is None else {t: scores[i].tolist() for i, t in enumerate(self.targets)},
            "n_train": int(mo.n),
            "n_pixels": int(len(scale)),
            "device": device,
            "precision": cfg.precision,
            "route": route,
            "seconds": {"pass": round(t_pass, 3), "path": round(t_path, 3), "total": round(time.perf_counter() - t0, 3)},
        }
        on_edge = [t for i, t in enumerate(self.targets) if len(alphas) > 1 and best[i] in (0, len(alphas) - 1)]
        log(f"ridge: n={mo.n} α={chosen} ({how}; {self._info['seconds']['total']:.1f} s)"
            + (f"; α at the end of the path for {', '.join(on_edge)}" if on_edge else ""))

    def _val_mse(self, val, block_rows: int) -> np.ndarray:
        """(T, A) mean squared error on `val` of every α, from one pass over it."""
        p, t, a = self.coef_path.shape
        w = self.coef_path.reshape(p, t * a)
        sse = np.zeros(t * a)
        for block in val.blocks(block_rows):
            for start in range(0, len(block.x), CHUNK_ROWS):
                x = block.x[start : start + CHUNK_ROWS].astype(np.float64)
                y = block.y[start : start + CHUNK_ROWS].astype(np.float64)
                err = x @ w + self.intercept_path.reshape(-1) - np.repeat(y, a, axis=1)
                sse += (err**2).sum(axis=0)
        return sse.reshape(t, a) / len(val)

    def predict(self, split) -> np.ndarray:
        out = np.empty((len(split), len(self.targets)))
        for block in split.blocks(self.config.block_rows):
            for start in range(0, len(block.x), CHUNK_ROWS):
                rows = slice(block.start + start, block.start + start + len(block.x[start : start + CHUNK_ROWS]))
                out[rows] = block.x[start : start + CHUNK_ROWS].astype(np.float64) @ self.coef + self.intercept
        return out

    def coef_at(self, alpha: float) -> np.ndarray:
        """(P, T) coefficients at one α of the fitted path."""
        return self.coef_path[:, :, list(self.config.path).index(alpha)]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]


#: What one exact route to the α path costs, in Cholesky factorisations of the P × P Gram (each
#: P³/3 flops): a full `eigh` with vectors and `eigvalsh` alone, measured with OpenBLAS on 2
#: cores (P = 4096: Cholesky 0.25 s, eigvalsh 4.2 s, eigh 9.2–10.6 s; the ratios hold for P ≥ 1024).
EIGH_COST, EIGVALSH_COST = 36.0, 17.0


def alpha_route(n_alphas: int, selection: str) -> str:
    """The cheapest exact route to the coefficients of `n_alphas` α (and, for GCV, the
    eigenvalues its degrees of freedom need): one Cholesky solve per α while that costs less
    than one `eigh`; for GCV `eigvalsh` plus the solves; `eigh` for long paths. The choice
    changes the time, not the result (the routes agree to 1e-9 in float64)."""
    if n_alphas == 1:
        return "cholesky"
    extra = EIGVALSH_COST if selection == "gcv" else 0.0
    return "cholesky" if extra + n_alphas < EIGH_COST else "eigh"


def alpha_path(gram: np.ndarray, b: np.ndarray, alphas: np.ndarray, route: str, device: str, *, yty: np.ndarray,
               need_rss: bool) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(w: P × T × A coefficients in the scaled basis, the Gram's eigenvalues when GCV needs them,
    the residual sums of squares T × A when asked). `gram` may be overwritten."""
    if route == "cholesky" and (alphas <= 0).any():  # G + 0·I may be singular: a factor would fail or mislead
        route = "eigh"
    if route == "cholesky":
        try:
            lam = _eigvalsh(gram, device) if need_rss else None  # before the solves: it reads the Gram
            last = len(alphas) - 1  # the last solve may factor the Gram in place: one copy at a time
            w = np.stack([_solve(gram if i == last else gram.copy(), b, float(alpha), device)
                          for i, alpha in enumerate(alphas)], axis=2)
        except np.linalg.LinAlgError:  # α = 0 on a singular Gram: the eigenbasis copes, a factor does not
            return alpha_path(gram, b, alphas, "eigh", device, yty=yty, need_rss=need_rss)
        rss = None
        if need_rss:  # ‖y − Xw‖² = yᵀy − 2 bᵀw + wᵀGw; G is gone, so Gw = b − αw
            bw = np.einsum("pt,pta->ta", b, w)
            gw = b[:, :, None] - alphas[None, None, :] * w
            rss = yty[:, None] - 2 * bw + np.einsum("pta,pta->ta", w, gw)
        return w, lam, rss
    lam, vecs = _eigh(gram, device)
    lam = np.maximum(lam, 0.0)
    u = vecs.T @ b  # (P, T)
    p, t, a = len(lam), u.shape[1], len(alphas)
    # α = 0 on a null direction of G (λ at rounding level): left out, the least-norm answer, as pinv does
    null = (alphas[None, :] <= 0) & (lam[:, None] <= np.finfo(float).eps * len(lam) * max(lam.max(), 0.0))
    denom = lam[:, None] + alphas  # (P, A)
    inv = np.divide(1.0, denom, out=np.zeros_like(denom), where=~null & (denom > 0))
    w = (vecs @ (u[:, :, None] * inv[:, None, :]).reshape(p, t * a)).reshape(p, t, a)
    rss = yty[:, None] - np.einsum("kt,ka->ta", u**2, (lam[:, None] + 2 * alphas) / (lam[:, None] + alphas) ** 2) \
        if need_rss else None
    return w, lam, rss


def _eigvalsh(gram: np.ndarray, device: str) -> np.ndarray:
    if device != "cpu":
        import torch

        return np.maximum(torch.linalg.eigvalsh(torch.from_numpy(gram).to(device)).cpu().numpy(), 0.0)
    from scipy.linalg import eigvalsh

    return np.maximum(eigvalsh(gram, driver="evd", check_finite=False), 0.0)


def _solve(gram: np.ndarray, b: np.ndarray, alpha: float, device: str) -> np.ndarray:
    """(G + αI)⁻¹ b for a symmetric positive semi-definite G, in place of G."""
    gram[np.diag_indices_from(gram)] += alpha
    if device != "cpu":
        import torch

        g = torch.from_numpy(gram).to(device)
        return torch.cholesky_solve(torch.from_numpy(b).to(device), torch.linalg.cholesky(g)).cpu().numpy()
    from scipy.linalg import cho_factor, cho_solve

    return cho_solve(cho_factor(gram, overwrite_a=True, check_finite=False), b, check_finite=False)


def _eigh(gram: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    if device != "cpu":
        import torch

        lam, vecs = torch.linalg.eigh(torch.from_numpy(gram).to(device))
        return lam.cpu().numpy(), vecs.cpu().numpy()
    from scipy.linalg import eigh

    return eigh(gram, driver="evd", overwrite_a=True, check_finite=False)
