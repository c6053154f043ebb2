"""Training through the engine vs a bare PyTorch loop: the same net, optimizer, batch and data.

    .venv/bin/python bench/bench_train_vs_torch.py                 # 8192 × 4096, 2 epochs, 5 rounds
    .venv/bin/python bench/bench_train_vs_torch.py --rounds 9 --threads 1

The engine side is `MLPModel.fit` (engine/models/trainer.py) on an in-memory toy Split; the bare
side is what one would write by hand around the same tensors: 4096 → 512 → 256 → 3 (GELU),
inputs and targets standardised once up front, one Linear for the three targets, MSE, AdamW
with no decay on biases, the engine's cosine schedule with warm-up, batch 256, a seeded
permutation per epoch and nothing else.

Both are timed per optimizer step by the same clock: the engine's per-batch progress hook
(`task.advance()`, which a progress bar gets anyway) and the same call in the bare loop. A round
trains each once, the order alternating (A B, B A, …); the figures are medians of the step times
after the first epoch (the first warms up), wall and CPU time of this process. On a machine that
other work shares, the median step is what an uncontended step costs far more often than an
epoch's wall time is (a burst of someone else's load lands on a few steps, not on the median).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

from rows import print_rows  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class StepClock:
    """A progress object that records the wall and CPU time of every batch step of epochs ≥ 2."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.epoch = 0

    def task(self, description: str, total: float | None = None, **_: object) -> "StepClock":
        if description.startswith("epoch "):  # "epoch 1/2": a new run starts at 1
            self.epoch = int(description.split()[1].split("/")[0])
            self._last = (time.perf_counter(), time.process_time())
        return self

    def advance(self, n: float = 1) -> None:
        now = (time.perf_counter(), time.process_time())
        if self.epoch >= 2:
            self.wall.append(now[0] - self._last[0])
            self.cpu.append(now[1] - self._last[1])
        self._last = now

    def update(self, **_: object) -> None:
        pass

    def done(self) -> None:
        pass


def engine_run(train, epochs: int, batch: int, seed: int, clock: StepClock) -> None:
    from engine.models import build

    model = build({"type": "mlp"}, {"epochs": epochs, "batch_size": batch, "device": "cpu", "seed": seed}, train.targets)
    model.fit(train, None, progress=clock)


def bare_run(x, y, epochs: int, batch: int, seed: int, clock: StepClock, lr: float = 1e-3) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(seed)
    xs = (x - x.mean(0)) / x.std(0).clamp_min(1e-12)  # standardised once
    ys = (y - y.mean(0)) / y.std(0)
    net = nn.Sequential(nn.Linear(x.shape[1], 512), nn.GELU(), nn.Linear(512, 256), nn.GELU(), nn.Linear(256, y.shape[1]))
    decay = [p for p in net.parameters() if p.dim() >= 2]
    no_decay = [p for p in net.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.0}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    steps = len(x) // batch
    total, warmup = epochs * steps, min(200, epochs * steps // 20)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.45 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        clock.task(f"epoch {epoch + 1}/{epochs}")
        order = torch.randperm(len(x), generator=generator)
        for step in range(steps):
            rows = order[step * batch : (step + 1) * batch]
            loss = F.mse_loss(net(xs[rows]), ys[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            clock.advance()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192, help="training spectra (4096 pixels each)")
    parser.add_argument("--epochs", type=int, default=2, help="per run (the first is not counted)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5, help="A/B pairs, the order alternating")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not counted)")

    import torch

    from engine.models.toy import toy_splits

    if args.threads:
        torch.set_num_threads(args.threads)
    train, _, _ = toy_splits(args.n, 0, 0, 4096)
    x, y = torch.from_numpy(train.arrays()[0]), torch.from_numpy(train.labels())
    engine, bare = StepClock(), StepClock()
    for r in range(args.rounds):
        for side in ("engine", "bare") if r % 2 == 0 else ("bare", "engine"):
            if side == "engine":
                engine_run(train, args.epochs, args.batch, r, engine)
            else:
                bare_run(x, y, args.epochs, args.batch, r, bare)
        print(f"round {r + 1}: median step engine {statistics.median(engine.wall) * 1e3:.1f} ms, "
              f"bare {statistics.median(bare.wall) * 1e3:.1f} ms (so far)", file=sys.stderr, flush=True)
    e_wall, e_cpu = args.batch / statistics.median(engine.wall), args.batch / statistics.median(engine.cpu)
    b_wall, b_cpu = args.batch / statistics.median(bare.wall), args.batch / statistics.median(bare.cpu)
    print_rows([
        (f"engine mlp 4096-512-256, CPU fp32, batch {args.batch}, N={args.n} (median step, wall / CPU time)",
         f"{e_wall:,.0f} / {e_cpu:,.0f} samples/s"),
        ("bare PyTorch loop, same net, optimizer, schedule and data", f"{b_wall:,.0f} / {b_cpu:,.0f} samples/s"),
        (f"engine / bare ({args.rounds} rounds, {len(engine.wall)} + {len(bare.wall)} steps)", f"{e_wall / b_wall:.1%} / {e_cpu / b_cpu:.1%}"),
        ("torch, CPU threads", f"{torch.__version__}, {torch.get_num_threads()}"),
    ])


if __name__ == "__main__":
    main()
