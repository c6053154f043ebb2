"""The torch nets and their shared trainer, on small toy spectra (CPU)."""

import dataclasses
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.metrics import evaluate, r2  # noqa: E402
from engine.models import build, load  # noqa: E402
from engine.models.toy import TARGETS, toy_splits  # noqa: E402

DEVICE = os.environ.get("RESEARCH_TEST_DEVICE", "cpu")  # bench/gpu_check.sh sets cuda
TRAIN = {"epochs": 10, "lr": 3e-3, "batch_size": 64, "device": DEVICE, "seed": 1}
MLP = {"type": "mlp", "hidden": [128, 64]}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data():
    return toy_splits(1500, 300, 500, 128, noise_level=1.0)


def fit(data, model, targets=TARGETS, **train):
    if targets != TARGETS:
        data = toy_splits(1500, 300, 500, 128, noise_level=1.0, targets=targets)
    tr, va, te = data
    lines = []
    net = build(model, {**TRAIN, **train}, targets)
    net.fit(tr, va, log=lines.append)
    assert lines and (lines[0].startswith("loading ") or "stream_rows" in train)  # the load says what it reads
    return net, net.predict(te), te.labels(), [line for line in lines if not line.startswith("loading ")]


# measured test R² (log_g, T_eff, Fe_H) after 10 epochs; predicting the mean scores 0
@pytest.mark.parametrize(
    ("weights", "measured"),
    [
        ("equal", [0.987, 0.995, 0.988]),
        ("inverse_variance", [0.987, 0.996, 0.986]),
        ("uncertainty", [0.988, 0.996, 0.988]),
        ({"log_g": 2, "T_eff": 1, "Fe_H": 1}, [0.988, 0.995, 0.986]),
    ],
)
def test_mlp_multitask_learns_with_each_loss_weighting(data, weights, measured):
    net, pred, y, lines = fit(data, MLP, loss_weights=weights)
    scores = evaluate(y, pred, TARGETS)
    assert set(scores) == {"r2", "mae", "rmse", "bias"} and set(scores["r2"]) == set(TARGETS)
    assert all(scores["r2"][t] > m - 0.03 for t, m in zip(TARGETS, measured)), scores["r2"]
    assert len(lines) == 10 and lines[0].startswith("epoch 1/10 train_loss ") and "val_loss" in lines[0]
    info = net.info()
    assert set(info["loss_weights"]) == set(TARGETS) and info["n_params"] > 0 and info["device"] == DEVICE
    if weights == "inverse_variance":  # T_eff is the easiest target here, so it gets the most weight
        assert info["loss_weights"]["T_eff"] == max(info["loss_weights"].values())
    if isinstance(weights, dict):
        assert info["loss_weights"]["log_g"] == pytest.approx(2 * info["loss_weights"]["T_eff"])


def test_single_target_head(data):
    net, pred, y, _ = fit(data, MLP, targets=("Fe_H",), epochs=6)
    assert pred.shape == (500, 1) and pred.dtype == np.float64
    assert r2(y[:, 0], pred[:, 0]) > 0.95  # measured 0.987


def test_cnn_with_ridge_residual_learns_and_round_trips(data, tmp_path):
    model = {"type": "cnn", "channels": [8, 16], "pool": 8, "hidden": 32, "residual_on": "ridge"}
    net, pred, y, lines = fit(data, model)
    assert np.all(r2(y, pred) > [0.96, 0.99, 0.95])  # measured 0.987, 0.997, 0.979
    assert "ridge_alpha" in net.info() and lines[0].startswith("ridge: ")
    net.save(tmp_path / "cnn.npz")
    np.testing.assert_allclose(load(tmp_path / "cnn.npz").predict(data[2]), pred, rtol=1e-6, atol=1e-6)


def test_cnn_without_residual_learns(data):
    _, pred, y, _ = fit(data, {"type": "cnn", "channels": [8, 16], "pool": 8, "hidden": 32})
    assert np.all(r2(y, pred) > [0.93, 0.96, 0.92])  # measured 0.963, 0.989, 0.954


def test_vit_with_wavelength_positions_learns_and_round_trips(data, tmp_path):
    model = {"type": "vit", "patch": 16, "dim": 32, "depth": 1, "heads": 2, "pos": "wave"}
    net, pred, y, _ = fit(data, model)
    assert np.all(r2(y, pred) > [0.93, 0.95, 0.9])  # measured 0.963, 0.982, 0.932
    net.save(tmp_path / "vit.npz")
    again = load(tmp_path / "vit.npz")
    assert torch.equal(again.net.backbone.pos, net.net.backbone.pos) and again.net.backbone.pos.abs().sum() > 0
    np.testing.assert_allclose(again.predict(data[2]), pred, rtol=1e-6, atol=1e-6)


def test_vit_class_token_and_learned_positions(data):
    model = {"type": "vit", "patch": 20, "dim": 16, "depth": 1, "heads": 2, "pos": "learned", "pool": "cls"}
    _, pred, y, _ = fit(data, model, epochs=3)
    assert r2(y[:, 1], pred[:, 1]) > 0.5  # 128 pixels in patches of 20: padded; measured 0.78 after 3 epochs


def test_mlp_is_deterministic_on_cpu_and_round_trips(data, tmp_path):
    a, pred_a, _, _ = fit(data, MLP, epochs=3)
    _, pred_b, _, _ = fit(data, MLP, epochs=3)
    np.testing.assert_array_equal(pred_a, pred_b)
    _, pred_c, _, _ = fit(data, MLP, epochs=3, seed=2)
    assert not np.array_equal(pred_a, pred_c)
    a.save(tmp_path / "mlp.npz")
    loaded = load(tmp_path / "mlp.npz")
    assert (
        loaded.config == a.config and loaded.train == a.train and loaded.info()["best_epoch"] == a.info()["best_epoch"]
    )
    np.testing.assert_array_equal(loaded.predict(data[2]), pred_a)


