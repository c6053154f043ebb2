"""Reproduction: a trial that runs again with the key of the report's record, held against it.

A fresh clone has no run store, so `research run` trains again; so does `--force`, or another
machine. When the trial's key (config, data fingerprint, code) is the one the report's `record`
region names, the run is a reproduction, and every recorded metric is compared with the new one
in units of its recorded bootstrap standard error:

    change = |new − recorded| / se(recorded)        se = (CI hi − CI lo) / (2 · 1.96)

A change within the tolerance (`reproduce.tolerance`, default 0.25 standard errors; per metric
with `reproduce.metrics`) is the same result: floating-point differences between machines and
BLAS builds move a metric by ~0.01–0.1 standard errors, while a change of code or data that
matters moves it by one or more. When every trial that ran reproduces, the report keeps its
numbers, tables and figures byte for byte and nothing is committed. Beyond it, the new numbers
are written, and the console and the log say what moved:

    not reproduced: cand mae.log_g 0.2275 → 0.2401 dex (2.8 standard errors; recorded at ed2f78d)

A recorded standard error of 0 (a metric with no spread) compares the values to the record's
own precision (6 significant digits).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .spec.vocabulary import metric_parts

Z95 = 1.959964


def standard_errors(ci: Mapping[str, Any], metrics: Iterable[str]) -> dict[str, float]:
    """The bootstrap standard error of each metric from its 95 % interval (`ci[metric][target]`)."""
    out = {}
    for dotted in metrics:
        metric, target = metric_parts(dotted)
        interval = (ci.get(metric) or {}).get(target)
        if interval and interval.get("hi") is not None and interval.get("lo") is not None:
            out[dotted] = (float(interval["hi"]) - float(interval["lo"])) / (2 * Z95)
    return out


@dataclass
class Change:
    metric: str
    recorded: float
    now: float
    in_se: float  # |now − recorded| in recorded standard errors (inf when se is 0 and they differ)
    within: bool


@dataclass
class TrialComparison:
    """One trial that ran again with its recorded key."""

    name: str
    changes: list[Change] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return all(c.within for c in self.changes)

    @property
    def largest(self) -> float:
        return max((c.in_se for c in self.changes), default=0.0)


@dataclass
class Reproduction:
    trials: list[TrialComparison]
    commit: str | None  # where the recorded numbers came from

    @property
    def reproduced(self) -> bool:
        return bool(self.trials) and all(t.reproduced for t in self.trials)

    @property
    def largest(self) -> float:
        return max((t.largest for t in self.trials), default=0.0)

    def summary(self) -> str:
        """`reproduced: 4 trials, largest change 0.03 standard errors`, or what did not reproduce."""
        if self.reproduced:
            n = len(self.trials)
            return f"reproduced: {n} trial{'s' if n != 1 else ''}, largest change {_se(self.largest)} standard errors"
        return "not reproduced: " + "; ".join(self.moved())

    def moved(self) -> list[str]:
        from .render import fmt_metric

        where = f"; recorded at {self.commit}" if self.commit else ""
        out = []
        for trial in self.trials:
            for c in trial.changes:
                if not c.within:
                    out.append(f"{trial.name} {c.metric} {fmt_metric(c.metric, c.recorded)} → {fmt_metric(c.metric, c.now)} "
                               f"({_se(c.in_se)} standard errors{where})")
        return out


def _se(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2g}"


def compare(record: Mapping[str, Any] | None, trials: Sequence[Any], tolerance) -> Reproduction | None:
    """Hold each of `trials` (plan trials with a fresh `record`) whose key is the recorded one
    against the report's record; None when none of them is a reproduction."""
    from .decision import metric_value
    from .store import KeyParts

    if not record:
        return None
    recorded = {t.get("name"): t for t in record.get("trials", []) if t.get("parts") and t.get("metrics")}
    out = []
    for trial in trials:
        old = recorded.get(trial.name)
        if old is None or trial.record is None or KeyParts(**old["parts"]).key != trial.key:
            continue
        comparison = TrialComparison(trial.name)
        se = old.get("se") or {}
        for metric, value in old["metrics"].items():
            now = metric_value(trial.record.metrics, metric)
            if value is None or now is None:
                continue
            limit = tolerance.metrics.get(metric, tolerance.tolerance)
            spread = float(se.get(metric) or 0.0)
            gap = abs(float(now) - float(value))
            if spread > 0:
                in_se = gap / spread
                within = in_se <= limit
            else:
                within = gap <= 1e-5 * abs(float(value)) + 1e-12
                in_se = 0.0 if within else math.inf
            comparison.changes.append(Change(metric, float(value), float(now), in_se, within))
        out.append(comparison)
    return Reproduction(out, record.get("commit")) if out else None


def reproduce_report(path, *, say=print, progress=None) -> tuple[Reproduction | None, list[str]]:
    """`research reproduce`: retrain every trial of a report into a scratch store and hold it
    against the report's record, writing nothing; (the comparison, the trials that cannot be
    compared because their key is not the recorded one)."""
    import shutil
    import tempfile
    from pathlib import Path

    from . import paths, record as run_record
    from .errors import ResearchError
    from .executors import run_trials
    from .plan import Reason, make_plan
    from .store import KeyParts, RunStore, TrialRecord
    from .validate import validate

    text_record = run_record.parse(Path(path).read_text(encoding="utf-8"), str(path))
    if not text_record:
        raise ResearchError("has no run record to reproduce", path=path, hint=f"run it first: research run {path}")
    plan = make_plan(path, sets=text_record.get("sets") or [], sweeps=text_record.get("sweeps") or [])
    validate(plan, data=True, scan=True, build=True, force=True)
    recorded = {t.get("name"): t for t in text_record.get("trials", []) if t.get("parts")}
    comparable = [t for t in plan.trials if t.name in recorded and KeyParts(**recorded[t.name]["parts"]).key == t.key]
    changed = [t.name for t in plan.trials if t not in comparable]
    with tempfile.TemporaryDirectory(prefix="research-reproduce-") as scratch:
        real, plan.store = plan.store, RunStore(scratch)
        for trial in comparable:
            trial.record, trial.reason = None, Reason.FORCED
        retrained = {t.key for t in comparable}
        for trial in comparable:  # a stored trial read from another report (or not retrained here): as stored
            for key in trial.uses.values():
                if key not in retrained and real.path(key).is_dir() and not plan.store.path(key).exists():
                    shutil.copytree(real.path(key), plan.store.path(key))
        for trial, result, error, _ in run_trials(plan.in_order(comparable), base_dir=plan.report.path.parent,
                                                  cache_dir=paths.cache_dir(plan.root), device=None, say=say, progress=progress,
                                                  store_dir=plan.store.folder):
            if error is not None:
                say(f"    failed: {error}")
                continue
            trial.record = TrialRecord(key=trial.key, trial=trial.name, config=trial.config, metrics=result.metrics)
            plan.store.save(trial.record, result.predictions, model=result.model_file)  # a later trial may read it
    return compare(text_record, [t for t in comparable if t.record is not None], plan.report.spec.reproduce), changed
