"""`research run`, `reproduce` and `promote`: the commands that train or change a report's status."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import typer

from engine.cli.app import PATHS, Device, Executor, _verdict_colour, app
from engine.errors import Exit, ResearchError, RunInterrupted


@app.command(
    "run",
    epilog="Examples:  research run research/logg_1m/exp/exp_logg_1m_multitask.md  ·  "
    "research run research/ --set train.epochs=1 --dry-run  ·  research run exp.md --sweep model.alpha=1e2,1e3",
)
def run_command(
    paths: list[Path] = typer.Argument(..., metavar=PATHS, help="Reports, or folders of reports."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key in every trial: --set train.epochs=2 (repeatable)."
    ),
    sweep: Optional[list[str]] = typer.Option(
        None,
        "--sweep",
        metavar="KEY=V1,V2",
        help="Add a grid of trials without editing the file: --sweep "
        "model.alpha=1e2,1e3,1e4 (repeat for a product); a list value keeps its brackets: model.hidden=[32],[64,32]; "
        "recorded like --set.",
    ),
    trial: Optional[list[str]] = typer.Option(
        None, "--trial", metavar="NAME", help="Run only this trial (repeatable)."
    ),
    retrain: bool = typer.Option(
        False,
        "--retrain",
        help="Train every selected trial again, cached or not; its new result replaces the stored one.",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write over hand edits in the generated regions of the report and its pages (retrains nothing).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; run and write nothing."),
    no_commit: bool = typer.Option(False, "--no-commit", help="Do not commit what the run wrote."),
    device: Optional[Device] = typer.Option(None, "--device", help="Override train.device."),
    executor: Executor = typer.Option(Executor.local, "--executor", help="Where trials run: here, or as Ray tasks."),
    address: Optional[str] = typer.Option(
        None, "--address", metavar="HOST:PORT", help="Ray cluster address (default: start a local one)."
    ),
    no_propagate: bool = typer.Option(
        False,
        "--no-propagate",
        help="Write the report only, not its hub, roadmap or kanban (a draft never writes them).",
    ),
    detach: bool = typer.Option(
        False,
        "--detach",
        help="Check the spec here, then run in the background, in its own session (it outlives the terminal); "
        "print its PID and log file and return. Follow it with research status / watch / logs.",
    ),
) -> None:
    """Run every trial of a report's spec and write the results back into it."""
    import time

    from engine.notebook.paths import shown
    from engine.runner import check_run, execute, make_plan, run_paths

    # the same command without --detach: what a detached run runs, and what resumes a run that died
    again = _run_args(paths, set_, sweep, trial, retrain, force, no_commit, device, executor, address, no_propagate)

    def plan_of(report):
        return make_plan(
            report,
            sets=set_ or [],
            sweeps=sweep or [],
            trials=trial or [],
            retrain=retrain,
            device=device.value if device else None,
        )

    if detach:
        if dry_run:
            raise ResearchError("--detach runs in the background; --dry-run runs nothing", hint="choose one")
        plans = [plan_of(report) for report in run_paths(paths)]
        for plan in plans:  # a bad spec is exit 2 here, in the foreground, not a line in a log
            check_run(plan, force=force, propagate=not no_propagate)
        _detach(plans, again)
        return
    echo = _stamped(typer.echo) if _to_file() and not dry_run else typer.echo
    code = 0
    for report in run_paths(paths):
        began = time.perf_counter()
        plan = plan_of(report)
        echo(f"{report}: {plan.report.spec.id}")
        for item in plan.trials:
            echo(f"  {item.name:<24} {item.why:<13} {item.key}")
            for change in item.changes if item.runs else ():
                echo(f"      {change}")
        if dry_run:
            check_run(plan, force=force, propagate=not no_propagate)
            continue
        from engine.progress import Progress

        try:
            with Progress() as progress:
                outcome = execute(
                    plan,
                    device=device.value if device else None,
                    say=echo,
                    progress=progress,
                    force_regions=force,
                    commit=not no_commit,
                    executor=executor.value,
                    address=address,
                    propagate=not no_propagate,
                    command=shlex.join(["research", *again]),
                )
        except KeyboardInterrupt:  # click would make it "Aborted!" and exit 1
            raise RunInterrupted(
                "interrupted", path=report, hint="the trials that finished are stored; the next run resumes from them"
            ) from None
        if outcome.verdict is not None:
            echo(
                "  verdict: "
                + typer.style(outcome.verdict.verdict, fg=_verdict_colour(outcome.verdict.verdict), bold=True)
                + (f": {outcome.verdict.says}" if outcome.verdict.says else "")
            )
        ran = sum(1 for t in plan.trials if t.runs and t.record is not None)
        cached = sum(1 for t in plan.trials if t.cached)
        images = [p for p in outcome.written if p.suffix.lower() in (".png", ".svg", ".pdf")]
        echo(
            f"{report}: done in {time.perf_counter() - began:.1f} s — {ran} trained, {cached} cached"
            + (f", {len(outcome.failed)} failed" if outcome.failed else "")
            + (f"; figures: {', '.join(shown(p) for p in images)}" if images else "")
        )
        code = max(code, outcome.exit_code)
    raise typer.Exit(code)


