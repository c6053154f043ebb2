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
degrees of freedom tr G(G + αI)⁻¹ come from each α's factor (the inverse of its triangle) or
from the eigenvalues. Memory is O(P²) whatever N is, and the pass allocates its buffers once.
On CPU the Gram product is BLAS `syrk` through scipy (faster than torch here, see PERFORMANCE.md); on cuda it is torch on the GPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import Log, Model, quiet, resolve_device
from .configs import RidgeConfig

CHUNK_ROWS = 2048  # rows centred and squared at a time (one BLAS call; 64 MiB of float64 at 4096 pixels)
#: Rows a float32 Gram sums in float32 before adding them into the float64 total.
F32_SUM_ROWS = 8192


@dataclass
class Moments:
    """Centred second moments of a split (float64 numpy): what ridge and PCA need of the data."""

    n: int
    mean_x: np.ndarray  # (P,)  zero when not centred
    mean_y: np.ndarray  # (T,)
    gram: np.ndarray | None  # (P, P) Σ (x - mean_x)(x - mean_x)ᵀ; None once `Ridge.fit` has taken it
    xty: np.ndarray  # (P, T) Σ (x - mean_x)(y - mean_y)ᵀ
    yty: np.ndarray  # (T,)   Σ (y - mean_y)²


def moments(
    split,
    *,
    center: bool = True,
    precision: str = "float64",
    block_rows: int = CHUNK_ROWS,
    device: str = "cpu",
    progress=None,
) -> Moments:
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
    if not center:  # nothing was shifted: these are the raw sums
        _mirror_upper(g)  # syrk fills the upper triangle
        return Moments(n, np.zeros(len(g)), np.zeros(len(sy)), g, xty, np.diag(yty).copy())
    m, my = sx / n, sy / n  # means of the shifted data
    g = _downdate(g, m, n)
    _mirror_upper(g)
    return Moments(n, shift_x + m, shift_y + my, g, xty - n * np.outer(m, my), np.diag(yty) - n * my * my)


def _downdate(g: np.ndarray, m: np.ndarray, n: int) -> np.ndarray:
    """G − n·m mᵀ on the upper triangle, in place where the layout allows (BLAS `dsyr`): the
    centring needs no P × P temporary (two of them were 0.3 GB of fresh memory at 4096 pixels)."""
    if g.flags.f_contiguous and g.dtype == np.float64:
        from scipy.linalg import blas

        return blas.dsyr(-float(n), m, lower=0, a=g, overwrite_a=1)
    g -= n * np.outer(m, m)
    return g


def _mirror_upper(g: np.ndarray, rows: int = 256) -> None:
    """Copy the upper triangle onto the lower, in place, a band of rows at a time."""
    for i in range(0, len(g), rows):
        j = min(i + rows, len(g))
        g[i:j, :i] = g[:i, i:j].T
        band = g[i:j, i:j]
        band[...] = np.triu(band) + np.triu(band, 1).T


#: Rows of a float32 chunk cast to float64 at a time for its Xᵀ[y | 1]: a buffer that stays in
#: cache, where casting the whole chunk took 64 MiB of fresh memory per chunk.
XTY_ROWS = 256


