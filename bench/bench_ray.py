"""A sweep on Ray: 4 Ridge trials on a local Ray instance with 1 worker, then with 2.

    .venv/bin/python bench/bench_ray.py [--n 8000] [--trials 4]

Each run is `execute(plan, executor="ray")` on a fresh notebook (so nothing is cached) with the
synthetic data generated beforehand; Ray is started here with `num_cpus` = the worker count, so
the executor joins it. Prints the wall time of each and the speed-up of 2 workers over 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPORT = """\
---
id: BENCH-ray
title: ray sweep
data: {{source: synthetic, n_train: {n}, n_test: 1000, targets: [log_g]}}
noise: {{level: 1.0}}
model: {{type: ridge, alpha: 1000.0}}
trials:
{trials}
metrics: [r2.log_g]
---
# sweep
"""


def sweep(folder: Path, n: int, trials: int, workers: int, cache: Path | None) -> float:
    import ray

    from engine.runner import execute, make_plan

    (folder / ".research").mkdir(parents=True)
    if cache is not None:
        (folder / ".research" / "cache").symlink_to(cache)
    report = folder / "exp.md"
    lines = "\n".join(f"  t{i}: {{model.alpha: {10.0 ** (i + 1)}}}" for i in range(trials))
    report.write_text(REPORT.format(n=n, trials=lines), encoding="utf-8")
    ray.init(
        num_cpus=workers,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        plan = make_plan(report)
        start = time.perf_counter()
        execute(plan, say=lambda line: None, executor="ray", commit=False)
        return time.perf_counter() - start
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--trials", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warm = tmp / "warm"  # generate and cache the data once
        from engine.data.load import make_splits
        from engine.spec import DataSpec, NoiseSpec

        make_splits(
            DataSpec(source="synthetic", n_train=args.n, n_test=1000, targets=["log_g"]),
            NoiseSpec(level=1.0),
            base_dir=tmp,
            cache_dir=warm,
        )
        one = sweep(tmp / "one", args.n, args.trials, 1, warm)
        two = sweep(tmp / "two", args.n, args.trials, 2, warm)
    rows = [
        (f"Ray sweep, {args.trials} Ridge trials on {args.n} spectra, 1 worker", f"{one:.1f} s"),
        (f"Ray sweep, {args.trials} Ridge trials on {args.n} spectra, 2 workers", f"{two:.1f} s"),
        ("Ray speed-up, 2 workers over 1", f"{one / two:.2f}x"),
    ]
    print_rows(rows)


if __name__ == "__main__":
    main()
