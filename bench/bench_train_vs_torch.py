"""Training through the engine vs a bare PyTorch loop: the same net, optimizer, batch and data.

    .venv/bin/python bench/bench_train_vs_torch.py                 # 8192 × 4096, 2 epochs, 5 rounds: ~2 min
    .venv/bin/python bench/bench_train_vs_torch.py --rounds 9 --threads 1

The engine side is `MLPModel.fit` (engine/models/trainer.py) on an in-memory toy Split; the bare
side is what one would write by hand around the same tensors: 4096 → 512 → 256 → 3 (GELU),
inputs and targets standardised once up front, one Linear for the three targets, MSE, AdamW
with no decay on biases, the engine's cosine schedule with warm-up, batch 256, a seeded
permutation per epoch and nothing else; its AdamW is torch's default (per tensor on CPU) unless
`--bare-foreach` gives it the engine's foreach=True (the same arithmetic, faster on CPU).

The two run in lockstep, one step each in turn: the engine's per-batch progress hook
(`task.advance()`, which a progress bar gets anyway) runs the bare loop's next step, and each
step is timed on its own, by wall clock and by this process's CPU time. On a machine that other
work shares, a burst of someone else's load then lands on both sides alike, and the medians over
the steps (after each run's first epoch, which warms up) are what an undisturbed step costs far
more often than separate epochs' wall times are. A round is one engine fit with its bare twin
(seed = the round); the figures pool every round's steps.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

from rows import print_rows

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.progress import SILENT  # noqa: E402


class Lockstep:
    """The engine's progress object: at each of its batch steps (`task.advance()`, which a
    progress bar gets anyway) it runs one step of the bare loop, and times both, by wall clock
    and by this process's CPU time. Steps of a run's first epoch are not kept (warm-up)."""

    def __init__(self, bare) -> None:
        self.bare = bare  # the bare loop as a generator: one optimizer step per next()
        self.engine_steps: list[tuple[float, float]] = []
        self.bare_steps: list[tuple[float, float]] = []
        self.epoch = 0

    @staticmethod
    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def task(self, description: str, total: float | None = None, **_: object):
        if not description.startswith("epoch "):  # the bar over the epochs
            return SILENT.task(description)
        self.epoch = int(description.split()[1].split("/")[0])  # "epoch 2/3"
        self._mark = self.now()
        return self

    def advance(self, n: float = 1) -> None:
        t1 = self.now()
        next(self.bare)
        t2 = self.now()
        if self.epoch >= 2:
            self.engine_steps.append((t1[0] - self._mark[0], t1[1] - self._mark[1]))
            self.bare_steps.append((t2[0] - t1[0], t2[1] - t1[1]))
        self._mark = self.now()

    def update(self, **_: object) -> None:
        pass

    def done(self) -> None:
        pass


def bare_loop(x, y, epochs: int, batch: int, seed: int, foreach: bool | None = None, lr: float = 1e-3):
    """What one writes by hand; yields after every optimizer step."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(seed)
    xs = (x - x.mean(0)) / x.std(0).clamp_min(1e-12)  # standardised once
    ys = (y - y.mean(0)) / y.std(0)
    net = nn.Sequential(
        nn.Linear(x.shape[1], 512), nn.GELU(), nn.Linear(512, 256), nn.GELU(), nn.Linear(256, y.shape[1])
    )
    decay = [p for p in net.parameters() if p.dim() >= 2]
    no_decay = [p for p in net.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.0}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, foreach=foreach
    )
    steps = len(x) // batch
    total, warmup = epochs * steps, min(200, epochs * steps // 20)

    def factor(step: int) -> float:  # the engine's: linear warm-up, then cosine down to lr / 10
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.45 * (1.0 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for step in range(steps):
            rows = order[step * batch : (step + 1) * batch]
            loss = F.mse_loss(net(xs[rows]), ys[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            yield


def lockstep_run(train, x, y, epochs: int, batch: int, seed: int, foreach: bool | None) -> Lockstep:
    from engine.models import build

    clock = Lockstep(bare_loop(x, y, epochs, batch, seed, foreach))
    model = build(
        {"type": "mlp"}, {"epochs": epochs, "batch_size": batch, "device": "cpu", "seed": seed}, train.targets
    )
    model.fit(train, None, progress=clock)
    return clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8192, help="training spectra (4096 pixels each)")
    parser.add_argument("--epochs", type=int, default=2, help="per run (the first is not counted)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5, help="engine fits, each with its bare twin in lockstep")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument(
        "--bare-foreach",
        action="store_true",
        help="the bare loop's AdamW with foreach=True too (the engine's; torch's default on CPU is per tensor)",
    )
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not counted)")

    import torch

    from engine.models.toy import toy_splits

    if args.threads:
        torch.set_num_threads(args.threads)
    train, _, _ = toy_splits(args.n, 0, 0, 4096)
    x, y = torch.from_numpy(train.arrays()[0]), torch.from_numpy(train.labels())
    engine, bare = [], []
    for r in range(args.rounds):
        clock = lockstep_run(train, x, y, args.epochs, args.batch, r, True if args.bare_foreach else None)
        engine += clock.engine_steps
        bare += clock.bare_steps
        print(
            f"round {r + 1}: median step engine {statistics.median(s[0] for s in clock.engine_steps) * 1e3:.1f} ms, "
            f"bare {statistics.median(s[0] for s in clock.bare_steps) * 1e3:.1f} ms",
            file=sys.stderr,
            flush=True,
        )
    e_wall, e_cpu, b_wall, b_cpu = (
        args.batch / statistics.median(s[k] for s in steps) for steps in (engine, bare) for k in (0, 1)
    )
    paired = [b[0] / e[0] for e, b in zip(engine, bare)]  # engine samples/s over bare's, step by step
    quartiles = statistics.quantiles(paired, n=4)
    print_rows(
        [
            (
                f"engine mlp 4096-512-256, CPU fp32, batch {args.batch}, N={args.n} (median step, wall / CPU time)",
                f"{e_wall:,.0f} / {e_cpu:,.0f} samples/s",
            ),
            (
                f"bare PyTorch loop, same net, optimizer{' (foreach)' if args.bare_foreach else ''}, schedule and data",
                f"{b_wall:,.0f} / {b_cpu:,.0f} samples/s",
            ),
            (
                f"engine / bare ({args.rounds} rounds, {len(engine)} step pairs)",
                f"{e_wall / b_wall:.1%} / {e_cpu / b_cpu:.1%}",
            ),
            (
                "engine / bare, median of the step pairs' ratios (wall; quartiles)",
                f"{statistics.median(paired):.1%} ({quartiles[0]:.1%}–{quartiles[2]:.1%})",
            ),
            ("torch, CPU threads", f"{torch.__version__}, {torch.get_num_threads()}"),
        ]
    )


if __name__ == "__main__":
    main()
