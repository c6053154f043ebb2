"""Progress bars for trials, epochs and blocks, and the one-line epoch summary for the run log.

    with Progress() as progress:                      # bars only when stdout is a terminal
        model.fit(train, val, log=run_log.write, progress=progress)

Inside a model::

    task = progress.task("epoch 3/10", total=n_batches)
    for ...: task.advance()
    task.done()

When stdout is not a TTY (CI, a pipe, a log file) nothing is drawn and rich is not imported;
the per-epoch line still goes to the `log` callback.
"""

from __future__ import annotations

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

    def __init__(self, enabled: bool | None = None, *, console: Any = None) -> None:
        self.enabled = _isatty() if enabled is None else enabled
        self._bars: Any = None
        self._console = console

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


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False
