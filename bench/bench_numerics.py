"""What pinning the CPU's numerics would cost, and whether the vector kernels change a net.

    .venv/bin/python bench/bench_numerics.py            # 8,192 toy spectra × 4096 px, 3 epochs
    .venv/bin/python bench/bench_numerics.py --n 4096 --epochs 2

A trained net's numbers depend on which vector kernels the CPU runs (PyTorch picks AVX-512 or
AVX2 per machine, oneDNN and MKL pick theirs), so another machine trains another network from
the same seed. Pinning them — `ATEN_CPU_CAPABILITY` (PyTorch's own kernels), `MKL_CBWR` (MKL's
conditional numerical reproducibility), `ONEDNN_MAX_CPU_ISA` — is the only way to bitwise
results across CPUs. Each setting trains the same MLP (4096→256→128, batch 256, seed 0) in a
fresh process (the variables are read when torch loads), the settings interleaved, three rounds;
the table gives the median training throughput against the machine's default, whether its runs
gave the same bits, and whether it gave the default's bits. Bitwise equality across CPUs needs a second kind of CPU to check;
this script shows what one machine can: the cost, and that the kernels matter.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {
    "default (the machine's best kernels)": {},
    "PyTorch kernels pinned to AVX2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "AVX2 everywhere (PyTorch, MKL, oneDNN)": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "AVX2,STRICT",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
    },
    "no vector kernels (PyTorch default, MKL compatible, oneDNN SSE4.1)": {
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_CBWR": "COMPATIBLE,STRICT",
        "ONEDNN_MAX_CPU_ISA": "SSE41",
    },
}

TRAIN = """
import hashlib, json, sys, time
sys.path.insert(0, {root!r})
import numpy as np
import torch
from engine.models import build
from engine.models.toy import toy_splits

torch.set_num_threads({threads})
train, _, test = toy_splits({n}, 0, 1000, 4096, targets=["log_g", "T_eff", "Fe_H"], noise_level=1.0)
model = build({{"type": "mlp", "hidden": [256, 128]}}, {{"epochs": {epochs}, "batch_size": 256, "seed": 0, "device": "cpu"}},
              train.targets)
t0 = time.perf_counter()
model.fit(train, None)
seconds = time.perf_counter() - t0
pred = model.predict(test)
print(json.dumps({{"seconds": seconds, "samples_per_s": {n} * {epochs} / seconds, "capability": torch.backends.cpu.get_cpu_capability(),
                  "digest": hashlib.sha256(np.ascontiguousarray(pred).tobytes()).hexdigest()[:16],
                  "mae": float(np.abs(pred[:, 0] - test.labels(["log_g"])[:, 0]).mean())}}))
"""


def run(env: dict[str, str], n: int, epochs: int, threads: int) -> dict:
    code = TRAIN.format(root=str(ROOT), n=n, epochs=epochs, threads=threads)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each setting, interleaved (a noisy machine)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    from rows import print_rows

    results: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for _ in range(max(args.rounds, 2)):  # every setting once per round, so drift hits them alike
        for name, env in SETTINGS.items():
            results[name].append(run(env, args.n, args.epochs, args.threads))
    default = results[next(iter(SETTINGS))]
    base_speed = statistics.median(r.get("samples_per_s", 0.0) for r in default)
    rows = []
    for name, runs in results.items():
        failed = next((r["error"] for r in runs if "error" in r), None)
        if failed:
            rows.append((name, f"failed: {failed}"))
            continue
        speeds = sorted(r["samples_per_s"] for r in runs)
        same = len({r["digest"] for r in runs}) == 1
        rows.append(
            (
                name,
                f"{statistics.median(speeds):,.0f} samples/s (median of {len(runs)}, {speeds[0]:,.0f}–{speeds[-1]:,.0f}; "
                f"{statistics.median(speeds) / max(base_speed, 1e-9):.2f}× the default; kernels {runs[0]['capability']}); "
                f"log g MAE {runs[0]['mae']:.4f}; its runs {'the same bits' if same else 'differ'}; "
                f"{'the default bits' if runs[0]['digest'] == default[0].get('digest') else 'other bits than the default'}",
            )
        )
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
