"""`research run`: plan the trials of a report, run what is not cached, write the report.

    plan = make_plan("research/logg_1m/exp/exp_logg_1m_multitask.md")
    outcome = execute(plan)

Planning reads only text and small JSON files (no ML library), so a fully cached re-run is
fast: when every trial is in the store and the report already shows what would be rendered,
nothing is imported, rendered or written.
"""

from __future__ import annotations

import datetime as dt
import os
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import document, paths, textfile
from .errors import DocumentError, RegionEditedError, ResearchError
from .report import Report, load_report
from .store import KeyParts, RunStore, TrialRecord, digest, engine_code_hash, key_parts, plugin_code_hash


@dataclass
class TrialPlan:
    name: str
    config: dict[str, Any]
    parts: KeyParts
    reason: str  # "cached", "new", "spec changed", "data changed", "code changed", "forced"
    record: TrialRecord | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return self.parts.key

    @property
    def cached(self) -> bool:
        return self.reason == "cached"


@dataclass
class Plan:
    report: Report
    root: Path
    store: RunStore
    trials: list[TrialPlan]
    sets: list[str] = field(default_factory=list)
    selected: list[str] = field(default_factory=list)

    @property
    def to_run(self) -> list[TrialPlan]:
        return [t for t in self.trials if not t.cached]


def index_path(root: Path, report_id: str) -> Path:
    """Per report: which key each trial had last time (to say why a trial runs again)."""
    return paths.state_dir(root) / "reports" / f"{report_id}.json"


def read_index(root: Path, report_id: str) -> dict[str, Any]:
    try:
        return json.loads(index_path(root, report_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_index(root: Path, report_id: str, data: Mapping[str, Any]) -> None:
    path = index_path(root, report_id)
    textfile.atomic_write(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))


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
    overrides = dict(parse_set_option(item) for item in sets)
    if device:
        overrides["train.device"] = device
    resolved = spec.resolve_trials(overrides)
    unknown = [name for name in trials if name not in {t.name for t in resolved}]
    if unknown:
        from .errors import did_you_mean

        raise ResearchError(
            f"no trial named '{unknown[0]}'",
            path=report.path,
            key="--trial",
            hint=did_you_mean(unknown[0], [t.name for t in resolved]) or f"trials: {', '.join(t.name for t in resolved)}",
        )
    previous = read_index(root, spec.id).get("trials", {})
    code = engine_code_hash()
    planned = []
    for trial in resolved:
        plugin = plugin_code_hash(trial.model.type, root)
        fingerprint = data_fingerprint(trial.data, base_dir=report.path.parent, cache_dir=paths.cache_dir(root))
        parts = key_parts(trial.config, fingerprint, code if plugin is None else f"{code}+{plugin}")
        selected = not trials or trial.name in trials
        record = store.load(parts.key)
        if record is not None and not (force and selected):
            reason = "cached"
        elif force and selected:
            reason = "forced"
        else:
            reason = parts.reason_against(previous.get(trial.name))
        if not selected and record is None:
            reason = "skipped"
        planned.append(TrialPlan(trial.name, trial.config, parts, reason, record))
    return Plan(report, root, store, planned, list(sets), list(trials))


Say = Callable[[str], None]


@dataclass
class Outcome:
    plan: Plan
    verdict: Any = None
    written: list[Path] = field(default_factory=list)
    commit: str | None = None
    failed: list[TrialPlan] = field(default_factory=list)
    changed: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def execute(
    plan: Plan,
    *,
    device: str | None = None,
    say: Say = print,
    progress=None,
    force_regions: bool = False,
    commit: bool = True,
    executor: str = "local",
    address: str | None = None,
) -> Outcome:
    """Run the trials that are not cached (here or on Ray), store them, then write the report."""

    report = plan.report
    outcome = Outcome(plan)
    to_run = [t for t in plan.trials if t.reason not in ("cached", "skipped")]
    check_pages(report)  # a missing hub or an unknown question id stops the run before any work
    if not force_regions:  # refuse before training and before touching the file, not after
        text = textfile.read_text(report.path)
        for region in document.edited_regions(text, str(report.path)):
            raise RegionEditedError(
                f"region '{region.name}' was edited by hand since the engine wrote it",
                path=report.path,
                line=region.start_line,
                hint="move your words outside the markers (they would be overwritten), or pass --force to discard the edit",
            )
    if to_run:
        from .provenance import git_state

        code_state = git_state(plan.root)  # before the status edit below makes the tree dirty
        _set_status(report.path, "running")
    from .executors import run_trials

    trials_done = run_trials(to_run, executor=executor, address=address, base_dir=report.path.parent,
                             cache_dir=paths.cache_dir(plan.root), device=device, say=say, progress=progress)
    for trial, result, error, started in trials_done:
        if error is not None:
            trial.error = error
            say(f"    failed: {trial.error}")
            outcome.failed.append(trial)
            continue
        record = TrialRecord(
            key=trial.key,
            trial=trial.name,
            config=trial.config,
            metrics=result.metrics,
            parts={"config": trial.parts.config, "data": trial.parts.data, "code": trial.parts.code},
            info=result.info,
            provenance=_provenance(code_state, started, result.seconds, result.device, trial.config),
            log=result.log,
        )
        plan.store.save(record, result.predictions)
        trial.record = record
    write_index(
        plan.root,
        report.spec.id,
        {**read_index(plan.root, report.spec.id), "trials": {t.name: {"config": t.parts.config, "data": t.parts.data, "code": t.parts.code, "key": t.key} for t in plan.trials}},
    )
    from .reporting import write_report

    write_report(plan, outcome, say=say, force=force_regions, commit=commit)
    return outcome


def check_pages(report) -> None:
    spec = report.spec
    for key in ("hub", "roadmap", "kanban"):
        target = getattr(spec, key)
        if target and not (report.path.parent / target).is_file():
            raise DocumentError(
                f"the {key} page '{target}' does not exist",
                path=report.path,
                key=key,
                hint=f"paths are relative to the report's folder; create it with `research new {key}` or fix the link",
            )
    if spec.hub and spec.answers:
        from .pages.hub import check_ids

        hub = Path(os.path.normpath(report.path.parent / spec.hub))
        check_ids(textfile.read_text(hub), spec.answers, path=str(hub))


def _provenance(code_state: Mapping[str, Any], started: dt.datetime, seconds: float, device: str, config: Mapping[str, Any]) -> dict[str, Any]:
    from .provenance import environment

    return {
        "git": dict(code_state),
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "device": device,
        "seed": config.get("train", {}).get("seed"),
        "environment": environment(),
    }


def _set_status(path: Path, status: str) -> None:
    textfile.update(path, lambda text: document.set_front_matter_keys(text, {"status": status}, path=str(path)))


def run_paths(paths_: Sequence[str | Path]) -> list[Path]:
    """The reports named, and every report (markdown with front matter) under folders named."""
    found: list[Path] = []
    for raw in paths_:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*.md")):
                if any(part.startswith(".") for part in candidate.relative_to(path).parts):
                    continue
                text = candidate.read_text(encoding="utf-8", errors="replace")
                if document.front_matter(text) is not None:
                    found.append(candidate)
        elif path.exists():
            found.append(path)
        else:
            raise ResearchError("no such file or folder", path=path)
    return found


__all__ = ["Plan", "TrialPlan", "Outcome", "make_plan", "execute", "run_paths", "digest"]
