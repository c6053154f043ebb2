"""The English phrasebook of the key observations (see `engine.render.phrasebook`).

A phrase returns a clause without its closing full stop; `sentence` finishes it. Trial names,
counts and number strings come in already formatted, so a phrase only orders words around them.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Our own words, capitalised when they open a sentence; a trial's name never is.
_LEADS = {"the", "only", "no", "against", "across", "fewer", "bias", "stopped"}
#: (best side, worst side) of a metric's values, by its direction: a metric with none is only
#: "lowest" and "highest", words that judge nothing.
_SUPERLATIVES = {
    "high": ("highest", "lowest"),
    "low": ("smallest", "largest"),
    "abs": ("smallest", "largest"),
    None: ("lowest", "highest"),
}

# ---------------------------------------------------------------------------------------------
# Shared


def heading() -> str:
    return "Key observations:"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _few(items: Sequence[str], most: int = 3) -> str:
    """A list a sentence can carry: the first few, then how many more."""
    items = list(items)
    if len(items) <= most:
        return _join(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more"


def sentence(text: str) -> str:
    text = text.strip()
    if text.split(" ", 1)[0] in _LEADS:
        text = text[0].upper() + text[1:]
    return text + "."


def clauses(parts: Sequence[str]) -> str:
    return "; ".join(parts)


def _cells(count: int, two_way: bool) -> str:
    word = "cell" if two_way else "bin"
    return word if count == 1 else word + "s"


def one_seed(trials: Sequence[str]) -> str:
    return (
        f"{_few(trials)} ran with one seed: {'its' if len(trials) == 1 else 'their'} training noise was not measured, "
        f"and the intervals above hold the test rows only"
    )


def interval_clause(verdict: str, end: str | None) -> str:
    """`interval_verdict`'s verdict: better, worse and differs all exclude 0 (the clause before it
    says which way), and a marginal one names its end ≈ 0."""
    if verdict == "marginal":
        return f"; the {end} end of the interval is ≈ 0: marginal"
    if verdict == "unresolved":
        return "; the interval includes 0: not separable at 95 %"
    return "; the interval excludes 0"


# ---------------------------------------------------------------------------------------------
# Binned tables


def missing_in_bins(trial: str, places: Sequence[str], two_way: bool) -> str:
    return f"for {trial} in {len(places)} {_cells(len(places), two_way)} ({_few(places)})"


def bins_skipped(label: str, parts: Sequence[str]) -> str:
    return f"no {label} {' and '.join(parts)}: skipped"


def small_bins_not_counted(count: int, limit: int, two_way: bool) -> str:
    return f"; {count} {_cells(count, two_way)} with fewer than {limit} spectra not counted"


def spread(label: str, two_way: bool, move: str, before: str, reference: str, after: str, focus: str) -> str:
    moves = {"same": "stays the same", "falls": "falls", "rises": "rises"}
    return (
        f"the spread of {label} across {_cells(2, two_way)} (std of the bin values) "
        f"{moves[move]} from {before} ({reference}) to {after} ({focus})"
    )


def improves_in_bins(
    focus: str, reference: str, better: int, of: int, two_way: bool, resolved: int, marginal: int, worse: int
) -> str:
    text = f"{focus} improves on {reference} in {better} of {of} {_cells(of, two_way)} (point estimates), the interval excluding 0 in {resolved}"
    text += f" and marginal (an end ≈ 0) in {marginal}" if marginal else ""
    text += f"; it is worse, the interval excluding 0, in {worse}" if worse else ""
    return text


def better_in_bins(focus: str, reference: str, label: str, better: int, of: int, two_way: bool) -> str:
    return f"{focus} has a better {label} than {reference} in {better} of {of} {_cells(of, two_way)} (point estimates, no intervals)"


def largest_change(gain: bool, reference: str, place: str, n: int, label: str, delta: str) -> str:
    where = f"{place} (n = {n})"
    head = (
        f"the largest gain over {reference} is in {where}"
        if gain
        else f"the largest loss against {reference} is in {where}"
    )
    return f"{head}: Δ {label} {delta}"


def bin_at(place: str, label: str, value: str, n: int) -> str:
    return f"{place} ({label} {value}, n = {n})"


def bins_highest_lowest(focus: str, label: str, highest: str, lowest: str) -> str:
    return f"{focus} has its highest {label} in {highest} and its lowest in {lowest}"


def bins_nearest_farthest(focus: str, label: str, nearest: str, farthest: str) -> str:
    return f"{focus}'s {label} is closest to zero in {nearest} and farthest from it in {farthest}"


def bins_best_worst(focus: str, label: str, two_way: bool, direction: str | None, best: str, worst: str) -> str:
    """Of the focus's own bins, in words no reader takes for "the best trial in that bin"."""
    good, bad = _SUPERLATIVES[direction]
    return f"across {_cells(2, two_way)}, {focus}'s own {label} is {good} in {best} and {bad} in {worst}"


