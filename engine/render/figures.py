"""Figures of a run, drawn with matplotlib's Agg backend into deterministic bytes, in one house style.

Same numbers, same file: no timestamps or software version in the metadata, a fixed SVG hash
salt, a fixed size and DPI, so a re-run makes no git diff. Each function takes plain data (the
runner has already computed the numbers, intervals included) and returns the image's bytes: the
end of a run writes them with everything else it writes, or nothing at all.

The style, so a reader never has to guess:
- axes say what and in which unit, from one table (`engine.render.quantities`), not a raw key;
- colours mean something and the legend says what: the best candidate, the baseline, a reference;
- a value drawn with an interval shows it (bootstrap, paired bootstrap), and the legend names it;
- a comparison of close values is a dot plot on a zoomed axis, not bars from zero that hide it;
- bins say how many spectra they hold, and bins too small to trust are drawn hollow;
- zero lines only where zero means something; log axes where a quantity spans decades;
- text is text in an SVG (`svg.fonttype: none`), so a label can be searched and tested.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.render import quantities as q
from engine.render.templates import fmt_metric

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

SIZE = (6.4, 4.0)
DPI = 120
FORMATS = ("png", "svg", "pdf")

BEST = "#D55E00"  # vermillion: the one the report crowns
CANDIDATE = "#0072B2"  # blue: the other candidates
BASELINE = "#333333"  # near black: what a candidate has to beat
REFERENCE = "#999999"  # grey: a yardstick, never a candidate
BETTER, WORSE, UNSURE = "#009E73", "#CC79A7", "#999999"  # worse is not the best's vermillion
#: Colours of trials told apart by name (Okabe–Ito, then Tol's muted): colour-blind safe, and
#: without the best's vermillion or the baseline's and references' greys.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
    "#117733",
    "#332288",
    "#DDCC77",
)
COLORS = PALETTE  # the old name
INTERVAL = "95 % bootstrap interval"
PAIRED = "paired bootstrap 95 % interval"

STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "research",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "errorbar.capsize": 2.5,
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _styled(draw):
    """Draw inside the house style without leaving it set for whoever draws next."""

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        import matplotlib

        _pyplot()
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return styled


def image_bytes(fig, path: Path, fmt: str | None = None) -> bytes:
    """The figure in `fmt` (default: `path`'s suffix), with no volatile metadata."""
    import matplotlib

    plt = _pyplot()
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"cannot write a figure as '{fmt}'; formats are {', '.join(FORMATS)}")
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
    }[fmt]
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


@dataclass(frozen=True)
class Roles:
    """Which trials are the best candidate, the baseline and the references: what the colours and
    the legends of a figure tell apart. `primary` is the metric the best is best by."""

    best: str | None = None
    baseline: str | None = None
    references: tuple[str, ...] = ()
    primary: str | None = None

    def of(self, name: str) -> str | None:
        if name == self.baseline:
            return "baseline"
        if name in self.references:
            return "reference"
        if name == self.best:
            return "best"
        return None

    def named(self, name: str) -> str:
        """The trial's name as a legend gives it: `phys-gate (baseline)`."""
        role = self.of(name)
        return f"{name} ({role})" if role else name

    def best_text(self, labels: Mapping[str, str] | None = None) -> str:
        return "best candidate" + (f" (by {q.symbol(self.primary, labels)})" if self.primary else "")


NO_ROLES = Roles()


def _trial_styles(names: Sequence[str], roles: Roles) -> dict[str, dict[str, Any]]:
    """One look per trial of a figure that tells trials apart by name: the baseline dashed
    near-black, references dotted grey, the best thicker in vermillion, the others by palette."""
    out, k = {}, 0
    for name in names:
        role = roles.of(name)
        if role == "baseline":
            out[name] = {"color": BASELINE, "linestyle": "--", "marker": "s", "linewidth": 1.4}
        elif role == "reference":
            out[name] = {"color": REFERENCE, "linestyle": ":", "marker": "D", "linewidth": 1.4}
        elif role == "best":
            out[name] = {"color": BEST, "linestyle": "-", "marker": "o", "linewidth": 2.2}
        else:
            out[name] = {"color": PALETTE[k % len(PALETTE)], "linestyle": "-", "marker": "o", "linewidth": 1.4}
            k += 1
    return out


def _role_color(name: str, roles: Roles) -> str:
    return {"best": BEST, "baseline": BASELINE, "reference": REFERENCE}.get(roles.of(name) or "", CANDIDATE)


