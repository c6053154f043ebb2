"""Figure kinds that put a quantity against an axis the trials vary along: sweep (the primary
metric against a swept parameter), line (a metric against one key, a line per value of another)
and curves (what a net logged per epoch).

Each reads its points from the trials' configs or training logs, not from the results table
alone, and its observations speak of a trend and where its optimum lies; the point series each
kind draws are worked out once here and read by both its drawing and its observations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from engine.render.decision import metric_value
from engine.render.figure_scene import FigureKind, Scene, dig
from engine.render.phrasebook import regions, regions_en
from engine.render.statistics import interval_of
from engine.render.templates import fmt_metric


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ---------------------------------------------------------------------------------------------
# What a sweep or line figure puts on its y axis, and which trials are points of the sweep


@dataclass(frozen=True)
class _Point:
    name: str
    x: Any
    y: Any
    interval: Any  # the run's bootstrap interval of a metric; None for an info value (nothing resamples it)
    group: Any = None  # a line figure's value of `group:`


@dataclass(frozen=True)
class _Along:
    """What a sweep or line figure draws: `y` (a metric, or `info.<key>`: what each trial's model
    reported), the points along the sweep, the trials apart from it under their own names, and the
    trials that could not be drawn for want of a y value (only said when `y:` asked for one)."""

    y: str
    points: list[_Point]  # on the sweep's curve, or on a line figure's lines
    own: list[_Point]  # hand-written trials beside a grid, or a line figure's trials without a group value
    missing: list[str]  # trials at a place on the x axis whose `y` is not a number
    per_target: list[str]  # the keys of a `y` that is a mapping (an α per target): name one
    first_seed: bool  # an info value of a repeated trial, which is its first seed's

    @property
    def info(self) -> bool:
        return _is_info(self.y)


def _is_info(y: str) -> bool:
    return y.startswith("info.")


def _apart(scene: Scene, keys: tuple[str, ...]) -> set[str]:
    """The trials that are not points of the sweep along `keys`: where the report's grid
    (`sweep:`, `--sweep`) sweeps one of them, every trial the grid did not make — a hand-written
    trial sits at the base spec's value, or at one of its own, and joining it to the grid's line
    would draw a step of the sweep nobody ran. Without a grid over them the trials that carry the
    keys are the sweep (the `trials:` of an α study), as they always were."""
    if not any(key in scene.spec.sweep for key in keys):
        return set()
    grid = scene.spec.grid
    return {name for name in scene.plan.groups if name not in grid}


def _y_of(scene: Scene, name: str, y: str) -> tuple[Any, Any]:
    """(value, interval) of trial `name` at `y`: a metric from the results with its bootstrap
    interval, or the value its model reported at `info.<path>` — its first run's, as rules read
    `trials.<name>.info` — with none."""
    if not _is_info(y):
        return metric_value(scene.tables.results[name], y), interval_of(scene.tables, name, y)
    record = scene.plan.groups[name][0].record
    return dig((record.info if record is not None else None) or {}, y.removeprefix("info.")), None


def _along(scene: Scene, x_key: str, default_y: str, group_key: str | None = None) -> _Along:
    """The shown trials with a number at `x_key`, each with its value of the figure's `y` (or of
    `default_y`, the metric the kind drew before `y:` existed); a point of the sweep when the
    grid made it (`_apart`) and, in a line figure, it has a value of `group_key`; else a trial
    shown under its own name. A value that is not there leaves the trial out when `y:` asked for
    it (named in the caption) and, as before, in a line figure; a sweep of its default metric
    draws it as a gap."""
    fig = scene.fig
    y = fig.y or default_y
    apart = _apart(scene, (x_key,) if group_key is None else (x_key, group_key))
    points: list[_Point] = []
    own: list[_Point] = []
    missing: list[str] = []
    per_target: list[str] = []
    first_seed = False
    for name, runs in scene.plan.groups.items():
        if name not in scene.shown:
            continue
        x = dig(runs[0].config, x_key)
        if not _is_number(x):
            continue
        value, interval = _y_of(scene, name, y)
        if not _is_number(value) and (fig.y is not None or group_key is not None):
            if fig.y is not None:
                missing.append(name)
                if isinstance(value, dict):
                    per_target += [str(k) for k in value if str(k) not in per_target]
            continue
        first_seed = first_seed or (_is_info(y) and len(runs) > 1)
        g = dig(runs[0].config, group_key) if group_key is not None else None
        point = _Point(name, x, value, interval, g)
        (own if name in apart or (group_key is not None and g is None) else points).append(point)
    return _Along(y, points, own, missing, per_target, first_seed)


def _y_words(y: str, say: ModuleType = regions_en) -> str:
    """`y` in a caption, named as the results table's header names it (`quantities.words`)."""
    from engine.render import quantities as q

    return q.words(y, say)


def _y_text(y: str, value: Any) -> str:
    """A value of `y` as a caption shows it: a metric by `fmt_metric`; an info value to the
    decimals its own quantity fixes (a count to 0), else to 4 significant digits — never to its
    target's, which are those of an error in dex, not of an α."""
    if not _is_info(y):
        return fmt_metric(y, value)
    from engine.render import quantities as q

    found = q.quantity(y)
    if found is not None and found.decimals is not None:
        return f"{float(value):.{found.decimals}f}"
    return f"{float(value):.4g}"