class _NumpyAccumulator:
    """Every buffer is allocated once, on the first block, and reused: on this kind of machine
    memory touched for the first time costs more than the arithmetic on it (the README's
    Performance section)."""

    _g32: np.ndarray | None  # float32 runs only
    _xc: np.ndarray | None  # None until the first block sizes it
    _x64: np.ndarray | None  # float32 runs only
    _y1: np.ndarray | None

    def __init__(self, precision: str) -> None:
        self.dtype = np.float32 if precision == "float32" else np.float64
        self.n = 0

    def _allocate(self, p: int, t: int, x: np.ndarray, y: np.ndarray, center: bool) -> None:
        self.shift_x = x.mean(axis=0, dtype=np.float64) if center else np.zeros(p)
        self.shift_y = y.mean(axis=0) if center else np.zeros(t)
        self.g = np.zeros((p, p), order="F")  # symmetric, so its Fortran layout is its transpose's
        # A float32 Gram sums F32_SUM_ROWS rows in float32, then adds them into the float64 total.
        self._g32 = np.zeros((p, p), np.float32, order="F") if self.dtype == np.float32 else None
        self._rows_in_g32 = 0
        self.sx, self.sy = np.zeros(p), np.zeros(t)
        self.xty, self.yty = np.zeros((p, t)), np.zeros((t, t))
        self._xc = self._x64 = self._y1 = None

    def _chunk_buffers(self, rows: int, p: int, t: int) -> None:
        """The centred chunk, [y − shift, 1] (Xᵀy and Σx in one float64 product) and, for a
        float32 chunk, its float64 slice: sized by the first block, grown if a later one is longer."""
        rows = min(CHUNK_ROWS, rows)
        if self._xc is not None and len(self._xc) >= rows:
            return
        self._xc = np.empty((rows, p), self.dtype)
        self._x64 = np.empty((min(XTY_ROWS, rows), p)) if self.dtype == np.float32 else None
        self._y1 = np.empty((rows, t + 1))

    def add(self, x: np.ndarray, y: np.ndarray, center: bool) -> None:
        from scipy.linalg import blas

        y = y.astype(np.float64)
        t = y.shape[1]
        if self.n == 0:
            self._allocate(x.shape[1], t, x, y, center)
        self._chunk_buffers(len(x), x.shape[1], t)
        assert self._xc is not None and self._y1 is not None  # sized by _chunk_buffers
        f32 = self.dtype == np.float32
        syrk = blas.ssyrk if f32 else blas.dsyrk
        block_g = self._g32 if f32 else self.g
        shift = self.shift_x.astype(self.dtype)
        for start in range(0, len(x), CHUNK_ROWS):
            part = x[start : start + CHUNK_ROWS]
            rows = len(part)
            xc, y1 = self._xc[:rows], self._y1[:rows]
            np.subtract(part, shift, out=xc)  # the cast and the shift in one pass
            yc = y[start : start + CHUNK_ROWS] - self.shift_y
            y1[:, :t] = yc
            y1[:, t] = 1.0
            # xc.T is a Fortran-ordered P × rows matrix: syrk(trans=0) gives xcᵀ xc, upper triangle.
            # A float32 sum starts from zero (beta 0) on its first chunk: no zeroing pass.
            beta = 0.0 if f32 and self._rows_in_g32 == 0 else 1.0
            block_g = syrk(1.0, xc.T, beta=beta, c=block_g, trans=0, lower=0, overwrite_c=1)
            if f32:
                self._rows_in_g32 += rows
                if self._rows_in_g32 >= F32_SUM_ROWS:
                    self._flush()
            # [Xᵀy | Σx] of the chunk in float64 (a float32 Xᵀy made the float32 coefficients 4×
            # further from RidgeCV's, 9.9e-5 vs 2.4e-5): a float32 chunk is cast a slice at a time.
            # The product is scipy's BLAS, as syrk is: numpy's own (another OpenBLAS, its threads
            # still spinning) made every syrk after it 15 % slower and itself 3× slower.
            if f32:
                assert self._x64 is not None  # made for a float32 chunk
                both = np.zeros((xc.shape[1], t + 1), order="F")
                for s in range(0, rows, XTY_ROWS):
                    cast = self._x64[: min(XTY_ROWS, rows - s)]
                    cast[...] = xc[s : s + XTY_ROWS]
                    both = blas.dgemm(1.0, cast.T, y1[s : s + XTY_ROWS], beta=1.0, c=both, overwrite_c=1)
            else:
                both = blas.dgemm(1.0, xc.T, y1)
            self.xty += both[:, :t]
            self.sx += both[:, t]
            self.yty += yc.T @ yc
            self.sy += yc.sum(axis=0)
        self.n += len(x)

    def _flush(self) -> None:
        assert self._g32 is not None  # only a float32 run flushes
        self.g += self._g32  # the float32 partial sum, added in float64 (its lower triangle stays 0)
        self._rows_in_g32 = 0

    def result(self):
        if self._g32 is not None and self._rows_in_g32:
            self._flush()
        return self.n, self.shift_x, self.shift_y, self.sx, self.sy, self.g, self.xty, self.yty


