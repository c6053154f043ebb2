"""What pinning the CPU's numerics would cost, and whether the vector kernels change a net.

    .venv/bin/python bench/bench_numerics.py            # 8,192 toy spectra × 4096 px, 3 epochs
    .venv/bin/python bench/bench_numerics.py --n 4096 --epochs 2

A trained net's numbers depend on which vector kernels the CPU runs (PyTorch picks AVX-512 or
AVX2 per machine, oneDNN and MKL pick theirs), so another machine trains another network from
the same seed. Pinning them — `ATEN_CPU_CAPABILITY` (PyTorch's own kernels), `MKL_CBWR` (MKL's
conditional numerical reproducibility), `ONEDNN_MAX_CPU_ISA` — is the only way to bitwise
results across CPUs. Each setting trains the same MLP (4096→256→128, batch 256, seed 0) in a
fresh process (the variables are read when torch loads), twice; the table gives its training
throughput against the machine's default, whether its two runs gave the same bits, and whether
it gave the default's bits. Bitwise equality across CPUs needs a second kind of CPU to check;
this script shows what one machine can: the cost, and that the kernels matter.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {
    "default (the machine's best kernels)": {},
    "PyTorch kernels pinned to AVX2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "AVX2 everywhere (PyTorch, MKL, oneDNN)": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT",
                                               "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "no vector kernels (PyTorch default, MKL compatible, oneDNN SSE4.1)": {
        "ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE,STRICT", "ONEDNN_MAX_CPU_ISA": "SSE41"},
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
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    from rows import print_rows

    results = {name: [run(env, args.n, args.epochs, args.threads) for _ in range(2)] for name, env in SETTINGS.items()}
    default = results[next(iter(SETTINGS))]
    base = {"samples_per_s": max(r.get("samples_per_s", 0.0) for r in default), "digest": default[0].get("digest")}
    rows = []
    for name, (first, second) in results.items():
        if "error" in first or "error" in second:
            rows.append((name, f"failed: {first.get('error') or second.get('error')}"))
            continue
        speed = min(first["samples_per_s"], second["samples_per_s"]), max(first["samples_per_s"], second["samples_per_s"])
        rows.append((name, f"{speed[1]:,.0f} samples/s ({speed[1] / max(base['samples_per_s'], 1e-9):.2f}× the default; "
                           f"kernels {first['capability']}); log g MAE {first['mae']:.4f}; its two runs "
                           f"{'the same bits' if first['digest'] == second['digest'] else 'differ'}; "
                           f"{'the default bits' if first['digest'] == base['digest'] else 'other bits than the default'}"))
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
