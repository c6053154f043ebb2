"""Training on a shard set larger than the memory it is allowed: Ridge, LightGBM and an MLP on 200k × 4096.

    .venv/bin/python bench/bench_scale.py [--n 200000] [--dir /tmp/research-bench-scale]

Writes N synthetic spectra as 4 HDF5 shards (flux + error: 6.6 GB at 200k; kept in --dir for
re-runs), then trains each model in its own process on a Split of the shards with noise 1.0 and
prints its wall time and peak RSS (ru_maxrss). Memory is bounded independently of N:
  ridge     streams 8192-row blocks into the Gram matrix (P² floats);
  lightgbm  builds its features block by block (binned:8 → 512 columns, so N × 512 floats), then its
            own Dataset from them; for pixel features on more rows than fit, subsample with
            data.select (first / random n);
  mlp       `train.stream_rows: 65536`: one chunk of 65,536 spectra in memory (and the next being
            read), whatever N.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from rows import print_rows  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from engine.data.shards import open_shards
from engine.data.split import Split
from engine.models import build
import numpy as np
source = open_shards({pattern!r})
n = source.n
rows = np.arange(n)
train = Split(source, rows[: n - 2000], ("log_g",), noise_level=1.0, noise_seed=1)
test = Split(source, rows[n - 2000 :], ("log_g",), noise_level=1.0, noise_seed=1, noise_epoch=10**6)
model = build({model}, {train_cfg}, ["log_g"])
t = time.perf_counter()
model.fit(train, None)
fit_s = time.perf_counter() - t
pred = model.predict(test)[:, 0]
y = test.labels()[:, 0]
r2 = 1 - ((pred - y) ** 2).mean() / y.var()
print(json.dumps({{"fit_s": fit_s, "r2": float(r2), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

MODELS = {
    "ridge": ({"type": "ridge", "alpha": 1e4}, {"device": "cpu"}),
    "lightgbm (binned:8)": ({"type": "lightgbm", "features": "binned:8", "n_estimators": 300, "learning_rate": 0.1}, {"seed": 1}),
    "mlp 512-256 (stream_rows 65536, 1 epoch)": ({"type": "mlp"}, {"epochs": 1, "batch_size": 256, "device": "cpu", "stream_rows": 65536}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/research-bench-scale"))
    args = parser.parse_args()
    from engine.data import synth

    folder = args.dir / f"n{args.n}"
    shards = 4
    pattern = str(folder / f"shard_{{0..{shards - 1}}}" / "dataset.h5")
    if not (folder / f"shard_{shards - 1}" / "dataset.h5").exists():
        t = time.perf_counter()
        synth.write_shards(folder, args.n, shards, seed=0)
        print(f"wrote {args.n:,} spectra in {shards} shards ({sum(p.stat().st_size for p in folder.rglob('*.h5')) / 1e9:.1f} GB) "
              f"in {time.perf_counter() - t:.0f} s", flush=True)
    size = sum(p.stat().st_size for p in folder.rglob("*.h5")) / 1e9
    rows = []
    for name, (model, train) in MODELS.items():
        code = CHILD.format(root=str(ROOT), pattern=pattern, model=repr(model), train_cfg=repr(train))
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            rows.append((f"{name} on {args.n:,} spectra ({size:.1f} GB)", "failed: " + done.stderr.strip().splitlines()[-1]))
            continue
        out = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append((f"{name} on {args.n:,} spectra ({size:.1f} GB)",
                     f"fit {out['fit_s']:.0f} s, test R² {out['r2']:.3f}, peak RSS {out['rss_mb']:,.0f} MB"))
    print_rows(rows)


if __name__ == "__main__":
    main()