def _errors(values, intervals) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The indices that have an interval, and the lower and upper error lengths there (never
    negative: a percentile interval need not hold the full-sample value)."""
    keep, lower, upper = [], [], []
    for i, (v, iv) in enumerate(zip(values, intervals)):
        if (
            iv is None
            or not np.isfinite(v)
            or not (np.isfinite(iv.get("lo", np.nan)) and np.isfinite(iv.get("hi", np.nan)))
        ):
            continue
        keep.append(i)
        lower.append(max(0.0, v - iv["lo"]))
        upper.append(max(0.0, iv["hi"] - v))
    return keep, np.asarray(lower), np.asarray(upper)


def _errorbars(ax, positions, values, intervals, *, color, gid: str, horizontal: bool = False) -> int:
    """Draw the intervals that exist (as one collection named `gid` in an SVG); how many were drawn."""
    values = np.asarray(values, dtype=float)
    positions = np.asarray(positions, dtype=float)
    keep, lower, upper = _errors(values, intervals)
    if not keep:
        return 0
    err = np.vstack([lower, upper])
    kwargs = {"xerr": err} if horizontal else {"yerr": err}
    x, y = (values[keep], positions[keep]) if horizontal else (positions[keep], values[keep])
    container = ax.errorbar(x, y, fmt="none", ecolor=color, elinewidth=1.1, zorder=2.5, **kwargs)
    for collection in container.lines[2]:
        collection.set_gid(gid)
    return len(keep)


def _interval_handle(text: str = INTERVAL):
    from matplotlib.lines import Line2D

    return Line2D([], [], color="0.3", marker="|", markersize=9, linestyle="-", linewidth=1.1, label=text)


def _zero_line(ax, *, vertical: bool = False, label: str | None = None) -> None:
    draw = ax.axvline if vertical else ax.axhline
    line = draw(0.0, color="black", linewidth=0.8, zorder=1.5, label=label)
    line.set_gid("zero-line")


def _log_axis(ax, xs: Iterable[float], axis: str = "x") -> None:
    """A log axis: plain numbers at 1-2-5 steps over up to three decades (not 2×10⁰), powers of
    ten beyond that (where 1-2-5 ticks would crowd)."""
    from matplotlib.ticker import (
        FixedLocator,
        FuncFormatter,
        LogFormatterSciNotation,
        LogLocator,
        NullFormatter,
        NullLocator,
    )

    finite = [float(x) for x in xs if np.isfinite(x) and x > 0]
    which = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    if not finite:
        return
    lo, hi = min(finite), max(finite)
    if hi / lo <= 1000:
        ticks = [
            m * 10.0**e
            for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
            for m in (1, 2, 5)
        ]
        which.set_major_locator(FixedLocator([t for t in ticks if lo / 1.5 <= t <= hi * 1.5]))
        which.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        which.set_major_locator(LogLocator(base=10))
        which.set_major_formatter(LogFormatterSciNotation())
    which.set_minor_locator(NullLocator())
    which.set_minor_formatter(NullFormatter())


def _dodged(centers: Sequence[float], k: int, count: int, log: bool) -> np.ndarray:
    """Positions of the k-th of `count` series at the same bins, shifted apart so their
    intervals do not hide each other (in log space on a log axis)."""
    c = np.asarray(centers, dtype=float)
    if count <= 1 or len(c) == 0:
        return c
    t = np.log10(c) if log else c
    steps = np.diff(np.sort(t))
    step = float(np.min(steps[steps > 0])) if np.any(steps > 0) else 1.0
    shifted = t + (k - (count - 1) / 2) * (0.16 * step / (count - 1))
    return 10.0**shifted if log else shifted


def _bars_fair(metric: str, values: Sequence[float]) -> bool:
    """Whether bars from zero show the trials' differences: the quantity has a true zero and the
    values differ by a quarter of the largest; else (MAE 0.2273 against 0.2376) a dot plot on a
    zoomed axis does."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if not q.from_zero(metric) or len(v) < 2 or np.any(v < 0):
        return False
    return bool(np.ptp(v) >= 0.25 * np.max(np.abs(v)))


def _zoom(ax, values, intervals, *, vertical: bool, from_zero: bool) -> None:
    """Axis limits that hold every value and interval with a margin (and zero, for bars)."""
    points = [v for v in values if np.isfinite(v)]
    for iv in intervals:
        if iv is not None:
            points += [x for x in (iv.get("lo"), iv.get("hi")) if x is not None and np.isfinite(x)]
    if not points:
        return
    lo, hi = min(points), max(points)
    if from_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1.0
    limits = (lo if from_zero and lo == 0 else lo - pad, hi + pad)
    (ax.set_ylim if vertical else ax.set_xlim)(*limits)


def _value_column(ax, positions, texts, *, color=None) -> None:
    """Values as a column of text right of the panel, one per row: they never sit on the data
    or on each other, however many trials there are."""
    for y, text in zip(positions, texts):
        ax.annotate(
            text,
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=7,
            color=color or "0.15",
            annotation_clip=False,
        )


def _top_legend(fig, handles, columns: int, **layout) -> None:
    """The legend in a row above the panels (where it covers nothing), then the layout below it."""
    if not handles:
        fig.tight_layout(**layout)
        return
    columns = max(1, min(columns, len(handles)))
    rows = -(-len(handles) // columns)
    fig.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=columns,
        handletextpad=0.4,
        columnspacing=1.2,
    )
    fig.tight_layout(rect=(0, 0, 1, 1.0 - (0.2 * rows + 0.08) / fig.get_figheight()), **layout)


def _better_hint(key: str, *, vertical: bool) -> str:
    """Which way a Δ is better, for its axis label: a reader should not have to know that lower
    MAE but higher R² is good."""
    way = q.better(key)
    if way is None:
        return ""
    if vertical:
        return " (↑ trial better)" if way == "higher" else " (↓ trial better)"
    return " (trial better →)" if way == "higher" else " (← trial better)"