def _run_args(paths, sets, sweeps, trials, retrain, force, no_commit, device, executor, address, no_propagate):
    """`run`'s arguments as given, without --detach (and without --dry-run, which never detaches)."""
    args = ["run", *(str(p) for p in paths)]
    args += [a for item in sets or [] for a in ("--set", item)]
    args += [a for item in sweeps or [] for a in ("--sweep", item)]
    args += [a for item in trials or [] for a in ("--trial", item)]
    args += [flag for flag, on in (("--retrain", retrain), ("--force", force), ("--no-commit", no_commit)) if on]
    args += ["--device", device.value] if device else []
    args += ["--executor", executor.value] if executor.value != "local" else []
    args += ["--address", address] if address else []
    args += ["--no-propagate"] if no_propagate else []
    return args


def _detach(plans, args: list[str]) -> None:
    """Start `research run ARGS` in its own session (a closed terminal's SIGHUP does not reach
    it), its output to a log under `.research/logs/`, and say where; the run it starts keeps its
    progress file as any run does."""
    import datetime as dt
    import json
    import os
    import subprocess
    import sys
    import time

    from engine.notebook.paths import shown, state_dir
    from engine.runner import LOG_ENV

    root = plans[0].root
    folder = state_dir(root) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log = folder / f"{_file_name(plans[0].report.spec.id)}-{stamp}.log"
    env = {**os.environ, LOG_ENV: str(log.resolve())}
    with open(log, "ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    for plan in plans:  # each report's latest log, for `research logs REPORT`
        pointer = {"log": log.name, "pid": child.pid, "started": time.time()}
        (folder / f"{_file_name(plan.report.spec.id)}.latest").write_text(json.dumps(pointer) + "\n", encoding="utf-8")
    names = ", ".join(str(plan.report.path) for plan in plans)
    typer.echo(f"{names}: running in the background, pid {child.pid}")
    typer.echo(f"  log: {shown(log)}")
    first = shown(plans[0].report.path)
    typer.echo(f"  follow it: research status  ·  research watch {first}  ·  research logs {first} -f")


def _file_name(report_id: str) -> str:
    """A report id as a file name (ids are short words, but a `/` or a space must not make a folder)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in report_id)


def _to_file() -> bool:
    """True when stdout is a file (nohup.out, a detached run's log, `> run.log`): its lines get
    times. A terminal has its bars and its clock; a pipe feeds a program that reads the lines as
    they are (and a test's captured output has no file at all)."""
    import os
    import stat
    import sys

    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def _stamped(echo: Callable[[str], None]) -> Callable[[str], None]:
    """`echo`, each line led by the time: `10:31:05 epoch 9/80 …`."""
    import time

    def say(line: str = "") -> None:
        echo(f"{time.strftime('%H:%M:%S')} {line}")

    return say


@app.command(epilog="Examples:  research reproduce research/logg_1m/exp/exp_logg_1m_multitask.md")
def reproduce(
    paths: list[Path] = typer.Argument(..., help="Reports, or folders of reports."),
) -> None:
    """Retrain every trial into a scratch store and compare it with the report's record; write nothing."""
    from engine.run.reproduce import reproduce_report
    from engine.runner import run_paths

    code = Exit.OK
    for report in run_paths(paths):
        from engine.progress import Progress

        with Progress() as progress:
            result, changed = reproduce_report(report, say=typer.echo, progress=progress)
        for name in changed:
            typer.echo(f"{report}: {name}: its spec, data or code changed since the record; nothing to compare (stale)")
        if result is None:
            typer.echo(f"{report}: no trial to compare")
            code = Exit.FAILED
            continue
        typer.echo(f"{report}: {result.summary()}")
        if not result.reproduced or changed:
            code = Exit.FAILED
    raise typer.Exit(int(code))


@app.command(epilog="Example:  research promote research/logg_1m/exp/exp_logg_1m_smoke.md")
def promote(
    files: list[Path] = typer.Argument(..., help="Draft reports (`status: draft`)."),
) -> None:
    """Make a draft an ordinary report: its status becomes planned; its next run writes its pages."""
    from engine.notebook.drafts import PROMOTED
    from engine.notebook.drafts import promote as promote_report

    for file in files:
        promote_report(file)
        typer.echo(
            f"{file}: promoted (status: {PROMOTED}); `research run {file}` writes its hub, roadmap and kanban "
            "(its trials are cached)"
        )
