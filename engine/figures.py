"""Figures of a run, drawn with matplotlib's Agg backend into deterministic bytes.

Same numbers, same file: no timestamps or software version in the metadata, a fixed SVG hash
salt, a fixed size and DPI, so a re-run makes no git diff. Each function takes plain data (the
runner has already computed the numbers) and returns the image's bytes: the end of a run writes
them with everything else it writes, or nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

SIZE = (6.4, 4.0)
DPI = 120


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "research", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
    return plt


def image_bytes(fig, path: Path) -> bytes:
    """The figure in the format of `path`'s suffix, with no volatile metadata."""
    import io

    plt = _pyplot()
    buffer = io.BytesIO()
    fmt = path.suffix.lower().lstrip(".")
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def bar(path: Path, values: Mapping[str, Mapping[str, float]], metrics: Sequence[str], *, best: str | None, baseline: str | None) -> bytes:
    """Grouped bars: one panel per metric, one bar per trial (best and baseline marked)."""
    plt = _pyplot()
    trials = list(values)
    fig, axes = plt.subplots(1, len(metrics), figsize=(SIZE[0] * max(1, len(metrics)) / 2, SIZE[1]), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        heights = [values[t].get(metric, np.nan) for t in trials]
        colors = ["#d62728" if t == best else "#7f7f7f" if t == baseline else "#1f77b4" for t in trials]
        ax.bar(range(len(trials)), heights, color=colors)
        ax.set_xticks(range(len(trials)), trials, rotation=30, ha="right")
        ax.set_title(metric)
        for i, h in enumerate(heights):
            if np.isfinite(h):
                ax.annotate(f"{h:.4g}", (i, h), ha="center", va="bottom", fontsize=7)
    fig.tight_layout()
    return image_bytes(fig, path)


def binned_lines(path: Path, centers: Sequence[float], series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
                 small: Sequence[bool] = (), log_x: bool = False) -> bytes:
    """One line per trial of a binned metric against the bin positions; bins with too few
    spectra (`small`) are drawn as hollow markers, off the line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    small = list(small) or [False] * len(centers)
    drawn_hollow = False
    for name, ys in series.items():
        ys = np.asarray(ys, dtype=float)
        kept = np.where(small, np.nan, ys)
        (line,) = ax.plot(centers, kept, marker="o", label=name)
        hollow = [i for i, s in enumerate(small) if s and np.isfinite(ys[i])]
        if hollow:
            drawn_hollow = True
            ax.plot([centers[i] for i in hollow], ys[hollow], linestyle="none", marker="o",
                    markerfacecolor="none", markeredgecolor=line.get_color())
    if drawn_hollow:
        ax.plot([], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor="grey", label="too few spectra")
    if log_x and min(centers, default=1) > 0:
        _log_axis(ax, centers)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return image_bytes(fig, path)


def _log_axis(ax, xs: Sequence[float]) -> None:
    """A log x axis labelled in plain numbers at 1-2-5 steps (not 2×10⁰)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    ax.set_xscale("log")
    lo, hi = min(xs), max(xs)
    ticks = [m * 10.0**e for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1) for m in (1, 2, 5)]
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if lo / 1.5 <= t <= hi * 1.5]))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def pred_vs_true(path: Path, truth: np.ndarray, pred: np.ndarray, *, target: str, title: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(SIZE[1] * 1.1, SIZE[1]))
    ax.hexbin(truth, pred, gridsize=40, mincnt=1, cmap="viridis")
    lo, hi = float(np.min(truth)), float(np.max(truth))
    ax.plot([lo, hi], [lo, hi], color="red", linewidth=1)
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.set_title(title)
    fig.tight_layout()
    return image_bytes(fig, path)