class _TorchAccumulator:
    """The same sums on a GPU (torch has no syrk; a full product is still I/O-bound there)."""

    def __init__(self, device: str, precision: str) -> None:
        import torch

        self.torch, self.device = torch, device
        self.dtype = torch.float32 if precision == "float32" else torch.float64
        self.n = 0

    def add(self, x: np.ndarray, y: np.ndarray, center: bool) -> None:
        torch = self.torch
        xd = torch.from_numpy(np.ascontiguousarray(x)).to(self.device, non_blocking=True)  # on the device
        yd = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)).to(self.device)
        if self.n == 0:
            p, t = xd.shape[1], yd.shape[1]
            f64 = dict(device=self.device, dtype=torch.float64)
            self.shift_x = xd.double().mean(0) if center else torch.zeros(p, **f64)
            self.shift_y = yd.mean(0) if center else torch.zeros(t, **f64)
            self.g = torch.zeros(p, p, **f64)
            self.sx, self.sy = torch.zeros(p, **f64), torch.zeros(t, **f64)
            self.xty, self.yty = torch.zeros(p, t, **f64), torch.zeros(t, t, **f64)
        xc = xd.to(self.dtype) - self.shift_x.to(self.dtype)
        yc = yd - self.shift_y
        self.g += (xc.T @ xc).double()
        self.sx += xc.double().sum(0)
        self.xty += xc.T.double() @ yc
        self.yty += yc.T @ yc
        self.sy += yc.sum(0)
        self.n += len(xd)

    def result(self):
        cpu = [t.cpu().numpy() for t in (self.shift_x, self.shift_y, self.sx, self.sy, self.g, self.xty, self.yty)]
        return (self.n, *cpu)


def _float64_chunks(split, block_rows: int):
    """((first row, labels), x as float64) for each chunk of `split`, cast into one reused buffer."""
    buffer = None
    for block in split.blocks(block_rows):
        for start in range(0, len(block.x), CHUNK_ROWS):
            part = block.x[start : start + CHUNK_ROWS]
            if buffer is None or len(buffer) < len(part):
                buffer = np.empty((len(part), part.shape[1]))
            x = buffer[: len(part)]
            x[...] = part
            yield (block.start + start, block.y[start : start + CHUNK_ROWS]), x


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
        log(
            f"ridge: XᵀX over {len(train):,} spectra × {train.n_pixels} pixels, {blocks} block{'s' if blocks > 1 else ''} "
            f"of ≤ {cfg.block_rows:,}"
        )
        mo = moments(
            train,
            center=cfg.fit_intercept,
            precision=cfg.precision,
            block_rows=cfg.block_rows,
            device=device,
            progress=progress,
        )
        assert mo.gram is not None  # a fresh pass
        t_pass = time.perf_counter() - t0
        alphas = np.asarray(cfg.path, dtype=np.float64)
        selection = "fixed" if len(alphas) == 1 else "validation" if val is not None and len(val) else "gcv"
        route = alpha_route(len(alphas), selection)
        size = f"{len(mo.gram)} × {len(mo.gram)}"
        log(
            f"ridge: pass done in {t_pass:.1f} s; "
            + {
                "cholesky": f"{len(alphas)} Cholesky solve{'s' if len(alphas) > 1 else ''} of the {size} Gram"
                + (", each with the inverse of its factor for GCV's degrees of freedom" if selection == "gcv" else ""),
                "eigh": f"one eigendecomposition of the {size} Gram for the {len(alphas)}-α path",
            }[route]
        )
        task = progress.task("ridge: solve", total=None) if progress else None

        # Per-pixel scale (population std, 1 where a pixel is constant), then the eigenbasis.
        scale = np.sqrt(np.maximum(np.diag(mo.gram), 0.0) / mo.n) if cfg.standardize else np.ones(len(mo.gram))
        scale[scale < 1e-12 * max(scale.max(), 1e-300)] = 1.0
        gram, mo.gram = mo.gram, None  # scaled in place: one P × P copy in memory, not two
        gram /= scale[:, None]
        gram /= scale[None, :]
        b = mo.xty / scale[:, None]
        w, dof, rss = alpha_path(gram, b, alphas, route, device, yty=mo.yty, need_rss=selection == "gcv")
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
            assert dof is not None and rss is not None  # need_rss: GCV asked for them
            dof = dof + cfg.fit_intercept
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
            "seconds": {
                "pass": round(t_pass, 3),
                "path": round(t_path, 3),
                "total": round(time.perf_counter() - t0, 3),
            },
        }
        on_edge = [t for i, t in enumerate(self.targets) if len(alphas) > 1 and best[i] in (0, len(alphas) - 1)]
        log(
            f"ridge: n={mo.n} α={chosen} ({how}; {self._info['seconds']['total']:.1f} s)"
            + (f"; α at the end of the path for {', '.join(on_edge)}" if on_edge else "")
        )

    def _val_mse(self, val, block_rows: int) -> np.ndarray:
        """(T, A) mean squared error on `val` of every α, from one pass over it."""
        p, t, a = self.coef_path.shape
        w = self.coef_path.reshape(p, t * a)
        sse = np.zeros(t * a)
        for (_, labels), x in _float64_chunks(val, block_rows):
            err = x @ w + self.intercept_path.reshape(-1) - np.repeat(labels.astype(np.float64), a, axis=1)
            sse += (err**2).sum(axis=0)
        return sse.reshape(t, a) / len(val)

    def predict(self, split) -> np.ndarray:
        out = np.empty((len(split), len(self.targets)))
        for (start, _), x in _float64_chunks(split, self.config.block_rows):
            out[start : start + len(x)] = x @ self.coef + self.intercept
        return out

    def coef_at(self, alpha: float) -> np.ndarray:
        """(P, T) coefficients at one α of the fitted path."""
        return self.coef_path[:, :, list(self.config.path).index(alpha)]

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef, "intercept": self.intercept}

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.coef, self.intercept = arrays["coef"], arrays["intercept"]


