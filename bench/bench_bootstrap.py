"""The bootstrap a report's numbers and verdict rest on: an interval, and a rule over resamples.

    .venv/bin/python bench/bench_bootstrap.py          # 2,000 test rows, 5 seeds, 1,000 resamples

Every interval of a report (tables, figures, `best.delta`) and every verdict (a rule evaluated on
each resample of test rows and seeds, `engine.render.confidence`) comes from these resamples. Each is a
row-count matrix times per-row sums (Σe, Σ|e|, Σe², Σy, Σy²), so a metric of every resample is a
few matrix products; the same resamples with the metric called once per resample and seed — as
before — are timed beside them, with the largest difference between the two intervals. The last
row is the rule of the multitask example over 1,000 resamples of four 5-seed trials.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def best_of(fn, rounds: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    from rows import print_rows

    from engine import metrics
    from engine.render.confidence import Resampler, odds, resampled_contexts
    from engine.render.decision import build_context, decide
    from engine.render.repeats import fold
    from engine.spec import load_spec

    rng = np.random.default_rng(0)
    n, k, B = 2000, 5, 1000
    y = rng.normal(3, 1, n)
    runs = np.stack([y + rng.normal(0, 0.3, n) for _ in range(k)])
    rows = []
    for name in ("mae", "r2"):
        fn = getattr(metrics, name)
        fast, ci = best_of(lambda: metrics.bootstrap_ci(fn, y, runs, B=B, seed=0))
        slow, loop = best_of(lambda: metrics.bootstrap_ci(lambda a, b: fn(a, b), y, runs, B=B, seed=0), rounds=1)
        gap = max(abs(ci.lo - loop.lo), abs(ci.hi - loop.hi))
        rows.append(
            (
                f"{name} interval, {k} seeds × {n:,} rows, {B:,} resamples",
                f"{fast * 1e3:.0f} ms from sums vs {slow * 1e3:,.0f} ms a call per resample ({slow / fast:.0f}×); "
                f"intervals differ by {gap:.1e}",
            )
        )

    spec = load_spec("""\
id: BENCH
title: the multitask rule
model: {type: mlp}
trials: {single-task: {}, equal: {}, inverse-variance: {}, logg-first: {}}
metrics: [mae.log_g]
decision:
  baseline: single-task
  rules:
    - {when: best.mae.log_g <= 0.97 * baseline.mae.log_g, verdict: pass, says: cut}
    - {otherwise: fail, says: no cut}
""")
    preds = {
        t: [
            {
                "targets": np.array([b"log_g"]),
                "index": np.arange(n),
                "y_true": y[:, None],
                "y_pred": (y + rng.normal(0, 0.3, n))[:, None],
            }
            for _ in range(k)
        ]
        for t in spec.trials
    }
    results, spreads = {}, {}
    for t, ps in preds.items():
        results[t], spreads[t] = fold(
            [{"mae": {"log_g": float(np.mean(np.abs(p["y_pred"] - p["y_true"])))}} for p in ps]
        )

    def decide_it():
        def build(r, *, delta=None, compare=None):
            return build_context(r, primary="mae.log_g", baseline="single-task", spreads=spreads, best="equal")

        point = decide(spec, build(results))
        contexts = resampled_contexts(
            Resampler(preds, B=B, seed=0),
            results=results,
            build=build,
            delta={},
            compare=lambda a, b: {},
            baseline="single-task",
            binned=[],
        )
        return odds(spec, contexts, B, point_rule=point.rule)

    took, found = best_of(decide_it)
    rows.append(
        (
            f"a rule over {B:,} resamples of 4 trials × {k} seeds × {n:,} rows",
            f"{took * 1e3:.0f} ms (shares {', '.join(f'{s:.3f}' for s in found.first)})",
        )
    )
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
