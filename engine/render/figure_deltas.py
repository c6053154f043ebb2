"""Figure kinds that show each trial's paired difference from one other trial: bootstrap (the
resampled distribution of Δ) and ablation (Δ with its interval).

Both take their intervals from the same `compare` the rules use, so a figure's Δ is the number a
rule read; they differ only in how they draw it, which is why they share their reading and their
observations here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import ExpressionError
from engine.render.binned import signed
from engine.render.figure_scene import FigureKind, Scene, run_predictions
from engine.render.phrasebook import regions
from engine.render.predictions import metric_fn, stacked
from engine.render.templates import fmt_metric
from engine.spec.vocabulary import metric_parts


@dataclass(frozen=True)
class _Against:
    against: str  # the trial Δ is taken from: the figure's `against`, or the baseline
    found: dict[str, dict[str, Any]]  # trial → its paired interval of Δ by the figure's metric


def _against(scene: Scene) -> str | None:
    return scene.fig.against or scene.tables.baseline


def _read_against(scene: Scene) -> _Against | None:
    spec, tables = scene.spec, scene.tables
    against = _against(scene)
    if against not in tables.results:
        return None
    assert against is not None  # a result has a name
    candidates = scene.fig.trials or [n for n in scene.having if n not in spec.decision.references]
    chosen = [n for n in candidates if n != against and n in tables.results]
    compare = tables.context["compare"]
    name, target = metric_parts(scene.primary)
    found = {}
    for n in chosen:
        try:
            found[n] = compare(n, against)[name][target]
        except (ExpressionError, KeyError):
            continue
    return _Against(against, found) if found else None


def _against_said(scene: Scene) -> list[str]:
    """Which Δ intervals exclude 0."""
    from engine.render import observations as obs

    read = _read_against(scene)
    if read is None:
        return []
    return obs.observe_deltas(read.found, metric=scene.primary, reference=read.against, lang=scene.spec.language)


def _against_trials(scene: Scene) -> list[str]:
    """The trials shown, and the one they are compared with."""
    shown, against = scene.shown, _against(scene)
    return shown + ([against] if against in scene.tables.results and against not in shown else [])


# ---------------------------------------------------------------------------------------------
# bootstrap: the paired bootstrap distribution of each trial's Δ


def _draw_bootstrap(scene: Scene, read: _Against, target: Path) -> bytes:
    from engine import metrics as metric_lib
    from engine.render import figures

    spec, primary = scene.spec, scene.primary
    base = run_predictions(scene.plan, read.against)
    samples = {}
    for n in read.found:
        truth, pred = stacked(run_predictions(scene.plan, n), primary)
        _, other = stacked(base, primary)
        samples[n] = metric_lib.paired_bootstrap_samples(
            metric_fn(primary), truth, pred, other, B=spec.bootstrap.n, seed=spec.bootstrap.seed
        )
    return figures.bootstrap_distribution(
        target, samples, read.found, xlabel=primary, reference=read.against, roles=scene.roles, **scene.style
    )


def _bootstrap_caption(scene: Scene, read: _Against) -> tuple[str, str]:
    say, primary = regions(scene.spec.language), scene.primary
    chances = [(n, f"{d['p_positive']:.3f}") for n, d in read.found.items()]
    return (
        say.bootstrap_caption(primary, read.against, scene.spec.bootstrap.n, chances),
        say.bootstrap_alt(primary),
    )


BOOTSTRAP = FigureKind(
    read=_read_against, draw=_draw_bootstrap, caption=_bootstrap_caption, said=_against_said, trials=_against_trials
)

# ---------------------------------------------------------------------------------------------
# ablation: each trial's Δ with its interval


def _draw_ablation(scene: Scene, read: _Against, target: Path) -> bytes:
    from engine.render import figures

    return figures.ablation(target, read.found, ylabel=scene.primary, reference=read.against, **scene.style)


def _ablation_caption(scene: Scene, read: _Against) -> tuple[str, str]:
    say, primary = regions(scene.spec.language), scene.primary
    deltas = [
        f"{n} {signed(fmt_metric(primary, d['value']))} [{signed(fmt_metric(primary, d['lo']))}, "
        f"{signed(fmt_metric(primary, d['hi']))}]"
        for n, d in read.found.items()
    ]
    return say.ablation_caption(primary, read.against, deltas), say.ablation_alt(primary, read.against)


ABLATION = FigureKind(
    read=_read_against, draw=_draw_ablation, caption=_ablation_caption, said=_against_said, trials=_against_trials
)
