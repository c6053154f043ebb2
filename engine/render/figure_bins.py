"""Figure kinds that draw a binned table: binned (each trial's value per bin) and binned_delta
(each trial's Δ from the table's reference per bin).

They draw what `engine.render.binned` computed for the table, bins and all, and repeat the
table's own observations, so a figure and the table above it can never bin differently or say
different things; the one number they add, each bin value's own interval, comes from there too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.render.binned import bin_intervals
from engine.render.figure_scene import FigureKind, Scene, run_predictions
from engine.render.phrasebook import regions, regions_en
from engine.render.statistics import binned_observations, binned_of
from engine.render.templates import fmt_metric


def _labels(table: dict[str, Any]) -> list[str]:
    """Each bin as the figure names it: the cell's name, else the bin in words."""
    return [n or w for n, w in zip(table["names"], table.get("words") or table["labels"])]


def _counts(table: dict[str, Any]) -> str:
    return ", ".join(str(k) for k in table["n"])


def _binned_said(scene: Scene) -> list[str]:
    """The table's own observations, said under its figure too."""
    table = binned_of(scene.spec, scene.tables, scene.fig.binned)
    observed = binned_observations(scene.spec, scene.tables)
    return observed[next(i for i, t in enumerate(scene.tables.binned) if t is table)]


# ---------------------------------------------------------------------------------------------
# binned: each trial's value per bin, with its interval


@dataclass(frozen=True)
class _Binned:
    table: dict[str, Any]
    labels: list[str]
    series: dict[str, Any]  # trial → its value per bin
    intervals: dict[str, list[dict[str, float] | None]]  # trial → each bin value's 95 % interval


def _read_binned(scene: Scene) -> _Binned | None:
    table = binned_of(scene.spec, scene.tables, scene.fig.binned)
    series = {n: table["values"][n] for n in (scene.fig.trials or table["trials"]) if n in table["values"]}
    if not series:
        return None
    bootstrap = (scene.spec.bootstrap.n, scene.spec.bootstrap.seed)
    intervals = {}
    for name in series:
        found = bin_intervals(table, run_predictions(scene.plan, name), bootstrap=bootstrap)
        if found is not None:
            intervals[name] = found
    return _Binned(table, _labels(table), series, intervals)


def _draw_binned(scene: Scene, binned: _Binned, target: Path) -> bytes:
    from engine.render import figures

    table, fig = binned.table, scene.fig
    common = {
        "small": table["small"],
        "intervals": binned.intervals,
        "n": table["n"],
        "min_n": table["min_n"],
        "roles": scene.roles,
    }
    if fig.style == "bars" or len(table["axes"]) > 1:
        # cells of two parameters without `style: bars`: dots, as a line through unordered cells would mislead
        return figures.binned_bars(
            target,
            binned.labels,
            binned.series,
            ylabel=table["metric"],
            dots=fig.style != "bars",
            **common,
            **scene.style,
        )
    return figures.binned_lines(
        target,
        table["centers"],
        binned.series,
        xlabel=table["by"],
        ylabel=table["metric"],
        **common,
        **scene.style,
    )


def _binned_caption(scene: Scene, binned: _Binned) -> tuple[str, str]:
    say = regions(scene.spec.language)
    table, labels, series = binned.table, binned.labels, binned.series
    spreads = say.listing([f"{n} {fmt_metric(table['metric'], table['spread_values'][n])}" for n in series])
    drawn = [any(math.isfinite(float(v[i])) for v in series.values()) for i in range(len(labels))]
    few = sum(1 for s_, d in zip(table["small"], drawn) if s_ and d)
    blank = [labels[i] for i, d in enumerate(drawn) if not d]
    intervals = any(iv for v in binned.intervals.values() for iv in v)
    return (
        say.binned_caption(
            table["metric"], table["by"], spreads, intervals, _counts(table), few, table["min_n"], blank
        ),
        say.binned_alt(table["metric"], table["by"]),
    )


BINNED = FigureKind(read=_read_binned, draw=_draw_binned, caption=_binned_caption, said=_binned_said)

# ---------------------------------------------------------------------------------------------
# binned_delta: each trial's Δ from the table's reference per bin


@dataclass(frozen=True)
class _Deltas:
    table: dict[str, Any]
    labels: list[str]
    deltas: dict[str, Any]  # trial → its paired interval per bin (None where the bin has none)


def _read_deltas(scene: Scene) -> _Deltas | None:
    table = binned_of(scene.spec, scene.tables, scene.fig.binned)
    deltas = {
        n: table["delta_values"][n] for n in (scene.fig.trials or table["delta_trials"]) if n in table["delta_values"]
    }
    return _Deltas(table, _labels(table), deltas) if deltas else None


def _draw_deltas(scene: Scene, found: _Deltas, target: Path) -> bytes:
    from engine.render import figures

    table = found.table
    return figures.delta_bars(
        target,
        found.labels,
        found.deltas,
        ylabel=table["metric"],
        reference=table["reference"],
        n=table["n"],
        small=table["small"],
        min_n=table["min_n"],
        roles=scene.roles,
        **scene.style,
    )


def _deltas_caption(scene: Scene, found: _Deltas) -> tuple[str, str]:
    say = regions(scene.spec.language)
    table = found.table
    tops = [top for n, v in found.deltas.items() if (top := _top_delta(n, v, found.labels, table["metric"], say))]
    return (
        say.deltas_caption(table["metric"], table["by"], table["reference"], tops, _counts(table)),
        say.deltas_alt(table["metric"], table["by"]),
    )


def _top_delta(trial: str, deltas, labels: Sequence[str], metric: str, say: ModuleType = regions_en) -> str | None:
    """`cand: largest gain in Hot Metal-poor`: the bin of a trial's best Δ by the metric's own
    direction (a lower MAE is a gain), or its smallest loss when it gains nowhere; for a metric
    with no better side (a bias), only where its Δ is largest."""
    from engine.render.quantities import direction

    found = [
        (float(d["value"]), i) for i, d in enumerate(deltas) if d and math.isfinite(float(d.get("value", math.nan)))
    ]
    if not found:
        return None
    way = direction(metric)
    if way not in ("higher", "lower"):
        return say.top_delta(trial, labels[-max((v, -i) for v, i in found)[1]], None)
    sign = 1 if way == "higher" else -1
    gain, i = max((sign * v, -i) for v, i in found)
    return say.top_delta(trial, labels[-i], gain > 0)


BINNED_DELTA = FigureKind(read=_read_deltas, draw=_draw_deltas, caption=_deltas_caption, said=_binned_said)