def sweep(path: Path, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], *, xlabel: str, ylabel: str) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    order = np.argsort(np.asarray(xs, dtype=float))
    xs_sorted = np.asarray(xs, dtype=float)[order]
    ys_sorted = np.asarray(ys, dtype=float)[order]
    ax.plot(xs_sorted, ys_sorted, marker="o")
    if np.all(xs_sorted > 0) and xs_sorted[-1] / max(xs_sorted[0], 1e-300) > 50:
        ax.set_xscale("log")
    for x, y, label in zip(xs_sorted, ys_sorted, np.asarray(labels)[order]):
        ax.annotate(str(label), (x, y), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.tight_layout()
    return image_bytes(fig, path)


COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def binned_bars(path: Path, labels: Sequence[str], series: Mapping[str, Sequence[float]], *, ylabel: str,
                small: Sequence[bool] = ()) -> bytes:
    """Grouped bars per bin (or cell), one colour per trial; bins with too few spectra hatched."""
    plt = _pyplot()
    trials = list(series)
    fig, ax = plt.subplots(figsize=(max(SIZE[0], 0.55 * len(labels) * max(1, len(trials)) + 1.5), SIZE[1]))
    width = 0.8 / max(1, len(trials))
    small = list(small) or [False] * len(labels)
    for k, name in enumerate(trials):
        xs = np.arange(len(labels)) + (k - (len(trials) - 1) / 2) * width
        ys = np.asarray(series[name], dtype=float)
        bars = ax.bar(xs, np.nan_to_num(ys, nan=0.0), width, label=name, color=COLORS[k % len(COLORS)])
        for bar, is_small, y in zip(bars, small, ys):
            if is_small or not np.isfinite(y):
                bar.set_alpha(0.35)
                bar.set_hatch("//")
    ax.set_xticks(range(len(labels)), labels, rotation=30 if max(map(len, labels), default=0) > 8 else 0, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return image_bytes(fig, path)


def delta_bars(path: Path, labels: Sequence[str], deltas: Mapping[str, Sequence[Mapping[str, float] | None]], *,
               ylabel: str, reference: str) -> bytes:
    """Each trial's Δ from `reference` per bin (or cell), with its 95 % interval as an error bar."""
    plt = _pyplot()
    trials = list(deltas)
    fig, ax = plt.subplots(figsize=(max(SIZE[0], 0.55 * len(labels) * max(1, len(trials)) + 1.5), SIZE[1]))
    width = 0.8 / max(1, len(trials))
    for k, name in enumerate(trials):
        xs = np.arange(len(labels)) + (k - (len(trials) - 1) / 2) * width
        values = [d["value"] if d else np.nan for d in deltas[name]]
        lo = [d["value"] - d["lo"] if d else np.nan for d in deltas[name]]
        hi = [d["hi"] - d["value"] if d else np.nan for d in deltas[name]]
        ax.bar(xs, np.nan_to_num(values, nan=0.0), width, yerr=[np.nan_to_num(lo), np.nan_to_num(hi)], capsize=3,
               label=f"{name} − {reference}", color=COLORS[k % len(COLORS)])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if max(map(len, labels), default=0) > 8 else 0, ha="right")
    ax.set_ylabel(f"Δ {ylabel}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return image_bytes(fig, path)


def weight_distribution(path: Path, weights: Mapping[str, np.ndarray], *, experts: Sequence[str] | None = None) -> bytes:
    """Per trial, the distribution of the gate's soft weight on each expert (a box per expert)."""
    plt = _pyplot()
    trials = list(weights)
    fig, axes = plt.subplots(1, len(trials), figsize=(SIZE[0] * max(1, len(trials)) / 1.6, SIZE[1]), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], trials):
        w = np.asarray(weights[name], dtype=float)
        if w.ndim != 2:
            ax.set_title(f"{name}: no per-expert weights")
            continue
        labels = list(experts or [str(k) for k in range(w.shape[1])])[: w.shape[1]]
        ax.boxplot([w[:, k] for k in range(w.shape[1])], showfliers=False)
        ax.set_xticks(range(1, w.shape[1] + 1), labels, rotation=45 if w.shape[1] > 5 else 0, ha="right")
        ax.set_title(name)
        ax.set_xlabel("expert")
    axes[0][0].set_ylabel("gate weight")
    fig.tight_layout()
    return image_bytes(fig, path)


def bootstrap_distribution(path: Path, samples: Mapping[str, np.ndarray], intervals: Mapping[str, Mapping[str, float]], *,
                           xlabel: str, reference: str) -> bytes:
    """The paired bootstrap distribution of each trial's Δ from `reference`, its 95 % interval shaded."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    for k, (name, values) in enumerate(samples.items()):
        color = COLORS[k % len(COLORS)]
        values = np.asarray(values, dtype=float)
        ax.hist(values[np.isfinite(values)], bins=40, histtype="stepfilled", alpha=0.35, color=color,
                label=f"{name} − {reference}")
        interval = intervals[name]
        ax.axvspan(interval["lo"], interval["hi"], color=color, alpha=0.12)
        ax.axvline(interval["value"], color=color, linewidth=1.2)
    ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlabel(f"Δ {xlabel}")
    ax.set_ylabel("resamples")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return image_bytes(fig, path)


def heatmap(path: Path, x: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray], *, xlabel: str, ylabel: str,
            log_x: bool = False) -> bytes:
    """Per trial, a 2-D histogram of a per-spectrum value against a parameter, with a colour bar."""
    plt = _pyplot()
    trials = list(x)
    fig, axes = plt.subplots(1, len(trials), figsize=(SIZE[0] * max(1, len(trials)) / 1.5, SIZE[1]), squeeze=False, sharey=True)
    xs_all = np.concatenate([np.asarray(x[t], dtype=float) for t in trials])
    ys_all = np.concatenate([np.asarray(y[t], dtype=float) for t in trials])
    finite = np.isfinite(xs_all) & np.isfinite(ys_all) & ((xs_all > 0) if log_x else True)
    xr = (xs_all[finite].min(), xs_all[finite].max()) if finite.any() else (0, 1)
    yr = (ys_all[finite].min(), ys_all[finite].max()) if finite.any() else (0, 1)
    xbins = np.geomspace(*xr, 31) if log_x and xr[0] > 0 else np.linspace(*xr, 31)
    ybins = np.linspace(yr[0], yr[1] if yr[1] > yr[0] else yr[0] + 1, 31)
    image = None
    for ax, name in zip(axes[0], trials):
        counts, _, _ = np.histogram2d(np.asarray(x[name], dtype=float), np.asarray(y[name], dtype=float), bins=[xbins, ybins])
        image = ax.pcolormesh(xbins, ybins, counts.T, cmap="viridis", shading="flat")
        ax.grid(False)
        if log_x:
            _log_axis(ax, [xbins[0], xbins[-1]])
        ax.set_title(name)
        ax.set_xlabel(xlabel)
    axes[0][0].set_ylabel(ylabel)
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), label="spectra")
    return image_bytes(fig, path)


def ablation(path: Path, deltas: Mapping[str, Mapping[str, float]], *, ylabel: str, reference: str) -> bytes:
    """Each trial's Δ of a metric from `reference`, with its paired bootstrap 95 % interval."""
    plt = _pyplot()
    names = list(deltas)
    fig, ax = plt.subplots(figsize=(SIZE[0], max(2.2, 0.45 * len(names) + 1.2)))
    values = [deltas[n]["value"] for n in names]
    err = [[deltas[n]["value"] - deltas[n]["lo"] for n in names], [deltas[n]["hi"] - deltas[n]["value"] for n in names]]
    ax.barh(range(len(names)), values, xerr=err, capsize=3, color=[COLORS[k % len(COLORS)] for k in range(len(names))])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"Δ {ylabel} vs {reference}")
    fig.tight_layout()
    return image_bytes(fig, path)
