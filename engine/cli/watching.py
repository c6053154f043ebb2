"""`research watch` and `research logs`: follow a run that goes on elsewhere (`run --detach`,
`nohup research run … &`, another terminal) without keeping its terminal open.

Both only read: the run's progress file (`engine.notebook.locks.LiveRun`), the report's front
matter and run record, and the log a detached run writes under `.research/logs/`. A detached
run's launcher leaves `.research/logs/<id>.latest` (its log's name and the PID it started), so a
`watch` issued in the second between `run --detach` and the run's first write waits for it
instead of saying that nothing runs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional

import typer

from engine.cli.app import _verdict_colour, app
from engine.errors import Exit, ResearchError

POLL_S = 1.0


def _report_row(file: Path) -> tuple[Path, dict[str, Any]]:
    from engine.browse.status import rows
    from engine.notebook.paths import given, notebook_root

    given(file)
    root = notebook_root(file)
    found = rows(root, [file]) if file.is_file() else []
    if len(found) != 1:
        raise ResearchError(
            "is not an experiment report", path=file, hint="give one report (a .md file whose front matter has an id)"
        )
    return root, found[0]


def _latest(root: Path, report_id: str) -> dict[str, Any] | None:
    """What the last `run --detach` of the report left: its log's path and the PID it started."""
    from engine.cli.running import _file_name
    from engine.notebook.paths import STATE_DIR

    pointer = root / STATE_DIR / "logs" / f"{_file_name(report_id)}.latest"
    try:
        latest = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(latest, dict) or not isinstance(latest.get("log"), str):
        return None
    return {**latest, "log": pointer.parent / latest["log"]}


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process holds the number: not ours, but alive
        return True
    try:  # a child of ours that has exited but was not reaped yet (a test's Popen) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _starting(root: Path, report_id: str) -> bool:
    """A detached run of the report was started and its process lives, but it has not written its
    progress yet (the progress there, if any, is a dead run's that it is about to resume)."""
    latest = _latest(root, report_id)
    return latest is not None and _pid_alive(latest.get("pid"))


def _ending(row: dict[str, Any]) -> str:
    verdict = row.get("verdict")
    said = f"{row['id']}: {row['status']}"
    if verdict:
        said += " — verdict: " + typer.style(str(verdict), fg=_verdict_colour(str(verdict)), bold=True)
    if row.get("value_text"):
        said += f" ({row['metric']} = {row['value_text']})"
    return said


@app.command(epilog="Examples:  research watch  ·  research watch research/logg_1m/exp/exp_logg_1m_multitask.md")
def watch(
    file: Optional[Path] = typer.Argument(None, help="A report (default: every run going on in this notebook)."),
) -> None:
    """Follow a run as it goes — trial, epoch, losses, ETA — until it ends, then print its verdict
    (a live display on a terminal, a timestamped line per change otherwise). Exit 1 when the run
    failed or died; 0 when it ended well or when no run is going on."""
    from engine.browse.status import live_line, rows
    from engine.notebook import locks
    from engine.notebook.paths import notebook_root

    if file is not None:
        root, row = _report_row(file)
        watched = {row["id"]: file}
    else:
        root = notebook_root(None)
        watched = {r["id"]: root / r["path"] for r in rows(root) if r["live"] is not None and r["live"]["alive"]}
    for report_id, path in list(watched.items()):
        state = locks.live_runs(root).get(report_id)
        if state is not None and not state["alive"] and _starting(root, report_id):
            continue  # dead, and resumed by a `run --detach` that has not written its progress yet
        if state is None and not _starting(root, report_id):
            row = rows(root, [path])[0]
            typer.echo(
                f"{report_id}: no run is going on (status {row['status']}"
                + (f", verdict {row['verdict']})" if row["verdict"] else ")")
            )
            del watched[report_id]
        elif state is not None and not state["alive"]:
            typer.echo(f"{report_id}: {live_line(state)}")
            raise typer.Exit(int(Exit.FAILED))
    if not watched:
        if file is None:
            typer.echo("no run is going on in this notebook")
        raise typer.Exit(0)

    code = 0
    terminal = _terminal()
    display = None
    if terminal:
        from rich.live import Live

        display = Live(refresh_per_second=2, transient=False)
        display.start()
    shown: dict[str, Any] = {}
    try:
        while watched:
            states = locks.live_runs(root)
            lines = []
            for report_id, path in list(watched.items()):
                state = states.get(report_id)
                if (state is None or not state["alive"]) and _starting(root, report_id):
                    lines.append(f"{report_id}: starting…")
                    continue
                if state is not None and state["alive"]:
                    line = f"{report_id}: {live_line(state)}"
                    lines.append(line)
                    mark = (state.get("trial"), state.get("trials_done"), state.get("epoch"))
                    if not terminal and (
                        shown.get(report_id) != mark or time.time() - shown.get(report_id + "@", 0) >= 60
                    ):
                        typer.echo(f"{time.strftime('%H:%M:%S')} {line}")
                        shown[report_id], shown[report_id + "@"] = mark, time.time()
                    continue
                del watched[report_id]
                if display is not None:
                    display.stop()
                    display = None
                if state is not None:  # its lock is free and its progress left behind: killed
                    typer.echo(f"{report_id}: {live_line(state)}")
                    code = int(Exit.FAILED)
                    continue
                row = rows(root, [path])[0]
                typer.echo(_ending(row))
                if row["status"] not in ("done", "draft"):
                    code = int(Exit.FAILED)
            if display is not None:
                from rich.text import Text

                display.update(Text("\n".join(lines)))
            if watched:
                time.sleep(POLL_S)
    except KeyboardInterrupt:  # stop watching; the run goes on
        typer.echo("stopped watching; the run goes on (research status, research watch)", err=True)
        raise typer.Exit(0) from None
    finally:
        if display is not None:
            display.stop()
    raise typer.Exit(code)


@app.command(epilog="Examples:  research logs research/logg_1m/exp/exp_logg_1m_multitask.md -f")
def logs(
    file: Path = typer.Argument(..., help="A report run with `research run --detach`."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing what the run writes until it ends."),
) -> None:
    """Print the log of a report's last detached run (`-f`: and follow it while the run goes on)."""
    import sys

    from engine.notebook import locks

    root, row = _report_row(file)
    latest = _latest(root, row["id"])
    if latest is None or not latest["log"].is_file():
        raise ResearchError(
            "has no log: only `research run --detach` keeps one (under .research/logs/)",
            path=file,
            hint=f"run it with `research run {file} --detach`; a run in the foreground prints to its terminal "
            "(or to nohup.out)",
        )
    out = sys.stdout.buffer
    with open(latest["log"], "rb") as log:
        while True:
            chunk = log.read()
            if chunk:
                out.write(chunk)
                out.flush()
            if not follow:
                break
            state = locks.live_runs(root).get(row["id"])
            if not (_pid_alive(latest.get("pid")) or (state is not None and state["alive"])):
                out.write(log.read())  # what it wrote last
                out.flush()
                break
            time.sleep(0.5)


def _terminal() -> bool:
    import sys

    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
