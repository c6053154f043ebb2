"""The run record: what the hub, roadmap, kanban and `research status` read about a run.

Those pages never open a run store; they read the JSON the report carries, so the record is its
own contract with its own readers, apart from the prose regions. It also says which code the
numbers came from (the commit recorded when the trials ran, not today's HEAD), which the log row
and the reproduce region say too.
"""

from __future__ import annotations

import re
from typing import Any

from engine.notebook import record
from engine.notebook.store import engine_code_hash
from engine.render.decision import metric_value
from engine.render.render_key import render_key
from engine.render.statistics import Tables, key_number_trials, seed_std


def run_record(plan, spec, tables: Tables) -> dict[str, Any]:
    """What the hub, roadmap, kanban and `research status` need to know about this run."""
    verdict = tables.verdict
    return {
        "id": spec.id,
        "verdict": verdict.verdict if verdict else None,
        "says": verdict.says if verdict else None,
        "answers": {qid: verdict.answer(qid) for qid in spec.answers} if verdict else {},
        "questions": {qid: verdict.question(qid) for qid in spec.answers} if verdict else {},
        **({"confidence": verdict.confidence()} if verdict and verdict.confidence() else {}),
        "primary": spec.primary_metric,
        "best": tables.best,
        "baseline": tables.baseline,
        "standing": tables.standing.as_dict(),
        "references": list(spec.decision.references),
        "trials": _trial_rows(plan, spec, tables),
        "key_numbers": [
            [*row, sorted(key_number_trials(spec, i, tables)), *([sets] if (sets := _test_sets_read(spec, i)) else [])]
            for i, row in enumerate(tables.numbers)
        ],
        "spec": record.spec_digest(plan.report.front.text, plan.sets, plan.sweeps),  # the spec the numbers came from
        "rendered": render_key(plan),  # what the regions were rendered from: a store that reproduces it changes nothing
        "code": engine_code_hash(),
        "commit": _numbers_commit(plan),
        "sets": list(plan.sets),
        **({"sweeps": list(plan.sweeps)} if plan.sweeps else {}),
        **({"prerequisite": list(spec.prerequisite)} if spec.prerequisite else {}),
    }


def _trial_rows(plan, spec, tables: Tables) -> list[dict[str, Any]]:
    """The record's trial rows: a repeated trial once as the hub ranks it (the mean over its
    seeds), then every run on its own with the standard errors a reproduction is held to."""
    from engine.render.confidence import standard_errors

    cis = tables.context.get("ci", {})
    trials = []
    for name, runs in plan.groups.items():
        metrics_of = tables.results.get(name)
        spread = tables.spreads.get(name)
        first = runs[0]
        if spread is not None:  # the repeated trial as the hub ranks it: the mean over its seeds
            assert metrics_of is not None  # `repeats.fold` gives a repeated trial its means and its spread
            trials.append(
                {
                    "se": standard_errors(cis.get(name, {}), spec.interval_metrics),
                    "name": name,
                    **_described(first),
                    "metrics": {m: metric_value(metrics_of, m) for m in spec.interval_metrics},
                    "std": {m: seed_std(spread, m) for m in spec.interval_metrics},
                    "seeds": [t.config["train"]["seed"] for t in runs],
                    "stochastic": bool(tables.evidence.stochastic.get(name)),
                }
            )
        for trial in runs:
            own = trial.record.metrics if trial.record is not None else None
            repeated = trial.trial is not None and trial.trial.group is not None
            noisy = bool(tables.evidence.stochastic.get(name))
            trials.append(
                {
                    **({} if repeated else {"stochastic": noisy}),
                    **({"seeds": [trial.config["train"]["seed"]]} if noisy and not repeated else {}),
                    "se": standard_errors(
                        (tables.run_ci if repeated else cis).get(trial.name, {}), spec.interval_metrics
                    )
                    if own is not None
                    else None,
                    "name": trial.name,
                    **({"of": name} if repeated else {}),
                    "parts": trial.record.parts if trial.record is not None else None,
                    **_described(trial),
                    "metrics": {m: metric_value(own, m) for m in spec.interval_metrics} if own is not None else None,
                }
            )
    return trials


def _described(trial) -> dict[str, Any]:
    """A run's model, short config, conditions and noise, as the record's trial rows carry them."""
    split = (trial.record.info or {}).get("split") if trial.record is not None else None
    return {
        "model": str((trial.config.get("model") or {}).get("type", "?")),
        "config": record.trial_summary(trial.config),
        "conditions": record.trial_conditions(trial.config, split),
        "noise": (trial.config.get("noise") or {}).get("level"),
    }


def _test_sets_read(spec, index: int) -> list[str]:
    """The named test sets other than the primary a key number reads (`r2.log_g@noisy`): the hub
    says the conditions of the set the number was measured on, not the primary's."""
    expression = spec.expressions().get(f"key_numbers[{index}].value")
    if expression is None:
        return []
    named = set(re.findall(r"@([A-Za-z_]\w*)", expression.source))
    return [name for name in spec.test_sets if name in named and name != spec.primary_test]


def numbers_code(plan) -> tuple[str | None, bool]:
    """The code commit(s) the numbers came from, as recorded when the trials ran, and whether the
    tree was dirty then. Not today's HEAD: the run's own commit moves HEAD, and the report must not
    change because of it."""
    states = [t.record.provenance.get("git", {}) for t in plan.trials if t.record is not None]
    commits = sorted({s.get("short") for s in states if s.get("short")})
    return ", ".join(commits) or None, any(s.get("dirty") for s in states)


def commit_text(short: str | None, dirty: bool) -> str | None:
    """A commit as the log and the record show it: `abc1234`, `abc1234+dirty`, or none."""
    return short + ("+dirty" if dirty else "") if short else None


def _numbers_commit(plan) -> str | None:
    return commit_text(*numbers_code(plan))