def _count_bar(fig, image, ax, label: str, **kwargs) -> None:
    """A colour bar of counts on a log scale, ticked in plain numbers (1, 2, 5, 10, …)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    bar_ = fig.colorbar(image, ax=ax, label=label, **kwargs)
    bar_.ax.set_gid("colorbar")
    bar_.ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    bar_.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar_.ax.yaxis.set_minor_locator(NullLocator())


# ---------------------------------------------------------------------------------------------
# Metrics per trial


@_styled
def bar(
    path: Path,
    values: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    *,
    best: str | None,
    baseline: str | None,
    references: Sequence[str] = (),
    intervals: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    primary: str | None = None,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """One panel per metric, one row per trial (names stay legible with a dozen trials): each
    trial's value and its bootstrap interval (`intervals[trial][metric]`, {lo, hi}), as bars from
    zero where they show the differences and as dots on a zoomed axis where they would hide them.
    Colour says best candidate / baseline / reference / other, and the legend says so."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    trials = list(values)
    roles = Roles(
        best if best in trials else None,
        baseline if baseline in trials else None,
        tuple(r for r in references if r in trials),
        primary,
    )
    rows = np.arange(len(trials))
    height = max(2.2, 0.3 * len(trials) + 1.6)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * max(1, len(metrics)), height), squeeze=False, sharey=True)
    colors = [_role_color(t, roles) for t in trials]
    drawn = 0
    # one look for every panel: bars only where each panel's bars would show its differences
    as_bars = all(_bars_fair(m, [values[t].get(m, np.nan) for t in trials]) for m in metrics)
    for ax, metric in zip(axes[0], metrics):
        v = np.array([values[t].get(metric, np.nan) for t in trials], dtype=float)
        iv = [((intervals or {}).get(t) or {}).get(metric) for t in trials]
        if as_bars:
            ax.barh(rows, np.nan_to_num(v, nan=0.0), height=0.6, color=colors, alpha=0.8, zorder=2)
        else:
            ax.scatter(v, rows, c=colors, s=30, zorder=3)
        for i, color in enumerate(colors):  # one colour per interval: as the point it belongs to
            drawn += _errorbars(
                ax, [rows[i]], [v[i]], [iv[i]], color=color, gid=f"interval-{metric}-{i}", horizontal=True
            )
        _zoom(ax, v, iv, vertical=False, from_zero=as_bars)
        if q.zero_line(metric):
            lo, hi = ax.get_xlim()
            if lo < 0 < hi:
                _zero_line(ax, vertical=True)
        _value_column(ax, rows, [fmt_metric(metric, x, unit=False) for x in v])  # as the table cells say them
        ax.set_xlabel(q.label(metric, axis_labels))
        ax.grid(axis="y", visible=False)
        ax.tick_params(axis="y", length=0)
    first = axes[0][0]
    first.set_yticks(rows, trials)
    first.set_ylim(len(trials) - 0.5, -0.5)  # the first trial on top
    for tick, trial in zip(first.get_yticklabels(), trials):
        tick.set_color(_role_color(trial, roles) if roles.of(trial) else "black")
        if roles.of(trial) == "best":
            tick.set_fontweight("bold")
    handles = []
    if roles.best:
        handles.append(Line2D([], [], color=BEST, marker="o", linestyle="none", label=roles.best_text(axis_labels)))
    if roles.baseline:
        handles.append(Line2D([], [], color=BASELINE, marker="o", linestyle="none", label="baseline"))
    if roles.references:
        handles.append(
            Line2D([], [], color=REFERENCE, marker="o", linestyle="none", label="reference (not a candidate)")
        )
    if any(roles.of(t) is None for t in trials):
        handles.append(Line2D([], [], color=CANDIDATE, marker="o", linestyle="none", label="candidate"))
    if drawn:
        handles.append(_interval_handle())
    _top_legend(fig, handles, 3 if len(metrics) > 1 else 2, w_pad=2.5)
    return image_bytes(fig, path, fmt)


# ---------------------------------------------------------------------------------------------
# Binned tables


def _n_axis(ax, positions, n: Sequence[int], small: Sequence[bool], min_n: int | None) -> None:
    """How many spectra each bin holds, on a second x axis along the top (small bins in
    parentheses). Only the bins inside the drawn x range get a count (an empty open bin past
    the data has none to show), and the axis says what parentheses mean only when one is drawn."""
    from matplotlib.ticker import NullLocator

    lo, hi = sorted(ax.get_xlim())
    inside = [(p, k, s) for p, k, s in zip(positions, n, small) if lo <= p <= hi]
    top = ax.secondary_xaxis("top")
    top.set_gid("n-per-bin")
    top.set_xticks(
        [p for p, _, _ in inside],
        [f"({k})" if s else str(k) for _, k, s in inside],
        fontsize=7,
        rotation=90 if len(inside) > 12 else 0,
    )
    top.xaxis.set_minor_locator(NullLocator())
    top.tick_params(axis="x", length=2, pad=1)
    what = "spectra per bin" + (
        f" (in parentheses: fewer than {min_n})" if any(s for *_, s in inside) and min_n else ""
    )
    top.set_xlabel(what, fontsize=7, color="0.3")


