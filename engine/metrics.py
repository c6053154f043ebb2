"""Metrics of predictions against the truth: pure numpy functions, plain floats and dicts out.

    evaluate(y, pred, ("log_g", "T_eff"))            → {"r2": {"log_g": 0.93, …}, "mae": {…}, …}
    binned(t_eff, y[:, 0], pred[:, 0], edges=[3750, 4250, 4750])  → rows per bin + the spread of the bias
    bootstrap_ci(r2, y, pred, B=1000, seed=0)          → CI(value, lo, hi)
    paired_bootstrap_delta(mae, y, pred_a, pred_b)     → Delta(value, lo, hi, p_positive)

The four metric functions take 1-D arrays (or 2-D, giving one value per column): `r2`
(1 − SS_res / SS_tot), `mae`, `rmse` and `bias` (mean of prediction − truth).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "METRICS",
    "CI",
    "Delta",
    "bias",
    "binned",
    "bootstrap_ci",
    "evaluate",
    "mae",
    "paired_bootstrap_delta",
    "r2",
    "rmse",
    "snr_binned",
]

Metric = Callable[[np.ndarray, np.ndarray], Any]


def _pair(y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    if y.shape != pred.shape:
        raise ValueError(f"truth {y.shape} and predictions {pred.shape} differ in shape")
    return y, pred


def r2(y: np.ndarray, pred: np.ndarray) -> Any:
    """Coefficient of determination; nan when the truth is constant or there is no row."""
    y, pred = _pair(y, pred)
    if len(y) == 0:
        return _nan_like(y)
    ss_res = ((y - pred) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)
    return _scalar(out)


def mae(y: np.ndarray, pred: np.ndarray) -> Any:
    y, pred = _pair(y, pred)
    return _scalar(np.abs(pred - y).mean(axis=0)) if len(y) else _nan_like(y)


def rmse(y: np.ndarray, pred: np.ndarray) -> Any:
    y, pred = _pair(y, pred)
    return _scalar(np.sqrt(((pred - y) ** 2).mean(axis=0))) if len(y) else _nan_like(y)


def bias(y: np.ndarray, pred: np.ndarray) -> Any:
    """Mean of prediction − truth (positive: predictions too high)."""
    y, pred = _pair(y, pred)
    return _scalar((pred - y).mean(axis=0)) if len(y) else _nan_like(y)


METRICS: dict[str, Metric] = {"r2": r2, "mae": mae, "rmse": rmse, "bias": bias}


def _scalar(value: np.ndarray) -> Any:
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)


def _nan_like(y: np.ndarray) -> Any:
    return math.nan if y.ndim <= 1 else np.full(y.shape[1], np.nan)


# ---------------------------------------------------------------------------------------------
# All metrics of a trial, as the runner wants them
# ---------------------------------------------------------------------------------------------


def evaluate(
    y_true: np.ndarray, y_pred: np.ndarray, targets: Sequence[str], metrics: Sequence[str] | None = None
) -> dict[str, dict[str, float]]:
    """`{metric: {target: value}}` (plain floats). `metrics` like `['r2.log_g', 'mae.T_eff']`
    limits the result to those; all four metrics of every target by default."""
    y_true, y_pred = _pair(y_true, y_pred)
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    targets = list(targets)
    if y_true.shape[1] != len(targets):
        raise ValueError(f"{y_true.shape[1]} columns for {len(targets)} targets")
    wanted: dict[str, list[str]] = {}
    for item in metrics if metrics is not None else [f"{m}.{t}" for m in METRICS for t in targets]:
        name, _, target = item.partition(".")
        if name not in METRICS:
            raise ValueError(f"unknown metric '{name}' in '{item}'; metrics are {', '.join(METRICS)}")
        if target not in targets:
            raise ValueError(f"no target '{target}' in '{item}'; targets are {', '.join(targets)}")
        wanted.setdefault(name, []).append(target)
    out: dict[str, dict[str, float]] = {}
    for name, names in wanted.items():
        values = np.atleast_1d(METRICS[name](y_true, y_pred))
        out[name] = {t: float(values[targets.index(t)]) for t in dict.fromkeys(names)}
    return out


# ---------------------------------------------------------------------------------------------
# Binned tables
# ---------------------------------------------------------------------------------------------


def sample_std(values: Sequence[float]) -> float:
    """The engine's one standard deviation: the sample's (n − 1). The seeds of a repeated trial
    (`engine.render.repeats`), the bins of a binned table (its spread row) and a rule's `std(…)` all use
    it, so a rule reads the number the table shows. What it measures is always a sample of what
    could have come out (other seeds, other test rows), never the whole population. One value
    has no measured spread: ValueError, never 0 (which would claim there is none) nor NaN."""
    import statistics

    if len(values) < 2:
        raise ValueError(f"std() needs at least two numbers, got {len(values)}")
    return statistics.stdev(values)


def bin_edges(values: np.ndarray, width: float, origin: float = 0.0) -> np.ndarray:
    """Edges at multiples of `width` (from `origin`) that cover the finite `values`."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not width > 0:
        raise ValueError(f"width must be positive, got {width}")
    if not len(values):
        return np.array([origin, origin + width])
    lo = origin + math.floor((values.min() - origin) / width) * width
    hi = origin + math.floor((values.max() - origin) / width) * width + width
    n = max(1, int(round((hi - lo) / width)))
    return lo + width * np.arange(n + 1)


