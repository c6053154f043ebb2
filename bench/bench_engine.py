"""Figures for `research run` itself: what the engine costs on top of the science.

    .venv/bin/python bench/bench_engine.py [--n 20000]

Prints, each the median of a few repeats (the first trial run, which also generates the
synthetic data, is not counted):
  - a cached re-run of a one-trial report (every trial a cache hit; target <= 0.5 s);
  - `research --help` (target <= 0.3 s);
  - a write-back of 8 regions into a 1,000-line report (target <= 20 ms);
  - `research run --retrain` of a Ridge trial on N synthetic spectra against a script that
    calls the same code directly (make_splits, fit, predict, evaluate) in a fresh process, and
    the overhead of the run over it (target <= 5 %): the plan, the run store, bootstrap
    intervals, the figure, rendering and the atomic write of the report.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_document import write_back_ms  # noqa: E402

SPEC = """\
---
id: BENCH-engine
title: engine overhead
status: planned
data: {{source: synthetic, n_train: {n}, n_test: 2000, targets: [log_g]}}
noise: {{level: 1.0}}
model: {{type: ridge, alpha: 1000.0}}
trials:
  ridge: {{}}
metrics: [r2.log_g, mae.log_g]
figures:
  - {{kind: bar, file: img/bench.png}}
---
# Bench

<!-- research:summary -->
<!-- /research:summary -->

<!-- research:results -->
<!-- /research:results -->

<!-- research:figures -->
<!-- /research:figures -->

<!-- research:log -->
| time | event | commit |
|---|---|---|
<!-- /research:log -->
"""

DIRECT = """\
import sys
sys.path.insert(0, {root!r})
from engine.data.load import make_splits
from engine.metrics import evaluate
from engine.models import build
from engine.spec import DataSpec, NoiseSpec
splits = make_splits(DataSpec(source="synthetic", n_train={n}, n_test=2000, targets=["log_g"]),
                     NoiseSpec(level=1.0), base_dir={folder!r}, cache_dir={cache!r})
model = build({{"type": "ridge", "alpha": 1000.0}}, {{}}, ["log_g"])
model.fit(splits.train, splits.val)
print(evaluate(splits.test.labels(), model.predict(splits.test), ["log_g"])["r2"])
"""


def wall(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - start


def median(fn, repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="training spectra of the Ridge trial")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    research = str(Path(sys.executable).parent / "research")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".research").mkdir()
        exp = root / "exp.md"
        exp.write_text(SPEC.format(n=args.n), encoding="utf-8")
        run = [research, "run", str(exp), "--no-commit", "--device", "cpu"]
        first = wall(run)  # generates and caches the data too
        cached = median(lambda: wall(run), 5)
        forced = median(lambda: wall([*run, "--retrain"]), args.repeat)
        script = root / "direct.py"
        script.write_text(
            textwrap.dedent(
                DIRECT.format(root=str(ROOT), n=args.n, folder=folder, cache=str(root / ".research" / "cache"))
            )
        )
        direct = median(lambda: wall([sys.executable, str(script)]), args.repeat)
    rows.append(("first run (data generated, 1 Ridge trial)", f"{first:.2f} s"))
    rows.append(("cached re-run (target <= 0.5 s)", f"{cached:.3f} s"))
    rows.append(("`research --help` (target <= 0.3 s)", f"{median(lambda: wall([research, '--help']), 5):.3f} s"))
    rows.append(("write-back, 8 regions, 1,000 lines (target <= 20 ms)", f"{write_back_ms()[0]:.1f} ms"))
    rows.append((f"`research run --retrain`, Ridge on {args.n} spectra", f"{forced:.2f} s"))
    rows.append(("the same code called directly (fresh process)", f"{direct:.2f} s"))
    rows.append(("overhead of `research run` (target <= 5 %)", f"{(forced / direct - 1) * 100:+.1f} %"))
    print_rows(rows)


if __name__ == "__main__":
    main()