def test_early_stopping_keeps_the_best_epoch(data):
    net, _, _, lines = fit(data, MLP, epochs=20, lr=1e-12, patience=2, schedule="none")
    info = net.info()
    assert info["epochs_run"] == 3 and info["best_epoch"] == 1 and info["stopped_early"]
    assert lines[-1].startswith("early stop after epoch 3")


@pytest.mark.parametrize("schedule", ["plateau", "none"])
def test_other_schedules_train(data, schedule):
    _, pred, y, lines = fit(data, MLP, epochs=4, schedule=schedule)
    assert r2(y[:, 1], pred[:, 1]) > 0.95  # measured 0.994 (T_eff) with either
    if schedule == "none":
        assert all(" lr 3.0e-03 " in line for line in lines)


def test_noise_redrawn_per_epoch_matches_the_reader(data):
    from engine.models.trainer import DeviceData

    train = dataclasses.replace(data[0], noise_epoch=None)  # the spec's `noise.redraw`
    feed = DeviceData(train, torch.device("cpu"))
    rows = torch.tensor([0, 5, 700])
    for epoch in (0, 3):
        feed.start_epoch(epoch)
        x, _ = feed.batch(rows)
        expected = train.arrays(epoch=epoch)[0][rows.numpy()]
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-5, atol=1e-6)
    feed.start_epoch(0)
    assert not torch.equal(feed.batch(rows)[0], x)
    fixed = DeviceData(data[0], torch.device("cpu"))
    fixed.start_epoch(3)
    np.testing.assert_array_equal(fixed.batch(rows)[0].numpy(), train.arrays(epoch=0)[0][rows.numpy()])


def test_a_split_with_a_fixed_noise_draw_is_not_redrawn(data):
    from engine.models.trainer import DeviceData

    redrawn = dataclasses.replace(data[0], noise_epoch=None)
    pinned = dataclasses.replace(data[0], noise_epoch=5)
    assert redrawn.redraws and not pinned.redraws
    feed = DeviceData(pinned, torch.device("cpu"))
    rows = torch.tensor([1, 2])
    feed.start_epoch(1)
    np.testing.assert_array_equal(feed.batch(rows)[0].numpy(), redrawn.arrays(epoch=5)[0][rows.numpy()])


def test_training_with_redraw_learns(data):
    redrawn = (dataclasses.replace(data[0], noise_epoch=None), *data[1:])
    _, pred, y, _ = fit(redrawn, MLP, epochs=5)
    assert np.all(r2(y, pred) > 0.95)  # measured 0.985, 0.994, 0.984


def test_amp_is_ignored_on_cpu(data):
    net, _, _, _ = fit(data, MLP, epochs=1, amp=True)
    assert net.info()["amp"] is False


def test_a_streamed_training_set_learns_like_one_in_memory(data):
    in_memory, pred_mem, y, _ = fit(data, MLP)
    streamed, pred_stream, _, lines = fit(data, MLP, stream_rows=400)  # 1500 rows: 4 chunks of ≤ 400
    assert any(line.startswith("streaming the training set: 4 chunks") for line in lines)
    mem, stream = evaluate(y, pred_mem, TARGETS)["r2"], evaluate(y, pred_stream, TARGETS)["r2"]
    assert all(stream[t] > mem[t] - 0.03 for t in TARGETS), (stream, mem)


def test_streamed_batches_visit_every_row_once_per_epoch(data):
    from engine.models.trainer import StreamData

    train = data[0]
    stream = StreamData(train, torch.device("cpu"), rows=400)
    generator = torch.Generator().manual_seed(0)
    seen = torch.cat([y[:, 0] for _, y in stream.epoch_batches(50, generator)])
    assert len(seen) == stream.steps(50) * 50 == 1500  # chunks of 400, 400, 400, 300: no ragged batch
    labels = torch.from_numpy(train.labels()[:, 0])
    assert len(torch.unique(seen)) == len(seen) and torch.isin(seen, labels).all()


def test_the_seeds_of_a_repeated_trial_share_the_spectra_held_in_memory_and_train_the_same_bits(data):
    """The next seed on the same split reuses the standardised spectra of the last run; it
    trains exactly as it would from a fresh read."""
    from engine.models import trainer

    tr, va, te = data
    first = build(MLP, {**TRAIN, "epochs": 2, "seed": 1}, TARGETS)
    first.fit(tr, va)
    lines: list[str] = []
    held = build(MLP, {**TRAIN, "epochs": 2, "seed": 2}, TARGETS)
    held.fit(tr, va, log=lines.append)
    assert "held from the last run" in lines[0]
    trainer._HELD.clear()
    fresh = build(MLP, {**TRAIN, "epochs": 2, "seed": 2}, TARGETS)
    lines = []
    fresh.fit(tr, va, log=lines.append)
    assert "held" not in lines[0]
    assert np.array_equal(held.predict(te), fresh.predict(te))
    other = toy_splits(1500, 300, 500, 128, noise_level=0.5)  # other noise: not the held spectra
    lines = []
    build(MLP, {**TRAIN, "epochs": 1, "seed": 2}, TARGETS).fit(other[0], other[1], log=lines.append)
    assert "held" not in lines[0]