def binned(
    by: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    edges: Sequence[float] | np.ndarray | None = None,
    width: float | None = None,
) -> dict[str, Any]:
    """Metrics of one target in bins of another parameter (`by`): give `edges` or `width`.

    Bins are [lo, hi), the last one [lo, hi]; rows outside the edges (or with a non-finite `by`)
    are left out and counted in `outside`. Returns plain values::

        {"edges": [...], "rows": [{"lo", "hi", "count", "bias", "mae", "rmse", "r2"}, ...],
         "bias_std": the sample std (n − 1) of the non-empty bins' bias, "outside": int}

    An empty bin has count 0 and nan metrics; a bin whose truth is constant has nan r2. The
    spread is `sample_std`, the one std of the engine (a report's binned table and a rule's
    `std(…)` show the same number); one non-empty bin has no spread (nan).
    """

    if (edges is None) == (width is None):
        raise ValueError("give exactly one of edges or width")
    by = np.asarray(by, dtype=np.float64)
    y, pred = _pair(y, pred)
    if not (by.shape == y.shape and y.ndim == 1):
        raise ValueError(f"by {by.shape}, truth {y.shape} and predictions {pred.shape} must be 1-D of one length")
    e = bin_edges(by, width) if width is not None else np.asarray(edges, dtype=np.float64)
    if len(e) < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be at least two strictly increasing values")
    which = np.searchsorted(e, by, side="right") - 1
    which[by == e[-1]] = len(e) - 2  # the last bin is closed
    inside = np.isfinite(by) & (which >= 0) & (which < len(e) - 1)
    rows = []
    for i in range(len(e) - 1):
        sel = inside & (which == i)
        yi, pi = y[sel], pred[sel]
        count = int(sel.sum())
        rows.append(
            {
                "lo": float(e[i]),
                "hi": float(e[i + 1]),
                "count": count,
                "bias": bias(yi, pi),
                "mae": mae(yi, pi),
                "rmse": rmse(yi, pi),
                "r2": r2(yi, pi) if count >= 2 else math.nan,
            }
        )
    biases = [row["bias"] for row in rows if row["count"]]
    return {
        "edges": [float(v) for v in e],
        "rows": rows,
        "bias_std": sample_std(biases) if len(biases) > 1 else math.nan,
        "outside": int((~inside).sum()),
    }


def snr_binned(
    snr: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    edges: Sequence[float] | np.ndarray | None = None,
    n_bins: int = 5,
) -> dict[str, Any]:
    """`binned` by signal-to-noise: given `edges`, or `n_bins` quantile bins (equal counts)."""
    snr = np.asarray(snr, dtype=np.float64)
    if edges is None:
        finite = snr[np.isfinite(snr)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1))) if len(finite) else [0.0, 1.0]
        if len(edges) < 2:
            edges = [edges[0], edges[0] + 1.0]
    return binned(snr, y, pred, edges=edges)


# ---------------------------------------------------------------------------------------------
# Uncertainty: bootstrap
# ---------------------------------------------------------------------------------------------


class CI(NamedTuple):
    value: float  # the metric on the full sample
    lo: float
    hi: float

    def as_dict(self) -> dict[str, float]:
        return self._asdict()


class Delta(NamedTuple):
    value: float  # metric(a) − metric(b) on the full sample
    lo: float
    hi: float
    p_positive: float  # fraction of resamples where the difference is > 0

    def as_dict(self) -> dict[str, float]:
        return self._asdict()


