"""The trainer's fast paths do the arithmetic of the plain loop: same seed, same bits (CPU).

`NetModel.fit` standardises an in-memory training set once, in place, gathers batches with
`index_select` and steps AdamW with `foreach`; the loop below standardises every batch inside
the net's forward, gathers with `x[rows]` and steps torch's default per-tensor AdamW, as the
trainer did before. Elementwise float operations round the same whatever the tensor they run on,
and the foreach AdamW does the per-tensor one's operations, so the trained predictions, the
curves and the best epoch must be equal bit for bit; a change that moves any of them moves every
committed example report too.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.models import build  # noqa: E402
from engine.models.toy import TARGETS, toy_splits  # noqa: E402
from engine.models.trainer import _schedule  # noqa: E402

TRAIN = {"epochs": 2, "lr": 3e-3, "weight_decay": 0.01, "batch_size": 32, "device": "cpu", "seed": 7}
MLP = {"type": "mlp", "hidden": [32, 16], "dropout": 0.1}  # dropout: the global RNG is drawn in the same order too


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference_fit(model, train, val):
    """The training loop written out plainly: per-batch standardisation in `net(x)`, `x[rows]`,
    torch's default (per-tensor) AdamW on CPU."""
    cfg = model.train
    torch.manual_seed(cfg.seed)
    net = model._build(train.n_pixels, train.wave)
    x, y = (torch.from_numpy(a) for a in train.arrays())
    vx, vy = (torch.from_numpy(a) for a in val.arrays())
    x64, y64 = x.double(), y.double()  # the scalers: float64 moments, as _fit_scalers (one chunk)
    for (mean, scale), (s, ss, n) in (
        ((net.x_mean, net.x_scale), (x64.sum(0), (x64 * x64).sum(0), len(x))),
        ((net.y_mean, net.y_scale), (y64.sum(0), (y64 * y64).sum(0), len(y))),
    ):
        mean.copy_(s / n)
        scale.copy_((ss / n - (s / n) ** 2).clamp_min(0).sqrt())
    decay = [p for p in net.parameters() if p.dim() >= 2]
    no_decay = [p for p in net.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr)
    steps = len(x) // cfg.batch_size
    schedule = _schedule(optimizer, cfg, steps)
    weights = torch.ones(len(TARGETS))
    generator = torch.Generator()
    best, val_losses = (np.inf, 0, None), []
    for epoch in range(cfg.epochs):
        net.train()
        generator.manual_seed((cfg.seed * 1_000_003 + epoch) % 2**63)
        order = torch.randperm(len(x), generator=generator)
        for step in range(steps):
            rows = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            per_target = ((net(x[rows]) - (y[rows] - net.y_mean) / net.y_scale) ** 2).mean(dim=0)
            loss = (weights * per_target).sum() / weights.sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        net.eval()
        with torch.no_grad():
            val_loss = float((((net(vx) - (vy - net.y_mean) / net.y_scale) ** 2).sum(dim=0) / len(vx)).mean())
        val_losses.append(val_loss)
        if val_loss < best[0] * (1 - 1e-6):
            best = (val_loss, epoch + 1, {k: v.clone() for k, v in net.state_dict().items()})
    net.load_state_dict(best[2])
    return net, best[1], val_losses


def test_fit_equals_the_plain_loop_bit_for_bit():
    train, val, test = toy_splits(320, 96, 64, 64, noise_level=1.0)
    model = build(MLP, TRAIN, TARGETS)
    model.fit(train, val)
    net, best_epoch, val_losses = reference_fit(build(MLP, TRAIN, TARGETS), train, val)
    with torch.no_grad():
        expected = net.predict(torch.from_numpy(test.arrays()[0])).double().numpy()
    info = model.info()
    np.testing.assert_array_equal(model.predict(test), expected)
    assert info["best_epoch"] == best_epoch
    assert info["curves"]["val_loss"] == [float(f"{v:.6g}") for v in val_losses]
    # and the reference is not trivially equal to anything: another seed gives other numbers
    other = build(MLP, {**TRAIN, "seed": 8}, TARGETS)
    other.fit(train, val)
    assert not np.array_equal(other.predict(test), expected)


def test_standardised_batches_are_the_nets_own_standardisation(monkeypatch):
    """In memory, on the host-redraw fallback (no torch noise draw) too: each epoch's fresh draw
    comes standardised, as the net's forward would have standardised it."""
    from engine.data import noise
    from engine.models.trainer import DeviceData

    train, _, _ = toy_splits(96, 0, 0, 64, noise_level=1.0, redraw=True)
    model = build(MLP, TRAIN, TARGETS)
    net = model._build(train.n_pixels, train.wave).eval()  # eval: no dropout, one answer
    net.x_mean.copy_(torch.linspace(0.5, 1.0, 64))
    net.x_scale.copy_(torch.linspace(0.1, 0.3, 64))
    net.y_mean.copy_(torch.tensor([3.0, 5000.0, -0.5]))
    net.y_scale.copy_(torch.tensor([1.1, 600.0, 0.3]))
    monkeypatch.delattr(noise, "standard_normal_torch", raising=False)
    feed = DeviceData(train, torch.device("cpu"))
    assert feed.x is not None  # the fallback: the whole epoch drawn on the host
    feed.standardise(net)
    rows = torch.tensor([0, 17, 95])
    for epoch in (0, 2):
        feed.start_epoch(epoch)
        x, y = feed.batch(rows)
        raw = torch.from_numpy(train.arrays(epoch=epoch)[0])[rows]
        assert torch.equal(x, (raw - net.x_mean) / net.x_scale)
        assert torch.equal(y, (torch.from_numpy(train.labels())[rows] - net.y_mean) / net.y_scale)
        with torch.no_grad():
            assert torch.equal(net.from_standardised(x), net(raw))
