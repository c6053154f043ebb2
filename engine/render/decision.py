"""From trial metrics to a verdict: `best`, `baseline`, the rules and the key numbers.

The spec's expressions are evaluated (sandboxed, see `engine.spec.expressions`) over a context:

    trials.<name>.<metric>.<target>      every trial's test metrics
    best, baseline                       the best candidate and the baseline trial (+ .name)
    best.ci.r2.log_g.lo / .hi            bootstrap interval of a metric (and .value)
    best.delta.r2.log_g.lo / .hi         paired bootstrap interval of best − baseline
                                         (and .value, .p_positive)
    ci.<name>.<metric>.<target>.lo       intervals of every trial
    binned[i][<trial>][j]                bin j of binned table i (e.g. R² in the lowest SNR bin)
    best.r2.log_g.mean / .std / .n       a repeated trial's score over its seeds (the score
                                         itself is the mean; see `engine.render.repeats`)

`best` is the best trial by the primary metric (the first of `metrics:`) *other than the
baseline* and the `references` (yardsticks such as a Fisher ceiling), so a rule like
`best.mae.log_g <= 0.97 * baseline.mae.log_g` compares a candidate with the reference; without
a baseline it is the best of all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from engine.errors import ExpressionError
from engine.render.phrasebook import regions, regions_en
from engine.render.quantities import direction
from engine.spec.vocabulary import METRICS, TARGETS, base_metric, metric_parts
from engine.text.marks import question_verdict

#: The fields of a bootstrap interval (`best.ci.r2.log_g.lo`) and of a paired difference
#: (`best.delta.r2.log_g.p_positive`): `metrics.CI` and `metrics.Delta` as rules read them
#: (named here too, so that checking a rule needs no numpy; a test holds the two equal).
CI_FIELDS = ("value", "lo", "hi")
DELTA_FIELDS = ("value", "lo", "hi", "p_positive")
#: The metrics rules rank trials by, and whether a lower value is better (bias: a lower |bias|):
#: read from `quantities.direction`, where each metric's direction is set once.
LOWER_IS_BETTER = {name: direction(name) in ("lower", "zero") for name in METRICS}
CEILING_MODEL = "fisher_ceiling"  # the model whose trials are ceilings (not just references)


def ceiling_trial(trials) -> str | None:
    """The trial rules call `ceiling`: the report's first `fisher_ceiling` trial, if any."""
    return next(
        (
            getattr(t, "shown_name", t.name)
            for t in trials
            if (t.config.get("model") or {}).get("type") == CEILING_MODEL
        ),
        None,
    )


def badness(metric: str, value: float | None) -> float:
    """A number to minimise: lower is better for every metric (|bias| for bias)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.inf
    name = base_metric(metric)
    if direction(name) == "zero":
        return abs(value)
    return value if LOWER_IS_BETTER[name] else -value


def metric_value(metrics: Mapping[str, Any], dotted: str) -> float | None:
    """A trial's score by reference: 'r2.log_g', or 'r2.log_g@low_noise' on a named test set."""
    name, target = metric_parts(dotted)
    return metrics.get(name, {}).get(target)


def pick_best(results: Mapping[str, Mapping[str, Any]], primary: str, exclude=()) -> str | None:
    """The trial with the best primary metric, ties to the earlier trial; None when there is none.

    `exclude` (the baseline and the reference trials) are not candidates unless nothing else is."""
    exclude = {exclude} if isinstance(exclude, str) else set(exclude or ())
    names = [n for n in results if n not in exclude] or list(results)
    if not names:
        return None
    return min(names, key=lambda n: (badness(primary, metric_value(results[n], primary)), names.index(n)))


