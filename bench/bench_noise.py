"""Noise draws, M values/s: the first version (frozen in tests/fixtures) against today's, 1 and 2+ threads.

    .venv/bin/python bench/bench_noise.py [--rows 8000] [--pixels 4096] [--rounds 7]

The three are timed in turn, round after round, in one process, and each figure is the median
of its rounds: the machine may be shared, and interleaving spreads any load over all three
alike. The load average is printed with them — on a busy machine the thread figures say less
than on an idle one; values per CPU-second (all threads' time) show what each core does, which
load changes less: on idle cores the N-thread rate is about N times that. Every round also checks that the draws are the old ones, bit for bit.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np
from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.noise import standard_normal  # noqa: E402
from engine.data.threads import available  # noqa: E402


def reference():
    spec = importlib.util.spec_from_file_location("noise_reference", ROOT / "tests" / "fixtures" / "noise_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.standard_normal


def bench(rows: int = 8000, pixels: int = 4096, rounds: int = 7) -> list[tuple[str, str]]:
    old = reference()
    index = np.arange(rows) * 7919 + 11
    expected = old(3, 1, index, pixels)
    out = np.empty_like(expected)
    threads = max(2, available())
    candidates = {
        "first version (one core)": lambda: old(3, 1, index, pixels, out=out),
        "today, 1 thread": lambda: standard_normal(3, 1, index, pixels, out=out, threads=1),
        f"today, {threads} threads": lambda: standard_normal(3, 1, index, pixels, out=out, threads=threads),
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    cpu: dict[str, list[float]] = {name: [] for name in candidates}
    loads = []
    for _ in range(rounds):
        for name, draw in candidates.items():
            out.fill(np.nan)
            t0, c0 = time.perf_counter(), time.process_time()
            draw()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            assert out.tobytes() == expected.tobytes(), f"{name}: not the first version's draws"
        loads.append(os.getloadavg()[0])
    rate = {name: rows * pixels / float(np.median(t)) / 1e6 for name, t in times.items()}
    base = rate["first version (one core)"]
    result = [
        (
            f"noise draws, {name}",
            f"{r:,.0f} M values/s" + ("" if r == base else f" ({r / base:.2f}× the first version)"),
        )
        for name, r in rate.items()
    ]
    result += [
        (f"noise draws per CPU-second, {name}", f"{rows * pixels / float(np.median(c)) / 1e6:,.0f} M values")
        for name, c in cpu.items()
    ]
    result.append(("noise draws, the same bits as the first version", f"yes, all {rounds} rounds"))
    result.append(
        (
            f"noise draws, {rows:,} × {pixels} values, median of {rounds} interleaved rounds, load average",
            f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores",
        )
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--pixels", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print_rows(bench(args.rows, args.pixels, args.rounds), header=("what", "result"))


if __name__ == "__main__":
    main()