def _log_y(along: _Along) -> bool:
    """A log y axis for an info value that spans decades (a chosen α, a parameter count), decided
    as the x axis is (`quantities.log_scale`); a metric's axis stays linear, as it always was."""
    from engine.render import quantities as q

    return along.info and q.log_scale(along.y, [p.y for p in (*along.points, *along.own)])


def _notes(along: _Along, say: ModuleType = regions_en) -> str:
    """The caption's last sentences: where an info value comes from for a repeated trial, and
    which trials the figure could not draw, and why."""
    return say.along_notes(along.y, along.first_seed, along.missing, along.per_target)


def _why_none(scene: Scene) -> str | None:
    """Why a sweep or line figure whose `y:` no trial reported has no image: the value asked
    for, and what the first trial's model did report, so the fix is one edit; None (the kind's
    own reason) when `y:` is not what is missing."""
    y = scene.fig.y
    if y is None or not scene.shown:
        return None
    say = regions(scene.spec.language)
    if not _is_info(y):
        return say.no_number(y)
    record = scene.plan.groups[scene.shown[0]][0].record
    info = (record.info if record is not None else None) or {}
    reported = [f"info.{k}" for k, v in info.items() if _is_number(v) or isinstance(v, dict)]
    found = dig(info, y.removeprefix("info."))
    if isinstance(found, dict):
        return say.y_per_key(y, [str(k) for k in found])
    return say.none_reported(y, scene.shown[0], reported[:8])


# ---------------------------------------------------------------------------------------------
# sweep: a metric (the primary, or `y:`) or an info value against a swept parameter


def _read_sweep(scene: Scene) -> _Along | None:
    along = _along(scene, scene.fig.param, scene.spec.primary_metric)
    return along if along.points or along.own else None


def _draw_sweep(scene: Scene, along: _Along, target: Path) -> bytes:
    from engine.render import figures

    points = along.points
    return figures.sweep(
        target,
        [p.x for p in points],
        [p.y for p in points],
        [p.name for p in points],
        xlabel=scene.fig.param,
        ylabel=along.y,
        intervals=[p.interval for p in points],
        roles=scene.roles,
        own=[(p.x, p.y, p.name, p.interval) for p in along.own],
        log_y=_log_y(along),
        **scene.style,
    )


def _sweep_caption(scene: Scene, along: _Along) -> tuple[str, str]:
    say, y, param = regions(scene.spec.language), along.y, scene.fig.param
    facts = lambda points: [f"{p.name} ({p.x:g}) {_y_text(y, p.y)}" for p in points]  # noqa: E731
    text = say.sweep_caption(_y_words(y, say), param, facts(along.points), facts(along.own))
    return text + _notes(along, say), say.sweep_alt(y, param)


def _sweep_said(scene: Scene) -> list[str]:
    """The trend and the optimum along the swept parameter, of the sweep's own points. Nothing
    for an info value: the rules speak of a metric's optimum, and what a model chose has none."""
    from engine.render import observations as obs

    along = _read_sweep(scene)
    if along is None or along.info or not along.points:
        return []
    swept = [(p.x, None, p.y, p.interval) for p in along.points]
    return obs.observe_sweep(swept, x_key=scene.fig.param, metric=along.y, lang=scene.spec.language)


SWEEP = FigureKind(
    read=_read_sweep,
    draw=_draw_sweep,
    caption=_sweep_caption,
    said=_sweep_said,
    explain=_why_none,
)

# ---------------------------------------------------------------------------------------------
# line: a metric or an info value against one key, one line per value of another


def _group_name(scene: Scene, value: Any) -> str:
    """A value of `group:` in the legend and caption: as the trial names show it (10, 1e3,
    64x32), distinct among the swept values; a value no trial name can show (a mapping with
    odd keys, a text with spaces) as it is written, never as the names' stand-in `v0`."""
    from engine.spec.sweep import value_name, value_names
    from engine.spec.vocabulary import position

    name = value_name(value, 0)
    swept = scene.spec.sweep.get(scene.fig.group)
    at = position(swept, value) if swept else None
    if at is not None:
        name = value_names(list(swept))[at]
    if re.fullmatch(r"v\d+(-\d+)?", name) and name != value:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return name


def _line_series(scene: Scene, along: _Along, named: bool = True) -> dict[Any, list[tuple[float, float, Any]]]:
    """{value of `group` (as the trial names show it, or as it is): [(x, y, interval)]} for a
    line figure, of the sweep's own points."""
    series: dict[Any, list[tuple[float, float, Any]]] = {}
    for p in along.points:
        g = p.group
        if isinstance(
            g, (list, dict)
        ):  # a swept list (`model.hidden: [[32], [64, 32]]`): a line per value, by its name
            g = _group_name(scene, g)
        series.setdefault(g, []).append((p.x, p.y, p.interval))
    if all(_is_number(g) for g in series):
        series = dict(sorted(series.items()))  # the legend in the swept order: α = 10, 1e3, 1e5
    return {(_group_name(scene, g) if named else g): pts for g, pts in series.items()}


