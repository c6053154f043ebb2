"""The numbers a report shows, worked out once from the stored trials: `Tables`.

Every region, figure, caption and the run record read the same results, intervals, binned tables,
verdict and key numbers; computing them in one place, before anything is worded, is what keeps
the summary, the tables and the figures from disagreeing. The few readers of `Tables` that more
than one of them needs (an interval, a seed spread, a Δ, the trials a key number reads, a binned
table's observations) live here beside it for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExpressionError
from engine.render.binned import binned_table, series_for
from engine.render.decision import (
    CEILING_MODEL,
    Verdict,
    build_context,
    ceiling_trial,
    compare_names,
    decide,
    key_numbers,
    no_value,
    standing,
)
from engine.render.predictions import has_metric, metric_fn, stacked
from engine.render.templates import fmt_shown
from engine.spec.expressions import NoValue
from engine.spec.vocabulary import metric_parts


@dataclass
class Tables:
    """What the report shows, computed once from the records and predictions."""

    results: dict[str, dict[str, Any]]
    best: str | None
    baseline: str | None
    context: dict[str, Any]
    verdict: Any
    numbers: list[tuple[str, str]]
    binned: list[dict[str, Any]] = field(default_factory=list)
    n_test: int = 0
    standing: Any = None  # decision.Standing: the best candidate against baseline, references, ceilings
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # rows of the comparisons region
    ceilings: list[str] = field(default_factory=list)  # the fisher_ceiling trials
    observed: list[list[str]] | None = None  # each binned table's observations, once worked out
    spreads: dict[str, Any] = field(
        default_factory=dict
    )  # repeated trial → its seeds' spread (`engine.render.repeats.fold`)
    evidence: Any = None  # confidence.Evidence: each trial's seeds, and whether its numbers move with them
    run_ci: dict[str, Any] = field(default_factory=dict)  # each seed's own intervals (`equal.seed-43`)


def shown_trials(plan) -> dict[str, list[Any]]:
    """The trials the report shows → their runs with a result: a repeated trial's seeds (all of
    them, or it has no result yet), or the trial itself."""
    return {name: runs for name, runs in plan.groups.items() if all(t.record is not None for t in runs)}


def compute_tables(plan, spec) -> Tables:
    """Every number the report shows, from the run store: results (a repeated trial's as the mean
    over its seeds), intervals, Δs, binned tables, comparisons, the verdict and the key numbers."""
    import numpy as np

    done = shown_trials(plan)
    records = {name: [t.record for t in runs] for name, runs in done.items()}
    repeated = {name for name, runs in done.items() if runs[0].trial is not None and runs[0].trial.group}
    results, spreads = _folded(records, repeated)
    baseline = spec.decision.baseline if spec.decision.baseline in results else None
    preds = {name: [plan.store.predictions(r.key) for r in recs] for name, recs in records.items()}
    boot = _Bootstrap(spec, preds)
    ci = {name: boot.intervals(p) for name, p in preds.items()}
    # each seed of a repeated trial on its own: what a reproduction of that run is held to
    run_ci = {t.name: boot.intervals([p]) for name in repeated for t, p in zip(done[name], preds[name])}
    delta: dict[str, Any] = {}
    if baseline is not None:
        for name, p in preds.items():
            if name != baseline and np.array_equal(p[0]["index"], preds[baseline][0]["index"]):
                delta[name] = boot.compare(name, baseline)
    ceiling = ceiling_trial(plan.trials)
    context = build_context(
        results,
        primary=spec.primary_metric,
        baseline=baseline,
        references=spec.decision.references,
        ci=ci,
        delta=delta,
        info=_infos(records),
        compare=lambda a, b: boot.compare(a, b),
        ceiling=ceiling if ceiling in results else None,
        spreads=spreads,
        configs=_configs(records),
    )
    comparisons = _comparison_rows(spec, preds, boot.compare)
    binned_tables = [
        binned_table(b, preds, baseline=baseline, bootstrap=(spec.bootstrap.n, spec.bootstrap.seed), twins=plan.twins)
        for b in spec.binned
    ]
    context["binned"] = series_for(binned_tables, spec.binned)  # binned[i][trial][bin], binned['name'][bin][trial]
    failed = list(dict.fromkeys(t.shown_name for t in plan.trials if t.record is None and t.reason != "skipped"))
    evidence = training_evidence(plan, done)
    verdict = _point_verdict(spec, context, failed)
    if verdict is not None and verdict.verdict != "incomplete" and not verdict.undecided and spec.decision.rules:
        verdict = _judged(
            spec,
            verdict,
            context,
            evidence,
            preds=preds,
            results=results,
            ci=ci,
            delta=delta,
            info=_infos(records),
            configs=_configs(records),
            compare=boot.compare,
            baseline=baseline,
            ceiling=ceiling if ceiling in results else None,
            spreads=spreads,
            binned=list(zip(spec.binned, binned_tables)),
        )
    numbers = _key_number_rows(spec, context, failed)
    best = context["best"]["name"] if context.get("best") else None
    tables = Tables(
        results,
        best,
        baseline,
        context,
        verdict,
        numbers,
        n_test=max((len(p[0]["index"]) for p in preds.values()), default=0),
    )
    tables.evidence = evidence
    tables.spreads = spreads
    tables.run_ci = run_ci
    tables.binned = binned_tables
    tables.comparisons = comparisons
    tables.ceilings = ceilings = list(
        dict.fromkeys(t.shown_name for t in plan.trials if (t.config.get("model") or {}).get("type") == CEILING_MODEL)
    )
    tables.standing = standing(
        results, spec.primary_metric, baseline=baseline, references=spec.decision.references, ceilings=ceilings
    )
    return tables


def _folded(records: Mapping[str, Sequence[Any]], repeated: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(each trial's metrics, each repeated trial's spread): a repeated trial's metrics are the
    mean over its seeds (`repeats.fold`), any other trial's its own."""
    from engine.render.repeats import fold

    results, spreads = {}, {}
    for name, recs in records.items():
        if name in repeated:
            results[name], spreads[name] = fold([r.metrics for r in recs])
        else:
            results[name] = recs[0].metrics
    return results, spreads


