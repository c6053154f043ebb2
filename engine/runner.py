"""`research run`: plan → validate → run the trials → render every target → write + commit.

    plan = make_plan("research/logg_1m/exp/exp_logg_1m_multitask.md")
    outcome = execute(plan)

The data flows one way, and each step has its module:

    plan         engine.run.plan          the resolved trials, their keys, why each runs
    validate     engine.run.validate      everything the run will meet, before anything changes
    run trials   engine.run.executors     here or on Ray; each result into the run store
    render       engine.render.reporting     region bodies, figures, the run record (pure)
                 engine.pages.sync    the hub, roadmap and kanban edits (pure)
    write        engine.run.transaction   journal, atomic writes, the commit

A refusal (any problem `validate` finds) changes nothing, not even the report's status. Once
the trials start, the report says `running`; any ending but success — a failed trial, an error,
Ctrl-C — leaves it `failed`. The end of the run is one transaction under the notebook's end lock
(see `engine.run.transaction`): a hand edit in any target stops it before a byte is written, and a
run killed there is finished by the next run. A draft (`engine.notebook.drafts`), or a run with
`propagate=False`, writes the report only: no hub, roadmap or kanban; a draft's status stays
`draft`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Exit, ResearchError
from engine.notebook import drafts, locks, paths
from engine.notebook.store import TrialRecord
from engine.run import transaction
from engine.run.plan import Plan, Reason, TrialPlan, make_plan
from engine.text import document, textfile

Say = Callable[[str], None]

#: The log file a detached run writes to (`research run --detach` sets it for the run it starts),
#: kept in its progress file so that `research logs` and `watch` find it.
LOG_ENV = "RESEARCH_RUN_LOG"
#: The end of the line a running report shows above its summary (`_mark_running`).
RUNNING_MARK = "<!-- research-running -->"


@dataclass
class Outcome:
    plan: Plan
    verdict: Any = None
    written: list[Path] = field(default_factory=list)
    commit: str | None = None
    failed: list[TrialPlan] = field(default_factory=list)
    changed: bool = False
    reproduction: Any = None  # engine.run.reproduce.Reproduction, when trials ran again with their recorded keys

    @property
    def exit_code(self) -> int:
        return Exit.FAILED if self.failed else Exit.OK


def check_run(plan: Plan, *, force: bool = False, propagate: bool = True) -> None:
    """`research run --dry-run`: the checks a run makes before it trains, on every trial (a
    cached one included) but without the slow scan of the data's values; nothing is written.
    Whether the pages are checked is `drafts.propagates`, as for the run itself."""
    from engine.run.validate import validate

    validate(
        plan,
        data=True,
        scan=False,
        build=True,
        force=force,
        pages=drafts.propagates(plan.report.spec.status, propagate),
    )


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
    propagate: bool = True,
    command: str | None = None,
) -> Outcome:
    """Validate, run the trials that are not cached (here or on Ray), then write and commit;
    `propagate=False` (or a draft) writes the report but not its hub, roadmap or kanban.

    While it runs, its progress is kept in a file (`engine.notebook.locks.LiveRun`) with
    `command`, what resumes it should it die (default: `research run REPORT`)."""
    from engine.notebook.config import notebook_config
    from engine.numerics import pin
    from engine.run.validate import validate

    pin(notebook_config(plan.root).numerics, say=say)  # before anything loads torch
    if executor == "ray" and address:  # a cluster that is not there: said now, not after minutes of Ray's retries
        from engine.run.executors import check_address

        check_address(address)
    report = plan.report
    draft = drafts.is_draft(report.spec.status)  # its status stays `draft`: never running, done or failed
    # A refusal changes nothing. A cached trial's model and data passed when it ran, under the
    # same code (the key says so): only the trials that run are checked again.
    validate(
        plan,
        data=bool(plan.to_run),
        scan=True,
        build=True,
        force=force_regions,
        all_trials=False,
        pages=drafts.propagates(report.spec.status, propagate),
        say=lambda line: say(f"  {line}"),
    )
    outcome = Outcome(plan)
    import os

    with locks.live_run(
        plan.root,
        report.spec.id,
        say=say,
        report=str(report.path),
        executor=executor,
        command=command or f"research run {report.path}",
        log=os.environ.get(LOG_ENV) or None,
    ) as live:
        for trial in plan.to_run:  # a run we waited for may have stored some of them
            if trial.reason is not Reason.RETRAIN and (record := plan.store.load(trial.key)) is not None:
                trial.record, trial.reason = record, Reason.CACHED
        to_run = plan.to_run
        live.update(trials=len(to_run), stored=sum(1 for t in plan.trials if t.record is not None))
        code_state: Mapping[str, Any] = {}
        if to_run:
            from engine.run.provenance import git_state

            code_state = git_state(plan.root)  # before the status edit below makes the tree dirty
            if not draft:
                unmarked = textfile.read_text(report.path)
                _mark_running(report.path, since=dt.datetime.now().astimezone(), host=live.state["host"])
                marked = textfile.read_text(report.path)
        if progress is None:
            from engine.progress import Progress

            progress = Progress(enabled=False)
        progress.observer, shown_say = live, say

        def tracked(line: str) -> None:  # the run's log, read for the epochs' losses on its way out
            if executor == "local":  # on Ray, `engine.run.relay` hands `live` the lines as the trial wrote them
                live.line(line)
            shown_say(line)

        try:
            _run_trials(
                plan,
                outcome,
                to_run,
                code_state,
                executor=executor,
                address=address,
                device=device,
                say=tracked,
                progress=progress,
                live=live,
            )
            plan.index.update(
                report.spec.id,
                trials={
                    t.name: {
                        "config": t.parts.config,
                        "data": t.parts.data,
                        "code": t.parts.code,
                        "key": t.key,
                        **({"uses": t.uses} if t.uses else {}),
                    }
                    for t in plan.trials
                },
            )
            # whether the pages are written is the end's to say, from the status the report has then
            finish(
                plan, outcome, say=say, force=force_regions, commit=commit, code_state=code_state, propagate=propagate
            )
        except BaseException as error:
            if to_run and not draft:
                if isinstance(error, ResearchError) and not any(t.record is not None for t in to_run):
                    # bad input found while starting (a cluster that refuses us): nothing ran, nothing changes
                    _unmark(report.path, marked, unmarked)
                else:  # an error or Ctrl-C while training or at the end: the report must not say `running`
                    _fail_if_running(report.path)
            raise
        finally:
            progress.observer = None
    return outcome


def _run_trials(plan, outcome, to_run, code_state, *, executor, address, device, say, progress, live=None) -> None:
    from engine.run.executors import run_trials

    report = plan.report
    # The local executor trains the trials one after another in the plan's order, the next one
    # only when we ask for it: trial k + 1 begins when trial k has been stored. On Ray several
    # train at once: only how many are done is known here.
    in_order = executor == "local"
    if live is not None and to_run:
        live.trial(1, to_run[0].name) if in_order else live.trial(None, None)
    done = run_trials(
        to_run,
        executor=executor,
        address=address,
        base_dir=report.path.parent,
        cache_dir=paths.cache_dir(plan.root),
        device=device,
        say=say,
        progress=progress,
        store_dir=plan.store.folder,
    )
    for trial, result, error, started in done:
        if error is not None:
            trial.error = error
            say(f"    failed: {trial.error}")
            outcome.failed.append(trial)
            if live is not None:
                _next_trial(plan, live, to_run, in_order)
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
        plan.store.save(
            record,
            result.predictions,
            model=result.model_file,  # the model kept beside its record
            replace=trial.reason is Reason.RETRAIN,
        )
        trial.record = record
        if live is not None:
            _next_trial(plan, live, to_run, in_order)
    plan.share_twins()


def _next_trial(plan: Plan, live, to_run, in_order: bool) -> None:
    live.trial_done(stored=sum(1 for t in plan.trials if t.record is not None))
    number = live.state["trials_done"] + 1
    if in_order and number <= len(to_run):
        live.trial(number, to_run[number - 1].name)


# ---------------------------------------------------------------------------------------------
# The end of a run


def finish(
    plan: Plan,
    outcome: Outcome,
    *,
    say: Say = print,
    force: bool = False,
    commit: bool = True,
    code_state: Mapping[str, Any] | None = None,
    propagate: bool = True,
) -> None:
    """Render every target and write + commit them as one transaction, under the end lock;
    first finish what killed runs left unfinished in this notebook."""
    with locks.end_of_run(plan.root, say=say):
        mine = None
        for journal in transaction.pending(plan.root):
            if textfile.real_path(journal.report) == textfile.real_path(plan.report.path):
                mine = journal
            else:
                _replay(journal, say=say, commit=commit)
        if mine is not None:
            say(f"{plan.report.path}: finishing the end of a run that was stopped")
        _end(
            plan,
            outcome,
            pending=mine,
            say=say,
            force=force,
            commit=commit,
            code_state=code_state or {},
            propagate=propagate,
        )


def _replay(journal: transaction.Journal, *, say: Say, commit: bool) -> None:
    """Finish another report's killed end: render it again from the store when every trial is
    there, else commit its targets as they are on disk."""
    try:
        plan = make_plan(journal.report)
    except ResearchError as error:
        say(f"{journal.report}: cannot finish its stopped run ({error}); committing its files as they are")
        plan = None
    if plan is not None and all(t.record is not None for t in plan.trials):
        say(f"{journal.report}: finishing the end of a run that was stopped")
        _end(
            plan,
            Outcome(plan),
            pending=journal,
            say=say,
            force=False,
            commit=commit,
            code_state={},
            propagate=journal.extra.get("propagate", True),
        )
        return
    if commit:
        transaction.commit_paths(paths.notebook_root(journal.report), journal.targets, journal.message, say=say)
    transaction.discard(journal)


def _end(
    plan: Plan, outcome: Outcome, *, pending, say: Say, force: bool, commit: bool, code_state, propagate: bool = True
) -> None:
    from engine.pages.sync import page_edits
    from engine.render.reporting import log_row, render_key, render_report

    report = plan.report
    spec = report.spec
    ran = [t for t in plan.trials if t.runs]
    done = [t for t in plan.trials if t.record is not None]
    key = render_key(plan)
    text = textfile.read_text(report.path)
    present = document.regions(text, str(report.path))
    index = plan.index.read(spec.id)
    recorded = {name: region.recorded for name, region in present.items()}
    status_now = (document.front_matter_values(text, ("status",)).get("status")) or "planned"
    # a draft or not as the report says now, not as it said when the run began (`research promote` meanwhile)
    draft = drafts.is_draft(status_now)
    propagate = drafts.propagates(status_now, propagate)
    from engine.render import live

    spans_same = live.shown(text, str(report.path)) == (index.get("values") or {})  # no live number added or changed
    if (
        not ran
        and pending is None
        and index.get("rendered") == key
        and index.get("checksums") == recorded
        and status_now == index.get("status")
        and spans_same
        and not (force and any(region.edited for region in present.values()))
    ):  # --force: the edit goes
        say(f"{report.path}: up to date (every trial cached)")
        if propagate:
            _sync_pages(plan, outcome, force=force, commit=commit, say=say)
        return

    from engine.notebook import record as run_record
    from engine.run.reproduce import compare

    recorded = run_record.parse(text, str(report.path)) or {}
    stored = [t for t in plan.trials if t.record is not None]
    if ran:  # trained again with the keys of the report's record: a reproduction
        reproduction = compare(recorded, stored, spec.reproduce, ran=[t.name for t in ran if t.record is not None])
        wanted = {t.name for t in ran}
    elif pending is None and recorded.get("rendered") == key:
        # nothing trained, yet the report is not what this store last rendered (a checkout, a store copied from
        # another clone): the report's numbers stand if the store's for the same keys reproduce them
        reproduction = compare(recorded, stored, spec.reproduce)
        wanted = {t.name for t in plan.trials}
    else:
        reproduction, wanted = None, set()
    outcome.reproduction = reproduction
    failed_now = [t for t in plan.trials if t.record is None and t.runs]
    status = "failed" if failed_now or not done else "done"
    if (
        reproduction is not None
        and reproduction.reproduced
        and pending is None
        and not outcome.failed
        and spec.status == (drafts.DRAFT if draft else status)  # a promoted draft's next run writes `done`
        and wanted <= reproduction.runs
        and recorded.get("rendered") in (None, key)
        and recorded.get("spec") == run_record.spec_digest(report.front.text, plan.sets, plan.sweeps)
        and not any(region.edited for region in present.values())
        and spans_same  # --force over a hand edit re-renders
        and all((report.path.parent / fig.file).is_file() for fig in spec.figures)
    ):  # a figure deleted: drawn again
        _keep_as_recorded(plan, key, recorded)
        where = "" if ran else " (the run store's results for the report's keys)"
        say(f"{report.path}: {reproduction.summary()}{where}; the report keeps its numbers, nothing to commit")
        if propagate:  # pages out of step with the report's record: brought to what it says
            _sync_pages(plan, outcome, force=force, commit=commit, say=say)
        return
    if reproduction is not None and not reproduction.reproduced:
        for line in reproduction.moved():
            say(f"  not reproduced: {line}")

    bodies: dict[str, str] = {}
    images: dict[Path, bytes] = {}
    rendered = None
    if done:
        figures = len(spec.figures)
        say(
            f"{report.path}: tables, verdict"
            + (f" and {figures} figure{'s' if figures != 1 else ''}" if figures else "")
            + f" from {len(done)} stored trial{'s' if len(done) != 1 else ''}"
        )
        rendered = render_report(plan, present, text)
        outcome.verdict = rendered.tables.verdict
        bodies, images = rendered.bodies, rendered.figures
    note = (
        "; ".join(f"not reproduced: {line}" for line in reproduction.moved())
        if reproduction and not reproduction.reproduced
        else None
    )
    row = (
        log_row(plan, outcome.failed, rendered.tables if rendered else None, status, code_state, note=note)
        if ran or outcome.failed
        else None
    )
    front = {"status": drafts.DRAFT if draft else status}
    if ran:
        front["last_run"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if pending is not None and not ran:  # replaying a killed end: its log row and dates
        row = pending.extra.get("log_row") or row
        front = {**front, **(pending.extra.get("front") or {})}
        front["status"] = drafts.DRAFT if draft else status

    def edit_report(current: str) -> str:
        now = document.front_matter_values(current, ("status",)).get("status")  # promoted (or made a draft) meanwhile
        latest = {**front, "status": drafts.DRAFT if drafts.is_draft(now) else status}
        return report_text(
            current,
            bodies,
            front=latest,
            log_row=row,
            force=force,
            path=report.path,
            values=rendered.values if rendered else {},
        )

    new_report = edit_report(text)  # a hand edit in the report stops here, before any write
    edits = (
        page_edits(plan.root, only=[report.path], texts={report.path: new_report}, force=force)  # …and in a page
        if propagate
        else {}
    )
    changes = [transaction.Change(path, data=data) for path, data in images.items()]
    changes.append(transaction.Change(report.path, edit=edit_report))
    changes += [transaction.Change(page, edit=edit) for page, edit in edits.items()]
    message = _message(spec, rendered, status) + (" (draft)" if draft else "")
    outcome.written, outcome.commit = transaction.apply(
        plan.root,
        report.path,
        changes,
        message=message,
        extra={"log_row": row, "front": front, "propagate": propagate},
        commit=commit,
        also_commit=pending.targets if pending is not None else (),
        say=say,
    )
    outcome.changed = bool(outcome.written)
    kept = (
        "" if propagate else f"; {'a draft' if draft else '--no-propagate'}: hub, roadmap and kanban left as they are"
    )
    say(f"{report.path}: {'written' if report.path in outcome.written else 'unchanged'} ({status}{kept})")
    _said(outcome, say, skip=report.path)
    final_text = textfile.read_text(report.path)
    final = document.regions(final_text, str(report.path))
    plan.index.update(
        spec.id,
        rendered=key,
        checksums={n: r.recorded for n, r in final.items()},
        values=live.shown(final_text, str(report.path)),
        verdict=rendered.tables.verdict.verdict if rendered and rendered.tables.verdict else None,
        status=front["status"],
        record=rendered.record if rendered else None,
    )


def _sync_pages(plan: Plan, outcome: Outcome, *, force: bool, commit: bool, say: Say) -> None:
    """The report stands as it is: bring its hub, roadmap and kanban to what its record says."""
    from engine.pages.sync import page_edits

    report = plan.report
    edits = page_edits(plan.root, only=[report.path], force=force)
    if edits:
        changes = [transaction.Change(page, edit=edit) for page, edit in edits.items()]
        outcome.written, outcome.commit = transaction.apply(
            plan.root, report.path, changes, message=f"research: sync pages of {report.spec.id}", commit=commit, say=say
        )
        _said(outcome, say)


def _keep_as_recorded(plan: Plan, key: str, recorded: Mapping[str, Any]) -> None:
    """Every trial that ran reproduced the report's record: keep the report's bytes (its status
    back to what it was before the run) and remember that what it shows is this store's result."""
    report = plan.report
    spec = report.spec
    _set_status(report.path, spec.status)  # the run set `running`; the committed text said this
    final = textfile.read_text(report.path)
    present = document.regions(final, str(report.path))
    from engine.render import live

    plan.index.update(
        spec.id,
        rendered=key,
        checksums={n: r.recorded for n, r in present.items()},
        values=live.shown(final, str(report.path)),
        verdict=recorded.get("verdict"),
        status=spec.status,
        record=dict(recorded),
    )


