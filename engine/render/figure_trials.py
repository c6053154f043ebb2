"""Figure kinds that show trials side by side or one trial's arrays: bar, pred_vs_true, weights,
heatmap.

They read the results table and the stored predictions as they are, with no binning or
resampling of their own; kept together, apart from the kinds that do, so each kind's read, draw,
caption and observations can be read in one screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.render.decision import metric_value
from engine.render.figure_scene import FigureKind, Scene, first_predictions
from engine.render.phrasebook import regions
from engine.render.predictions import columns
from engine.render.statistics import Tables, delta_of, interval_of
from engine.render.templates import fmt_metric
from engine.spec.vocabulary import metric_parts

# ---------------------------------------------------------------------------------------------
# bar: metrics per trial


@dataclass(frozen=True)
class _Bars:
    metrics: list[str]
    values: dict[str, dict[str, Any]]  # trial → metric → value
    intervals: dict[str, dict[str, Any]]  # trial → metric → its bootstrap interval, where the run made one


def _read_bars(scene: Scene) -> _Bars | None:
    chosen = scene.fig.metrics or scene.spec.scored_metrics  # an info column has no bar with an interval
    values = {n: {m: metric_value(scene.tables.results[n], m) for m in chosen} for n in scene.shown}
    if not values:
        return None
    intervals = {n: {m: iv for m in chosen if (iv := interval_of(scene.tables, n, m))} for n in scene.shown}
    return _Bars(chosen, values, intervals)


def _draw_bars(scene: Scene, bars: _Bars, target: Path) -> bytes:
    from engine.render import figures

    roles = scene.roles
    return figures.bar(
        target,
        bars.values,
        bars.metrics,
        best=roles.best,
        baseline=scene.tables.baseline,
        references=roles.references,
        intervals=bars.intervals,
        primary=scene.spec.primary_metric,
        **scene.style,
    )


def _bars_caption(scene: Scene, bars: _Bars) -> tuple[str, str]:
    def fact(n: str, m: str) -> str:
        iv = bars.intervals[n].get(m)
        span = f" [{fmt_metric(m, iv['lo'], unit=False)}, {fmt_metric(m, iv['hi'], unit=False)}]" if iv else ""
        return f"{n} {fmt_metric(m, bars.values[n][m])}{span}"

    say = regions(scene.spec.language)
    chosen = bars.metrics
    facts = [(m, say.listing([fact(n, m) for n in bars.values])) for m in chosen]
    intervals = any(bars.intervals.values())
    return (
        say.bars_caption(chosen, standing_words(scene.spec, scene.tables), intervals, facts),
        say.bars_alt(chosen),
    )


def _bars_said(scene: Scene) -> list[str]:
    """Who leads and whether the intervals separate, by the figure's metric."""
    from engine.render import observations as obs

    spec, tables, primary, shown = scene.spec, scene.tables, scene.primary, scene.shown
    intervals = {n: iv for n in shown if (iv := interval_of(tables, n, primary)) is not None}
    deltas = {n: d for n in shown if (d := delta_of(tables, n, primary)) is not None}
    ceilings = [n for n in tables.ceilings if n in spec.decision.references]
    return obs.observe_trials(
        {n: metric_value(tables.results[n], primary) for n in shown},
        intervals or None,
        metric=primary,
        best=tables.standing.honest_best,
        baseline=tables.baseline,
        references=[r for r in spec.decision.references if r not in ceilings],
        ceilings=ceilings,
        deltas=deltas or None,
        lang=spec.language,
    )


def standing_words(spec, tables: Tables) -> str:
    """A caption's word on who is best, from the report's standing (`decision.Standing`, as the
    summary and the results table read it): a best candidate that lost to the baseline is not
    called best, and a reference ahead of every candidate is named."""
    place = tables.standing
    if place is None or place.best is None:
        return ""
    ahead = [name for name, _ in place.references_beating]
    return regions(spec.language).standing(
        spec.primary_metric, place.best, place.baseline, place.beats_baseline is False, ahead
    )


BAR = FigureKind(read=_read_bars, draw=_draw_bars, caption=_bars_caption, said=_bars_said)

# ---------------------------------------------------------------------------------------------
# pred_vs_true: one trial's predictions against the truth


