"""Where trials run: here, one after another (`local`), or as Ray tasks (`ray`).

An executor takes the trials to run and yields, as each one ends, `(trial, result, error)`:
a `TrialResult` or a short error line. The runner stores results and writes the report the same
way whichever executor ran them, so the run store, the cache and the report do not know the
difference. A trial that raises is an error for that trial only; the others go on.

Ray: without `address` a local Ray instance is started (on 127.0.0.1) and stopped after the
run; with one, the run joins that cluster and leaves it running. Each trial is one task asking
for one GPU when its device is cuda and the cluster has GPUs, one CPU otherwise. Tasks run in the
driver's working directory (plugins are imported from it) with the notebook's cache folder, so
the synthetic data generated once serves every worker on this machine.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import ResearchError

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
) -> Iterator[tuple[Any, Any, str | None, dt.datetime]]:
    """(trial, result or None, error or None, start time) for each trial, as each ends."""
    if executor not in EXECUTORS:
        raise ResearchError(f"unknown executor '{executor}'", hint=f"executors: {', '.join(EXECUTORS)}")
    if not trials:
        return
    if executor == "local":
        yield from _local(trials, base_dir=base_dir, cache_dir=cache_dir, device=device, say=say, progress=progress)
    else:
        yield from _ray(trials, address=address, base_dir=base_dir, cache_dir=cache_dir, device=device, say=say)


def _local(trials, *, base_dir, cache_dir, device, say, progress):
    from .trial import run_trial, short_error

    for number, trial in enumerate(trials, start=1):
        say(f"[{number}/{len(trials)}] {trial.name} ({trial.reason})")
        started = dt.datetime.now(dt.timezone.utc)
        try:
            result = run_trial(trial.config, base_dir=base_dir, cache_dir=cache_dir, device=device,
                               log=lambda line: say(f"    {line}"), progress=progress)
        except (KeyboardInterrupt, SystemExit, ResearchError):
            raise
        except Exception as error:  # a trial that raises: report it, run the others
            yield trial, None, short_error(error), started
            continue
        yield trial, result, None, started


def _remote_trial(config, base_dir: str, cache_dir: str, device, cwd: str):
    """The body of a Ray task: the same `run_trial`, in the driver's working directory."""
    os.chdir(cwd)
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    from engine.trial import run_trial

    return run_trial(config, base_dir=Path(base_dir), cache_dir=Path(cache_dir), device=device)


def _ray(trials, *, address, base_dir, cache_dir, device, say):
    try:
        import ray
    except ImportError:
        raise ResearchError(
            "--executor ray needs Ray, which is not installed",
            hint="pip install 'research-notebook[ray]' (or: pip install ray)",
        ) from None
    from .trial import short_error

    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        else:
            ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, logging_level="ERROR", log_to_driver=False,
                     num_cpus=os.cpu_count() or 1)
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        where = address or "a local Ray instance"
        say(f"ray: {len(trials)} trial{'s' if len(trials) != 1 else ''} on {where} "
            f"({ray.cluster_resources().get('CPU', 0):g} CPUs, {gpus:g} GPUs)")
        remote = ray.remote(_remote_trial)
        pending, started = {}, {}
        cwd = os.getcwd()
        for trial in trials:
            wants_gpu = (device or trial.config.get("train", {}).get("device")) in ("cuda", "auto") and gpus >= 1
            options = {"num_gpus": 1, "num_cpus": 1} if wants_gpu else {"num_cpus": 1}
            ref = remote.options(max_retries=0, **options).remote(trial.config, str(base_dir), str(cache_dir), device, cwd)
            pending[ref] = trial
            started[ref] = dt.datetime.now(dt.timezone.utc)
        done_count = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            trial = pending.pop(ref)
            done_count += 1
            say(f"[{done_count}/{len(trials)}] {trial.name} ({trial.reason}) — ray task done")
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError as error:
                cause = getattr(error, "cause", None)
                yield trial, None, short_error(cause if isinstance(cause, BaseException) else error), started[ref]
                continue
            for line in result.log:
                say(f"    {line}")
            yield trial, result, None, started[ref]
    finally:
        if started_here:
            ray.shutdown()