def _read_lines(scene: Scene) -> _Along | None:
    along = _along(scene, scene.fig.x, scene.primary, group_key=scene.fig.group)
    return along if along.points or along.own else None


def _draw_lines(scene: Scene, along: _Along, target: Path) -> bytes:
    from engine.render import figures

    fig = scene.fig
    return figures.lines(
        target,
        _line_series(scene, along),
        xlabel=fig.x,
        ylabel=along.y,
        group=fig.group,
        own=[(p.name, p.x, p.y, p.interval) for p in along.own],
        log_y=_log_y(along),
        **scene.style,
    )


def _lines_caption(scene: Scene, along: _Along) -> tuple[str, str]:
    from engine.render.quantities import number

    say, fig, y = regions(scene.spec.language), scene.fig, along.y
    lines = [
        (str(g), [f"{number(fig.x, x)} {_y_text(y, v)}" for x, v, _ in sorted(pts)])
        for g, pts in _line_series(scene, along).items()
    ]
    own = [f"{p.name} ({number(fig.x, p.x)}) {_y_text(y, p.y)}" for p in along.own]
    text = say.lines_caption(_y_words(y, say), fig.x, fig.group, not along.info, lines, own)
    return text + _notes(along, say), say.lines_alt(y, fig.x, fig.group)


def _lines_said(scene: Scene) -> list[str]:
    """The trend and the optimum along `x`, per line; the trials shown under their own names are
    on no line, so no trend is read through them. Nothing for an info value (see `_sweep_said`)."""
    from engine.render import observations as obs

    along = _read_lines(scene)
    if along is None or along.info:
        return []
    fig = scene.fig
    points = [(x, g, y, iv) for g, pts in _line_series(scene, along, named=False).items() for x, y, iv in pts]
    if not points:
        return []
    return obs.observe_sweep(points, x_key=fig.x, group_key=fig.group, metric=along.y, lang=scene.spec.language)


LINE = FigureKind(
    read=_read_lines,
    draw=_draw_lines,
    caption=_lines_caption,
    said=_lines_said,
    explain=_why_none,
)

# ---------------------------------------------------------------------------------------------
# curves: what the nets logged per epoch


@dataclass(frozen=True)
class _Curves:
    logged: str  # the series drawn: val_loss, train_loss, lr or val_r2.<target>
    lines: dict[str, dict[str, Any]]  # run → what `figures.curves` draws
    left: list[str]  # the shown runs with no such series


def _curve_lines(scene: Scene) -> _Curves:
    """The runs whose model recorded the figure's series per epoch (`info.curves`, the nets'); a
    ridge, or a net without a validation split in a validation figure, has none and is left out."""
    logged = scene.fig.series or "val_loss"
    lines, left = {}, []
    shown = scene.shown
    for t in scene.plan.trials:  # a repeated trial: a line per seed (`net.seed-43`)
        if t.shown_name not in shown or t.record is None:
            continue
        info = t.record.info or {}
        curves = info.get("curves") or {}
        if logged.startswith("val_r2."):
            ys = (curves.get("val_r2") or {}).get(logged.split(".", 1)[1])
        else:
            ys = curves.get(logged)
        xs = curves.get("epoch")
        if not ys or not xs or len(xs) != len(ys):
            left.append(t.name)
            continue
        lines[t.name] = {
            "x": list(xs),
            "y": list(ys),
            "best": info.get("best_epoch"),
            "stopped": bool(info.get("stopped_early")),
            "train": curves.get("train_loss") if logged == "val_loss" else None,
            "monitored": "val" if curves.get("val_loss") else "train",
        }
    return _Curves(logged, lines, left)


def _read_curves(scene: Scene) -> _Curves | None:
    found = _curve_lines(scene)
    return found if found.lines else None


def _draw_curves(scene: Scene, found: _Curves, target: Path) -> bytes:
    from engine.render import figures

    ylabel = "loss" if found.logged == "val_loss" else found.logged
    return figures.curves(target, found.lines, ylabel=ylabel, roles=scene.roles, **scene.style)


def _curves_caption(scene: Scene, found: _Curves) -> tuple[str, str]:
    say = regions(scene.spec.language)
    runs = [(n, v["best"], v["x"][-1], bool(v["stopped"])) for n, v in found.lines.items()]
    return say.curves_caption(found.logged, runs, found.left), say.curves_alt(found.logged)


def _curves_said(scene: Scene) -> list[str]:
    """Where each net's best epoch fell, and whether it stopped early."""
    from engine.render import observations as obs

    lines = _curve_lines(scene).lines
    if not lines:
        return []
    return obs.observe_curves(
        {
            n: {"best": v["best"], "run": v["x"][-1], "stopped": v["stopped"], "monitored": v["monitored"]}
            for n, v in lines.items()
        },
        lang=scene.spec.language,
    )


CURVES = FigureKind(
    read=_read_curves,
    draw=_draw_curves,
    caption=_curves_caption,
    said=_curves_said,
    missing=lambda say: say.no_curves(),
)
