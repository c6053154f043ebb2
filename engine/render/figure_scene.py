"""What every figure kind is handed, and the shape a kind's behaviour takes in the registry.

Each kind (`engine.render.figure_kinds`) needs the same few things — the figure's spec entry, the
trials it shows, the metric, who is best and baseline, the house style — and reads the same
prediction arrays from the run store. Working them out once here, in one `Scene`, keeps the kinds'
own modules to what differs between them: what they draw and what they say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from engine.render.phrasebook import regions
from engine.render.statistics import Tables

if TYPE_CHECKING:  # figures imports numpy and matplotlib; a cached re-run must not
    from pathlib import Path
    from types import ModuleType

    from engine.render.figures import Roles

D = TypeVar("D")


@dataclass(frozen=True)
class Scene:
    """One figure of a report (`fig`, its spec entry) and the results it is drawn from."""

    plan: Any
    spec: Any
    tables: Tables
    fig: Any

    @property
    def having(self) -> list[str]:
        """The report's trials with a result, in the report's order."""
        return [n for n in self.plan.groups if n in self.tables.results]

    @property
    def shown(self) -> list[str]:
        """The trials the figure shows: its `trials:` in that order (those with a result), or all."""
        return [n for n in (self.fig.trials or self.having) if n in self.tables.results]

    @property
    def primary(self) -> str:
        """The metric the figure compares by: its own `metric:`, or the report's primary."""
        return self.fig.metric or self.spec.primary_metric

    @property
    def roles(self) -> Roles:
        """Who the figures colour as best, baseline and references: the report's own standing (the
        best is crowned only when it beats the baseline, as the summary says)."""
        from engine.render.figures import Roles

        return Roles(
            best=self.tables.standing.honest_best,
            baseline=self.tables.baseline,
            references=tuple(self.spec.decision.references),
            primary=self.spec.primary_metric,
        )

    @property
    def style(self) -> dict[str, Any]:
        """The keyword arguments every drawing function takes: axis labels and the image format."""
        return {"axis_labels": self.fig.labels, "fmt": self.fig.image_format}


def _no_observations(scene: Scene) -> list[str]:
    return []


def _shown_trials(scene: Scene) -> list[str]:
    return scene.shown


def _no_reason(scene: Scene) -> str | None:
    return None


def _no_result(say: ModuleType) -> str:
    """Why a figure is missing when its kind does not say otherwise."""
    return say.no_result_figure()


@dataclass(frozen=True)
class FigureKind(Generic[D]):
    """What a figure kind does, as the registry holds it: `read` what the figure draws from the
    results (None when none of it ran), `draw` it into image bytes, `caption` it (caption, alt
    text), and `said`: the key observations under it. `trials`: those it draws, whose unmeasured
    training noise the observations own up to; `missing`: why there is no figure when `read`
    finds nothing, asked of the report's region phrasebook (`engine.render.phrasebook`);
    `explain`: the reason that depends on the figure's own spec (a `y: info.<key>` no model
    reported), where it has one — None falls back to `missing`."""

    read: Callable[[Scene], D | None]
    draw: Callable[[Scene, D, Path], bytes]
    caption: Callable[[Scene, D], tuple[str, str]]
    said: Callable[[Scene], list[str]] = _no_observations
    trials: Callable[[Scene], list[str]] = _shown_trials
    missing: Callable[[ModuleType], str] = _no_result
    explain: Callable[[Scene], str | None] = _no_reason

    def why_missing(self, scene: Scene) -> str:
        """Why `scene` has no image: the figure's own reason, else the kind's, in the report's language."""
        return self.explain(scene) or self.missing(regions(scene.spec.language))


def run_predictions(plan, name: str) -> list[dict[str, Any]]:
    """The prediction arrays of each of a trial's runs (its seeds, or itself)."""
    return [plan.store.predictions(t.record.key) for t in plan.groups[name] if t.record is not None]


def first_predictions(plan, name: str) -> dict[str, Any]:
    """A trial's prediction arrays: of its first seed when it is repeated (a scatter or a
    distribution shows one run; the numbers beside it are the seeds' mean)."""
    return run_predictions(plan, name)[0]


def dig(config: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key of a trial's config (`model.alpha`), or None where there is none."""
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
