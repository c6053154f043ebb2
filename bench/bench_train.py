"""Training and inference throughput of the nets (mlp, cnn, vit), through the real trainer.

    .venv/bin/python bench/bench_train.py                  # CPU, and the GPU when there is one
    .venv/bin/python bench/bench_train.py --n 2048 --models mlp cnn

Each model is the default config of its file (MLP 4096→512→256; CNN 16-32-64, k7, d2, stride 2,
pool 16; ViT patch 64, dim 128, depth 4, heads 4) trained on N toy spectra of 4096 pixels with
batch 256. Train samples/s is from the last epoch's wall time (the first epoch warms up);
inference is `predict` over the same N (blocks streamed from the split, 2048 rows a forward).
On cuda it runs with bf16 autocast (`amp: true`) and without.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {"mlp": {"type": "mlp"}, "cnn": {"type": "cnn"}, "vit": {"type": "vit"}}


def measure(name: str, splits, device: str, amp: bool, epochs: int, batch: int) -> dict:
    from engine.models import build

    train, _, _ = splits
    lines: list[str] = []
    model = build(
        MODELS[name], {"epochs": epochs, "batch_size": batch, "device": device, "amp": amp, "seed": 0}, train.targets
    )
    model.fit(train, None, log=lines.append)
    last = float(re.search(r"\(([\d.]+) s\)$", lines[-1]).group(1))
    steps = len(train) // batch
    t0 = time.perf_counter()
    model.predict(train)
    infer = time.perf_counter() - t0
    return {
        "model": name,
        "device": device,
        "amp": amp,
        "n_params": model.info()["n_params"],
        "train_per_s": steps * batch / last,
        "infer_per_s": len(train) / infer,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="training spectra (4096 pixels each)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--devices",
        nargs="+",
        default=["cpu", "cuda"],
        choices=["cpu", "cuda"],
        help="where to train (cuda only when there is a GPU)",
    )
    args = parser.parse_args()

    import torch

    from engine.models.toy import toy_splits

    if args.threads:
        torch.set_num_threads(args.threads)
    splits = toy_splits(args.n, 0, 0, 4096)
    runs = ([("cpu", False)] if "cpu" in args.devices else []) + (
        [("cuda", True), ("cuda", False)] if torch.cuda.is_available() and "cuda" in args.devices else []
    )
    rows = []
    for device, amp in runs:
        for name in args.models:
            row = measure(name, splits, device, amp, args.epochs, args.batch)
            rows.append(row)
            print(row, flush=True)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(
        f"\ntorch {torch.__version__}, CPU threads {torch.get_num_threads()}, GPU {gpu}, N={args.n}, batch {args.batch}\n"
    )
    print("| model | params | device | precision | train samples/s | inference samples/s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        precision = "bf16 autocast" if r["amp"] else "fp32"
        print(
            f"| {r['model']} | {r['n_params']:,} | {r['device']} | {precision} | {r['train_per_s']:,.0f} | {r['infer_per_s']:,.0f} |"
        )


if __name__ == "__main__":
    main()
