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