def _said(outcome: Outcome, say: Say, skip: Path | None = None) -> None:
    for path in outcome.written:
        if path != skip:
            say(f"{path}: updated")
    if outcome.commit:
        say(f"committed {outcome.commit[:7]}")


def report_text(
    text: str,
    bodies: Mapping[str, str],
    *,
    front: Mapping[str, str],
    log_row: str | None = None,
    force: bool = False,
    path: Path,
    values: Mapping[str, str] | None = None,
) -> str:
    """The report with its regions, log row, live numbers and engine-maintained front matter keys (pure)."""
    from engine.render import live
    from engine.render.reporting import append_row

    text = without_running_note(text)  # this run has ended: what the report shows is its result
    present = document.regions(text, str(path))
    wanted = {name: body for name, body in bodies.items() if name in present}
    if log_row and "log" in present:
        wanted["log"] = append_row(present["log"].body, log_row)
    new = document.replace_regions(text, wanted, force=force, path=str(path))
    new = live.fill(new, values or {}, str(path))
    return document.set_front_matter_keys(new, front, path=str(path))


def _message(spec, rendered, status: str) -> str:
    from engine.render.decision import metric_value, share_text
    from engine.render.templates import fmt_number

    primary = spec.primary_metric
    if rendered is None:
        return f"research: {spec.id} {status}"
    tables = rendered.tables
    value = metric_value(tables.results.get(tables.best, {}), primary) if tables.best else None
    verdict = tables.verdict.verdict if tables.verdict else status
    place = tables.standing
    if place is not None and place.beats_baseline is False:
        return (
            f"research: {spec.id} {verdict}: no candidate beats the baseline "
            f"({primary} {fmt_number(place.best_value)} for {place.best} vs {fmt_number(place.baseline_value)})"
        )
    held = tables.verdict.holds if tables.verdict is not None else None
    share = f" ({verdict} in {share_text(held)} of resamples)" if held is not None and verdict != "inconclusive" else ""
    return f"research: {spec.id} {verdict} {primary}={fmt_number(value)}{share}"


