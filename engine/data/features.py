"""Measurements of a spectrum that several consumers share: the depths and equivalent widths
of the Ca II triplet and the Na I doublet, and summary statistics of the error vector. A MoE
gate reads them (`engine.models.features`), and so does a trial's `inputs:` (`lines`,
`quality`, `global`): one definition, in the data layer, below every model.
"""

from __future__ import annotations

import numpy as np

# (name, centre Å, core half-width Å, width window half-width Å) — side bands at 15–25 Å
LINES = [
    ("CaII_8498", 8498.02, 1.0, 8.0),
    ("CaII_8542", 8542.09, 1.0, 8.0),
    ("CaII_8662", 8662.14, 1.0, 8.0),
    ("NaI_8189", 8189.0, 6.5, 12.0),
]
SIDE = (15.0, 25.0)
#: The columns of `line_features`, in order.
LINE_FEATURES = (
    "CaII_8498_depth",
    "CaII_8498_ew",
    "CaII_8542_depth",
    "CaII_8542_ew",
    "CaII_8662_depth",
    "CaII_8662_ew",
    "CaT_ew",
    "NaI_depth",
    "NaI_ew",
)


def normalise(x: np.ndarray) -> np.ndarray:
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