def _resamples(n: int, B: int, seed: int):
    """B index arrays of n rows drawn with replacement (a generator: memory O(n))."""
    if n == 0:
        raise ValueError("cannot bootstrap an empty sample")
    rng = np.random.default_rng(seed)
    for _ in range(B):
        yield rng.integers(0, n, n)


def resample_rows(n: int, B: int, seed: int) -> np.ndarray:
    """The B row draws of `_resamples`, as one (B, n) array (int32 where n allows)."""
    dtype = np.int32 if n < 2**31 else np.int64
    return np.stack([rows.astype(dtype, copy=False) for rows in _resamples(n, B, seed)])


_CHUNK = 256  # resamples per product when the counts are not kept whole
_KEPT_COUNTS = 64 << 20  # bytes of counts kept whole (2,000 rows × 1,000 resamples: 16 MB)


@lru_cache(maxsize=4)
def _counts(n: int, B: int, seed: int) -> np.ndarray | None:
    """How many times each row is drawn in each resample (B × n, float64), kept for the next
    metric of the same test set — a report asks for dozens — when it fits `_KEPT_COUNTS`."""
    if B * n * 8 > _KEPT_COUNTS:
        return None
    out = _chunk_counts(resample_rows(n, B, seed), n)
    out.setflags(write=False)
    return out