def _provenance(
    code_state: Mapping[str, Any], started: dt.datetime, seconds: float, device: str, config: Mapping[str, Any]
) -> dict[str, Any]:
    from engine.run.provenance import environment

    return {
        "git": dict(code_state),
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "device": device,
        "seed": config.get("train", {}).get("seed"),
        "environment": environment(),
    }


def _set_status(path: Path, status: str) -> None:
    textfile.update(
        path,
        lambda text: document.set_front_matter_keys(without_running_note(text), {"status": status}, path=str(path)),
    )


def _mark_running(path: Path, *, since: dt.datetime, host: str) -> None:
    """`status: running`, and a line above the summary saying so and naming the previous
    result: the verdict below it is the last run's, not this one's, and must not read as the
    current result. Every ending of the run takes the line out again (`without_running_note`:
    the end's transaction, a failure, a run that reproduced its record), so a finished run's
    report has the bytes it would have had without it."""

    def edit(text: str) -> str:
        text = document.set_front_matter_keys(without_running_note(text), {"status": "running"}, path=str(path))
        return with_running_note(text, running_note(text, since=since, host=host), str(path))

    textfile.update(path, edit)


def running_note(text: str, *, since: dt.datetime, host: str) -> str:
    """`> 🔆 running since 2026-12-04 10:31 on host; previous result: ✅ pass (run 2026-12-01) — shown below until this run ends.`"""
    from engine.notebook import record as run_record
    from engine.text.marks import verdict_mark

    recorded = run_record.parse(text) or {}
    last = document.front_matter_values(text, ("last_run",)).get("last_run")
    verdict = recorded.get("verdict")
    if verdict:
        previous = f"{verdict_mark(verdict)} {verdict}" + (f" (run {str(last)[:10]})" if last else "")
        previous += " — shown below until this run ends"
    else:
        previous = "none"
    return (
        f"> 🔆 running since {since.strftime('%Y-%m-%d %H:%M')} on {host}; previous result: {previous}. {RUNNING_MARK}"
    )


