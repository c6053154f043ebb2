"""The plan of a run: every resolved trial of a report, with its cache key and why it runs.

    plan = make_plan("research/logg_1m/exp/exp_logg_1m_multitask.md", sets=["train.epochs=1"])
    [(t.name, t.reason) for t in plan.trials]     # [("single-task", Reason.CACHED), …]

Planning reads only text and small JSON files (no ML library): a cached re-run, `research
check` and `--dry-run` stay fast. A trial is cached when the run store has a record for its key
(config + data fingerprint + the code that produces numbers); otherwise the reason says what
changed since the trial last ran here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from . import paths
from .errors import DataError, ResearchError, did_you_mean
from .report import Report, load_report
from .store import KeyParts, ReportIndex, RunStore, TrialRecord, engine_code_hash, key_parts, plugin_code_hash


class Reason(str, Enum):
    """Why a trial runs, or that it does not."""

    CACHED = "cached"
    NEW = "new"
    SPEC_CHANGED = "spec changed"
    DATA_CHANGED = "data changed"
    CODE_CHANGED = "code changed"
    FORCED = "forced"
    SKIPPED = "skipped"  # left out by --trial, with no stored result

    def __str__(self) -> str:
        return self.value

    @property
    def runs(self) -> bool:
        return self not in (Reason.CACHED, Reason.SKIPPED)


_REASONS = {"new": Reason.NEW, "spec changed": Reason.SPEC_CHANGED, "data changed": Reason.DATA_CHANGED,
            "code changed": Reason.CODE_CHANGED}  # fmt: skip


@dataclass
class TrialPlan:
    name: str
    config: dict[str, Any]
    parts: KeyParts
    reason: Reason
    record: TrialRecord | None = None
    error: str | None = None
    trial: Any = None  # the resolved engine.spec.Trial (its origins locate errors)

    @property
    def key(self) -> str:
        return self.parts.key

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
    selected: list[str] = field(default_factory=list)

    @property
    def to_run(self) -> list[TrialPlan]:
        return [t for t in self.trials if t.runs]

    @property
    def with_results(self) -> list[str]:
        """The trials that will have a result if every trial that runs succeeds."""
        return [t.name for t in self.trials if t.reason is not Reason.SKIPPED]


def locate_data_error(spec, trial, error: DataError, report_path: Path) -> DataError:
    """A data problem (raised with a dataset or file as its place) put at the report's line of
    `data.source` — the trial's override when it has one — naming the file in the message."""
    origin = trial.origin_of("data.source") if trial is not None else None
    line = spec.line_of(tuple(origin)) if isinstance(origin, tuple) else spec.line_of("data.source")
    where = error.path
    message = error.message if not error.key or error.key.startswith("data.") else f"{error.key}: {error.message}"
    if where and where != str(report_path):
        message = f"{message} ({where})"
    key = error.key if error.key and error.key.startswith("data.") else "data.source"
    if isinstance(origin, tuple) and len(spec.trial_names) > 1:
        message = f"{message} (trial '{trial.name}')"
    return DataError(message, path=report_path, line=line, key=key, hint=error.hint)


def make_plan(
    path: str | Path,
    *,
    sets: Sequence[str] = (),
    trials: Sequence[str] = (),
    force: bool = False,
    device: str | None = None,
) -> Plan:
    """Resolve the trials and say, for each, whether it is a cache hit or why it runs."""
    from .fingerprint import data_fingerprint
    from .spec import parse_set_option

    report = load_report(path)
    spec = report.spec
    root = paths.notebook_root(report.path)
    store = RunStore(paths.runs_dir(root))
    index = ReportIndex(paths.state_dir(root))
    overrides = dict(parse_set_option(item) for item in sets)
    if device:
        overrides["train.device"] = device
    resolved = spec.resolve_trials(overrides)
    names = [t.name for t in resolved]
    for name in trials:
        if name not in names:
            raise ResearchError(f"no trial named '{name}'", path=report.path, key="--trial",
                                hint=did_you_mean(name, names) or f"trials: {', '.join(names)}")
    previous = index.read(spec.id).get("trials", {})
    code = engine_code_hash()
    planned = []
    for trial in resolved:
        plugin = plugin_code_hash(trial.model.type, root)
        try:
            fingerprint = data_fingerprint(trial.data, base_dir=report.path.parent, cache_dir=paths.cache_dir(root))
        except DataError as error:  # a data file that is not there: at the line that names it
            raise locate_data_error(spec, trial, error, report.path) from None
        parts = key_parts(trial.config, fingerprint, code if plugin is None else f"{code}+{plugin}")
        selected = not trials or trial.name in trials
        record = store.load(parts.key)
        if force and selected:
            reason = Reason.FORCED
        elif record is not None:
            reason = Reason.CACHED
        elif not selected:
            reason = Reason.SKIPPED
        else:
            reason = _REASONS[parts.reason_against(previous.get(trial.name))]
        planned.append(TrialPlan(trial.name, trial.config, parts, reason, record, trial=trial))
    return Plan(report, root, store, index, planned, list(sets), list(trials))
