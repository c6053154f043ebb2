"""Where trials run: here, one after another (`local`), or as Ray tasks (`ray`).

An executor takes the trials to run and yields, as each one ends, `(trial, result, error)`:
a `TrialResult` or a short error line. The runner stores results and writes the report the same
way whichever executor ran them, so the run store, the cache and the report do not know the
difference. A trial that raises is an error for that trial only; the others go on.

Ray: without `address` a local Ray instance of its own is started (on 127.0.0.1, whatever
other cluster the machine runs or once ran) and stopped after the run; with one, the address is
checked first (`check_address`: syntax, and a cluster answering within CONNECT_TIMEOUT), then
the run joins that cluster and leaves it running. Each trial is one task asking
for one GPU when its device is cuda and the cluster has GPUs, one CPU otherwise. Tasks run in the
driver's working directory (plugins are imported from it) with the notebook's cache folder, so
the synthetic data generated once serves every worker on this machine. While a task runs, its
bars begun and its log lines come back to the driver as they happen (`engine.run.relay`): the
run's progress file shows its epochs as a local trial's, and the run's log gets its lines, each
named by its trial.

A trial that reads another trial's stored result (`model: {from: …}`, a probe's `of`, a
mixture's `experts_from`) starts only after that trial ended and was stored: the runner stores
each result before the executor goes on, so locally the plan's order (sources first) is enough,
and on Ray such a trial is submitted when its sources are done. When a source failed, the trials
that use it fail with it, without running.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.errors import ResearchError

EXECUTORS = ("local", "ray")
Say = Callable[[str], None]


def run_trials(
    trials: Sequence[Any],
    *,
    executor: str = "local",
    address: str | None = None,
    base_dir: Path,
    cache_dir: Path,
    device: str | None,
    say: Say,
    progress=None,
    store_dir: Path | None = None,
) -> Iterator[tuple[Any, Any, str | None, dt.datetime]]:
    """(trial, result or None, error or None, start time) for each trial, as each ends.

    `store_dir`: the run store's folder (shared artifacts, the stored trials a trial reads)."""
    if executor not in EXECUTORS:
        raise ResearchError(f"unknown executor '{executor}'", hint=f"executors: {', '.join(EXECUTORS)}")
    if not trials:
        return
    common = dict(
        base_dir=base_dir, cache_dir=cache_dir, device=device, say=say, progress=progress, store_dir=store_dir
    )
    if executor == "local":
        yield from _local(trials, **common)
    else:
        yield from _ray(trials, address=address, **common)


def _needs(trial, batch: set[str]) -> list[str]:
    """The trials of this batch whose stored result `trial` reads."""
    return [name for name in getattr(trial, "needs", ()) if name in batch and name != trial.name]


def _failed_source(trial, failed: set[str]) -> str | None:
    gone = [name for name in getattr(trial, "needs", ()) if name in failed]
    return f"not run: the trial it reads, '{gone[0]}', failed" if gone else None


def _local(trials, *, base_dir, cache_dir, device, say, progress, store_dir):
    from engine.run.trial import run_trial, short_error

    failed: set[str] = set()
    for number, trial in enumerate(trials, start=1):
        say(f"[{number}/{len(trials)}] {trial.name} ({trial.reason})")
        started = dt.datetime.now(dt.timezone.utc)
        if (why := _failed_source(trial, failed)) is not None:
            failed.add(trial.name)
            yield trial, None, why, started
            continue
        try:
            result = run_trial(
                trial.config,
                base_dir=base_dir,
                cache_dir=cache_dir,
                device=device,
                store_dir=store_dir,
                uses=dict(getattr(trial, "uses", {}) or {}),
                log=lambda line: say(f"    {line}"),
                progress=progress,
                checked=getattr(trial, "trial", None),
                model_config=getattr(trial, "model_config", None),
            )
        except (KeyboardInterrupt, SystemExit, ResearchError):
            raise
        except Exception as error:  # a trial that raises: report it, run the others
            failed.add(trial.name)
            yield trial, None, short_error(error), started
            continue
        yield trial, result, None, started