def too_few_to_rank(focus: str, ranked: int, limit: int, two_way: bool) -> str:
    return (
        f"only {ranked} {_cells(ranked, two_way)} of {focus} {'has' if ranked == 1 else 'have'} at least {limit} "
        f"spectra: no {_cells(1, two_way)} is ranked"
    )


def tiny_bin_extreme(
    direction: str | None, worst: bool, label: str, value: str, place: str, n: int, two_way: bool
) -> str:
    word = _SUPERLATIVES[direction][1 if worst else 0]
    return (
        f"the {word} {label} ({value}) is in {place}, a {_cells(1, two_way)} of {n} spectra, too few to rank".replace(
            " of 1 spectra", " of 1 spectrum"
        )
    )


def bins_won(
    focus: str, label: str, trials: int, won: int, of: int, two_way: bool, others: Sequence[tuple[str, int]]
) -> str:
    text = f"{focus} has the best {label} of the {trials} trials in {won} of {of} {_cells(of, two_way)}"
    listed = ", ".join(f"{trial} in {wins}" for trial, wins in others)
    return text + (f"; {listed}" if others else "") + " (point estimates)"


# ---------------------------------------------------------------------------------------------
# A comparison of trials


def trials_skipped(label: str, trials: Sequence[str]) -> str:
    return f"no {label} for {_few(trials)}: skipped"


def paired_delta(label: str, delta: str) -> str:
    return f"; Δ {label} {delta}"


def overlap_clause(overlap: bool | None) -> str:
    if overlap is None:
        return "; no intervals: a point estimate"
    if overlap:
        return "; their 95 % intervals overlap: not separable at 95 %"
    return "; their 95 % intervals do not overlap"


def trials_highest_lowest(label: str, highest: str, highest_value: str, lowest: str, lowest_value: str) -> str:
    return f"{label} is highest for {highest} ({highest_value}) and lowest for {lowest} ({lowest_value})"


def only_one(trial: str, label: str, value: str) -> str:
    return f"only {trial} has a {label} ({value}): nothing to compare"


def nothing_beats_baseline(baseline: str, value: str, best: str, gap: str) -> str:
    return f"no candidate beats the baseline {baseline} ({value}): the best, {best}, is {gap} behind"


def tie(first: str, second: str, label: str, value: str) -> str:
    return f"{first} and {second} tie at {label} {value}"


def leads(
    top: str, label: str, yardsticks_ahead: Sequence[str], value: str, second: str, second_value: str, gap: str
) -> str:
    """The yardsticks ahead of the leader are drawn beside it: "best" says which it is not ahead of."""
    but = f" of all but {_join(yardsticks_ahead)}" if yardsticks_ahead else ""
    return f"{top} has the best {label}{but} ({value}), {gap} ahead of {second} ({second_value})"


def ahead_of_baseline(candidate: str, baseline: str, value: str, gap: str) -> str:
    return f"against the baseline {baseline} ({value}), {candidate} is {gap} ahead"


def yardstick_overlap(overlap: bool | None) -> str:
    if overlap is None:
        return ""
    return " (intervals overlap: not separable at 95 %)" if overlap else " (intervals do not overlap)"


def _the_ceiling(ceiling: str) -> str:
    """A trial called `ceiling` is not "the ceiling ceiling"."""
    return "the ceiling" if ceiling.lower() == "ceiling" else f"the ceiling {ceiling}"


def above_ceiling(candidate: str, ceiling: str, value: str) -> str:
    return f"{candidate} is above {_the_ceiling(ceiling)} ({value}): the ceiling or the data is wrong"


def short_of_ceiling(candidate: str, ceiling: str, value: str, gap: str) -> str:
    return f"{candidate} is {gap} short of {_the_ceiling(ceiling)} ({value})"


def beats_reference(candidate: str, reference: str, value: str) -> str:
    return f"{candidate} beats the reference {reference} ({value})"


def reference_beats_all(reference: str, value: str, candidate: str, gap: str) -> str:
    return f"the reference {reference} ({value}) beats every candidate, {gap} ahead of {candidate}"


# ---------------------------------------------------------------------------------------------
# Differences against a reference


def delta_item(trial: str, label: str, delta: str, p: str | None, marginal_end: str | None) -> str:
    item = f"{trial} (Δ {label} {delta}" + (f", {p}" if p else "") + ")"
    return item + (f": the {marginal_end} end of the interval is ≈ 0, marginal" if marginal_end else "")


def deltas_skipped(reference: str, trials: Sequence[str]) -> str:
    return f"no interval against {reference} for {_few(trials)}: skipped"


def marginal_deltas(reference: str, items: Sequence[str]) -> str:
    return f"against {reference}, " + "; ".join(items)


