"""Progress bars for trials, epochs and blocks, and the one-line epoch summary for the run log.

    with Progress() as progress:                      # bars only when stdout is a terminal
        model.fit(train, val, log=run_log.write, progress=progress)

Inside a model::

    task = progress.task("epoch 3/10", total=n_batches)
    for ...: task.advance()
    task.done()

When stdout is not a TTY (CI, a pipe, a log file) nothing is drawn and rich is not imported;
the per-epoch line still goes to the `log` callback.

A run's progress file (`engine.notebook.locks.LiveRun`) is fed from the same two sources, so no
model reports its progress twice: `Progress(observer=…)` hands it every bar begun (`epoch 4/10`
is an epoch begun), and `parse_epoch_line` reads the losses back from the epoch line this module
writes. A trial on a Ray worker makes the same two calls, relayed to the driver (`engine.run.relay`).
"""

from __future__ import annotations

import re
import sys
from typing import Any


class Task:
    """One bar. On a silent `Progress` every method does nothing."""

    def __init__(self, owner: "Progress | None" = None, task_id: Any = None, keep: bool = False) -> None:
        self._owner, self._id, self._keep = owner, task_id, keep

    def advance(self, n: float = 1) -> None:
        if self._owner is not None:
            self._owner._bars.advance(self._id, n)

    def update(
        self, *, description: str | None = None, total: float | None = None, completed: float | None = None
    ) -> None:
        if self._owner is not None:
            fields = {
                k: v
                for k, v in (("description", description), ("total", total), ("completed", completed))
                if v is not None
            }
            self._owner._bars.update(self._id, **fields)

    def done(self) -> None:
        """Finish the bar: removed, unless it was made with `keep=True`."""
        if self._owner is not None:
            if self._keep:
                task = self._owner._bars.tasks[self._owner._index(self._id)]
                self._owner._bars.update(self._id, completed=task.total or task.completed)
            else:
                self._owner._bars.remove_task(self._id)
            self._owner = None


class Progress:
    """rich progress bars, or nothing when `enabled` is False (default: stdout is a terminal)."""

    def __init__(self, enabled: bool | None = None, *, console: Any = None, observer: Any = None) -> None:
        self.enabled = _isatty() if enabled is None else enabled
        self._bars: Any = None
        self._console = console
        self.observer = observer  # told `task(description, total)` of every bar begun, drawn or not

    def __enter__(self) -> "Progress":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        if self.enabled and self._bars is None:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as Bars

            self._bars = Bars(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
            )
            self._bars.start()

    def stop(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def task(self, description: str, total: float | None = None, *, keep: bool = False) -> Task:
        if self.observer is not None:
            self.observer.task(description, total)
        if not self.enabled:
            return Task()
        self.start()
        return Task(self, self._bars.add_task(description, total=total), keep)

    def _index(self, task_id: Any) -> int:
        return [t.id for t in self._bars.tasks].index(task_id)


SILENT = Progress(enabled=False)


def epoch_line(
    epoch: int, epochs: int, train_loss: float, val_loss: float | None, lr: float, seconds: float, **extra: float
) -> str:
    """`epoch 3/10 train_loss 0.412 val_loss 0.455 lr 9.1e-04 (2.3 s)` (extra fields before the time)."""
    parts = [f"epoch {epoch}/{epochs}", f"train_loss {train_loss:.4g}"]
    if val_loss is not None:
        parts.append(f"val_loss {val_loss:.4g}")
    parts.append(f"lr {lr:.1e}")
    parts += [f"{k} {v:.4g}" for k, v in extra.items()]
    return " ".join(parts) + f" ({seconds:.1f} s)"


_EPOCH_RE = re.compile(r"^epoch (\d+)/(\d+)$")
_EPOCH_LINE_RE = re.compile(
    r"^\s*epoch (?P<epoch>\d+)/(?P<epochs>\d+) train_loss (?P<train>\S+)(?: val_loss (?P<val>\S+))? .*"
    r"\((?P<seconds>[0-9.]+) s\)\s*$"
)


def parse_epoch(description: str) -> tuple[int, int] | None:
    """(e, E) of a bar named `epoch e/E` (the trainer's per-epoch bar), else None."""
    found = _EPOCH_RE.match(description.strip())
    return (int(found[1]), int(found[2])) if found else None


def parse_epoch_line(line: str) -> dict[str, Any] | None:
    """The fields of an `epoch_line` (epoch, epochs, train_loss, val_loss or None, seconds), else None."""
    found = _EPOCH_LINE_RE.match(line)
    if found is None:
        return None
    try:
        return {
            "epoch": int(found["epoch"]),
            "epochs": int(found["epochs"]),
            "train_loss": float(found["train"]),
            "val_loss": float(found["val"]) if found["val"] is not None else None,
            "seconds": float(found["seconds"]),
        }
    except ValueError:
        return None


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
