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

from engine.data.features import LINE_FEATURES, error_statistics, line_features, normalise

PHYS_NAMES = [*LINE_FEATURES, "pca1", "pca2", "pca3", "pca4"]
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


def fit_pca(train, k: int = 4, rows: int = PCA_ROWS, seed: int = 0) -> PCA:
    """PCA of the brightness-normalised noisy flux of (a seeded subset of) the training split."""
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(train), size=min(rows, len(train)), replace=False))
    x, _ = replace(train, index=train.index[take]).arrays()
    from scipy.sparse.linalg import svds

    normed = normalise(x.astype(np.float64))
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
        phys[rows, 9:] = pca.transform(normalise(x))
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