@dataclass(frozen=True)
class _Scatter:
    truth: Any
    pred: Any
    target: str  # the target of the figure's metric
    name: str  # the trial
    seed: Any  # the seed shown of a repeated trial; None where the trial ran once
    r2: Any

    @property
    def who(self) -> str:
        """The trial in the image's title, and its seed when it is repeated."""
        return f"{self.name}, seed {self.seed}" if self.seed is not None else self.name


def _scattered(scene: Scene) -> str | None:
    return scene.fig.trial or scene.tables.best


def _read_scatter(scene: Scene) -> _Scatter | None:
    name = _scattered(scene)
    if name not in scene.tables.results:
        return None
    assert name is not None  # a result has a name
    plan = scene.plan
    target_name = metric_parts(scene.primary)[1]
    truth, pred = columns(first_predictions(plan, name), f"r2.{target_name}")
    first = plan.groups[name][0]  # a repeated trial: the scatter and its R² are of its first seed
    r2 = metric_value(first.record.metrics, f"r2.{target_name}")
    seed = first.config["train"]["seed"] if name in scene.tables.spreads else None
    return _Scatter(truth, pred, target_name, name, seed, r2)


def _draw_scatter(scene: Scene, scatter: _Scatter, target: Path) -> bytes:
    from engine.render import figures

    r2 = fmt_metric("r2." + scatter.target, scatter.r2)
    return figures.pred_vs_true(
        target,
        scatter.truth,
        scatter.pred,
        target=scatter.target,
        title=f"{scatter.who}: $R^2$ = {r2}, n = {len(scatter.truth)}",
        **scene.style,
    )


def _scatter_caption(scene: Scene, scatter: _Scatter) -> tuple[str, str]:
    say = regions(scene.spec.language)
    r2 = fmt_metric("r2." + scatter.target, scatter.r2)
    return (
        say.scatter_caption(scatter.target, scatter.name, scatter.seed, r2, len(scatter.truth)),
        say.scatter_alt(scatter.target),
    )


def _scatter_trials(scene: Scene) -> list[str]:
    trial = _scattered(scene)
    return [trial] if trial is not None and trial in scene.tables.results else []


PRED_VS_TRUE = FigureKind(read=_read_scatter, draw=_draw_scatter, caption=_scatter_caption, trials=_scatter_trials)

# ---------------------------------------------------------------------------------------------
# weights: a MoE gate's weight on each expert


def _read_weights(scene: Scene) -> dict[str, Any] | None:
    weights = {
        n: p["extra.gate_weights"]
        for n in scene.shown
        if "extra.gate_weights" in (p := first_predictions(scene.plan, n))
    }
    return weights or None


def _draw_weights(scene: Scene, weights: dict[str, Any], target: Path) -> bytes:
    from engine.render import figures

    return figures.weight_distribution(target, weights, **scene.style)


def _weights_caption(scene: Scene, weights: dict[str, Any]) -> tuple[str, str]:
    import numpy as np

    say = regions(scene.spec.language)
    means = [(n, f"{np.mean(np.max(w, axis=1)):.2f}") for n, w in weights.items()]
    return say.weights_caption(means), say.weights_alt()


WEIGHTS = FigureKind(read=_read_weights, draw=_draw_weights, caption=_weights_caption)

# ---------------------------------------------------------------------------------------------
# heatmap: a per-spectrum extra against a parameter


def _read_heatmap(scene: Scene) -> tuple[dict[str, Any], dict[str, Any]] | None:
    import numpy as np

    key, by = f"extra.{scene.fig.extra}", f"param.{scene.fig.by}"
    x_of, y_of = {}, {}
    for n in scene.shown:
        p = first_predictions(scene.plan, n)
        if key in p and by in p and np.asarray(p[key]).ndim == 1:
            x_of[n], y_of[n] = p[by], p[key]
    return (x_of, y_of) if x_of else None


def _draw_heatmap(scene: Scene, xy: tuple[dict[str, Any], dict[str, Any]], target: Path) -> bytes:
    from engine.render import figures

    fig = scene.fig
    return figures.heatmap(target, *xy, xlabel=fig.by, ylabel=f"extra.{fig.extra}", **scene.style)


def _heatmap_caption(scene: Scene, xy: tuple[dict[str, Any], dict[str, Any]]) -> tuple[str, str]:
    say, fig = regions(scene.spec.language), scene.fig
    return say.heatmap_caption(fig.extra, fig.by), say.heatmap_alt(fig.extra, fig.by)


HEATMAP = FigureKind(read=_read_heatmap, draw=_draw_heatmap, caption=_heatmap_caption)
