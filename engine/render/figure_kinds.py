"""The figure kinds' registry: each `kind:` a spec's `figures:` entry accepts → what draws it,
captions it and says what it shows.

The names are the spec's (`engine.spec.report_config.FIGURE_KINDS`, where a spec is validated
without loading any of this); the behaviour is registered here, once per name, and
tests/test_figure_kinds.py holds the two to the same set. A new kind is one entry in each, not a
branch in every function that handles figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.render.figure_bins import BINNED, BINNED_DELTA
from engine.render.figure_deltas import ABLATION, BOOTSTRAP
from engine.render.figure_scene import FigureKind, Scene
from engine.render.figure_sweeps import CURVES, LINE, SWEEP
from engine.render.figure_trials import BAR, HEATMAP, PRED_VS_TRUE, WEIGHTS
from engine.render.phrasebook import regions
from engine.render.statistics import Tables

KINDS: dict[str, FigureKind[Any]] = {
    "bar": BAR,
    "binned": BINNED,
    "binned_delta": BINNED_DELTA,
    "pred_vs_true": PRED_VS_TRUE,
    "sweep": SWEEP,
    "line": LINE,
    "weights": WEIGHTS,
    "bootstrap": BOOTSTRAP,
    "heatmap": HEATMAP,
    "ablation": ABLATION,
    "curves": CURVES,
}


def draw_figures(plan, spec, tables: Tables) -> tuple[list[dict[str, Any]], dict[Path, bytes]]:
    """The figures' entries for the figures region, and each image's bytes by its path (the
    path as linked: a link inside the notebook is written through by the writer)."""
    if not spec.figures:
        return [], {}
    folder = plan.report.path.parent
    entries: list[dict[str, Any]] = []
    images: dict[Path, bytes] = {}
    for fig in spec.figures:
        kind, scene = KINDS[fig.kind], Scene(plan, spec, tables, fig)
        read = kind.read(scene)
        if read is None:
            say = regions(spec.language)
            entries.append(
                {
                    "link": Path(fig.file).as_posix(),
                    "alt": say.no_figure(),
                    "caption": say.missing_figure(fig.kind, kind.why_missing(scene)),
                }
            )
            continue
        images[folder / fig.file] = kind.draw(scene, read, folder / fig.file)
        caption, alt = kind.caption(scene, read)
        entries.append(
            {
                "link": Path(fig.file).as_posix(),
                "caption": fig.caption or caption,
                "alt": alt,
                "observations": _observations(scene, kind),
            }
        )
    return entries, images


def _observations(scene: Scene, kind: FigureKind[Any]) -> list[str]:
    """The key observations under a figure, from the numbers it draws (`engine.render.observations`),
    and, under any that says something, which of the trials it draws ran with one seed. None for
    the kinds that show a distribution rather than a comparison (pred_vs_true, weights, heatmap).
    A binned figure repeats its table's observations, which carry the table's caveat already."""
    from engine.render import observations as obs

    said = kind.said(scene)
    if not said:
        return said
    caveat = obs.one_seed(scene.tables.evidence.unmeasured(kind.trials(scene)), scene.spec.language)
    return [*said, caveat] if caveat and caveat not in said else said