@dataclass(frozen=True)
class Standing:
    """Where the best candidate stands: against the baseline, the references, the ceilings.

    `best` is the best *candidate* (neither the baseline nor a reference) by the primary metric.
    It may still lose to the baseline; a reference (a global model beside experts) may beat every
    candidate; a candidate that beats a ceiling (a Fisher bound) means the ceiling or the data is
    wrong. The report, the hub and the commit message say each of these in words."""

    primary: str
    best: str | None
    best_value: float | None
    baseline: str | None = None
    baseline_value: float | None = None
    beats_baseline: bool | None = None  # None: no baseline to beat
    references_beating: tuple[tuple[str, float], ...] = ()  # references better than every candidate
    ceilings_beaten: tuple[tuple[str, float], ...] = ()  # ceilings some candidate is better than

    @property
    def honest_best(self) -> str | None:
        """The best candidate when it beats the baseline (or there is none): the one to crown."""
        return self.best if self.beats_baseline in (None, True) else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_value": self.best_value,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "beats_baseline": self.beats_baseline,
            "references_beating": [list(r) for r in self.references_beating],
            "ceilings_beaten": [list(c) for c in self.ceilings_beaten],
        }


def _no_comparison(results):
    def compare(a: str, b: str):
        raise ExpressionError(f"cannot compare '{a}' with '{b}' here")

    return compare


def compare_names(a: Any, b: Any, having: Mapping[str, Any]) -> None:
    """`compare(a, b)` needs two trials that have results."""
    for name in (a, b):
        if not isinstance(name, str):
            raise ExpressionError(f"compare() takes two trial names in quotes, got {name!r}")
        if name not in having:
            from engine.errors import did_you_mean

            raise ExpressionError(
                f"compare(): no trial '{name}' with a result",
                hint=did_you_mean(name, list(having)) or f"trials: {', '.join(having)}",
            )
    if a == b:
        raise ExpressionError(f"compare(): '{a}' with itself")


def standing(
    results: Mapping[str, Mapping[str, Any]], primary: str, *, baseline: str | None, references=(), ceilings=()
) -> Standing:
    """The best candidate and how it compares (see `Standing`)."""
    references = [r for r in references if r in results]
    best = pick_best(results, primary, exclude=[baseline, *references])
    if best in references or best == baseline:  # nothing but yardsticks ran
        best = None
    value = metric_value(results[best], primary) if best else None
    out: dict[str, Any] = {"primary": primary, "best": best, "best_value": value}
    if baseline is not None and baseline in results:
        base = metric_value(results[baseline], primary)
        out.update(
            baseline=baseline,
            baseline_value=base,
            beats_baseline=None if best is None else badness(primary, value) < badness(primary, base),
        )
    candidates = [n for n in results if n != baseline and n not in references]
    if candidates:
        best_badness = min(badness(primary, metric_value(results[n], primary)) for n in candidates)
        out["references_beating"] = tuple(
            (r, metric_value(results[r], primary))
            for r in references
            if r not in ceilings and badness(primary, metric_value(results[r], primary)) < best_badness
        )
        out["ceilings_beaten"] = tuple(
            (c, metric_value(results[c], primary))
            for c in ceilings
            if c in results and best_badness < badness(primary, metric_value(results[c], primary))
        )
    return Standing(**out)


