"""Reproduction: a trial that runs again with the key of the report's record, held against it.

A fresh clone has no run store, so `research run` trains again; so does `--retrain`, or another
machine. When a trial's key (config, data fingerprint, code) is the one the report's `record`
region names, the run is a reproduction, and every recorded metric is held to a yardstick of
the noise a correct re-run has — which depends on the trial:

* **A repeated trial of a seeded model** (`repeats:`, a net, a MoE gate, LightGBM that samples):
  another CPU's vector kernels train another network from the same seed, so a re-run moves the
  seed mean as a fresh draw of seeds would. The change is measured in spreads of the seed mean,
  sd/√k, the sd pooled over the recorded and the new seeds (2(k − 1) degrees of freedom), and
  held to the t quantile that a correct re-run exceeds with probability `false_alarm` (default
  1 %) shared by every metric of every repeated trial of the report (Bonferroni): with m such
  comparisons the tolerance is √2 · t(1 − false_alarm / 2m; 2(k − 1)). Five seeds and 14
  comparisons (the multitask example): 7.5 spreads of the seed mean, 3.4 seed sds, so a change
  of four seed sds is caught; three seeds: 13.3 spreads, 7.7 seed sds (too few to judge much).
* **A seeded model run once**: its training noise was never measured, so nothing can say how
  far a correct re-run moves it; it reproduces within `unmeasured` (default 5 %) of the metric's
  error (the MAE or RMSE itself, 1 − R², the MAE of the target for a bias).
* **A closed form** (Ridge, the Fisher ceiling): the same numbers up to floating point, so in
  bootstrap standard errors of the recorded value (`se = (CI hi − CI lo) / 3.92`), within
  `tolerance` (default 0.25; per metric with `reproduce.metrics`). A recorded standard error of
  0 compares to the record's own precision (6 significant digits).

When every trial that ran reproduces, the report keeps its numbers, tables and figures byte for
byte and nothing is committed. Beyond it, the new numbers are written, and the console and the
log say what moved, by which yardstick:

    not reproduced: equal mae.log_g 0.2254 dex → 0.2401 dex (9.1 spreads of its 5-seed mean, 0.0016 dex; tolerance 7.6; recorded at ed2f78d)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.spec.vocabulary import base_metric, split_test

SEEDS, ONE_SEED, CLOSED = "seeds", "one seed", "closed form"


def seed_tolerance(k: int, comparisons: int, false_alarm: float) -> float:
    """How many spreads of a k-seed mean a correct re-run moves it by with probability at most
    `false_alarm` / `comparisons`: √2 · t(1 − that / 2; 2(k − 1)) (the difference of two k-seed
    means, the sd pooled over both sets of seeds)."""
    from scipy.stats import t

    return math.sqrt(2.0) * float(t.ppf(1.0 - false_alarm / (2.0 * max(comparisons, 1)), 2 * (k - 1)))


@dataclass
class Change:
    metric: str
    recorded: float
    now: float
    units: float  # |now − recorded| in the yardstick's units (inf: a change where none was allowed)
    limit: float  # the tolerance, in the same units
    yardstick: str  # the units, in words: "spreads of its 5-seed mean, 0.0016 dex", "test-set standard errors"
    within: bool
    kind: str = CLOSED  # SEEDS, ONE_SEED or CLOSED

    @property
    def used(self) -> float:
        """The share of its tolerance the change used."""
        return self.units / self.limit if self.limit else (0.0 if self.units == 0 else math.inf)

    def words(self) -> str:
        """`9.1 spreads of its 5-seed mean, 0.0016 dex; tolerance 7.6`."""
        if self.kind == ONE_SEED:
            return f"{_num(self.units * 100)} % of its error ({self.yardstick}); tolerance {_num(self.limit * 100)} %"
        return f"{_num(self.units)} {self.yardstick}; tolerance {_num(self.limit)}"


@dataclass
class TrialComparison:
    """One trial (a repeated trial's seeds together) that ran again with its recorded keys."""

    name: str
    changes: list[Change] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # its runs' names (`equal.seed-43`, or itself)

    @property
    def reproduced(self) -> bool:
        return all(c.within for c in self.changes)

    @property
    def largest(self) -> Change | None:
        return max(self.changes, key=lambda c: c.used, default=None)


@dataclass
class Reproduction:
    trials: list[TrialComparison]
    commit: str | None  # where the recorded numbers came from

    @property
    def reproduced(self) -> bool:
        return bool(self.trials) and all(t.reproduced for t in self.trials)

    @property
    def runs(self) -> set[str]:
        return {run for t in self.trials for run in t.runs}

    @property
    def largest(self) -> tuple[str, Change] | None:
        found = [(t.name, t.largest) for t in self.trials if t.largest is not None]
        return max(found, key=lambda pair: pair[1].used, default=None)

    def summary(self) -> str:
        """`reproduced: 4 trials (20 runs), largest change: equal mae.log_g, 1.9 spreads of its
        5-seed mean, 0.0016 dex; tolerance 7.6`, or what did not reproduce."""
        if self.reproduced:
            n, runs = len(self.trials), len(self.runs)
            count = f"{n} trial{'s' if n != 1 else ''}" + (f" ({runs} runs)" if runs != n else "")
            top = self.largest
            if top is None:
                return f"reproduced: {count}"
            return f"reproduced: {count}, largest change: {top[0]} {top[1].metric}, {top[1].words()}"
        return "not reproduced: " + "; ".join(self.moved())

    def moved(self) -> list[str]:
        from engine.render.templates import fmt_metric

        where = f"; recorded at {self.commit}" if self.commit else ""
        out = []
        for trial in self.trials:
            for c in trial.changes:
                if not c.within:
                    out.append(
                        f"{trial.name} {c.metric} {fmt_metric(c.metric, c.recorded)} → {fmt_metric(c.metric, c.now)} "
                        f"({c.words()}{where})"
                    )
        return out


def _num(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2g}"


def compare(
    record: Mapping[str, Any] | None, trials: Sequence[Any], tolerance, *, ran: Iterable[str] | None = None
) -> Reproduction | None:
    """Hold the trials (plan trials with a `record`; a repeated trial's seeds together) whose runs
    all have the keys the report's record names against it — those among `ran` (the runs that
    trained again; default: every trial given); None when none of them is a reproduction."""
    from engine.notebook.store import KeyParts
    from engine.render.decision import metric_value
    from engine.render.repeats import fold

    if not record:
        return None
    rows = {t.get("name"): t for t in record.get("trials", []) if t.get("name")}
    groups: dict[str, list[Any]] = {}
    for trial in trials:
        if trial.record is not None:
            groups.setdefault(getattr(trial, "shown_name", trial.name), []).append(trial)
    ran = None if ran is None else set(ran)
    pending: list[tuple[str, list[Any], Any, Any, Any]] = []  # (name, runs, old row, new metrics, new spread or None)
    for name, runs in groups.items():
        if ran is not None and not any(t.name in ran for t in runs):
            continue
        if not all(
            (rows.get(t.name) or {}).get("parts") and KeyParts(**rows[t.name]["parts"]).key == t.key for t in runs
        ):
            continue
        repeated = len(runs) > 1 or (getattr(runs[0], "trial", None) is not None and runs[0].trial.group is not None)
        old = rows.get(name) if repeated else rows.get(runs[0].name)
        if not old or not old.get("metrics"):
            continue
        if repeated:
            means, spread = fold([t.record.metrics for t in runs])
            pending.append((name, runs, old, means, spread))
        else:
            pending.append((name, runs, old, runs[0].record.metrics, None))
    seeded = [
        (name, metric)
        for name, runs, old, _, spread in pending
        if spread is not None and old.get("stochastic", True)
        for metric, value in old["metrics"].items()
        if value is not None
    ]
    out = []
    for name, runs, old, now_metrics, spread in pending:
        comparison = TrialComparison(name, runs=[t.name for t in runs])
        for metric, value in old["metrics"].items():
            now = metric_value(now_metrics, metric)
            if value is None or now is None:
                continue
            comparison.changes.append(
                _change(
                    metric, float(value), float(now), old, spread, runs, now_metrics, tolerance, comparisons=len(seeded)
                )
            )
        out.append(comparison)
    return Reproduction(out, record.get("commit")) if out else None


def _change(
    metric: str,
    value: float,
    now: float,
    old: Mapping[str, Any],
    spread,
    runs,
    now_metrics,
    tolerance,
    *,
    comparisons: int,
) -> Change:
    """One metric of one trial, held to its yardstick (see the module's docstring)."""
    from engine.render.decision import metric_value
    from engine.render.templates import fmt_metric

    gap = abs(now - value)
    if spread is not None and old.get("stochastic", True):
        k = len(runs)
        entry = metric_value(spread, metric)  # a repeated trial's spread: {mean, std, n, values}
        new_sd = (entry.get("std") if isinstance(entry, Mapping) else None) or 0.0
        old_sd = float((old.get("std") or {}).get(metric) or 0.0)
        pooled = math.sqrt((old_sd**2 + float(new_sd) ** 2) / 2)
        if pooled > 0 and k > 1:
            sem = pooled / math.sqrt(k)
            limit = seed_tolerance(k, comparisons, tolerance.false_alarm)
            return Change(
                metric,
                value,
                now,
                gap / sem,
                limit,
                f"spreads of its {k}-seed mean, {fmt_metric(metric, sem)}",
                gap / sem <= limit,
                SEEDS,
            )
    elif old.get("stochastic"):
        scale = _error_scale(metric, value, now_metrics)
        units = gap / scale if scale > 0 else (0.0 if gap == 0 else math.inf)
        return Change(
            metric,
            value,
            now,
            units,
            tolerance.unmeasured,
            "one seed: its training noise was not measured",
            units <= tolerance.unmeasured,
            ONE_SEED,
        )
    limit = tolerance.metrics.get(metric, tolerance.tolerance)
    se = float((old.get("se") or {}).get(metric) or 0.0)
    if se > 0:
        return Change(metric, value, now, gap / se, limit, "test-set standard errors", gap / se <= limit, CLOSED)
    within = gap <= 1e-5 * abs(value) + 1e-12
    return Change(metric, value, now, 0.0 if within else math.inf, limit, "test-set standard errors", within, CLOSED)


def _error_scale(metric: str, value: float, now_metrics: Mapping[str, Any]) -> float:
    """The error a metric's change is a fraction of: the MAE or RMSE itself, 1 − R², and for a
    bias the MAE of its target (on the same test set)."""
    from engine.render.decision import metric_value

    name = base_metric(metric)
    if name == "r2":
        return max(1.0 - value, 1e-12)
    if name == "bias":
        base, test = split_test(metric)
        mae = metric_value(now_metrics, f"mae.{base.split('.', 1)[1]}" + (f"@{test}" if test else ""))
        return abs(float(mae)) if mae else abs(value)
    return abs(value)


def reproduce_report(path, *, say=print, progress=None) -> tuple[Reproduction | None, list[str]]:
    """`research reproduce`: retrain every trial of a report into a scratch store and hold it
    against the report's record, writing nothing; (the comparison, the trials that cannot be
    compared because their key is not the recorded one)."""
    import shutil
    import tempfile
    from pathlib import Path

    from engine.errors import ResearchError
    from engine.notebook import paths
    from engine.notebook import record as run_record
    from engine.notebook.config import notebook_config
    from engine.notebook.store import KeyParts, RunStore, TrialRecord
    from engine.numerics import pin
    from engine.run.executors import run_trials
    from engine.run.plan import Reason, make_plan
    from engine.run.validate import validate

    text_record = run_record.parse(Path(path).read_text(encoding="utf-8"), str(path))
    pin(notebook_config(paths.notebook_root(Path(path))).numerics, say=say)  # the kernels a run of it would use
    if not text_record:
        raise ResearchError("has no run record to reproduce", path=path, hint=f"run it first: research run {path}")
    plan = make_plan(path, sets=text_record.get("sets") or [], sweeps=text_record.get("sweeps") or [])
    validate(plan, data=True, scan=True, build=True, force=True)
    recorded = {t.get("name"): t for t in text_record.get("trials", []) if t.get("parts")}
    comparable = [
        t
        for t in plan.trials
        if t.name in recorded and KeyParts(**recorded[t.name]["parts"]).key == t.key and not t.twin
    ]  # a twin is its first trial's training: reproduced once
    changed = [t.name for t in plan.trials if t not in comparable]
    with tempfile.TemporaryDirectory(prefix="research-reproduce-") as scratch:
        real, plan.store = plan.store, RunStore(scratch)
        for trial in comparable:
            trial.record, trial.reason = None, Reason.RETRAIN
        retrained = {t.key for t in comparable}
        for trial in comparable:  # a stored trial read from another report (or not retrained here): as stored
            for key in trial.uses.values():
                if key not in retrained and real.path(key).is_dir() and not plan.store.path(key).exists():
                    shutil.copytree(real.path(key), plan.store.path(key))
        for trial, result, error, _ in run_trials(
            plan.in_order(comparable),
            base_dir=plan.report.path.parent,
            cache_dir=paths.cache_dir(plan.root),
            device=None,
            say=say,
            progress=progress,
            store_dir=plan.store.folder,
        ):
            if error is not None:
                say(f"    failed: {error}")
                continue
            trial.record = TrialRecord(key=trial.key, trial=trial.name, config=trial.config, metrics=result.metrics)
            plan.store.save(trial.record, result.predictions, model=result.model_file)  # a later trial may read it
    return compare(text_record, [t for t in comparable if t.record is not None], plan.report.spec.reproduce), changed
