"""`make bench`: every bench/ script, one table, and the machine it ran on.

    .venv/bin/python bench/all.py            # a few minutes on 2 cores
    .venv/bin/python bench/all.py --full     # the long settings (RidgeCV at 50k and 100k: tens of minutes)

Each script runs in its own process with the arguments below and prints `measure  value`
lines; this collects them under the script's name. Missing pieces (no GPU, no Ray) are skipped by
the scripts themselves.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = {
    "bench_data.py": ["--rows", "70000"],
    "bench_noise.py": [],
    "bench_ridge.py": ["--n", "20000"],
    "bench_ridge_parts.py": ["--repeat", "2"],
    "bench_train.py": ["--n", "2048", "--epochs", "2"],
    "bench_train_vs_torch.py": ["--n", "4096", "--rounds", "3"],
    "bench_document.py": [],
    "bench_overhead.py": [],
    "bench_engine.py": [],
    "bench_bootstrap.py": [],
    "bench_numerics.py": ["--n", "4096", "--epochs", "2"],
    "bench_ray.py": [],
    "bench_scale.py": [],  # writes 6.6 GB of shards once (kept in /tmp/research-bench-scale)
}
FULL = {**QUICK, "bench_ridge.py": ["--n", "50000", "100000"], "bench_train.py": [], "bench_train_vs_torch.py": []}
ROW = re.compile(r"^(\S.*?\S)\s{2,}(\S.*)$")


def machine() -> str:
    try:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        device = "no torch"
    return f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}, {device}"


def rows_of(output: str) -> list[tuple[str, str]]:
    """(measure, value) from a script's `measure  value` lines and its markdown tables (a row each)."""
    rows, header = [], None
    for line in output.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(set(c) <= {"-", ":"} for c in cells):
                continue
            if header is None:
                header = cells
                continue
            rest = [f"{h} {v}" for h, v in zip(header[1:], cells[1:]) if v]
            rows.append((f"{header[0]} {cells[0]}", "; ".join(rest)))
            continue
        header = None
        m = ROW.match(line)
        if m and not set(m.group(2)) <= {"-"} and m.group(1) != "what":
            rows.append((m.group(1), m.group(2)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    print("| bench | measure | value |")
    print("|---|---|---|")
    for script, extra in (FULL if args.full else QUICK).items():
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(HERE / script), *extra], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {script} | failed | {(done.stderr.strip().splitlines() or ['?'])[-1]} |", flush=True)
            continue
        for measure, value in rows_of(done.stdout):
            print(f"| {script[6:-3]} | {measure.replace('|', '/')} | {value.replace('|', '/')} |", flush=True)
        print(f"| {script[6:-3]} | (script wall time) | {time.perf_counter() - start:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