def build_context(
    results: Mapping[str, Mapping[str, Any]],
    *,
    primary: str,
    baseline: str | None,
    references=(),
    ci: Mapping[str, Any] | None = None,
    delta: Mapping[str, Any] | None = None,
    info: Mapping[str, Any] | None = None,
    compare=None,
    ceiling: str | None = None,
    spreads: Mapping[str, Any] | None = None,
    best: str | None = None,
    configs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The names an expression sees. `ci[trial]` and `delta[trial]` have the metrics' shape;
    `info[trial]` is what the model chose (`trials.ridge.info.alpha.log_g`); `compare(a, b)` the
    paired bootstrap intervals of a − b, shaped like `delta`. `spreads[trial]`: a repeated
    trial's seeds (`engine.render.repeats.fold`), so its scores read `.mean`, `.std`, `.n`, `.values`.
    `best`: the trial `best` names (a resample keeps the point estimates' best; default: the
    best candidate of `results`). `configs[trial]`: its resolved config, so a rule reads what a
    trial was run with (`trials.cnn.config.model.dilation`) instead of restating it."""
    from engine.spec.expressions import with_spread

    ci = ci or {}
    delta = delta or {}
    info = info or {}
    configs = configs or {}
    spreads = spreads or {}
    results = {n: with_spread(m, spreads[n]) if n in spreads else m for n, m in results.items()}

    def view(name: str | None) -> dict[str, Any] | None:
        if name is None or name not in results:
            return None
        return {
            **results[name],
            "name": name,
            "ci": ci.get(name, {}),
            "delta": delta.get(name, {}),
            "info": info.get(name, {}),
            "config": configs.get(name, {}),
        }

    if best is None:
        best = pick_best(results, primary, exclude=[baseline, *references])
    trials = {n: {**m, "info": info.get(n, {}), "config": configs.get(n, {})} for n, m in results.items()}
    context: dict[str, Any] = {
        "trials": trials,
        "ci": dict(ci),
        "best": view(best),
        "compare": compare or _no_comparison(results),
    }
    if baseline is not None:
        context["baseline"] = view(baseline)
    if ceiling is not None:  # the information limit, for rules such as best.rmse.log_g / ceiling.sigma.log_g > 2
        context["ceiling"] = view(ceiling)
    return context


def shape_context(
    spec,
    trial_targets: Mapping[str, Any],
    tests: Mapping[str, Any] | None = None,
    own_scores: Mapping[str, Any] | None = None,
    ceiling: str | None = None,
    repeated: frozenset[str] | set[str] = frozenset(),
    empty: Mapping[int, Mapping[str, Mapping[int, str]]] | None = None,
    configs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The context `build_context` will give once the trials in `trial_targets` (name → the
    targets it predicts) have results, with every number a `Probe`. Evaluating an expression
    over it finds, before anything trains, every name, key and bin index that will not exist.
    `tests` (name → its named test sets) and `own_scores` (name → the scores its model adds,
    a Fisher ceiling's `sigma`) give the metrics a trial has beyond the standard ones; the
    `repeated` trials' scores have a spread (`best.r2.log_g.std`). `empty[i][trial]`: the bins of
    table i no test spectrum of the trial can fill (`binned.empty_for_sure`) — a rule that needs
    one fails here, as it would after training. `configs` (name → its resolved config): known
    before training, so `trials.x.config.…` is checked against the real keys; without them any
    key is taken."""
    from engine.spec.expressions import PROBE, PROBE_SPREAD, PROBE_TREE, AnyBins, AnyCells, Bins, Missing

    wanted = [metric_parts(m) for m in spec.interval_metrics]
    tests = tests or {}
    own_scores = own_scores or {}

    def scores(targets, name=None, spread=None) -> dict[str, Any]:
        names = [*METRICS, *own_scores.get(name, ())]
        leaf = PROBE_SPREAD if (name in repeated if spread is None else spread) else PROBE
        out = {m: {t: leaf for t in targets} for m in names}
        for test in tests.get(name, ()):
            out.update({f"{m}@{test}": {t: leaf for t in targets} for m in names})
        return out

    def intervals(targets, fields) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for metric, target in wanted:
            if target in targets:
                out.setdefault(metric, {})[target] = {f: PROBE for f in fields}
        return out

    targets = {name: list(ts) for name, ts in trial_targets.items()}
    baseline = spec.decision.baseline if spec.decision.baseline in targets else None
    base_targets = set(targets[baseline]) if baseline is not None else set()
    ci = {name: intervals(ts, CI_FIELDS) for name, ts in targets.items()}
    delta = (
        {name: intervals(set(ts) & base_targets, DELTA_FIELDS) for name, ts in targets.items() if name != baseline}
        if baseline
        else {}
    )

    def compare(a, b):
        compare_names(a, b, targets)
        return intervals(set(targets[a]) & set(targets[b]), DELTA_FIELDS)

    context = build_context(
        {n: scores(ts, n) for n, ts in targets.items()},
        primary=spec.primary_metric,
        baseline=baseline,
        references=spec.decision.references,
        ci=ci,
        delta=delta,
        info={n: PROBE_TREE for n in targets},
        compare=compare,
        ceiling=ceiling if ceiling in targets else None,
        configs={n: (configs or {}).get(n, PROBE_TREE) for n in targets},
    )
    pool = [n for n in targets if n not in {baseline, *spec.decision.references}] or list(targets)
    if pool:  # `best` is any of these: it has what they all have
        common = set.intersection(*(set(targets[n]) for n in pool))
        shared = {
            m: v
            for m, v in scores(common, pool[0], all(n in repeated for n in pool)).items()
            if all(m in scores(common, n) for n in pool)
        }
        context["best"] = {
            **shared,
            "name": pool[0],
            "ci": intervals(common, CI_FIELDS),
            "info": PROBE_TREE,
            "config": PROBE_TREE,
            "delta": intervals(common & base_targets, DELTA_FIELDS) if baseline else {},
        }
    from engine.render.binned import cell_keys

    tables: dict[Any, Any] = {}
    for i, table in enumerate(spec.binned):
        metric, target = table.metric.split(".", 1)
        usable = [
            n
            for n, ts in targets.items()
            if (metric == "extra" or target in ts) and (not table.trials or n in table.trials)
        ]
        count = table.n_bins
        absent = (empty or {}).get(i, {})
        tables[i] = {
            name: (Bins([PROBE] * count, absent.get(name), f"binned[{i}].{name}") if count else AnyBins())
            for name in usable
        }
        if table.name:
            reference = baseline if table.delta == "baseline" else table.delta
            cell = {
                **{name: PROBE for name in usable},
                "n": PROBE,
                "delta": {name: {f: PROBE for f in DELTA_FIELDS} for name in usable if reference and name != reference},
            }
            keys = cell_keys(table)

            def at(c: int, key: str) -> dict[str, Any]:  # a cell no spectrum can fill: its values missing
                gone = {
                    name: Missing(f"binned[{table.name!r}][{key!r}].{name}", why, left_out=True)
                    for name in usable
                    if (why := absent.get(name, {}).get(c))
                }
                return {**cell, **gone} if gone else cell

            tables[table.name] = {key: at(c, key) for c, key in enumerate(keys)} if keys else AnyCells(cell)
    context["binned"] = tables
    return context


@dataclass(frozen=True)
class Verdict:
    """A decision: the rule that gave it, its words, each hub question's answer and verdict, and
    how often its condition held over the joint bootstrap of the results (`engine.render.confidence`)."""

    verdict: str
    says: str
    rule: int | None  # index of the rule that decided; None when the spec has no rules
    when: str | None
    answers: Mapping[str, str] = field(default_factory=dict)  # hub question id -> one-line answer
    questions: Mapping[str, str] = field(
        default_factory=dict
    )  # hub question id -> verified | refuted | inconclusive | open
    holds: float | None = None  # the share of resamples in which the deciding rule was the first to hold
    resamples: int | None = None
    evidence: str | None = None  # what the resamples drew: "the test rows and 5 seeds per trial"
    point: str | None = None  # an inconclusive verdict: the one the point estimates gave
    margin: Mapping[str, Any] | None = None  # of the rule's comparison: value, lo, hi, metric
    unmeasured: tuple[str, ...] = ()  # trials the rule read whose training noise nobody measured (1 seed)
    undecided: bool = False  # a rule read a value the results lack (`undecided`): nothing to resample

    def answer(self, qid: str) -> str:
        return self.answers.get(qid) or self.says

    def question(self, qid: str) -> str:
        """verified, refuted, inconclusive or open: the verdict of hub question `qid`."""
        return self.questions.get(qid) or question_verdict(self.verdict)

    @property
    def text(self) -> str:
        return f"{self.verdict}: {self.says}" if self.says else self.verdict

    def confidence(self) -> dict[str, Any]:
        """What the run record keeps of the resampling (empty for a verdict decided without it)."""
        if self.resamples is None:
            return {}
        out: dict[str, Any] = {"holds": self.holds, "resamples": self.resamples, "evidence": self.evidence}
        if self.point is not None:
            out["point"] = self.point
        if self.margin:
            out["margin"] = dict(self.margin)
        if self.unmeasured:
            out["unmeasured"] = list(self.unmeasured)
        return out


def decide(spec, context: Mapping[str, Any]) -> Verdict | None:
    """The first rule whose `when` holds on the point estimates (or `otherwise`); None when the
    spec has no rules. `engine.render.confidence` then holds it against the resamples (`judge`)."""
    from engine.spec.expressions import NoValue

    expressions = spec.expressions()
    for index, rule in enumerate(spec.decision.rules):
        if rule.otherwise is None:
            expression = expressions[f"decision.rules[{index}].when"]
            try:
                held = expression.evaluate(context)
            except NoValue as error:
                return undecided(spec, index, error)
            if not _truth(held, expression):
                continue
        return decided(spec, index, context)
    if spec.decision.rules:
        return Verdict(
            "inconclusive", "no decision rule held", None, None, questions={q: "inconclusive" for q in spec.answers}
        )
    return None


def undecided(spec, index: int, error) -> Verdict:
    """Rule `index` reads a value these results lack (an empty bin, a metric undefined on its
    rows): whether it holds is unknown, so no rule after it may decide either. Inconclusive,
    saying what is missing — never the next rule's verdict, never a run stopped after training."""
    says = f"cannot decide: rule {index + 1} reads a value these results do not have — {error.message}"
    return Verdict(
        "inconclusive",
        says,
        None,
        spec.decision.rules[index].when,
        questions={q: "inconclusive" for q in spec.answers},
        undecided=True,
    )


def no_value(error) -> str:
    """How a key number, a live number or a `{{ … }}` shows a value the results lack."""
    return f"n/a ({error.message})"


def decided(spec, index: int, context: Mapping[str, Any]) -> Verdict:
    """The verdict of rule `index`, its words filled from `context`."""
    expressions = spec.expressions()
    rule = spec.decision.rules[index]
    prefix = f"decision.rules[{index}]"
    says = _filled(rule.says, f"{prefix}.says", expressions, context)
    answers = {q: _filled(rule.answer_text(q), f"{prefix}.answers.{q}", expressions, context) for q in rule.answers}
    questions = {q: rule.answer_verdict(q) for q in spec.answers}
    return Verdict(rule.outcome, says, index, rule.when, answers, questions)


def judge(
    spec,
    point: Verdict,
    odds,
    context: Mapping[str, Any],
    *,
    evidence: str,
    unmeasured=(),
    margin: float | None = None,
    margin_metric: str | None = None,
) -> Verdict:
    """The point estimates' verdict held against the resamples (`engine.render.confidence.odds`): kept
    when the rules that give it were, between them, the first to hold in at least
    `decision.confidence` of the resamples; another verdict when its rules reached that; else
    inconclusive, with how often the point estimates' verdict held and the margin of its rule's
    comparison. Each hub question is settled the same way, on its own (`_question`)."""
    from dataclasses import replace

    need = spec.decision.confidence
    rules = spec.decision.rules
    shares = list(odds.first)
    unmeasured = tuple(unmeasured)
    common = {"resamples": odds.resamples, "evidence": evidence, "unmeasured": unmeasured}
    by_verdict = _shares_by(shares, [rule.outcome for rule in rules])
    held = by_verdict.get(point.verdict, 0.0) if point.rule is not None else 1 - sum(shares)
    if held >= need:
        chosen = point
    elif (other := next((v for v, share in by_verdict.items() if share >= need), None)) is not None:
        likeliest = max((i for i in range(len(rules)) if rules[i].outcome == other), key=lambda i: shares[i])
        chosen, held = decided(spec, likeliest, context), by_verdict[other]
    else:
        chosen = None
    shown_margin = None
    if chosen is None and margin is not None and odds.margin:
        shown_margin = {"value": margin, **odds.margin, "metric": margin_metric, "of": odds.margin_of}
    words = inconclusive_words(point.verdict, held, odds.resamples, evidence, shown_margin, unmeasured)
    source = chosen or point
    answers, questions = {}, {}
    for qid in spec.answers:  # each question settled on its own: alike in the likely rules, or inconclusive
        verdict, rule, share = _question(spec, qid, shares, need)
        if verdict is not None:
            assert rule is not None  # `_question` finds a verdict with the rule that gives it
            answer = source if rule == source.rule else decided(spec, rule, context)
            answers[qid], questions[qid] = answer.answer(qid), verdict
        elif chosen is None:
            answers[qid], questions[qid] = f"{point.answer(qid)} — {words}", "inconclusive"
        else:
            mine = _shares_by(shares, [rule.answer_verdict(qid) for rule in rules]).get(source.question(qid), 0.0)
            own = inconclusive_words(source.question(qid), mine, odds.resamples, evidence, None, unmeasured)
            answers[qid], questions[qid] = f"{source.answer(qid)} — {own}", "inconclusive"
    if chosen is not None:
        return replace(chosen, answers=answers, questions=questions, holds=held, **common)
    return Verdict(
        "inconclusive",
        f"{point.says} — {words}" if point.says else words[0].upper() + words[1:],
        point.rule,
        point.when,
        answers,
        questions,
        holds=held,
        point=point.verdict,
        margin=shown_margin,
        **common,
    )


def _question(spec, qid: str, shares, need: float) -> tuple[str | None, int | None, float]:
    """(the verdict of question `qid` that the rules first to hold give in at least `need` of the
    resamples, the likeliest of those rules, its share), or (None, None, the share of the likeliest
    verdict) when no verdict is that sure."""
    rules = spec.decision.rules
    by_verdict = _shares_by(shares, [rule.answer_verdict(qid) for rule in rules])
    found = next((v for v, share in by_verdict.items() if share >= need), None)
    if found is None:
        return None, None, max(by_verdict.values(), default=0.0)
    likeliest = max((i for i in range(len(shares)) if rules[i].answer_verdict(qid) == found), key=lambda i: shares[i])
    return found, likeliest, by_verdict[found]


def _shares_by(shares, verdicts) -> dict[str, float]:
    """The rules' shares of the resamples, summed per verdict (rule i gives `verdicts[i]`)."""
    out: dict[str, float] = {}
    for share, verdict in zip(shares, verdicts):
        out[verdict] = out.get(verdict, 0.0) + share
    return out


def share_text(share: float) -> str:
    """`62 %`, `94.7 %`, `100 %`: a share of resamples — to a tenth near the ends, where the
    thresholds are (94.7 % must not read as 95 %)."""
    percent = share * 100
    if 90 < percent < 100 or 0 < percent < 10:
        return f"{percent:.1f} %"
    return f"{percent:.0f} %"


def inconclusive_words(
    point: str, held: float, resamples: int, evidence: str, margin: Mapping[str, Any] | None, unmeasured=()
) -> str:
    """`but only as a point estimate: pass holds in 62 % of 1,000 resamples of the test rows and 5
    seeds per trial (margin +0.0012 dex, 95 % interval −0.0031 to +0.0050)`."""
    from engine.render.templates import fmt_metric, fmt_number

    text = "but only as a point estimate: " + regions_en.held(point, share_text(held), resamples, evidence, ())
    if margin:
        fmt = (lambda v: fmt_metric(margin.get("metric"), v)) if margin.get("metric") else fmt_number
        sign = lambda v: fmt(v) if str(fmt(v)).startswith(("-", "n")) else "+" + fmt(v)  # noqa: E731
        text += (
            f" (`{margin.get('of')}` holds by {sign(margin['value'])}; 95 % interval {sign(margin['lo'])} to "
            f"{sign(margin['hi'])})"
        )
    return text + regions_en.not_measured(unmeasured)


def held_words(verdict: Verdict, say: ModuleType | None = None) -> str:
    """`holds in 97 % of 1,000 resamples of the test rows and 5 seeds per trial`, and what was not
    measured, in the words of `say` (a region phrasebook, English by default); empty for a verdict
    decided without resampling, or an inconclusive one (its words say it)."""
    if verdict.resamples is None or verdict.holds is None or verdict.point is not None:
        return ""
    say = say or regions("en")
    return say.held(
        verdict.verdict, share_text(verdict.holds), verdict.resamples, verdict.evidence or "", verdict.unmeasured
    )


def _filled(text: str, key: str, expressions, context: Mapping[str, Any]) -> str:
    """A says/answer text with its `{{ … }}` evaluated: metrics in their format, numbers to 4 digits."""
    from engine.render.templates import fmt_metric, fmt_number
    from engine.spec.expressions import NoValue, fill, placeholders

    values = []
    for j, _ in enumerate(placeholders(text)):
        expression = expressions[f"{key}[{j}]"]
        try:
            value = expression.evaluate(context)
        except NoValue as error:
            values.append(no_value(error))
            continue
        refs = {f"{m.group(1)}.{m.group(2)}" for m in _METRIC_REF.finditer(expression.source)}
        plain = "/" in expression.source or "*" in expression.source or len(refs) != 1 or "round" in expression.source
        values.append(
            str(value) if isinstance(value, str) else fmt_number(value) if plain else fmt_metric(refs.pop(), value)
        )
    return fill(text, values)


def _truth(value: Any, expression) -> bool:
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool too
        return bool(value)
    raise ExpressionError(
        f"`{expression.source}` gave {value!r}, not true or false",
        path=expression.path,
        line=expression.line,
        key=expression.key,
        hint="a `when:` must be a comparison, e.g. best.r2.log_g > baseline.r2.log_g",
    )


_METRIC_REF = re.compile(rf"\b({'|'.join(METRICS)})\.({'|'.join(TARGETS)})\b")


def key_numbers(
    spec, context: Mapping[str, Any], *, only: int | None = None
) -> list[tuple[str, float | None, str | None]]:
    """(label, value, metric it shows or None) per `key_numbers:` row (or row `only`)."""
    expressions = spec.expressions()
    rows = []
    for index, row in enumerate(spec.key_numbers):
        if only is not None and index != only:
            continue
        expression = expressions[f"key_numbers[{index}].value"]
        rows.append((row.label, expression.evaluate(context), shown_metric(expression)))
    return rows


def expression_trials(
    spec, expression, *, best: str | None, baseline: str | None, ceiling: str | None, trials: Sequence[str]
) -> list[str]:
    """The trials an expression reads, in the report's order: by name (`trials.x`, or quoted, as
    in `compare('a', 'b')` and `binned[0]['cnn']`), as best / baseline / ceiling — and every
    trial of the binned tables when it reads `binned` without naming one."""
    read = set(expression.trials)
    for name, who in (("best", best), ("baseline", baseline), ("ceiling", ceiling)):
        if name in expression.names and who:
            read.add(who)
    quoted = {m.group(2) for m in re.finditer(r"(['\"])(.+?)\1", expression.source)} & set(trials)
    read |= quoted
    if "binned" in expression.names and not quoted:
        for table in spec.binned:
            read.update(table.trials or trials)
    return [t for t in trials if t in read]


def shown_metric(expression) -> str | None:
    """The one metric an expression shows, whose format its value takes; None for a ratio or a mix."""
    refs = {f"{m.group(1)}.{m.group(2)}" for m in _METRIC_REF.finditer(expression.source)}
    return None if "/" in expression.source or len(refs) != 1 else refs.pop()


def shown_value(expression, value: Any) -> str:
    """A value as a key number shows it: its metric's format, else a plain number (a live
    number in prose is formatted the same way, `engine.render.live`)."""
    from engine.render.templates import fmt_shown

    if isinstance(value, str):
        return value
    return fmt_shown(value, shown_metric(expression))