@_styled
def binned_lines(
    path: Path,
    centers: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    small: Sequence[bool] = (),
    log_x: bool | None = None,
    intervals: Mapping[str, Sequence[Mapping[str, float] | None]] | None = None,
    n: Sequence[int] | None = None,
    min_n: int | None = None,
    roles: Roles = NO_ROLES,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """One line per trial of a binned metric (`ylabel`, a key) against the bins of `xlabel` (a
    key), each bin's value with its interval; bins with too few spectra (`small`) drawn as hollow
    markers off the line, and the spectra per bin along the top."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    small = list(small) or [False] * len(centers)
    log = q.log_scale(xlabel, centers) if log_x is None else bool(log_x and min(centers, default=1) > 0)
    styles = _trial_styles(list(series), roles)
    drawn_hollow = drawn = 0
    for k, (name, values) in enumerate(series.items()):
        ys = np.asarray(values, dtype=float)
        xs = _dodged(centers, k, len(series), log)
        style = styles[name]
        kept = np.where(small, np.nan, ys)
        ax.plot(
            xs,
            kept,
            marker=style["marker"],
            markersize=5,
            color=style["color"],
            linestyle=style["linestyle"],
            linewidth=style["linewidth"],
            label=roles.named(name),
            zorder=3,
        )
        hollow = [i for i, s in enumerate(small) if s and np.isfinite(ys[i])]
        if hollow:
            drawn_hollow += 1
            ax.plot(
                xs[hollow],
                ys[hollow],
                linestyle="none",
                marker=style["marker"],
                markersize=5,
                markerfacecolor="white",
                markeredgecolor=style["color"],
                zorder=3,
                gid=f"small-{name}",
            )
        shown = [None if s else iv for s, iv in zip(small, (intervals or {}).get(name) or [None] * len(ys))]
        drawn += _errorbars(ax, xs, ys, shown, color=style["color"], gid=f"interval-{name}")
    if log:
        _log_axis(ax, centers)
    if q.zero_line(ylabel):
        _zero_line(ax)
    if n is not None and len(n) == len(centers):
        _n_axis(ax, centers, n, small, min_n)
    ax.set_xlabel(q.label(xlabel, axis_labels))
    ax.set_ylabel(q.label(ylabel, axis_labels))
    handles, _ = ax.get_legend_handles_labels()
    if drawn_hollow:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markerfacecolor="white",
                markeredgecolor="0.3",
                label=f"fewer than {min_n} spectra (off the line)" if min_n else "too few spectra",
            )
        )
    if drawn:
        handles.append(_interval_handle())
    _legend(ax, handles)
    fig.tight_layout()
    return image_bytes(fig, path, fmt)


def _legend(ax, handles) -> None:
    """Inside the axes while it is short, outside on the right once it would cover the data."""
    if len(handles) <= 3:
        ax.legend(handles=handles, loc="best")
    else:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _bin_ticks(labels: Sequence[str], n: Sequence[int] | None, small: Sequence[bool], one_line: bool) -> list[str]:
    if n is None or len(n) != len(labels):
        return list(labels)
    gap = " " if one_line else "\n"
    return [f"{label}{gap}(n = {k}{', few' if s else ''})" for label, k, s in zip(labels, n, small)]


def _set_bin_ticks(ax, labels: Sequence[str], n, small) -> None:
    """Each bin's name with its spectra under it, slanted once names would run into each other."""
    long = max(map(len, labels), default=0) > 8 or len(labels) > 8
    ax.set_xticks(
        range(len(labels)),
        _bin_ticks(labels, n, small, one_line=long),
        rotation=30 if long else 0,
        ha="right" if long else "center",
        rotation_mode="anchor" if long else "default",
    )
    ax.grid(axis="x", visible=False)


@_styled
def binned_bars(
    path: Path,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    ylabel: str,
    small: Sequence[bool] = (),
    intervals: Mapping[str, Sequence[Mapping[str, float] | None]] | None = None,
    n: Sequence[int] | None = None,
    min_n: int | None = None,
    roles: Roles = NO_ROLES,
    axis_labels: Mapping[str, str] | None = None,
    dots: bool = False,
    fmt: str | None = None,
) -> bytes:
    """Per bin (or cell), one bar per trial (or, `dots`, a dot: for a metric with no true zero,
    like R² over cells) with its interval; n under each bin's name; small bins hatched (hollow)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _pyplot()
    trials = list(series)
    fig, ax = plt.subplots(figsize=(max(SIZE[0], 0.5 * len(labels) * max(1, len(trials)) ** 0.5 + 2.5), SIZE[1]))
    width = 0.8 / max(1, len(trials))
    small = list(small) or [False] * len(labels)
    styles = _trial_styles(trials, roles)
    drawn = 0
    for k, name in enumerate(trials):
        xs = np.arange(len(labels)) + (k - (len(trials) - 1) / 2) * width
        ys = np.asarray(series[name], dtype=float)
        color = styles[name]["color"]
        if dots:
            full = [i for i in range(len(ys)) if not small[i]]
            ax.plot(
                xs[full],
                ys[full],
                linestyle="none",
                marker=styles[name]["marker"],
                color=color,
                label=roles.named(name),
                zorder=3,
            )
            few = [i for i in range(len(ys)) if small[i] and np.isfinite(ys[i])]
            if few:
                ax.plot(
                    xs[few],
                    ys[few],
                    linestyle="none",
                    marker=styles[name]["marker"],
                    markerfacecolor="white",
                    markeredgecolor=color,
                    zorder=3,
                    gid=f"small-{name}",
                )
        else:
            bars = ax.bar(xs, np.nan_to_num(ys, nan=0.0), width, label=roles.named(name), color=color, zorder=2)
            for bar_, is_small, y in zip(bars, small, ys):
                if is_small or not np.isfinite(y):
                    bar_.set_alpha(0.35)
                    bar_.set_hatch("//")
                    bar_.set_gid(f"small-{name}")
        shown = [None if s else iv for s, iv in zip(small, (intervals or {}).get(name) or [None] * len(ys))]
        drawn += _errorbars(ax, xs, ys, shown, color="0.15" if not dots else color, gid=f"interval-{name}")
    for i in range(len(labels)):  # a bin nobody has a value in is said to be empty, not left blank
        if all(not np.isfinite(np.asarray(series[t], dtype=float)[i]) for t in trials):
            ax.annotate(
                "no spectra" if n is not None and i < len(n) and n[i] == 0 else "no value",
                (i, 0.02),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=7,
                color="0.4",
            )
    if dots:
        _zoom(
            ax,
            [v for t in trials for v in np.asarray(series[t], dtype=float)],
            [iv for t in trials for iv in ((intervals or {}).get(t) or [])],
            vertical=True,
            from_zero=False,
        )
    if q.zero_line(ylabel):
        _zero_line(ax)
    _set_bin_ticks(ax, labels, n, small)
    ax.set_ylabel(q.label(ylabel, axis_labels))
    handles, _ = ax.get_legend_handles_labels()
    if any(
        small[i] and np.isfinite(float(series[t][i])) for t in trials for i in range(len(labels))
    ):  # one drawn hollow
        text = f"fewer than {min_n} spectra" if min_n else "too few spectra"
        handles.append(
            Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="0.3", label=text)
            if dots
            else Patch(facecolor="0.7", alpha=0.5, hatch="//", label=text)
        )
    if drawn:
        handles.append(_interval_handle())
    _top_legend(fig, handles, 4)
    return image_bytes(fig, path, fmt)


@_styled
def delta_bars(
    path: Path,
    labels: Sequence[str],
    deltas: Mapping[str, Sequence[Mapping[str, float] | None]],
    *,
    ylabel: str,
    reference: str,
    n: Sequence[int] | None = None,
    small: Sequence[bool] = (),
    min_n: int | None = None,
    roles: Roles = NO_ROLES,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Each trial's Δ from `reference` per bin (or cell) with its paired 95 % interval; bins with
    no Δ (too few spectra) marked, not left as a gap that reads as Δ = 0."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    trials = list(deltas)
    fig, ax = plt.subplots(figsize=(max(SIZE[0], 0.5 * len(labels) * max(1, len(trials)) ** 0.5 + 2.5), SIZE[1]))
    width = 0.8 / max(1, len(trials))
    styles = _trial_styles(trials, roles)
    small = list(small) or [False] * len(labels)
    drawn = missing = 0
    for k, name in enumerate(trials):
        xs = np.arange(len(labels)) + (k - (len(trials) - 1) / 2) * width
        values = np.array([d["value"] if d else np.nan for d in deltas[name]], dtype=float)
        ax.bar(
            xs,
            np.nan_to_num(values, nan=0.0),
            width,
            label=f"{roles.named(name)} − {reference}",
            color=styles[name]["color"],
            zorder=2,
        )
        drawn += _errorbars(ax, xs, values, list(deltas[name]), color="0.15", gid=f"interval-{name}")
        gone = [i for i, v in enumerate(values) if not np.isfinite(v)]
        if gone:
            missing += 1
            ax.plot(
                xs[gone],
                np.zeros(len(gone)),
                linestyle="none",
                marker="x",
                color="0.4",
                zorder=3,
                gid=f"no-delta-{name}",
            )
    _zero_line(ax)
    _set_bin_ticks(ax, labels, n, small)
    ax.set_ylabel(q.delta_label(ylabel, axis_labels) + _better_hint(ylabel, vertical=True))
    handles, _ = ax.get_legend_handles_labels()
    if missing:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="x",
                color="0.4",
                label=f"no Δ: fewer than {min_n} spectra" if min_n else "no Δ (too few spectra)",
            )
        )
    if drawn:
        handles.append(_interval_handle(PAIRED))
    _top_legend(fig, handles, 3)
    return image_bytes(fig, path, fmt)


# ---------------------------------------------------------------------------------------------
# One trial's predictions, sweeps, bootstrap distributions, ablations, gate weights


@_styled
def pred_vs_true(
    path: Path,
    truth: np.ndarray,
    pred: np.ndarray,
    *,
    target: str,
    title: str,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Predicted against true values as a density (a scatter of 10⁵ points is a blot), on equal
    axes with the 1:1 line labelled, and a colour bar saying what the colour counts."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    truth, pred = np.asarray(truth, dtype=float), np.asarray(pred, dtype=float)
    fig, ax = plt.subplots(figsize=(SIZE[1] * 1.25, SIZE[1]))
    finite = np.isfinite(truth) & np.isfinite(pred)
    both = np.concatenate([truth[finite], pred[finite]]) if finite.any() else np.array([0.0, 1.0])
    lo, hi = float(np.min(both)), float(np.max(both))
    pad = (hi - lo) * 0.03 or 1.0
    lo, hi = lo - pad, hi + pad
    cells = ax.hexbin(
        truth[finite],
        pred[finite],
        gridsize=40,
        mincnt=1,
        cmap="viridis",
        norm=LogNorm(),
        extent=(lo, hi, lo, hi),
        linewidths=0.1,
    )
    (line,) = ax.plot(
        [lo, hi], [lo, hi], color="black", linestyle="--", linewidth=1.0, label="1:1 (prediction = truth)"
    )
    line.set_gid("one-to-one")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("true " + q.label(target, axis_labels))
    ax.set_ylabel("predicted " + q.label(target, axis_labels))
    ax.set_title(title)
    ax.legend(loc="upper left")
    _count_bar(fig, cells, ax, "spectra per hexagon", shrink=0.85)
    fig.tight_layout()
    return image_bytes(fig, path, fmt)


def _finish(fig, ax, handles, path: Path, *, xlabel: str, ylabel: str, axis_labels, fmt) -> bytes:
    """The end every metric-against-a-setting figure shares: a zero line where zero means
    something, labelled axes, the legend, the layout, the bytes."""
    if q.zero_line(ylabel):
        _zero_line(ax)
    ax.set_xlabel(q.label(xlabel, axis_labels))
    ax.set_ylabel(q.label(ylabel, axis_labels))
    _legend(ax, handles)
    fig.tight_layout()
    return image_bytes(fig, path, fmt)


def _own_markers(ax, own: Sequence[tuple[float, float, str, Any]], *, first_color: int) -> list[Any]:
    """Trials that stand apart from a sweep's lines, each a filled-plus marker of its own colour
    (the palette after the lines') named in the legend: a reader finds a hand-written trial by
    its name, not as a step of the sweep."""
    from matplotlib.lines import Line2D

    handles = []
    for k, (x, y, name, _) in enumerate(own):
        color = PALETTE[(first_color + k) % len(PALETTE)]
        (mark,) = ax.plot([x], [y], linestyle="none", marker="P", markersize=9, color=color, zorder=3.5)
        mark.set_gid(f"trial-{name}")
        handles.append(Line2D([], [], linestyle="none", marker="P", markersize=8, color=color, label=str(name)))
    return handles


@_styled
def sweep(
    path: Path,
    xs: Sequence[float],
    ys: Sequence[float],
    labels: Sequence[str],
    *,
    xlabel: str,
    ylabel: str,
    intervals: Sequence[Mapping[str, float] | None] | None = None,
    best: str | None = None,
    roles: Roles = NO_ROLES,
    log_x: bool | None = None,
    own: Sequence[tuple[float, float, str, Mapping[str, float] | None]] = (),
    log_y: bool = False,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """A metric or a reported value (`ylabel`) against a swept setting (`xlabel`) with each
    trial's interval; a log axis where the setting spans decades (and for y where `log_y`); the
    best candidate (`best`, or `roles.best`), the baseline and references marked; trial names at
    the points while they fit (the caption lists them all). `own`: (x, y, name, interval) of
    trials that are not steps of the sweep (hand-written beside a grid), each a marker of its own
    under its name in the legend, off the line (SVG id `trial-<name>`)."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    order = np.argsort(np.asarray(xs, dtype=float), kind="stable")
    xs_sorted = np.asarray(xs, dtype=float)[order]
    ys_sorted = np.asarray(ys, dtype=float)[order]
    names = [str(labels[i]) for i in order]
    ax.plot(xs_sorted, ys_sorted, marker="o", color=CANDIDATE, zorder=3, label="trial")
    drawn = _errorbars(
        ax,
        xs_sorted,
        ys_sorted,
        [(intervals or [None] * len(xs))[i] for i in order],
        color=CANDIDATE,
        gid="interval-sweep",
    )
    handles = [Line2D([], [], color=CANDIDATE, marker="o", label="trial")]
    handles += _own_markers(ax, own, first_color=1)
    drawn += sum(
        _errorbars(ax, [x], [y], [iv], color=PALETTE[(1 + k) % len(PALETTE)], gid=f"interval-{name}")
        for k, (x, y, name, iv) in enumerate(own)
    )
    every_x = np.concatenate([xs_sorted, np.asarray([o[0] for o in own], dtype=float)]) if own else xs_sorted
    every_y = np.concatenate([ys_sorted, np.asarray([o[1] for o in own], dtype=float)]) if own else ys_sorted
    every_name = names + [str(o[2]) for o in own]
    best = best or roles.best
    for role, marker, color, text in (
        ("baseline", "s", BASELINE, "baseline"),
        ("reference", "D", REFERENCE, "reference"),
    ):
        marked = [i for i, name in enumerate(every_name) if roles.of(name) == role]
        if marked:
            ax.plot(
                every_x[marked],
                every_y[marked],
                linestyle="none",
                marker=marker,
                markersize=8,
                color=color,
                zorder=4,
            )
            handles.append(Line2D([], [], linestyle="none", marker=marker, color=color, label=text))
    if best in every_name:
        i = every_name.index(best)
        ax.plot([every_x[i]], [every_y[i]], linestyle="none", marker="*", markersize=13, color=BEST, zorder=4)
        handles.append(
            Line2D([], [], linestyle="none", marker="*", markersize=11, color=BEST, label=f"best candidate ({best})")
        )
    if drawn:
        handles.append(_interval_handle())
    if q.log_scale(xlabel, every_x) if log_x is None else log_x:
        _log_axis(ax, every_x)
    if log_y:
        _log_axis(ax, every_y, axis="y")
    if len(names) <= 8:
        for j, (x, y, name) in enumerate(zip(xs_sorted, ys_sorted, names)):
            ax.annotate(
                name, (x, y), fontsize=7, textcoords="offset points", xytext=(4, 5 if j % 2 == 0 else -10), color="0.3"
            )
    return _finish(fig, ax, handles, path, xlabel=xlabel, ylabel=ylabel, axis_labels=axis_labels, fmt=fmt)


@_styled
def lines(
    path: Path,
    series: Mapping[str, Sequence[tuple[float, float, Mapping[str, float] | None]]],
    *,
    xlabel: str,
    ylabel: str,
    group: str,
    log_x: bool | None = None,
    own: Sequence[tuple[str, float, float, Mapping[str, float] | None]] = (),
    log_y: bool = False,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """One line per value of a swept key (`group`: one line per α) against another (`xlabel`:
    N), each point with its interval: the α × N study of a grid sweep, on a log axis where the
    x values span decades (and y where `log_y`: a chosen α against N). `own`: (name, x, y,
    interval) of trials on no line (hand-written, or without a value of `group`), each a marker
    under its own name in the legend (SVG id `trial-<name>`), never `α = v0`."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    handles, every_x, every_y, drawn = [], [], [], 0
    for k, (name, points) in enumerate(series.items()):
        points = sorted(points, key=lambda p: p[0])
        xs = np.asarray([p[0] for p in points], dtype=float)
        ys = np.asarray([p[1] for p in points], dtype=float)
        color = COLORS[k % len(COLORS)]
        ax.plot(xs, ys, marker="o", color=color, zorder=3)
        drawn = _errorbars(ax, xs, ys, [p[2] for p in points], color=color, gid=f"interval-line-{k}") or drawn
        handles.append(Line2D([], [], color=color, marker="o", label=f"{q.label(group, axis_labels)} = {name}"))
        every_x += list(xs)
        every_y += list(ys)
    handles += _own_markers(ax, [(x, y, name, iv) for name, x, y, iv in own], first_color=len(series))
    for k, (name, x, y, iv) in enumerate(own):
        color = COLORS[(len(series) + k) % len(COLORS)]
        drawn = _errorbars(ax, [x], [y], [iv], color=color, gid=f"interval-{name}") or drawn
        every_x.append(float(x))
        every_y.append(float(y))
    if drawn:
        handles.append(_interval_handle())
    if q.log_scale(xlabel, every_x) if log_x is None else log_x:
        _log_axis(ax, every_x)
    if log_y:
        _log_axis(ax, every_y, axis="y")
    return _finish(fig, ax, handles, path, xlabel=xlabel, ylabel=ylabel, axis_labels=axis_labels, fmt=fmt)


@_styled
def curves(
    path: Path,
    lines: Mapping[str, Mapping[str, Any]],
    *,
    ylabel: str,
    roles: Roles = NO_ROLES,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Training curves: one line per trial of a per-epoch value (`ylabel`, a key: val_loss,
    lr, val_r2.log_g …) against epoch. `lines[trial]` = {"x": epochs, "y": values, "train":
    the training loss or None (drawn dashed in the trial's colour), "best": the best epoch or
    None (a dot on the line), "stopped": whether it stopped early (a × where the line ends)}.
    A log y axis where the values span more than a decade (losses, learning rates)."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    styles = _trial_styles(list(lines), roles)
    handles, every_y, dashed, best_shown, stopped_shown = [], [], False, False, False
    for name, line in lines.items():
        xs = np.asarray(line["x"], dtype=float)
        ys = np.asarray([np.nan if v is None else v for v in line["y"]], dtype=float)
        color, width = styles[name]["color"], styles[name]["linewidth"]
        marker = "o" if len(xs) <= 30 else None
        ax.plot(xs, ys, color=color, linewidth=width, marker=marker, markersize=2.5, zorder=3, gid=f"curve-{name}")
        handles.append(Line2D([], [], color=color, linewidth=width, label=roles.named(name)))
        every_y += list(ys)
        if line.get("train") is not None:
            train = np.asarray(line["train"], dtype=float)
            ax.plot(xs, train, color=color, linewidth=1.0, linestyle="--", alpha=0.8, zorder=2.5, gid=f"train-{name}")
            every_y += list(train)
            dashed = True
        best = line.get("best")
        if best is not None and best in list(line["x"]):
            i = list(line["x"]).index(best)
            ax.plot(
                [xs[i]],
                [ys[i]],
                linestyle="none",
                marker="o",
                markersize=7,
                color=color,
                markeredgecolor="white",
                zorder=4,
                gid=f"best-epoch-{name}",
            )
            best_shown = True
        if line.get("stopped") and len(xs):
            ax.plot(
                [xs[-1]],
                [ys[-1]],
                linestyle="none",
                marker="x",
                markersize=7,
                markeredgewidth=1.6,
                color=color,
                zorder=4,
                gid=f"stopped-{name}",
            )
            stopped_shown = True
    if dashed:
        handles += [
            Line2D([], [], color="0.3", linewidth=1.4, label="validation (solid)"),
            Line2D([], [], color="0.3", linewidth=1.0, linestyle="--", label="training (dashed)"),
        ]
    if best_shown:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=6, color="0.3", label="best epoch"))
    if stopped_shown:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="x",
                markersize=6,
                markeredgewidth=1.6,
                color="0.3",
                label="stopped early",
            )
        )
    if q.log_scale(ylabel, every_y):
        _log_axis(ax, every_y, axis="y")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(q.label("epoch", axis_labels))
    ax.set_ylabel(q.label(ylabel, axis_labels))
    _legend(ax, handles)
    fig.tight_layout()
    return image_bytes(fig, path, fmt)


@_styled
def weight_distribution(
    path: Path,
    weights: Mapping[str, np.ndarray],
    *,
    experts: Sequence[str] | None = None,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Per trial, the distribution of the gate's soft weight on each expert (a box per expert),
    against the uniform 1/K a gate that does not choose would give."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _pyplot()
    trials = list(weights)
    fig, axes = plt.subplots(
        1, len(trials), figsize=(max(3.2, SIZE[0] * max(1, len(trials)) / 1.6), SIZE[1]), squeeze=False, sharey=True
    )
    uniform = False
    for ax, name in zip(axes[0], trials):
        w = np.asarray(weights[name], dtype=float)
        if w.ndim != 2:
            ax.set_title(f"{name}: no per-expert weights")
            continue
        labels = list(experts or [str(k) for k in range(w.shape[1])])[: w.shape[1]]
        ax.boxplot(
            [w[:, k] for k in range(w.shape[1])],
            showfliers=False,
            showmeans=True,
            medianprops={"color": "#E69F00", "linewidth": 1.6},
            meanprops={"marker": "D", "markerfacecolor": "white", "markeredgecolor": "black", "markersize": 4},
        )
        ax.axhline(1.0 / w.shape[1], color="0.4", linestyle=":", linewidth=1.0, zorder=1).set_gid("uniform-weight")
        uniform = True
        ax.set_xticks(
            range(1, w.shape[1] + 1),
            labels,
            rotation=45 if w.shape[1] > 5 else 0,
            ha="right" if w.shape[1] > 5 else "center",
        )
        ax.set_title(f"{name} (n = {len(w)})")
        ax.set_xlabel("expert")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(axis="x", visible=False)
    axes[0][0].set_ylabel(q.label("extra.gate_weights", axis_labels))
    handles = [
        Line2D([], [], color="#E69F00", linewidth=1.6, label="median"),
        Line2D([], [], linestyle="none", marker="D", markerfacecolor="white", markeredgecolor="black", label="mean"),
        Patch(facecolor="white", edgecolor="black", label="box: quartiles; whiskers: 1.5 × IQR"),
    ]
    if uniform:
        handles.append(Line2D([], [], color="0.4", linestyle=":", label="uniform (1 / experts)"))
    _top_legend(fig, handles, len(handles) if len(trials) > 1 else 2)
    return image_bytes(fig, path, fmt)


@_styled
def bootstrap_distribution(
    path: Path,
    samples: Mapping[str, np.ndarray],
    intervals: Mapping[str, Mapping[str, float]],
    *,
    xlabel: str,
    reference: str,
    roles: Roles = NO_ROLES,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """The paired bootstrap distribution of each trial's Δ from `reference`, its 95 % interval as
    a bar above it (shading would hide one trial's under another's) and its full-sample Δ a line;
    Δ = 0 (no difference) dashed, and which way is better in the axis label."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=SIZE)
    styles = _trial_styles(list(samples), roles)
    finite = {name: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for name, v in samples.items()}
    peak = 1.0
    for name, values in finite.items():  # bins of each its own: one Δ may be 50 times as wide as another
        counts, _, _ = ax.hist(
            values,
            bins=40,
            histtype="stepfilled",
            alpha=0.3,
            color=styles[name]["color"],
            edgecolor=styles[name]["color"],
            linewidth=0.8,
            label=f"{roles.named(name)} − {reference}",
        )
        peak = max(peak, float(np.max(counts)) if len(counts) else 1.0)
    for k, (name, interval) in enumerate((n, intervals[n]) for n in finite):
        color = styles[name]["color"]
        ax.axvline(interval["value"], color=color, linewidth=1.4, ymax=0.86)
        height = peak * (1.08 + 0.07 * k)
        _errorbars(ax, [height], [interval["value"]], [interval], color=color, gid=f"interval-{name}", horizontal=True)
        ax.plot([interval["value"]], [height], marker="o", markersize=4, color=color)
    ax.set_ylim(0, peak * (1.15 + 0.07 * len(finite)))
    ax.axvline(0.0, color="black", linewidth=0.9, linestyle="--").set_gid("zero-line")
    ax.set_xlabel(q.delta_label(xlabel, axis_labels) + _better_hint(xlabel, vertical=False))
    ax.set_ylabel("resamples per bin")
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        _interval_handle(PAIRED + " (above)"),
        Line2D([], [], color="0.3", linewidth=1.4, label="Δ on the full test set"),
        Line2D([], [], color="black", linewidth=0.9, linestyle="--", label="Δ = 0: no difference"),
    ]
    ax.grid(axis="x", visible=False)
    _top_legend(fig, handles, 2)
    return image_bytes(fig, path, fmt)


@_styled
def heatmap(
    path: Path,
    x: Mapping[str, np.ndarray],
    y: Mapping[str, np.ndarray],
    *,
    xlabel: str,
    ylabel: str,
    log_x: bool | None = None,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Per trial, a 2-D histogram of a per-spectrum value (`ylabel`) against a parameter
    (`xlabel`), on one log colour scale shared by the panels (a spike at one value must not
    flatten the rest), empty cells left blank, the median per x bin drawn over it."""
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _pyplot()
    trials = list(x)
    fig, axes = plt.subplots(
        1, len(trials), figsize=(max(4.2, SIZE[0] * max(1, len(trials)) / 1.5), SIZE[1]), squeeze=False, sharey=True
    )
    xs_all = np.concatenate([np.asarray(x[t], dtype=float) for t in trials])
    ys_all = np.concatenate([np.asarray(y[t], dtype=float) for t in trials])
    log = q.log_scale(xlabel, xs_all[np.isfinite(xs_all)]) if log_x is None else bool(log_x)
    finite = np.isfinite(xs_all) & np.isfinite(ys_all) & ((xs_all > 0) if log else True)
    xr = (xs_all[finite].min(), xs_all[finite].max()) if finite.any() else (1.0, 2.0)
    yr = (ys_all[finite].min(), ys_all[finite].max()) if finite.any() else (0.0, 1.0)
    xr = xr if xr[1] > xr[0] else (xr[0], xr[0] + 1)
    xbins = np.geomspace(xr[0], xr[1], 31) if log and xr[0] > 0 else np.linspace(xr[0], xr[1], 31)
    ybins = np.linspace(yr[0], yr[1] if yr[1] > yr[0] else yr[0] + 1, 31)
    counts = {}
    for name in trials:
        counts[name], _, _ = np.histogram2d(
            np.asarray(x[name], dtype=float), np.asarray(y[name], dtype=float), bins=[xbins, ybins]
        )
    top = max((float(c.max()) for c in counts.values()), default=1.0)
    norm = LogNorm(vmin=1, vmax=max(top, 2.0))
    coarse = xbins[::3]
    image = None
    for ax, name in zip(axes[0], trials):
        image = ax.pcolormesh(
            xbins, ybins, np.ma.masked_equal(counts[name].T, 0), cmap="viridis", norm=norm, shading="flat"
        )
        xv, yv = np.asarray(x[name], dtype=float), np.asarray(y[name], dtype=float)
        mids, medians = [], []
        for a, b in zip(coarse[:-1], coarse[1:]):
            sel = (xv >= a) & (xv < b) & np.isfinite(yv)
            if sel.sum() >= 5:
                mids.append(np.sqrt(a * b) if log else (a + b) / 2)
                medians.append(float(np.median(yv[sel])))
        ax.plot(mids, medians, color="white", linewidth=2.6, zorder=3)
        ax.plot(mids, medians, color="black", linewidth=1.3, marker="o", markersize=3, zorder=4, gid=f"median-{name}")
        ax.grid(False)
        if log:
            _log_axis(ax, [xbins[0], xbins[-1]])
        ax.set_title(f"{name} (n = {int(np.isfinite(xv).sum())})")
        ax.set_xlabel(q.label(xlabel, axis_labels))
    axes[0][0].set_ylabel(q.label(ylabel, axis_labels))
    fig.legend(
        handles=[
            Line2D(
                [], [], color="black", marker="o", markersize=3, label=f"median per {q.symbol(xlabel, axis_labels)} bin"
            ),
            Patch(facecolor="white", edgecolor="0.6", label="blank: no spectra"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.45, 1.06),
        ncol=2,
    )
    if image is not None:
        _count_bar(fig, image, list(axes[0]), "spectra per cell (log scale)")
    return image_bytes(fig, path, fmt)


@_styled
def ablation(
    path: Path,
    deltas: Mapping[str, Mapping[str, float]],
    *,
    ylabel: str,
    reference: str,
    axis_labels: Mapping[str, str] | None = None,
    fmt: str | None = None,
) -> bytes:
    """Each trial's Δ of a metric from `reference` with its paired 95 % interval, a row per trial
    (a forest plot): coloured by whether the interval clears zero, and which side is better."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    names = list(deltas)
    height = max(2.2, 0.38 * len(names) + 1.4)
    fig, ax = plt.subplots(figsize=(SIZE[0], height))
    rows = np.arange(len(names))
    way = q.better(ylabel)
    verdicts, colors = [], []
    for n in names:
        d = deltas[n]
        clear = d["lo"] > 0 or d["hi"] < 0
        if not clear:
            verdicts.append("unsure")
        elif way is None:
            verdicts.append("clear")
        else:
            verdicts.append("better" if (d["lo"] > 0) == (way == "higher") else "worse")
        colors.append({"better": BETTER, "worse": WORSE, "clear": CANDIDATE, "unsure": UNSURE}[verdicts[-1]])
    values = [deltas[n]["value"] for n in names]
    ax.scatter(values, rows, c=colors, s=34, zorder=3)
    for i, color in enumerate(colors):
        _errorbars(
            ax, [rows[i]], [values[i]], [deltas[names[i]]], color=color, gid=f"interval-{names[i]}", horizontal=True
        )
    _zoom(ax, values + [0.0], list(deltas.values()), vertical=False, from_zero=False)
    _zero_line(ax, vertical=True)
    ax.set_yticks(rows, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="y", length=0)
    sign = lambda v: fmt_metric(ylabel, v, unit=False) if v < 0 else "+" + fmt_metric(ylabel, v, unit=False)  # noqa: E731
    _value_column(
        ax, rows, [f"{sign(deltas[n]['value'])} [{sign(deltas[n]['lo'])}, {sign(deltas[n]['hi'])}]" for n in names]
    )
    ax.set_xlabel(q.delta_label(ylabel, axis_labels, vs=reference) + _better_hint(ylabel, vertical=False))
    texts = {
        "better": f"better than {reference}",
        "worse": f"worse than {reference}",
        "clear": "interval excludes 0",
        "unsure": "interval includes 0",
    }
    color_of = {"better": BETTER, "worse": WORSE, "clear": CANDIDATE, "unsure": UNSURE}
    handles = [
        Line2D([], [], linestyle="none", marker="o", color=color_of[v], label=texts[v])
        for v in ("better", "worse", "clear", "unsure")
        if v in verdicts
    ]
    handles.append(_interval_handle(PAIRED))
    _top_legend(fig, handles, 3)
    return image_bytes(fig, path, fmt)