#: What one exact route to the α path costs, in Cholesky factorisations of the P × P Gram (each
#: P³/3 flops), measured with OpenBLAS on 2 cores at P = 4096: a Cholesky 0.35–0.45 s, the
#: inverse of its triangle (what GCV's degrees of freedom need) 0.85 of one, a full `eigh` with
#: vectors 9–14 s. The ratios hold for P ≥ 1024.
EIGH_COST, TRTRI_COST = 28.0, 0.85


def alpha_route(n_alphas: int, selection: str) -> str:
    """The cheapest exact route to the coefficients of `n_alphas` α (and, for GCV, the degrees
    of freedom tr G(G + αI)⁻¹): one Cholesky solve per α, GCV's trace from the inverse of the
    factor, while that costs less than one `eigh`; `eigh` for long paths. The choice changes the
    time, not the result (the routes agree to 1e-9 in float64)."""
    if n_alphas == 1:
        return "cholesky"
    per_alpha = 1.0 + (TRTRI_COST if selection == "gcv" else 0.0)
    return "cholesky" if n_alphas * per_alpha < EIGH_COST else "eigh"


def alpha_path(
    gram: np.ndarray, b: np.ndarray, alphas: np.ndarray, route: str, device: str, *, yty: np.ndarray, need_rss: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(w: P × T × A coefficients in the scaled basis, the degrees of freedom tr G(G + αI)⁻¹ of
    each α and the residual sums of squares T × A, both when GCV asks). `gram` may be
    overwritten."""
    if route == "cholesky" and (alphas <= 0).any():  # G + 0·I may be singular: a factor would fail or mislead
        route = "eigh"
    if route == "cholesky":
        try:
            w, dof = _cholesky_path(gram, b, alphas, device, need_dof=need_rss)
        except np.linalg.LinAlgError:  # α = 0 on a singular Gram: the eigenbasis copes, a factor does not
            return alpha_path(gram, b, alphas, "eigh", device, yty=yty, need_rss=need_rss)
        rss = None
        if need_rss:  # ‖y − Xw‖² = yᵀy − 2 bᵀw + wᵀGw; G is gone, so Gw = b − αw
            bw = np.einsum("pt,pta->ta", b, w)
            gw = b[:, :, None] - alphas[None, None, :] * w
            rss = yty[:, None] - 2 * bw + np.einsum("pta,pta->ta", w, gw)
        return w, dof, rss
    lam, vecs = _eigh(_fortran(gram), device)
    lam = np.maximum(lam, 0.0)
    u = vecs.T @ b  # (P, T)
    p, t, a = len(lam), u.shape[1], len(alphas)
    # α = 0 on a null direction of G (λ at rounding level): left out, the least-norm answer, as pinv does
    null = (alphas[None, :] <= 0) & (lam[:, None] <= np.finfo(float).eps * len(lam) * max(lam.max(), 0.0))
    denom = lam[:, None] + alphas  # (P, A)
    inv = np.divide(1.0, denom, out=np.zeros_like(denom), where=~null & (denom > 0))
    w = (vecs @ (u[:, :, None] * inv[:, None, :]).reshape(p, t * a)).reshape(p, t, a)
    if not need_rss:
        return w, None, None
    dof = (lam[:, None] * inv).sum(axis=0)
    rss = yty[:, None] - np.einsum("kt,ka->ta", u**2, (lam[:, None] + 2 * alphas) / (lam[:, None] + alphas) ** 2)
    return w, dof, rss


def _fortran(a: np.ndarray) -> np.ndarray:
    """A symmetric matrix in the column-major layout LAPACK works in, without a copy when it is
    contiguous either way (a C-ordered symmetric matrix is its own transpose)."""
    if a.flags.f_contiguous:
        return a
    return a.T if a.flags.c_contiguous else np.asfortranarray(a)


def _cholesky_path(
    gram: np.ndarray, b: np.ndarray, alphas: np.ndarray, device: str, *, need_dof: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """One factor of G + αI per α, in one reused P × P buffer (the last α factors `gram` itself):
    the solve, and for GCV tr (G + αI)⁻¹ = ‖U⁻¹‖²_F from the inverse of the triangle U."""
    if device != "cpu":
        return _cholesky_path_torch(gram, b, alphas, device, need_dof=need_dof)
    from scipy.linalg import blas, lapack

    gram = _fortran(gram)
    p = len(gram)
    work = np.empty_like(gram, order="F") if len(alphas) > 1 else None
    w = np.empty((p, b.shape[1], len(alphas)))
    dof = np.empty(len(alphas)) if need_dof else None
    for i, alpha in enumerate(alphas):
        a = gram if i == len(alphas) - 1 else work
        assert a is not None  # work exists whenever there is more than one α
        if a is not gram:
            np.copyto(a, gram)
        a.ravel(order="F")[:: p + 1] += alpha  # the diagonal, in place
        factor, info = lapack.dpotrf(a, lower=0, clean=1, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"G + αI is not positive definite at α = {alpha:g}")
        w[:, :, i], info = lapack.dpotrs(factor, b, lower=0)
        if need_dof:
            assert dof is not None  # made when need_dof
            inverse, info = lapack.dtrtri(factor, lower=0, overwrite_c=1)  # clean=1 zeroed the other triangle
            flat = inverse.ravel(order="F")  # ‖U⁻¹‖² by scipy's BLAS, as the factor (see `_NumpyAccumulator`)
            dof[i] = p - float(alpha) * float(blas.ddot(flat, flat))
    return w, dof


def _cholesky_path_torch(gram, b, alphas, device, *, need_dof):
    import torch

    g = torch.from_numpy(np.ascontiguousarray(gram)).to(device)
    rhs = torch.from_numpy(np.ascontiguousarray(b)).to(device)
    eye = torch.eye(len(gram), dtype=g.dtype, device=device)
    w, dof = [], []
    for alpha in alphas:
        factor, info = torch.linalg.cholesky_ex(g + float(alpha) * eye)
        if int(info) != 0:
            raise np.linalg.LinAlgError(f"G + αI is not positive definite at α = {alpha:g}")
        w.append(torch.cholesky_solve(rhs, factor).cpu().numpy())
        if need_dof:
            dof.append(len(gram) - float(alpha) * float(torch.cholesky_inverse(factor).diagonal().sum()))
    return np.stack(w, axis=2), (np.array(dof) if need_dof else None)


def _eigh(gram: np.ndarray, device: str) -> tuple[np.ndarray, np.ndarray]:
    if device != "cpu":
        import torch

        lam, vecs = torch.linalg.eigh(torch.from_numpy(gram).to(device))
        return lam.cpu().numpy(), vecs.cpu().numpy()
    from scipy.linalg import eigh

    return eigh(gram, driver="evd", overwrite_a=True, check_finite=False)
