"""How often a decision rule holds: its condition over the joint bootstrap of the results.

A rule such as `best.mae.log_g <= 0.97 * baseline.mae.log_g` compares numbers that would move
if the test set were drawn again, and — for a trained net — if it were trained again with
another seed, or on another CPU. So the verdict is not decided on the point estimates alone.
The results are resampled as the tables' intervals resample them (`engine.metrics`): each
resample draws the test rows with replacement (the same rows for every trial: the comparison is
paired) and, for a trial repeated over k seeds, k of its seeds with replacement (independently
per trial: their trainings are independent). Every rule is evaluated on every resample; the
verdict is the rule that was the first to hold in at least `decision.confidence` of them
(default 95 %), and says how often:

    pass — … (holds in 97 % of 1,000 resamples of the test rows and 5 seeds per trial)

When no rule reaches that share, the verdict is *inconclusive*: the point estimates' rule, how
often it held, and the margin of its comparison with its 95 % interval.

What a resample changes: every trial's scores (`trials.x.mae.log_g`, `best…`, `baseline…`,
`ceiling…`, `….mean`), the values of paired differences (`best.delta….value`, `compare(a,
b)….value`) and of binned tables (`binned[0]['cnn'][2]`, a cell's `['delta'][t].value`). What
it keeps: intervals (`.lo`, `.hi`, `p_positive`, `ci.…`), a repeated trial's `.std`, `.n` and
`.values`, what the models chose (`info`), the bin counts, and which trial is `best` — a rule
that reads an interval is already decided on it, and holds in all resamples or in none.

A trial whose numbers move with its seed but which ran once (`engine.models.training_noise`)
is resampled over its test rows only: its training noise was not measured, and the verdict says
so. Pure: arrays in, shares and intervals out.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExpressionError
from engine.spec.vocabulary import METRICS, metric_parts, split_test

Z95 = 1.959964  # the normal quantile of a two-sided 95 % interval


def standard_errors(ci: Mapping[str, Any], metrics: Iterable[str]) -> dict[str, float]:
    """The bootstrap standard error of each metric from its 95 % interval (`ci[metric][target]`)."""
    out = {}
    for dotted in metrics:
        metric, target = metric_parts(dotted)
        interval = (ci.get(metric) or {}).get(target)
        if interval and interval.get("hi") is not None and interval.get("lo") is not None:
            out[dotted] = (float(interval["hi"]) - float(interval["lo"])) / (2 * Z95)
    return out


@dataclass(frozen=True)
class Evidence:
    """What stands behind the numbers a rule reads: each trial's seeds, and whether its numbers
    move with the seed at all."""

    seeds: Mapping[str, int]  # trial → runs with a result
    stochastic: Mapping[str, bool]  # trial → its numbers move with its seed
    why: Mapping[str, str] = field(default_factory=dict)  # trial → why they do, or do not

    def cell(self, trial: str) -> str:
        """The results table's seeds cell: `5`, `1 ⚠` (training noise not measured), `–` (none to measure)."""
        if trial not in self.seeds:
            return "-"
        if not self.stochastic.get(trial):
            return "–"
        return str(self.seeds[trial]) if self.seeds[trial] > 1 else "1 ⚠"

    def behind(self, trials: Sequence[str], say=None) -> str:
        """What stands behind a number read from `trials` (`engine.render.repeats.behind`), in the
        words of `say` (a region phrasebook, English by default)."""
        from engine.render.repeats import behind

        return behind([(self.stochastic.get(t), self.seeds.get(t, 1)) for t in trials], say) or "-"

    def unmeasured(self, trials: Sequence[str]) -> list[str]:
        """The trials among `trials` whose training noise nobody measured (one run of a seeded model)."""
        return [t for t in trials if self.stochastic.get(t) and self.seeds.get(t, 1) < 2]

    def words(self, trials: Sequence[str]) -> str:
        """`the test rows and 5 seeds per trial`, `the test rows (closed forms)`, …"""
        counts = sorted({self.seeds.get(t, 1) for t in trials if self.stochastic.get(t) and self.seeds.get(t, 1) > 1})
        if not counts:
            return "the test rows"
        seeds = f"{counts[0]} seeds" if len(counts) == 1 else f"{counts[0]}–{counts[-1]} seeds"
        return f"the test rows and {seeds} per trial"


@dataclass(frozen=True)
class Odds:
    """How the rules fared over the resamples."""

    first: tuple[float, ...]  # per rule: the share of resamples in which it was the first rule to hold
    resamples: int
    margin: Mapping[str, float] | None = None  # of the rule the point estimates chose: value, lo, hi
    margin_metric: str | None = None  # the metric whose format the margin takes
    margin_of: str | None = None  # the comparison the margin is of, as the rule wrote it


