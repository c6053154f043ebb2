"""`research status`: one row per experiment, from the catalog's fields of each report (a few
front matter keys and the run record, `engine.notebook.report`) only.

No spec validation and no ML library: the stale check compares the hashes the run recorded
(the spec keys that decide the numbers, the numeric engine code) with today's. Data changes are
not seen here (that needs the data files); `research check` sees them.

A report being run has a progress file (`engine.notebook.locks.LiveRun`): its row carries it as
`live` (the file's fields, `alive` and the `line` shown), and `status` says `running` — or `died`
when the file is there but no process holds the run's lock any more (killed outright: `kill -9`,
an out-of-memory kill, a reboot), with where it stopped and the command that resumes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.notebook import locks
from engine.notebook.experiments import scan, under
from engine.render.templates import fmt_metric

FIELDS = ("id", "mvp", "status", "verdict", "metric", "value", "last_run", "stale", "why", "path", "live")


def rows(root: Path, paths: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """Every experiment under `root` (or under `paths`), as plain JSON-ready rows."""
    out = []
    running = locks.live_runs(root)
    for report in under(scan(root), paths):
        rec = report.record or {}
        why = report.stale_reasons()
        value = report.primary_value()
        live = running.get(report.id)
        state = report.status
        if live is not None:
            live = {**live, "line": live_line(live)}
            state = "running" if live["alive"] else "died"
        out.append(
            {
                "id": report.id,
                "mvp": report.meta.get("mvp"),
                "status": state,
                "verdict": rec.get("verdict"),
                "metric": rec.get("primary"),
                "value": value,
                "value_text": fmt_metric(rec.get("primary"), value) if value is not None else None,
                "last_run": report.last_run,
                "stale": bool(why),
                "why": why,
                "path": _relative(report.path, root),
                "live": live,
            }
        )
    return out


def live_line(state: dict[str, Any], now: float | None = None) -> str:
    """One line of a run's progress: `trial 2/5 equal-s2, epoch 12/40, train_loss 0.412 val_loss
    0.455; 3 min 10 s elapsed, ETA trial 1 min 5 s, run 6 min; pid 4242 on host (local)`; for a
    dead run `died at trial 3/5, epoch 12/40, 14 min ago; 2 trials stored — resume: research run …`."""
    import time

    now = time.time() if now is None else now
    where = []
    if state.get("trial") is not None:
        where.append(
            f"trial {state['trial']}/{state.get('trials')}"
            + (f" {state['trial_name']}" if state.get("trial_name") else "")
        )
    elif state.get("trials"):
        where.append(f"{state.get('trials_done', 0)}/{state['trials']} trials done")
    if state.get("epoch") is not None:
        where.append(f"epoch {state['epoch']}/{state.get('epochs')}")
    if not state.get("alive", True):
        stored = state.get("stored")
        said = f"died at {', '.join(where) or 'the start'}, {duration(now - float(state.get('updated') or now))} ago"
        if stored is not None:
            said += f"; {stored} trial{'s' if stored != 1 else ''} stored"
        return said + f" — resume: {state.get('command') or 'research run ' + str(state.get('report'))}"
    losses = " ".join(
        f"{name} {state[name]:.4g}" for name in ("train_loss", "val_loss") if isinstance(state.get(name), (int, float))
    )
    text = ", ".join(where + ([losses] if losses else [])) or "starting"
    times = [f"{duration(now - float(state.get('started') or now))} elapsed"]
    etas = [
        f"{label} {duration(state[key])}"
        for label, key in (("trial", "eta_trial_s"), ("run", "eta_run_s"))
        if state.get(key) is not None
    ]
    if etas:
        times.append("ETA " + ", ".join(etas))
    return f"{text}; {', '.join(times)}; pid {state.get('pid')} on {state.get('host')} ({state.get('executor')})"


def duration(seconds: float) -> str:
    """`45 s`, `3 min 10 s`, `2 h 5 min`: as precise as a person reads a clock."""
    seconds = max(0, int(round(float(seconds))))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds < 600 and seconds % 60 else "")
    return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60} min" if seconds % 3600 // 60 else "")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
