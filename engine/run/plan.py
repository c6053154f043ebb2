"""The plan of a run: every resolved trial of a report, with its cache key and why it runs.

    plan = make_plan("research/logg_1m/exp/exp_logg_1m_multitask.md", sets=["train.epochs=1"])
    [(t.name, t.reason) for t in plan.trials]     # [("single-task", Reason.CACHED), …]

Planning reads only text and small JSON files (no ML library): a cached re-run, `research
check` and `--dry-run` stay fast. A trial is cached when the run store has a record for its key
(config + data fingerprint + the code that produces numbers); otherwise the reason says what
changed since the trial last ran here.

A trial whose model reads another trial's stored result (`model: {from: cand}`, a probe's
`of`, a mixture's `experts_from`), or whose inputs read a stored net's latent (`inputs:
{latent: {of: cnn}}`; see `engine.run.sources`), has that trial's key in its own: its config
part is the hash of (config, {parameter: source key}), so it runs again when its source changed
("source changed"). The plan runs sources first (`Plan.to_run` is in that order); a
source of another report is read at the key its run record names, and a problem with it (the
report missing, not done, stale, its model not stored here) is kept on the trial for
`engine.run.validate` to locate — planning itself never refuses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from engine.errors import DataError, ResearchError, did_you_mean
from engine.models.configs import shown_config
from engine.notebook import paths
from engine.notebook.report import Report, load_report
from engine.notebook.store import (
    KeyParts,
    ReportIndex,
    RunStore,
    TrialRecord,
    digest,
    engine_code_hash,
    key_parts,
    plugin_code_hash,
)
from engine.run.sources import Source, references, resolve_other
from engine.spec.sweep import member_name


class Reason(str, Enum):
    """Why a trial runs, or that it does not."""

    CACHED = "cached"
    NEW = "new"
    SPEC_CHANGED = "spec changed"
    DATA_CHANGED = "data changed"
    CODE_CHANGED = "code changed"
    SOURCE_CHANGED = "source changed"  # a stored trial its model reads has another key
    RETRAIN = "retrain"  # --retrain, or reproduce: trained again though its key is stored
    SKIPPED = "skipped"  # left out by --trial, with no stored result
    SAME = "same key"  # an earlier trial of the report has its key: it trains once, for both

    def __str__(self) -> str:
        return self.value

    @property
    def runs(self) -> bool:
        return self not in (Reason.CACHED, Reason.SKIPPED, Reason.SAME)


_REASONS = {
    "new": Reason.NEW,
    "spec changed": Reason.SPEC_CHANGED,
    "data changed": Reason.DATA_CHANGED,
    "code changed": Reason.CODE_CHANGED,
}


@dataclass
class TrialPlan:
    name: str
    config: dict[str, Any]
    parts: KeyParts
    reason: Reason
    record: TrialRecord | None = None
    error: str | None = None
    trial: Any = None  # the resolved engine.spec.Trial (its origins locate errors)
    sources: list[Source] = field(default_factory=list)  # the stored trials its model reads
    uses: dict[str, str] = field(default_factory=dict)  # model parameter → the source trial's key
    changes: list[str] = field(
        default_factory=list
    )  # what changed since the trial's last run: `model.alpha: 1e5 → 1e4`
    twin: str | None = None  # the earlier trial with this trial's key (a sweep value equal to a written trial)
    #: the model's config object as validation checked it (`engine.models.validate`), handed to
    #: the model as it is; None before validation, and for a plugin (its params go as written)
    model_config: Any = None

    @property
    def needs(self) -> list[str]:
        """The trials of this report whose stored result this trial reads (they run first)."""
        return [s.trial for s in self.sources if s.report is None and s.trial]

    @property
    def key(self) -> str:
        return self.parts.key

    @property
    def shown_name(self) -> str:
        """The trial the report shows this run under: its repeat group (`equal` for
        `equal.seed-43`), or its own name."""
        return self.trial.shown_name if self.trial is not None else self.name

    @property
    def why(self) -> str:
        """The reason as a dry run prints it."""
        return f"same as {self.twin}" if self.twin else str(self.reason)

    @property
    def cached(self) -> bool:
        return self.reason is Reason.CACHED

    @property
    def runs(self) -> bool:
        return self.reason.runs


@dataclass
class Plan:
    report: Report
    root: Path
    store: RunStore
    index: ReportIndex
    trials: list[TrialPlan]
    sets: list[str] = field(default_factory=list)
    sweeps: list[str] = field(default_factory=list)  # --sweep options, as given
    selected: list[str] = field(default_factory=list)

    order: list[str] = field(default_factory=list)  # the trials' names, every source before its readers

    @property
    def to_run(self) -> list[TrialPlan]:
        """The trials that run, sources before the trials that read them (else in the file's order)."""
        return self.in_order([t for t in self.trials if t.runs])

    @property
    def groups(self) -> dict[str, list[TrialPlan]]:
        """The trials as the report shows them → their runs: the seeds of a repeated trial, or the
        trial itself; in the file's order."""
        out: dict[str, list[TrialPlan]] = {}
        for trial in self.trials:
            out.setdefault(trial.shown_name, []).append(trial)
        return out

    @property
    def twins(self) -> dict[str, list[str]]:
        """A shown trial → the later shown trials whose every run has its key: one model, shown
        once, under the first name (`mlp (= lr-0.001)`)."""
        out: dict[str, list[str]] = {}
        shown_of = {t.name: t.shown_name for t in self.trials}
        for name, runs in self.groups.items():
            firsts = {shown_of.get(t.twin) if t.twin else None for t in runs}
            if all(t.twin for t in runs) and len(firsts) == 1 and (first := firsts.pop()) not in (None, name):
                out.setdefault(first, []).append(name)
        return out

    def share_twins(self) -> None:
        """Give each trial its twin's result: the one training both stand for."""
        by_name = {t.name: t for t in self.trials}
        for trial in self.trials:
            if trial.twin and trial.record is None:
                trial.record = by_name[trial.twin].record
                trial.error = by_name[trial.twin].error

    def in_order(self, trials: Sequence[TrialPlan]) -> list[TrialPlan]:
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(trials, key=lambda t: rank.get(t.name, len(rank)))


def locate_data_error(spec, trial, error: DataError, report_path: Path) -> DataError:
    """A data problem (raised with a dataset or file as its place) put at the report's line of
    the key that holds it: a dotted `data.*` key the error names (`data.tests.ext.source`),
    else `data.source` — the trial's override when it has one — naming the file in the message."""
    origin = trial.origin_of("data.source") if trial is not None else None
    named = error.key is not None and error.key.startswith("data.") and error.key != "data.source"
    if named:
        key_origin = trial.origin_of(error.key) if trial is not None else None
        line = spec.line_of(tuple(key_origin)) if isinstance(key_origin, tuple) else spec.line_of(error.key)
    else:
        line = spec.line_of(tuple(origin)) if isinstance(origin, tuple) else spec.line_of("data.source")
    where = error.path
    message = error.message if not error.key or error.key.startswith("data.") else f"{error.key}: {error.message}"
    if where and where != str(report_path):
        message = f"{message} ({where})"
    key = error.key if named else "data.source"
    if isinstance(origin, tuple) and len(spec.trial_names) > 1:
        message = f"{message} (trial '{trial.name}')"
    return DataError(message, path=report_path, line=line, key=key, hint=error.hint)


def _changes(reason: Reason, before, parts: KeyParts, config, store: RunStore) -> list[str]:
    """What moved since the trial's last run here, in words a dry run prints: the config keys
    whose values differ (from the stored record of the last key), or the data or code hash."""
    if not before:
        return []
    if reason is Reason.SPEC_CHANGED:
        previous = KeyParts(config=before.get("config", ""), data=before.get("data", ""), code=before.get("code", ""))
        old = store.load(previous.key)
        if old is None:  # that run's record is not in this store (another machine's, or removed)
            return []
        was, now = config_leaves(shown_config(old.config)), config_leaves(shown_config(config))
        return [
            f"{key}: {shown_value(was.get(key, ABSENT))} → {shown_value(now.get(key, ABSENT))}"
            for key in sorted(set(was) | set(now))
            if was.get(key, ABSENT) != now.get(key, ABSENT)
        ]
    if reason is Reason.DATA_CHANGED:
        return [f"data: {before.get('data')} → {parts.data} (the files' fingerprint)"]
    if reason is Reason.CODE_CHANGED:
        return [f"code: {before.get('code')} → {parts.code} (engine/models, engine/data, engine/metrics.py, plugins)"]
    return []


ABSENT = object()


def config_leaves(config, prefix: str = "") -> dict[str, Any]:
    """A nested config as dotted keys (`model.alpha`): what "which keys changed" compares."""
    out: dict[str, Any] = {}
    for key, value in (config or {}).items():
        if isinstance(value, dict) and value:
            out.update(config_leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def shown_value(value) -> str:
    """A config value as `old → new` prints it: floats short, strings bare, the rest as JSON."""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def make_plan(
    path: str | Path,
    *,
    sets: Sequence[str] = (),
    sweeps: Sequence[str] = (),
    trials: Sequence[str] = (),
    retrain: bool = False,
    device: str | None = None,
    _visiting: frozenset = frozenset(),
) -> Plan:
    """Resolve the trials and say, for each, whether it is a cache hit or why it runs."""
    from engine.run.fingerprint import data_fingerprint
    from engine.spec import parse_set_option, parse_sweep_option

    report = load_report(path)
    if sweeps:  # the grid the command line adds: the plan's report carries the swept spec
        report = report.with_spec(report.spec.with_sweep(dict(parse_sweep_option(s) for s in sweeps)))
    spec = report.spec
    root = paths.notebook_root(report.path)
    store = RunStore(paths.runs_dir(root))
    index = ReportIndex(paths.state_dir(root))
    overrides = dict(parse_set_option(item) for item in sets)
    if device:
        overrides["train.device"] = device
    resolved = spec.resolve_trials(overrides)
    names = [t.name for t in resolved]
    shown = list(dict.fromkeys(t.shown_name for t in resolved))
    for name in trials:
        if name not in names and name not in shown:
            raise ResearchError(
                f"no trial named '{name}'",
                path=report.path,
                key="--trial",
                hint=did_you_mean(name, shown + names) or f"trials: {', '.join(shown)}",
            )
    trials = [t.name for t in resolved if t.name in trials or t.shown_name in trials] if trials else trials
    previous = index.read(spec.id).get("trials", {})
    code = engine_code_hash()
    base = {}
    for trial in resolved:
        plugin = plugin_code_hash(trial.model.type, root)
        try:
            fingerprint = data_fingerprint(trial.data, base_dir=report.path.parent, cache_dir=paths.cache_dir(root))
        except DataError as error:  # a data file that is not there: at the line that names it
            raise locate_data_error(spec, trial, error, report.path) from None
        base[trial.name] = (
            fingerprint,
            code if plugin is None else f"{code}+{plugin}",
            references(trial.config.get("model") or {}, report.path.parent, trial.inputs),
        )
    _pair_seeds(resolved, base, names)
    order, cyclic = _order(
        {name: [s.trial for s in refs if s.report is None] for name, (_, _, refs) in base.items()}, names
    )
    memo: dict = {}
    keys: dict[str, str] = {}
    first_with: dict[str, str] = {}  # a key → the first trial that has it
    planned = {}
    for name in order + cyclic:
        trial = next(t for t in resolved if t.name == name)
        fingerprint, code_part, refs = base[name]
        for source in refs:
            if source.problem is not None:
                continue
            if source.report is not None:
                resolve_other(
                    source,
                    me=report.path,
                    root=root,
                    store=store,
                    make_plan=make_plan,
                    visiting=frozenset(_visiting) | {report.path},
                    memo=memo,
                )
            elif source.trial not in names:
                source.fail(
                    f"no trial named '{source.trial}'",
                    hint=did_you_mean(source.trial, names) or f"trials: {', '.join(names)}",
                )
            elif source.trial == name:
                source.fail(f"trial '{name}' reads its own model", hint="name another trial, one that trains a model")
            elif source.trial in cyclic:
                source.fail(
                    f"trial '{name}' reads '{source.trial}', which reads it in turn (a cycle of {', '.join(cyclic)})"
                )
            else:
                source.key = keys[source.trial]
        uses = {s.param: s.key if s.key is not None else f"unresolved:{s.ref}" for s in refs}
        read = shown_config(trial.config)  # what the model reads: a Ridge's key holds no epochs
        if refs:
            parts = KeyParts(config=digest(read, sorted(uses.items())), data=fingerprint, code=code_part)
        else:
            parts = key_parts(read, fingerprint, code_part)
        keys[name] = parts.key
        selected = not trials or trial.name in trials
        record = store.load(parts.key)
        before = previous.get(trial.name)
        twin = first_with.setdefault(parts.key, name)
        if twin != name:
            planned[name] = TrialPlan(
                trial.name, trial.config, parts, Reason.SAME, record, trial=trial, sources=refs, uses=uses, twin=twin
            )
            if selected and retrain:  # asked for by its second name: the one model of this key trains
                planned[twin].reason = Reason.RETRAIN
            elif selected and planned[twin].reason is Reason.SKIPPED:
                planned[twin].reason = _REASONS[parts.reason_against(before)]
            continue
        if retrain and selected:
            reason = Reason.RETRAIN
        elif record is not None:
            reason = Reason.CACHED
        elif not selected:
            reason = Reason.SKIPPED
        elif (
            refs
            and before
            and before.get("uses")
            and before.get("uses") != uses
            and before.get("config") == digest(read, sorted(before["uses"].items()))
        ):
            reason = Reason.SOURCE_CHANGED
        else:
            reason = _REASONS[parts.reason_against(before)]
        planned[name] = TrialPlan(
            trial.name,
            trial.config,
            parts,
            reason,
            record,
            trial=trial,
            sources=refs,
            uses=uses,
            changes=_changes(reason, before, parts, trial.config, store),
        )
    return Plan(
        report,
        root,
        store,
        index,
        [planned[t.name] for t in resolved],
        list(sets),
        list(sweeps),
        list(trials),
        order=order + cyclic,
    )


def _pair_seeds(resolved, base, names) -> None:
    """A repeated trial that names another repeated trial by its group (`of: cnn` in a probe
    repeated over seeds 42–44, `cnn` repeated too) reads that trial's run with its own seed:
    `probe.seed-43` reads `cnn.seed-43`, so the probe's spread over seeds is the spread of the
    nets it reads, not one net read three times."""
    for trial in resolved:
        if trial.group is None:
            continue
        for source in base[trial.name][2]:
            paired = member_name(source.trial, trial.train.seed)
            if source.report is None and source.trial not in names and paired in names:
                source.trial = paired


def _order(needs: dict[str, list[str]], names: list[str]) -> tuple[list[str], list[str]]:
    """(the trials with every source before its readers, in the file's order otherwise; the
    trials caught in a cycle of sources, or reading one)."""
    done: list[str] = []
    left = list(names)
    while True:
        ready = [n for n in left if n not in needs[n] and all(d in done or d not in names for d in needs[n])]
        if not ready:
            return done, left
        first = ready[0]  # one at a time: the file's order among the ready ones
        done.append(first)
        left.remove(first)
