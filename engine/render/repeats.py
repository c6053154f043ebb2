"""A repeated trial's numbers: the mean over its seeds, and how far the seeds spread.

A trial with `repeats: 3` (or `seeds: [...]`) runs once per seed (`equal.seed-42`, …; see
`engine.spec.sweep`), each run cached under its own key. The report shows the trial, not its
runs: every score is the mean over the seeds, with the sample standard deviation beside it
(`0.9071 ± 0.0031`), `best` is chosen by the mean, and a rule reads `best.r2.log_g.mean`,
`.std`, `.n` or `.values` (`engine.spec.expressions.Spread`). The intervals of a repeated trial
resample the seeds as well as the test rows (`engine.metrics.bootstrap_ci`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["behind", "fold", "info_text", "seeds_of", "spread_text"]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fold(runs: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the runs' metrics averaged, leaf by leaf; the same shape with {mean, std, n, values} at
    each leaf). A leaf that is not a number in every run is left out: a mean of what some seeds
    lack would be a mean of fewer seeds than the table says."""
    from engine.metrics import sample_std  # the one std (n − 1)

    means: dict[str, Any] = {}
    spreads: dict[str, Any] = {}
    first = runs[0]
    for key, value in first.items():
        others: list[Any] = [run.get(key) for run in runs]  # free-form record leaves
        if isinstance(value, Mapping) and all(isinstance(o, Mapping) for o in others):
            inner_mean, inner_spread = fold(others)
            if inner_mean:
                means[key], spreads[key] = inner_mean, inner_spread
        elif all(_number(o) and not math.isnan(o) for o in others):
            values = [float(o) for o in others]
            mean = statistics.fmean(values)
            means[key] = mean
            # one seed left (the others failed): no spread measured, 0 here and "1 seed ⚠" where it is shown
            spreads[key] = {
                "mean": mean,
                "std": sample_std(values) if len(values) > 1 else 0.0,
                "n": len(values),
                "values": values,
            }
    return means, spreads


def spread_text(mean_text: str, std_text: str) -> str:
    """How a table cell shows a repeated trial's score: `0.9071 ± 0.0031`, `0.2273 ± 0.0040 dex`
    (the unit once, after both)."""
    mean_parts, std_parts = mean_text.split(" "), std_text.lstrip("+").split(" ")
    if len(mean_parts) == 2 and len(std_parts) == 2 and mean_parts[1] == std_parts[1]:
        return f"{mean_parts[0]} ± {std_parts[0]} {std_parts[1]}"
    return f"{mean_text} ± {' '.join(std_parts)}"


def info_text(values: Sequence[Any]) -> str | None:
    """How a results-table cell shows a number the models of a trial's runs reported at one info
    path (`values`, one per seed): the number when every seed reports the same (an int as an int),
    else the mean ± std over the seeds, with no interval (nothing resamples a model's own number);
    None when a run reported none, as `fold` leaves out what some seeds lack."""
    from engine.metrics import sample_std  # the one std (n − 1)
    from engine.render.templates import fmt_number

    if not values or not all(_number(v) and not math.isnan(v) for v in values):
        return None
    if all(v == values[0] for v in values):
        return fmt_number(values[0])
    numbers = [float(v) for v in values]
    return spread_text(fmt_number(statistics.fmean(numbers)), fmt_number(sample_std(numbers)))


def behind(runs: Sequence[tuple[bool | None, int]], say: ModuleType | None = None) -> str:
    """What stands behind a number read from trials of (numbers move with the seed?, seeds run):
    `5 seeds`, `3–5 seeds`, `1 seed ⚠` (training noise not measured), `closed form` (none to
    measure), in the words of `say` (a region phrasebook, English by default); empty when no
    trial says (a record written before training noise was recorded)."""
    from engine.render.phrasebook import regions

    say = say or regions("en")
    known = [(noisy, n) for noisy, n in runs if noisy is not None]
    if not known:
        return ""
    counts = sorted({max(int(n), 1) for noisy, n in known if noisy})
    if not counts:
        return say.closed_form()
    if counts[0] < 2:
        return say.one_seed_cell()
    return say.seeds(counts[0], counts[-1])


def seeds_of(trials: Sequence[Mapping[str, Any]]) -> str:
    """`behind` of record rows: what stands behind a number read from these trials."""
    return behind([(t.get("stochastic"), len(t.get("seeds") or []) or 1) for t in trials if t])