# ---------------------------------------------------------------------------------------------
# Resampled scores


class Resampler:
    """The joint bootstrap of a report's predictions: per resample, every trial's score.

    `preds[trial]` lists the prediction arrays of the trial's runs (its seeds, or itself), as the
    run store keeps them (`engine.render.predictions`). The rows are drawn as `engine.metrics` draws
    them for the tables' intervals (the same seed, the same stream, the same sums), so a rule on
    one trial's score holds in the share of resamples its interval implies; each trial's seeds
    are drawn from a stream of its own."""

    def __init__(self, preds: Mapping[str, Sequence[Mapping[str, Any]]], *, B: int, seed: int) -> None:
        self.preds = {name: list(runs) for name, runs in preds.items() if runs}
        self.B = int(B)
        self.seed = int(seed)
        self._picks: dict[str, Any] = {}
        self._scores: dict[tuple[str, str | None], dict[tuple[str, str], Any]] = {}
        self._order = {name: i for i, name in enumerate(self.preds)}

    def picks(self, trial: str):
        """Per resample, which of the trial's k seeds it averages (B × k), or None for one run."""
        from engine import metrics

        if trial not in self._picks:
            self._picks[trial] = metrics.seed_picks(
                len(self.preds[trial]), self.B, [self.seed, 0x5EED, self._order[trial]]
            )
        return self._picks[trial]

    def score(self, trial: str, dotted: str):
        """The trial's `dotted` metric (`mae.log_g`, `r2.log_g@low_noise`) in each resample (B,),
        the mean over the seeds each resample draws; None when the trial has no such score."""
        from engine import metrics

        _, test = split_test(dotted)
        found = self._scores.get((trial, test))
        if found is None:
            found = self._scores[(trial, test)] = self._all_scores(trial, test)
        name, target = metric_parts(dotted)
        per_run = found.get((name.split("@")[0], target))
        return None if per_run is None else metrics.over_seeds(per_run, self.picks(trial))

    def _all_scores(self, trial: str, test: str | None) -> dict[tuple[str, str], Any]:
        """Every metric of every target of the trial on one test set: (metric, target) → (k × B)."""
        import numpy as np

        from engine import metrics
        from engine.render.predictions import view

        views = [view(p, test) for p in self.preds[trial]]
        runs = [r for r in views if r is not None]
        if len(runs) < len(views) or not len(runs[0]["index"]):
            return {}
        targets = [t.decode() if isinstance(t, bytes) else str(t) for t in runs[0]["targets"]]
        n = len(runs[0]["index"])
        columns = np.concatenate([metrics.stat_columns(r["y_true"], r["y_pred"]).reshape(n, -1) for r in runs], axis=1)
        sums = metrics.resampled_sums(n, self.B, self.seed, columns).reshape(
            self.B, len(runs), len(targets), metrics.STATS
        )
        found = metrics.from_sums(np.moveaxis(sums, 0, 2), n)  # name → runs × targets × B
        return {(name, target): values[:, j] for name, values in found.items() for j, target in enumerate(targets)}

    def binned(self, table_spec, table: Mapping[str, Any], trial: str):
        """Each resample's value of the trial in each cell of a binned table (B × cells), NaN in
        the cells the table keeps out (too few spectra) and in a resample that drew none of a
        cell's rows; None when the trial is not in the table."""
        import numpy as np

        from engine import metrics
        from engine.render.predictions import target_column, view

        base, test = split_test(table_spec.metric)
        metric, target = base.split(".", 1)
        views = [view(p, test) for p in self.preds.get(trial, [])]
        runs = [r for r in views if r is not None]
        if not runs or len(runs) < len(views):
            return None
        n = len(runs[0]["index"])
        cells = _cells(runs[0], table)
        if cells is None:
            return None
        if metric == "extra":
            if any(np.asarray(r.get(f"extra.{target}", np.empty((0, 0)))).ndim != 1 for r in runs):
                return None
            columns = np.stack([np.asarray(r[f"extra.{target}"], dtype=np.float64) for r in runs], axis=1)
        else:
            col = target_column(runs[0], target)
            if col is None:
                return None
            columns = np.concatenate(
                [metrics.stat_columns(r["y_true"][:, col], r["y_pred"][:, col]) for r in runs], axis=1
            )
        columns = np.concatenate([np.ones((n, 1)), columns], axis=1)  # the first: how many rows each resample drew
        small = table.get("small") or []
        out = np.full((self.B, len(small)), np.nan)
        for c in range(len(small)):
            inside = cells == c
            if small[c] or inside.sum() < 2:
                continue
            sums = metrics.resampled_sums(n, self.B, self.seed, columns, rows=inside)
            count = sums[:, 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                if metric == "extra":
                    per_run = (sums[:, 1:] / count[:, None]).T  # k × B
                else:
                    per_run = metrics.from_sums(
                        np.moveaxis(sums[:, 1:].reshape(self.B, len(runs), metrics.STATS), 0, 1), count
                    )[metric]
            out[:, c] = metrics.over_seeds(per_run, self.picks(trial))
        return out


def _cells(p: Mapping[str, Any], table: Mapping[str, Any]):
    """The cell of each test row of a binned table (`binned.row_cells`); None when the trial's
    predictions lack a parameter the table bins by."""
    from engine.render.binned import row_cells

    axes, edges = table.get("axes") or [], table.get("edges") or []
    if not edges or len(edges) != len(axes) or any(f"param.{by}" not in p for by in axes):
        return None
    return row_cells(p, axes, edges)


# ---------------------------------------------------------------------------------------------
# Contexts, one per resample


def resampled_contexts(
    resampler: Resampler,
    *,
    results: Mapping[str, Mapping[str, Any]],
    build: Callable[..., dict],
    delta: Mapping[str, Any],
    compare: Callable[[str, str], Mapping[str, Any]],
    baseline: str | None,
    binned: Sequence[tuple[Any, Mapping[str, Any]]],
) -> Callable[[int], dict]:
    """A function of b giving the expression context of resample b: `build(results_b, delta=…,
    compare=…)` (the point context's builder, with everything else as it was) and its binned
    tables resampled."""
    import numpy as np

    from engine.render.binned import rule_bins

    scores: dict[str, dict[tuple[str, str], Any]] = {}  # trial → (metric, target) → its (B,) values
    for name, metrics in results.items():
        scores[name] = {}
        for key, by_target in metrics.items():
            if not isinstance(by_target, Mapping) or split_test(key)[0] not in METRICS:
                continue
            base, test = split_test(key)
            for target in by_target:
                values = resampler.score(name, f"{base}.{target}" + (f"@{test}" if test else ""))
                if values is not None:
                    scores[name][(key, target)] = values

    tables = []
    for index, (table_spec, table) in enumerate(binned):
        reference = table.get("reference")
        values = {t: resampler.binned(table_spec, table, t) for t in table.get("trials", [])}
        deltas = (
            {
                t: (values[t] - values[reference])
                if values.get(t) is not None and values.get(reference) is not None
                else None
                for t in table.get("delta_trials", [])
            }
            if reference in values
            else {}
        )
        tables.append((index, table_spec, table, values, deltas))

    def context(b: int) -> dict:
        results_b = {}
        for name, metrics in results.items():
            own = scores.get(name, {})
            results_b[name] = {
                key: (
                    {t: (float(own[(key, t)][b]) if (key, t) in own else v) for t, v in by_target.items()}
                    if isinstance(by_target, Mapping)
                    else by_target
                )
                for key, by_target in metrics.items()
            }

        def value(name: str, key: str, target: str) -> float | None:
            found = scores.get(name, {}).get((key, target))
            return None if found is None else float(found[b])

        def shifted(tree: Mapping[str, Any], a: str, other: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, by_target in tree.items():
                out[key] = {}
                for target, entry in by_target.items():
                    va, vb = value(a, key, target), value(other, key, target)
                    out[key][target] = {**entry, "value": va - vb} if va is not None and vb is not None else dict(entry)
            return out

        delta_b = {name: shifted(tree, name, baseline) for name, tree in delta.items()} if baseline else {}

        def compare_b(a: str, other: str) -> dict[str, Any]:
            return shifted(compare(a, other), a, other)

        context_b = build(results_b, delta=delta_b, compare=compare_b)
        if tables:
            tree = dict(context_b.get("binned") or {})
            for index, table_spec, table, values, deltas in tables:
                series = {
                    t: rule_bins(table, [float(x) for x in v[b]] if v is not None else list(table["series"].get(t, [])))
                    for t, v in values.items()
                    if t in table["series"]
                }
                tree[index] = series
                if table_spec.name:
                    by_name = {}
                    for c, (key, entry) in enumerate(table["by_name"].items()):
                        cell = {
                            t: series[t][c] if t in series else entry.get(t) for t in entry if t not in ("n", "delta")
                        }
                        cell["n"] = entry.get("n")
                        cell["delta"] = {
                            t: {**d, "value": float(diff[b, c])}
                            if (diff := deltas.get(t)) is not None and not np.isnan(diff[b, c])
                            else dict(d)
                            for t, d in (entry.get("delta") or {}).items()
                        }
                        by_name[key] = cell
                    tree[table_spec.name] = by_name
            context_b["binned"] = tree
        return context_b

    return context


# ---------------------------------------------------------------------------------------------
# The rules over the resamples


def odds(spec, contexts: Callable[[int], Mapping[str, Any]], B: int, *, point_rule: int | None) -> Odds:
    """Each rule's share of the resamples in which it was the first to hold, and the margin (with
    its 95 % interval) of the comparison of the rule the point estimates chose."""
    import numpy as np

    expressions = spec.expressions()
    rules = spec.decision.rules
    when = [expressions.get(f"decision.rules[{i}].when") for i in range(len(rules))]
    sides = _compared(spec, when, point_rule)
    counts = [0] * len(rules)
    margins: list[float] = []
    for b in range(B):
        context = contexts(b)
        chosen = None
        for i, expression in enumerate(when):
            if expression is None:  # otherwise
                chosen = i
                break
            try:
                held = expression.evaluate(context)
            except ExpressionError:  # a resample where the rule cannot be evaluated: it does not hold there
                continue
            if _true(held):
                chosen = i
                break
        if chosen is not None:
            counts[chosen] += 1
        if sides is not None:
            try:
                margins.append(_margin(sides, context))
            except (ExpressionError, TypeError, ValueError):
                pass
    margin = None
    if sides is not None and margins:
        finite = np.asarray([m for m in margins if m == m], dtype=np.float64)
        if len(finite):
            lo, hi = np.percentile(finite, [2.5, 97.5])
            margin = {"lo": float(lo), "hi": float(hi)}
    return Odds(tuple(c / B for c in counts), B, margin, sides[3] if sides else None, sides[4] if sides else None)


def _compared(spec, when, rule: int | None):
    """The comparison whose margin tells how close a verdict was: the deciding rule's, or — for
    an `otherwise` (or a rule that is not one comparison) — that of the nearest rule above it."""
    if rule is None:
        rule = len(when)
    for i in range(min(rule, len(when) - 1), -1, -1):
        if when[i] is not None and (sides := _sides(spec, when[i])) is not None:
            return sides
    return None


def _true(value: Any) -> bool:
    return bool(value) if isinstance(value, bool) or type(value).__name__ == "bool_" else False


def _sides(spec, expression):
    """(left, right, sign, metric) of a `when:` that is one comparison `left <op> right`: the
    margin is sign · (left − right), positive when the rule holds; None for any other shape
    (`and`, `or`, a chain)."""
    from engine.render.decision import shown_metric
    from engine.spec.expressions import compile_expression

    try:
        tree = ast.parse(expression.compiled_source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1):
        return None
    op = tree.ops[0]
    if isinstance(op, (ast.Gt, ast.GtE)):
        sign = 1.0
    elif isinstance(op, (ast.Lt, ast.LtE)):
        sign = -1.0
    else:
        return None
    source = expression.compiled_source.strip()
    left = ast.get_source_segment(source, tree.left)
    right = ast.get_source_segment(source, tree.comparators[0])
    if not left or not right:
        return None
    try:
        compiled = [
            compile_expression(part, path=expression.path, line=expression.line, key=expression.key)
            for part in (left, right)
        ]
    except ExpressionError:
        return None
    return compiled[0], compiled[1], sign, shown_metric(compiled[0]) or shown_metric(compiled[1]), expression.source


def _margin(sides, context: Mapping[str, Any]) -> float:
    left, right, sign = sides[:3]
    a, b = left.evaluate(context), right.evaluate(context)
    return sign * (float(a) - float(b))


def point_margin(spec, rule: int | None, context: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """The margin of a rule's comparison at the point estimates (and the metric it is in)."""
    expressions = spec.expressions()
    when = [expressions.get(f"decision.rules[{i}].when") for i in range(len(spec.decision.rules))]
    sides = _compared(spec, when, rule)
    if sides is None:
        return None, None
    try:
        return _margin(sides, context), sides[3]
    except (ExpressionError, TypeError, ValueError):
        return None, sides[3]


def trials_read(
    spec, rule: int | None, *, best: str | None, baseline: str | None, ceiling: str | None, trials: Sequence[str]
) -> list[str]:
    """The trials a rule's condition reads (`decision.expression_trials`); for an `otherwise`,
    what the rules above it read."""
    from engine.render.decision import expression_trials

    if rule is None:
        return []
    expression = spec.expressions().get(f"decision.rules[{rule}].when")
    if expression is None:
        read: set[str] = set()
        for i in range(rule):
            read |= set(trials_read(spec, i, best=best, baseline=baseline, ceiling=ceiling, trials=trials))
        return [t for t in trials if t in read]
    return expression_trials(spec, expression, best=best, baseline=baseline, ceiling=ceiling, trials=trials)


__all__ = ["Evidence", "Odds", "Resampler", "odds", "point_margin", "resampled_contexts", "trials_read"]