#: How long `--address` may take to answer before the run is refused (seconds).
CONNECT_TIMEOUT = 20.0


def check_address(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """A `--address` that can be joined: `host:port` (or `ray://host:port`, Ray's client), and a
    cluster listening there within `timeout` — else a located error before anything runs, where
    Ray itself would wait for minutes, or fail with a traceback."""
    import socket

    hint = "the address `ray start --head` printed, e.g. --address 127.0.0.1:6379 (or leave it out: a local instance)"
    host, colon, port_text = address.removeprefix("ray://").rpartition(":")
    if not colon or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ResearchError(f"expected HOST:PORT, got '{address}'", key="--address", hint=hint)
    try:
        with socket.create_connection((host.strip("[]"), int(port_text)), timeout=timeout):
            pass
    except socket.gaierror:
        raise ResearchError(f"no host named '{host}'", key="--address", hint=hint) from None
    except OSError as error:
        why = "nothing answered" if isinstance(error, (TimeoutError, socket.timeout)) else "the connection was refused"
        raise ResearchError(
            f"no Ray cluster at {address}: {why} within {timeout:g} s",
            key="--address",
            hint="start one with `ray start --head --port "
            + port_text
            + "`, or leave --address out for a local instance",
        ) from None


def _joining_failed(address: str, error: BaseException) -> ResearchError:
    """Why joining the cluster at `address` failed, in words a user can act on. Ray's own error
    says only that it could not connect; the cause it chains says why (a missing auth token)."""
    text = str(error)
    chain: list[str] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 8:
        chain.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    if any(word in " ".join(chain).lower() for word in ("authenticat", "auth token", "invalidauthtoken")):
        return ResearchError(
            f"the Ray cluster at {address} refused this client: {text.splitlines()[0] if text else type(error).__name__}",
            key="--address",
            hint="a cluster started with token authentication needs the same RAY_AUTH_MODE (and its token) in this "
            "shell: export RAY_AUTH_MODE=token, as for the `ray start` that made it",
        )
    return ResearchError(
        f"could not join the Ray cluster at {address}: {text.splitlines()[0] if text else type(error).__name__}",
        key="--address",
        hint="check that `ray status --address " + address + "` answers from this shell",
    )


def _remote_trial(
    config,
    base_dir: str,
    cache_dir: str,
    device,
    cwd: str,
    store_dir: str | None = None,
    uses: dict | None = None,
    checked: Any = None,
    model_config: Any = None,
    mailbox: Any = None,
    name: str = "",
):
    """The body of a Ray task: the same `run_trial`, in the driver's working directory. The
    fitted model travels back as the bytes of its file (`model_file`), not as a live object; its
    bars begun and its log lines go to the driver's `mailbox` as they happen (`engine.run.relay`)."""
    os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    from engine.progress import Progress
    from engine.run.relay import Sender
    from engine.run.trial import run_trial

    sender = Sender(mailbox, name)
    try:
        result = run_trial(
            config,
            base_dir=Path(base_dir),
            cache_dir=Path(cache_dir),
            device=device,
            store_dir=Path(store_dir) if store_dir else None,
            uses=uses or {},
            log=sender.line,
            progress=Progress(enabled=False, observer=sender),
            checked=checked,
            model_config=model_config,
        )
    finally:  # a trial that fails is heard up to its failure
        sender.close()
    result.model = None
    return result


def _ray(trials, *, address, base_dir, cache_dir, device, say, progress, store_dir):
    try:
        import ray
    except ImportError:
        raise ResearchError(
            "--executor ray needs Ray, which is not installed",
            hint="pip install 'research-notebook[ray]' (or: pip install ray)",
        ) from None
    from engine.numerics import in_effect
    from engine.run import relay as relaying
    from engine.run.trial import short_error

    started_here = not ray.is_initialized()
    if started_here:
        # the workers' kernels: the driver's
        pinned: dict[str, Any] = {"runtime_env": {"env_vars": in_effect()}} if in_effect() else {}
        if address:
            check_address(address)
            try:
                ray.init(
                    address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False, **pinned
                )
            except Exception as error:  # Ray says why in its own words: ours name the option and the way out
                raise _joining_failed(address, error) from None
        else:
            ray.init(
                address="local",  # a new instance of our own, whatever cluster the machine has or had
                _node_ip_address="127.0.0.1",
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
                num_cpus=os.cpu_count() or 1,
                **pinned,
            )
    mailbox = None
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        where = address or "a local Ray instance"
        say(
            f"ray: {len(trials)} trial{'s' if len(trials) != 1 else ''} on {where} "
            f"({ray.cluster_resources().get('CPU', 0):g} CPUs, {gpus:g} GPUs)"
        )
        remote = ray.remote(_remote_trial)
        mailbox = relaying.open_mailbox()
        relay = relaying.Relay(mailbox, observer=getattr(progress, "observer", None), say=say)
        pending, started = {}, {}
        cwd = os.getcwd()
        batch = {t.name for t in trials}
        waiting = list(trials)  # in the plan's order: sources first
        finished: set[str] = set()
        failed: set[str] = set()
        done_count = 0

        def submit_ready():
            for trial in list(waiting):
                if any(name not in finished for name in _needs(trial, batch)) or _failed_source(trial, failed):
                    continue  # its sources are not stored yet, or one failed (said by the loop below)
                waiting.remove(trial)
                wants_gpu = (device or trial.config.get("train", {}).get("device")) in ("cuda", "auto") and gpus >= 1
                options = {"num_gpus": 1, "num_cpus": 1} if wants_gpu else {"num_cpus": 1}
                ref = remote.options(max_retries=0, **options).remote(
                    trial.config,
                    str(base_dir),
                    str(cache_dir),
                    device,
                    cwd,
                    str(store_dir) if store_dir is not None else None,
                    dict(getattr(trial, "uses", {}) or {}),
                    getattr(trial, "trial", None),
                    getattr(trial, "model_config", None),
                    mailbox,
                    trial.name,
                )
                pending[ref] = trial
                started[ref] = dt.datetime.now(dt.timezone.utc)

        submit_ready()
        while pending or waiting:
            orphans = [t for t in waiting if _failed_source(t, failed) is not None]
            for trial in orphans:
                waiting.remove(trial)
                failed.add(trial.name)
                finished.add(trial.name)
                done_count += 1
                say(f"[{done_count}/{len(trials)}] {trial.name} ({trial.reason}) — not run")
                yield trial, None, _failed_source(trial, failed), dt.datetime.now(dt.timezone.utc)
            submit_ready()
            if not pending:
                if orphans:
                    continue
                for trial in waiting:  # cannot happen: the plan refuses a cycle of sources
                    yield trial, None, "not run: its sources never ran", dt.datetime.now(dt.timezone.utc)
                break
            ready: list = []
            while not ready:  # the trials' progress is heard while they run
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=relaying.POLL_S)
                relay.drain()
            ref = ready[0]
            trial = pending.pop(ref)
            done_count += 1
            say(f"[{done_count}/{len(trials)}] {trial.name} ({trial.reason}) — ray task done")
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                failed.add(trial.name)
                finished.add(trial.name)
                relay.finish(trial.name, ())
                yield trial, None, short_error(cause if isinstance(cause, BaseException) else error), started[ref]
                submit_ready()
                continue
            relay.finish(trial.name, result.log)  # its lines not heard while it ran
            yield trial, result, None, started[ref]  # the runner stores it before we go on
            finished.add(trial.name)
            submit_ready()
    finally:
        relaying.close_mailbox(mailbox)
        if started_here:
            ray.shutdown()