def with_running_note(text: str, note: str, path: str | None = None) -> str:
    """`note` and a blank line right above the summary region (else at the top of the body)."""
    newline = document.newline_of(text)
    lines = document.split_lines(text)
    summary = document.regions(text, path).get("summary")
    at = summary.start_line - 1 if summary is not None else document.body_of(text, path)[1]
    return "".join(lines[:at]) + note + newline + newline + "".join(lines[at:])


def without_running_note(text: str) -> str:
    """The text without the running note (and the blank line put under it); anything else as it is."""
    if RUNNING_MARK not in text:
        return text
    lines = document.split_lines(text)
    out: list[str] = []
    skip_blank = False
    for line in lines:
        if line.rstrip("\r\n").endswith(RUNNING_MARK) and line.startswith("> 🔆 running since"):
            skip_blank = True
            continue
        if skip_blank and line.strip() == "":
            skip_blank = False
            continue
        skip_blank = False
        out.append(line)
    return "".join(out)


def _unmark(path: Path, marked: str, unmarked: str) -> None:
    """The report as it was before this run marked it running, when nobody has edited it since;
    else, as after any run that did not succeed (`_fail_if_running`)."""
    if not textfile.update(path, lambda text: unmarked if text == marked else text):
        _fail_if_running(path)


def _fail_if_running(path: Path) -> None:
    """A run that ended but not in success: `running` becomes `failed`; a status the end already
    wrote (its transaction went through before the error) stays."""

    def edit(text: str) -> str:
        if document.front_matter_values(text, ("status",)).get("status") != "running":
            return without_running_note(text)
        return document.set_front_matter_keys(without_running_note(text), {"status": "failed"}, path=str(path))

    textfile.update(path, edit)


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


__all__ = ["Outcome", "Plan", "Reason", "TrialPlan", "execute", "finish", "make_plan", "run_paths"]
