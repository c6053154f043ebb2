"""Gate inputs: physical line features of the noisy flux, and quality statistics of the error.

    phys (13)     Ca II 8498 / 8542 / 8662 core depth and equivalent width, the triplet's summed
                  width, Na I 8183+8195 depth and width, and PCA components 1–4 of the
                  brightness-normalised flux (fitted on the training split only)
    quality (10)  mean, std, min, max, median, sum, q25, q75, skew, kurtosis of the error vector

Depths and widths are measured against a local continuum (the median of side bands), so they do
not depend on the star's brightness. The quality statistics see how well the spectrum was
measured, not what the star is (a test bounds how much log g they carry). Both are computed in
one pass over a split and kept in memory per split fingerprint: a report's trials share them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

# (name, centre Å, core half-width Å, width window half-width Å) — side bands at 15–25 Å
LINES = [
    ("CaII_8498", 8498.02, 1.0, 8.0),
    ("CaII_8542", 8542.09, 1.0, 8.0),
    ("CaII_8662", 8662.14, 1.0, 8.0),
    ("NaI_8189", 8189.0, 6.5, 12.0),
]
SIDE = (15.0, 25.0)
PHYS_NAMES = [
    "CaII_8498_depth",
    "CaII_8498_ew",
    "CaII_8542_depth",
    "CaII_8542_ew",
    "CaII_8662_depth",
    "CaII_8662_ew",
    "CaT_ew",
    "NaI_depth",
    "NaI_ew",
    "pca1",
    "pca2",
    "pca3",
    "pca4",
]
QUALITY_NAMES = [
    "err_mean",
    "err_std",
    "err_min",
    "err_max",
    "err_median",
    "err_sum",
    "err_q25",
    "err_q75",
    "err_skew",
    "err_kurtosis",
]
PCA_ROWS = 4000  # training rows the PCA is fitted on
_MEMO: OrderedDict = OrderedDict()  # split fingerprint → (lines, normalised-flux projection input, quality)
_MEMO_SIZE = 8


@dataclass
class PCA:
    mean: np.ndarray  # (pixels,)
    components: np.ndarray  # (k, pixels)

    def transform(self, normed: np.ndarray) -> np.ndarray:
        return (normed - self.mean) @ self.components.T


def _normalise(x: np.ndarray) -> np.ndarray:
    scale = np.median(np.abs(x), axis=1, keepdims=True)
    return x / np.where(scale > 0, scale, 1.0)


def _windows(wave: np.ndarray):
    out = []
    for name, centre, core, width in LINES:

        def pixels(*spans):
            inside = np.zeros(len(wave), bool)
            for lo, hi in spans:
                inside |= (wave >= centre + lo) & (wave <= centre + hi)
            found = np.flatnonzero(inside)
            if len(found):
                return found
            # a coarse grid: the pixel nearest each span's middle
            return np.unique([np.abs(wave - (centre + (lo + hi) / 2)).argmin() for lo, hi in spans])

        side = pixels((-SIDE[1], -SIDE[0]), (SIDE[0], SIDE[1]))
        out.append((name, pixels((-core, core)), pixels((-width, width)), side))
    return out


def line_features(x: np.ndarray, wave: np.ndarray) -> np.ndarray:
    """(rows, 9) depths and equivalent widths (Å) of the Ca II triplet and the Na I doublet, and the CaT sum."""
    step = float(np.median(np.diff(wave)))
    cols = []
    for name, core, window, side in _windows(wave):
        cont = np.median(x[:, side], axis=1)
        cont = np.where(np.abs(cont) > 1e-12, cont, 1e-12)
        depth = 1.0 - x[:, core].mean(axis=1) / cont
        ew = (1.0 - x[:, window] / cont[:, None]).sum(axis=1) * step
        cols.append((name, depth, ew))
    ca = [c for c in cols if c[0].startswith("CaII")]
    na = next(c for c in cols if c[0].startswith("NaI"))
    out = []
    for _, depth, ew in ca:
        out += [depth, ew]
    out += [ca[0][2] + ca[1][2] + ca[2][2], na[1], na[2]]
    return np.column_stack(out)


def error_statistics(error: np.ndarray) -> np.ndarray:
    """(rows, 10) summary statistics of each error vector."""
    e = error.astype(np.float64)
    mean = e.mean(axis=1)
    c = e - mean[:, None]
    c2 = c * c  # products, not **: float powers are ~10x slower on 4096-pixel rows
    var = c2.mean(axis=1)
    std = np.sqrt(var)
    safe = np.where(var > 0, var, 1.0)
    skew = (c2 * c).mean(axis=1) / safe**1.5
    kurtosis = (c2 * c2).mean(axis=1) / safe**2 - 3.0
    q25, median, q75 = np.percentile(e, [25, 50, 75], axis=1)
    return np.column_stack([mean, std, e.min(axis=1), e.max(axis=1), median, e.sum(axis=1), q25, q75, skew, kurtosis])


def fit_pca(train, k: int = 4, rows: int = PCA_ROWS, seed: int = 0) -> PCA:
    """PCA of the brightness-normalised noisy flux of (a seeded subset of) the training split."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(train), size=min(rows, len(train)), replace=False))
    x, _ = replace(train, index=train.index[take]).arrays()
    from scipy.sparse.linalg import svds

    normed = _normalise(x.astype(np.float64))
    mean = normed.mean(axis=0)
    centred = normed - mean
    _, sv, vt = svds(centred, k=k, v0=np.ones(min(centred.shape)), random_state=seed)  # only the top k
    components = vt[np.argsort(sv)[::-1]]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    return PCA(mean, components * signs[:, None])  # a fixed sign per component: deterministic


def raw_features(split, pca: PCA) -> tuple[np.ndarray, np.ndarray]:
    """(phys (rows, 13), quality (rows, 10)) of a split, in one pass (memoised per split and PCA)."""
    key = (split.fingerprint(), pca.components.tobytes()[:64], float(pca.components.sum()))
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    wave = np.asarray(split.wave, dtype=np.float64)
    phys = np.empty((len(split), 13))
    quality = np.empty((len(split), 10))
    for block, error in _blocks_with_error(split):
        rows = slice(block.start, block.start + len(block.index))
        x = block.x.astype(np.float64)
        phys[rows, :9] = line_features(x, wave)
        phys[rows, 9:] = pca.transform(_normalise(x))
        quality[rows] = error_statistics(error)
    _MEMO[key] = (phys, quality)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return phys, quality


def _blocks_with_error(split, rows: int = 4096):
    """The split's (noisy) blocks with the matching per-pixel errors."""
    for block in split.blocks(rows):
        error = np.empty_like(block.x)
        flux = np.empty_like(block.x)
        split._read(block.index, flux, error)
        yield block, error
