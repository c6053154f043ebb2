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
    "bench_ridge.py": ["--n", "20000"],
    "bench_train.py": ["--n", "2048", "--epochs", "2"],
    "bench_document.py": [],
    "bench_engine.py": [],
    "bench_ray.py": [],
}
FULL = {**QUICK, "bench_ridge.py": ["--n", "50000", "100000"], "bench_train.py": []}
ROW = re.compile(r"^(\S.*?\S)\s{2,}(\S.*)$")


def machine() -> str:
    try:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        device = "no torch"
    return f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}, {device}"


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
        for line in done.stdout.splitlines():
            m = ROW.match(line)
            if m and not set(m.group(2)) <= {"-"} and m.group(1) != "what":
                print(f"| {script[6:-3]} | {m.group(1).replace('|', '/')} | {m.group(2).replace('|', '/')} |", flush=True)
        print(f"| {script[6:-3]} | (script wall time) | {time.perf_counter() - start:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
