"""A Ray trial's progress, heard by the driver while the trial runs.

A local trial feeds the run's progress file (`engine.notebook.locks.LiveRun`) from two calls:
`Progress(observer=…)` tells the observer of every bar begun (`epoch 4/10`), and the log hands it
every line (the epoch line, whose losses `parse_epoch_line` reads back). A trial on Ray runs in
another process, perhaps on another machine, and its result (its log with it) comes back only
when it has ended. So there a `Sender` stands in for both — the trial's observer and its log —
and posts each call, in the order made, to a `Mailbox` actor; the driver empties the mailbox while
it waits for its tasks (`Relay.drain`) and makes the same calls on its own observer and log. The
progress file is fed by the same code, whichever executor ran the trial; nothing is parsed twice.

Hearing a trial is a convenience, never a condition: a worker that cannot reach the mailbox stops
posting and trains on, a driver that cannot read it stops reading, and the trial's log, which
comes back whole with its result, fills in what was not heard (`Relay.finish`) — each line said
once, in the trial's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: How often the driver empties the mailbox while its trials run (seconds).
POLL_S = 0.5
#: How long a mailbox may take to answer before the relay gives up on it (seconds).
ANSWER_S = 10.0


class Mailbox:
    """The actor between the workers and the driver. Ray runs the calls one sender makes to one
    (single-threaded) actor in the order made, so each trial's events are taken out in its order."""

    def __init__(self) -> None:
        self._events: list[tuple[str, tuple]] = []

    def post(self, trial: str, event: tuple) -> None:
        self._events.append((trial, event))

    def take(self) -> list[tuple[str, tuple]]:
        events, self._events = self._events, []
        return events


def open_mailbox() -> Any:
    """A new mailbox actor, or None when Ray cannot make one (the trials then run unheard). It
    asks for no CPU: it must never hold back a trial waiting for one."""
    import ray

    try:
        return ray.remote(Mailbox).options(num_cpus=0, max_restarts=0).remote()
    except Exception:
        return None


def close_mailbox(mailbox: Any) -> None:
    if mailbox is not None:
        import ray

        try:
            ray.kill(mailbox)
        except Exception:  # gone already
            pass


class Sender:
    """The remote trial's progress observer (`task`) and log (`line`): each call posted to the
    mailbox without waiting for it, so training never waits on the driver."""

    def __init__(self, mailbox: Any, trial: str) -> None:
        self._mailbox, self._trial, self._lines = mailbox, trial, 0

    def task(self, description: str, total: float | None = None) -> None:
        self._post(("task", description, total))

    def line(self, text: str) -> None:
        self._post(("line", self._lines, text))  # its place in the trial's log, lost or not
        self._lines += 1

    def close(self, timeout: float = ANSWER_S) -> None:
        """Wait until everything posted has arrived, so the driver, told that the trial ended,
        has heard all of it by then."""
        if self._mailbox is None:
            return
        import ray

        try:
            ray.get(self._mailbox.post.remote(self._trial, ("end", self._lines)), timeout=timeout)
        except Exception:  # not heard: the driver says the log's lines from the result instead
            pass
        self._mailbox = None

    def _post(self, event: tuple) -> None:
        if self._mailbox is None:
            return
        try:
            self._mailbox.post.remote(self._trial, event)
        except Exception:  # the mailbox is out of reach: the trial goes on unheard
            self._mailbox = None


class Relay:
    """The driver's end: the events of every trial, handed to `observer` (`task`, and `line` for
    the epoch lines' losses; `engine.notebook.locks.LiveRun`) and said, named by their trial,
    since several trials train at once and their lines interleave."""

    def __init__(self, mailbox: Any, *, observer: Any, say: Callable[[str], None]) -> None:
        self.mailbox, self._observer, self._say = mailbox, observer, say
        self._said: dict[str, int] = {}  # per trial, how many lines of its log were said
        self._ended: set[str] = set()

    def drain(self, timeout: float = ANSWER_S) -> None:
        if self.mailbox is None:
            return
        import ray

        try:
            events = ray.get(self.mailbox.take.remote(), timeout=timeout)
        except Exception:  # the mailbox is gone: the trials go on, their logs come with their results
            self.mailbox = None
            return
        for trial, event in events:
            self._hand(trial, event)

    def finish(self, trial: str, log: Sequence[str]) -> None:
        """`trial` ended, and `log` is all its log (none when it failed): hear the rest of it,
        then say its lines that were not heard."""
        self.drain()
        self._ended.add(trial)
        for text in log[self._said.get(trial, 0) :]:
            self._say_line(trial, text)

    def _hand(self, trial: str, event: tuple) -> None:
        if trial in self._ended:
            return
        if event[0] in ("task", "line") and hasattr(self._observer, "heard_from"):
            self._observer.heard_from(trial)
        if event[0] == "task":
            if self._observer is not None:
                self._observer.task(event[1], event[2])
        elif event[0] == "line":
            number, text = event[1], event[2]
            if number != self._said.get(trial, 0):  # a line was lost: the rest wait for the result
                return
            self._said[trial] = number + 1
            if self._observer is not None and hasattr(self._observer, "line"):
                self._observer.line(text)
            self._say_line(trial, text)
        # ("end", n) only marks the sender's last post, that `Sender.close` waits for

    def _say_line(self, trial: str, text: str) -> None:
        self._say(f"    [{trial}] {text}")
