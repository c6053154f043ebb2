"""How many threads the data layer may use, and one shared pool for the short tasks.

The numpy kernels here (noise draws, the generator) release the GIL, so threads over row blocks
use every core. The count is the cores this process may run on, capped by `OMP_NUM_THREADS`
when set (Ray and the usual launchers set it to a worker's share), so a worker never takes more
than it was given. The pool is made once per process (a forked child gets its own: the parent's
threads do not exist there) so a small call does not pay for starting threads.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid, workers, pool)


def available() -> int:
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        cap = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        cap = 0
    return min(cores, cap) if cap > 0 else cores


def pool(workers: int) -> ThreadPoolExecutor:
    """The process's shared pool, with at least `workers` threads."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers:
            workers = max(workers, available())
            _pool = (os.getpid(), workers, ThreadPoolExecutor(workers, thread_name_prefix="engine-data"))
        return _pool[2]


def run_spans(fn, spans: list[tuple[int, int]], workers: int) -> None:
    """`fn(start, stop)` for each span, over `workers` threads of the shared pool (in order on one)."""
    workers = min(workers, len(spans))
    if workers <= 1:
        for start, stop in spans:
            fn(start, stop)
        return
    for future in [pool(workers).submit(fn, start, stop) for start, stop in spans]:
        future.result()