def _configs(records: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """What each trial was run with (its first run's config, every model parameter filled in),
    as rules read `trials.x.config`."""
    from engine.models import resolved_config

    return {name: resolved_config(recs[0].config or {}) for name, recs in records.items()}


def _infos(records: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """What each trial's model chose (its first run's `info`), as rules read `trials.x.info`."""
    return {name: recs[0].info or {} for name, recs in records.items()}


class _Bootstrap:
    """The report's bootstrap intervals over its trials' predictions (`preds`: trial → its runs'
    arrays), seeded by the spec's `bootstrap:`; each pair's paired intervals computed once however
    often rules, comparisons and figures ask for them."""

    def __init__(self, spec, preds: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.spec, self.preds = spec, preds
        self.wanted = spec.interval_metrics
        self.pairs: dict[tuple[str, str, tuple[str, ...]], dict[str, Any]] = {}

    def intervals(self, runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The bootstrap interval of every wanted metric over `runs` (one run, or a trial's seeds)."""
        from engine import metrics

        B, seed = self.spec.bootstrap.n, self.spec.bootstrap.seed
        return _nested(
            (m, metrics.bootstrap_ci(metric_fn(m), *stacked(runs, m), B=B, seed=seed).as_dict())
            for m in self.wanted
            if has_metric(runs[0], m)
        )

    def compare(self, a: str, b: str, metrics_: Sequence[str] | None = None) -> dict[str, Any]:
        """a − b on the test rows both scored: paired bootstrap intervals, shaped like `delta`
        (of the wanted metrics, or `metrics_`)."""
        import numpy as np

        from engine import metrics

        preds = self.preds
        metrics_ = self.wanted if metrics_ is None else metrics_
        compare_names(a, b, preds)
        if not np.array_equal(preds[a][0]["index"], preds[b][0]["index"]):
            raise ExpressionError(f"compare(): '{a}' and '{b}' were scored on different test sets")
        key = (a, b, tuple(metrics_))
        if key not in self.pairs:
            B, seed = self.spec.bootstrap.n, self.spec.bootstrap.seed
            rows = []
            for m in metrics_:
                if has_metric(preds[a][0], m) and has_metric(preds[b][0], m):
                    truth, pred = stacked(preds[a], m)
                    _, other = stacked(preds[b], m)
                    delta = metrics.paired_bootstrap_delta(metric_fn(m), truth, pred, other, B=B, seed=seed)
                    rows.append((m, delta.as_dict()))
            self.pairs[key] = _nested(rows)
        return self.pairs[key]


def _point_verdict(spec, context: Mapping[str, Any], failed: Sequence[str]):
    """The verdict of the rules on the point estimates; `incomplete` when a rule reads a trial
    that failed (with nothing failed, a rule that cannot be evaluated is the spec's mistake: raised)."""
    try:
        return decide(spec, context)
    except ExpressionError:
        if not failed:
            raise  # a mistake in the rule itself
        return Verdict("incomplete", f"cannot decide: {', '.join(failed)} failed", None, None)


def _comparison_rows(spec, preds: Mapping[str, Any], compare: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """The comparisons region's rows: each declared pair's paired interval per metric, where both
    trials have a result on the same test rows."""
    comparisons = []
    for pair in spec.comparisons:
        if pair.a not in preds or pair.b not in preds:
            continue
        chosen = pair.metrics or [spec.primary_metric]
        try:
            found = compare(pair.a, pair.b, tuple(chosen))
        except ExpressionError:
            continue
        for m in chosen:
            name, target = metric_parts(m)
            if target in found.get(name, {}):
                comparisons.append({"a": pair.a, "b": pair.b, "metric": m, **found[name][target]})
    return comparisons


def _key_number_rows(spec, context: Mapping[str, Any], failed: Sequence[str]) -> list[tuple[str, str]]:
    """(label, shown value) of each key number; an empty bin is said, and a number that reads a
    failed trial is '-' (a broken expression with nothing failed is the spec's mistake: raised)."""
    numbers = []
    for index, row in enumerate(spec.key_numbers):
        try:
            label, value, metric = key_numbers(spec, context, only=index)[0]
            numbers.append((label, fmt_shown(value, metric, row.format)))
        except NoValue as error:  # an empty bin: said in the table, the run goes on
            numbers.append((row.label, no_value(error)))
        except ExpressionError:
            if not failed:
                raise
            numbers.append((row.label, "-"))
    return numbers


def training_evidence(plan, done: Mapping[str, Sequence[Any]]):
    """Each shown trial's runs with a result and whether its numbers move with its seed
    (`engine.models.training_noise`; a stored model of this report's: as its source's)."""
    from engine.render.confidence import Evidence

    noise = {name: _training_noise(plan, runs[0]) for name, runs in plan.groups.items()}
    return Evidence(
        seeds={name: len(runs) for name, runs in done.items()},
        stochastic={name: n.stochastic for name, n in noise.items()},
        why={name: n.why for name, n in noise.items()},
    )


def _training_noise(plan, trial):
    from engine.models import training_noise

    model = trial.config.get("model") or {}
    if model.get("type") == "stored" and trial.sources:
        source = trial.sources[0]
        mine = next((t for t in plan.trials if source.report is None and t.name == source.trial), None)
        if mine is not None and mine is not trial:
            return _training_noise(plan, mine)
        if source.model_type:
            return training_noise({"type": source.model_type, **(source.model_config or {})})
    return training_noise(model)  # a plugin that cannot be imported here: taken to depend on its seed


def _judged(
    spec,
    point,
    context,
    evidence,
    *,
    preds,
    results,
    ci,
    delta,
    info,
    configs,
    compare,
    baseline,
    ceiling,
    spreads,
    binned,
) -> Verdict:
    """The point verdict held against the joint bootstrap of test rows and seeds (`engine.render.confidence`)."""
    from engine.render.confidence import Resampler, odds, point_margin, resampled_contexts, trials_read
    from engine.render.decision import judge

    best = context["best"]["name"] if context.get("best") else None

    def build(results_b, *, delta, compare):
        return build_context(
            results_b,
            primary=spec.primary_metric,
            baseline=baseline,
            references=spec.decision.references,
            ci=ci,
            delta=delta,
            info=info,
            compare=compare,
            ceiling=ceiling,
            spreads=spreads,
            best=best,
            configs=configs,
        )

    resampler = Resampler(preds, B=spec.bootstrap.n, seed=spec.bootstrap.seed)
    contexts = resampled_contexts(
        resampler, results=results, build=build, delta=delta, compare=compare, baseline=baseline, binned=binned
    )
    found = odds(spec, contexts, spec.bootstrap.n, point_rule=point.rule)
    margin, metric = point_margin(spec, point.rule, context)
    read = trials_read(spec, point.rule, best=best, baseline=baseline, ceiling=ceiling, trials=list(results))
    return judge(
        spec,
        point,
        found,
        context,
        evidence=evidence.words(read),
        unmeasured=evidence.unmeasured(read),
        margin=margin,
        margin_metric=metric or found.margin_metric,
    )


def _nested(pairs) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for dotted, value in pairs:
        metric, target = metric_parts(dotted)
        out.setdefault(metric, {})[target] = {k: float(v) for k, v in value.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Readers of the tables that more than one region or figure needs


def interval_of(tables: Tables, trial: str, metric: str) -> dict[str, float] | None:
    """The bootstrap interval the run computed for a trial's metric (`ci`), if it did."""
    name, target = metric_parts(metric)
    return ((tables.context.get("ci", {}).get(trial) or {}).get(name) or {}).get(target)


def seed_std(spread: Mapping[str, Any], dotted: str) -> float | None:
    """A repeated trial's std over its seeds, or None. Read here, not through `metric_value`: a
    spread (`repeats.fold`) holds {mean, std, n, values} where the metrics hold a number."""
    name, target = metric_parts(dotted)
    return (spread.get(name, {}).get(target) or {}).get("std")


def delta_of(tables: Tables, trial: str, metric: str) -> dict[str, float] | None:
    """The paired bootstrap interval of trial − baseline (what `compare` gives rules), if any."""
    if tables.baseline is None or trial == tables.baseline:
        return None
    name, target = metric_parts(metric)
    try:
        return (tables.context["compare"](trial, tables.baseline).get(name) or {}).get(target)
    except ExpressionError:
        return None


def binned_of(spec, tables: Tables, ref) -> dict[str, Any]:
    """A binned table by its index or its `name` (how a figure names it)."""
    if isinstance(ref, int):
        return tables.binned[ref]
    return tables.binned[next(i for i, b in enumerate(spec.binned) if b.name == ref)]


def key_number_trials(spec, index: int, tables: Tables) -> set[str]:
    """The trials a key number's expression reads (`decision.expression_trials`)."""
    from engine.render.decision import expression_trials

    expression = spec.expressions().get(f"key_numbers[{index}].value")
    if expression is None:
        return set()
    ceiling = tables.context.get("ceiling", {}) or {}
    return set(
        expression_trials(
            spec,
            expression,
            best=tables.best,
            baseline=tables.baseline,
            ceiling=ceiling.get("name"),
            trials=list(tables.results),
        )
    )


def binned_observations(spec, tables: Tables) -> list[list[str]]:
    """Each binned table's observations, worked out once (a table's figure repeats them). They
    are of the table's own columns, all of them: a yardstick (reference) is never the trial they
    are about, but when it is best in a bin they say so, as the table shows it."""
    from engine.render.observations import observe_binned, one_seed

    if tables.observed is None:
        focus = tables.standing.honest_best or tables.best
        tables.observed = []
        for table in tables.binned:
            shown = list(table.get("trials", ()))
            said = (
                observe_binned(
                    table,
                    best=focus if focus in shown else None,
                    baseline=table.get("reference"),
                    references=spec.decision.references,
                    lang=spec.language,
                )
                if shown
                else []
            )
            caveat = (
                one_seed(tables.evidence.unmeasured(list(table.get("trials", ()))), spec.language) if said else None
            )
            tables.observed.append([*said, caveat] if caveat else said)
    return tables.observed