def _chunk_counts(draws: np.ndarray, n: int) -> np.ndarray:
    size = len(draws)
    flat = (draws + (np.arange(size, dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=size * n).reshape(size, n).astype(np.float64)


def resampled_sums(n: int, B: int, seed: int, columns: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Σ over each resample's drawn rows (`_resamples(n, B, seed)`) of each column, (B, m): how
    many times each row was drawn, times the columns — one matrix product instead of a metric
    call per resample. `rows` (a boolean mask) keeps only those rows (a bin of a table)."""
    columns = np.asarray(columns, dtype=np.float64)
    keep = None if rows is None else np.flatnonzero(rows)
    if keep is not None:
        columns = columns[keep]
    counts = _counts(n, B, seed)
    if counts is not None:
        return (counts if keep is None else counts[:, keep]) @ columns
    draws = resample_rows(n, B, seed)
    out = np.empty((B, columns.shape[1]), dtype=np.float64)
    for start in range(0, B, _CHUNK):
        chunk = _chunk_counts(draws[start : start + _CHUNK], n)
        out[start : start + len(chunk)] = (chunk if keep is None else chunk[:, keep]) @ columns
    return out


#: What `from_sums` needs per run and target: Σe, Σ|e|, Σe², Σy, Σy² (e = prediction − truth).
STATS = 5


def stat_columns(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(n, 5) columns of one run of one target: e, |e|, e², y, y²."""
    y = np.asarray(y, dtype=np.float64)
    e = np.asarray(pred, dtype=np.float64) - y
    return np.stack([e, np.abs(e), e * e, y, y * y], axis=-1)


def from_sums(sums: np.ndarray, n) -> dict[str, np.ndarray]:
    """r2, mae, rmse and bias from `stat_columns` summed over n rows (… × 5 → …): a metric of
    each resample from its sums, as `r2`, `mae`, `rmse` and `bias` compute it from the rows."""
    with np.errstate(invalid="ignore", divide="ignore"):
        total = sums[..., 4] - sums[..., 3] ** 2 / n
        r2 = np.where(total > 0, 1.0 - sums[..., 2] / np.where(total > 0, total, 1.0), np.nan)
        return {"r2": r2, "mae": sums[..., 1] / n, "rmse": np.sqrt(sums[..., 2] / n), "bias": sums[..., 0] / n}


def seed_picks(k: int, B: int, seed) -> np.ndarray | None:
    """Per resample, which of k seeds' runs it averages (B × k, drawn with replacement), or None
    for a single run."""
    if k == 1:
        return None
    return np.random.default_rng(seed).integers(0, k, (B, k))


def over_seeds(per_run: np.ndarray, picks: np.ndarray | None) -> np.ndarray:
    """(k runs, B) scores → (B,): each resample's mean over the seeds it drew."""
    if picks is None:
        return per_run[0]
    return np.take_along_axis(per_run.T, picks, axis=1).mean(axis=1)


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1 - level) / 2 * 100
    lo, hi = np.nanpercentile(samples, [tail, 100 - tail])
    return float(lo), float(hi)


def _runs(y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(truth, predictions as k runs × n rows): one run's (n,) predictions, or the (k, n) of a
    trial repeated over k seeds."""
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    runs = pred[None, :] if pred.ndim == y.ndim else pred
    if runs.shape[1:] != y.shape:
        raise ValueError(f"truth {y.shape} and predictions {pred.shape} differ in shape")
    return y, runs


def _seed_picks(k: int, B: int, seed: int) -> np.ndarray | None:
    """Per resample, which of k seeds' runs it averages (drawn with replacement, so the interval
    holds the spread between seeds as well as the test set's); None for a single run. Its own
    random stream: the rows drawn for a single run are the same as without repeats."""
    return seed_picks(k, B, [seed, 0x5EED])


def _samples(
    metric: Metric, y: np.ndarray, runs: np.ndarray, B: int, seed: int, picks: np.ndarray | None
) -> np.ndarray:
    """The metric of each of B resamples: rows drawn as `_resamples`, seeds as `picks`. The four
    metrics of this module come from the resampled sums in a few matrix products; any other
    metric is called once per resample and run."""
    n = len(y)
    if n == 0:
        raise ValueError("cannot bootstrap an empty sample")
    name = next((key for key, fn in METRICS.items() if fn is metric), None)
    if name is not None and y.ndim == 1:
        columns = np.concatenate([stat_columns(y, run) for run in runs], axis=1)
        sums = resampled_sums(n, B, seed, columns).reshape(B, len(runs), STATS)
        per_run = from_sums(np.moveaxis(sums, 0, 1), n)[name]  # k × B
        return over_seeds(per_run, picks)
    out = []
    for b, rows in enumerate(_resamples(n, B, seed)):
        scores = np.array([metric(y[rows], run[rows]) for run in runs], dtype=np.float64)
        out.append(float(scores[0]) if picks is None else float(np.mean(scores[picks[b]])))
    return np.array(out, dtype=np.float64)


def _full(metric: Metric, y: np.ndarray, runs: np.ndarray) -> float:
    """The metric on the whole sample: of the run, or its mean over the seeds."""
    if len(runs) == 1:
        return float(metric(y, runs[0]))
    return float(np.mean([metric(y, run) for run in runs]))


def bootstrap_ci(
    metric: Metric, y: np.ndarray, pred: np.ndarray, *, B: int = 1000, seed: int = 0, level: float = 0.95
) -> CI:
    """Percentile bootstrap confidence interval of `metric(y, pred)` (rows resampled). `pred`
    (k, n): a trial repeated over k seeds, its value the mean over them and each resample's a
    mean over seeds drawn with replacement."""
    y, runs = _runs(y, pred)
    samples = _samples(metric, y, runs, B, seed, _seed_picks(len(runs), B, seed))
    return CI(_full(metric, y, runs), *_interval(samples, level))


def paired_bootstrap_delta(
    metric: Metric,
    y: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    *,
    B: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Delta:
    """Interval of metric(a) − metric(b) on the same test rows, both scored on each resample
    (so what the two trials share — which rows are hard — cancels out). Either side may be
    (k, n), a trial repeated over seeds (see `bootstrap_ci`)."""
    y, runs_a = _runs(y, pred_a)
    _, runs_b = _runs(y, pred_b)
    samples = paired_bootstrap_samples(
        metric, y, runs_a if len(runs_a) > 1 else runs_a[0], runs_b if len(runs_b) > 1 else runs_b[0], B=B, seed=seed
    )
    lo, hi = _interval(samples, level)
    return Delta(_full(metric, y, runs_a) - _full(metric, y, runs_b), lo, hi, float(np.mean(samples > 0)))


def paired_bootstrap_samples(
    metric: Metric, y: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, *, B: int = 1000, seed: int = 0
) -> np.ndarray:
    """The B resampled differences metric(a) − metric(b) that `paired_bootstrap_delta` summarises
    (for a figure of their distribution)."""
    y, runs_a = _runs(y, pred_a)
    _, runs_b = _runs(y, pred_b)
    return _samples(metric, y, runs_a, B, seed, _seed_picks(len(runs_a), B, seed)) - _samples(
        metric, y, runs_b, B, seed, _seed_picks(len(runs_b), B, seed + 1)
    )