def deltas_verdict(verdict: str, items: Sequence[str], reference: str) -> str:
    listed, many = _join(items), len(items) > 1
    return {
        "better": f"{listed} {'improve' if many else 'improves'} on {reference}: the interval excludes 0",
        "worse": f"{listed} {'are' if many else 'is'} worse than {reference}: the interval excludes 0",
        "differs": f"{listed} {'differ' if many else 'differs'} from {reference}: the interval excludes 0",
        "unresolved": f"{listed}: the interval includes 0, not separable from {reference} at 95 %",
    }[verdict]


# ---------------------------------------------------------------------------------------------
# Sweeps


def repeated(point: str) -> str:
    return point + " (repeated)"


def points_skipped(points: Sequence[str]) -> str:
    return f"{len(points)} {'point' if len(points) == 1 else 'points'} without a usable value skipped: {_few(points)}"


def sweep_best(label: str, value: str, x_name: str, x: str) -> str:
    return f"the best {label} ({value}) is at {x_name} = {x}"


def at_sweep_edge(edge: str) -> str:
    return f", the {'largest' if edge == 'max' else 'smallest'} value swept: at the edge, extend the sweep"


def inside_sweep(lo: str, hi: str) -> str:
    return f", inside the swept range {lo}–{hi}"


def not_separable_from(points: Sequence[str]) -> str:
    return f" (not separable from {_join(points)} at 95 %)"


def too_few_values(x_name: str, count: int) -> str:
    return f"only {count} {'value' if count == 1 else 'values'} of {x_name}: no trend claimed"


def not_monotone(label: str, x_name: str, count: int) -> str:
    return f"{label} is not monotone in {x_name} ({count} values): no trend claimed"


def monotone(
    label: str, x_name: str, trend: str, count: int, x_first: str, x_last: str, y_first: str, y_last: str
) -> str:
    return f"{label} {trend} with {x_name} at every step ({count} values, {x_first} → {x_last}: {y_first} → {y_last})"


def ends_overlap() -> str:
    return ", but the ends' intervals overlap: not separable at 95 %"


def optimum_at(group: str, x: str) -> str:
    return f"{x} at {group}"


def optimum_drifts(x_name: str, drift: str, group_name: str, optima: Sequence[str]) -> str:
    return f"the best {x_name} {drift} with {group_name}: {' → '.join(optima)}"


def optima(x_name: str, optima: Sequence[str]) -> str:
    return f"the best {x_name} is {', '.join(optima)}"


def edge_for_every(group_name: str) -> str:
    return f"; at the edge for every {group_name}: extend the sweep"


def edge_for(groups: Sequence[str]) -> str:
    return f"; at the edge for {_join(groups)}: extend the sweep"


def too_few_values_per_group(x_name: str, group_name: str) -> str:
    return f"fewer than 3 values of {x_name} per {group_name}: no trend claimed"


def trend_everywhere(label: str, trend: str, along: str, at: str, curves: int) -> str:
    return f"{label} {trend} with {along} at every {at} ({curves} curves)"


def trend_nowhere(label: str, along: str, at: str) -> str:
    return f"{label} is not monotone in {along} at any {at}: no trend claimed"


def trend_mixed(label: str, along: str, rises: Sequence[str], falls: Sequence[str], neither: Sequence[str]) -> str:
    parts = [
        f"{trend} with {along} at {_join(points)}" for trend, points in (("rises", rises), ("falls", falls)) if points
    ]
    if neither:
        parts.append(f"not monotone at {_join(neither)}")
    return f"{label} " + "; ".join(parts)


def ends_overlap_at(points: Sequence[str]) -> str:
    return f"; the ends' intervals overlap at {_join(points)}: not separable at 95 %"


# ---------------------------------------------------------------------------------------------
# Training curves


def loss(monitored: str) -> str:
    return {"val": "validation loss", "train": "training loss"}[monitored]


def stopped_at(trial: str, run: int, best: int, loss: str) -> str:
    return f"{trial} at epoch {run} (best epoch {best}, on the {loss})"


def stopped_early(items: Sequence[str]) -> str:
    return f"stopped early: {_join(items)}"


def run_of(trial: str, run: int) -> str:
    return f"{trial} ({run} epochs)"


def best_is_last(runs: Sequence[str], losses: Sequence[str]) -> str:
    return (
        f"{_join(runs)}: the best epoch is the last, the {' / '.join(losses)} was still falling: more epochs may help"
    )


def best_before_last(trial: str, best: int, run: int, loss: str) -> str:
    return f"{trial} at epoch {best} of {run}, no better {loss} in the {run - best} after it"


def best_epochs(items: Sequence[str]) -> str:
    return f"the best epoch: {_join(items)}"


def epochs_skipped(trials: Sequence[str]) -> str:
    return f"no usable best epoch for {_few(trials)}: skipped"
