"""Splits: blocks equal arrays at any block size, and make_splits keeps train and test apart."""

import os
import time

import h5py
import numpy as np
import pytest

from engine.data.load import TEST_EPOCH, make_splits
from engine.data.source import ArraySource
from engine.data.split import Split
from engine.errors import DataError
from engine.spec import DataSpec, NoiseSpec

P = 32


def source(n=50):
    rng = np.random.default_rng(0)
    flux = rng.normal(1, 0.1, (n, P)).astype("f4")
    error = rng.uniform(0.05, 0.2, (n, P)).astype("f4")
    params = {"T_eff": rng.uniform(3750, 6000, n), "log_g": rng.uniform(1, 5, n), "Fe_H": rng.uniform(-1, 0, n)}
    return ArraySource(flux, error, params)


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_blocks_at_any_size_give_the_arrays(level):
    split = Split(source(), np.arange(3, 47, 2), ("log_g", "T_eff"), noise_level=level, noise_seed=4)
    x, y = split.arrays(epoch=2)
    for rows in (1, 5, 7, 64):
        blocks = list(split.blocks(rows, epoch=2))
        assert np.array_equal(np.concatenate([b.x for b in blocks]), x)
        assert np.array_equal(np.concatenate([b.y for b in blocks]), y)
        assert [b.start for b in blocks] == list(range(0, len(split), rows))
        streamed = [b.x.copy() for b in split.blocks(rows, epoch=2, reuse=True)]
        assert np.array_equal(np.concatenate(streamed), x)


def test_fixed_noise_epoch_ignores_the_epoch():
    fixed = Split(source(), np.arange(10), ("log_g",), 1.0, 3, noise_epoch=0)
    assert np.array_equal(fixed.arrays(epoch=0)[0], fixed.arrays(epoch=5)[0])
    redraw = Split(source(), np.arange(10), ("log_g",), 1.0, 3)
    assert not np.array_equal(redraw.arrays(epoch=0)[0], redraw.arrays(epoch=5)[0])


def write_file(path, n, seed=0):
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        f["flux"] = rng.normal(1, 0.1, (n, P)).astype("f4")
        f["error"] = rng.uniform(0.05, 0.2, (n, P)).astype("f4")
        f["wave"] = np.linspace(6500, 9500, P)
        for name, (lo, hi) in {"T_eff": (3750, 6000), "log_g": (1, 5), "M_H": (-1, 0), "mag": (20.5, 22.5)}.items():
            f[name] = rng.uniform(lo, hi, n).astype("f4")
        f["snr"] = rng.uniform(1, 30, n).astype("f4")
    return path


def test_one_source_is_split_into_disjoint_train_val_test(tmp_path):
    write_file(tmp_path / "all.h5", 400)
    data = DataSpec(
        source="all.h5",
        n_train=200,
        n_val=20,
        n_test=50,
        targets=["log_g", "Fe_H"],
        test_select={"snr_top_frac": 0.5},
        seed=3,
    )
    splits = make_splits(data, NoiseSpec(level=1.0, apply=["train"]), base_dir=tmp_path, cache_dir=tmp_path / "cache")
    train, val, test = (set(s.index.tolist()) for s in (splits.train, splits.val, splits.test))
    assert (len(train), len(val), len(test)) == (200, 20, 50)
    assert not (train & val or train & test or val & test)
    snr = splits.test.source.param("snr")
    assert snr[splits.test.index].min() >= np.median(snr)  # test rows come from the top half by SNR
    assert splits.train.noise_level == 1.0 and splits.val.noise_level == 1.0 and splits.test.noise_level == 0.0
    assert splits.test.noise_epoch == TEST_EPOCH and splits.train.noise_epoch == 0
    again = make_splits(data, NoiseSpec(level=1.0, apply=["train"]), base_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert again.fingerprint() == splits.fingerprint()


def test_separate_test_source_and_default_validation(tmp_path):
    write_file(tmp_path / "train_0.h5", 100, 1)
    write_file(tmp_path / "train_1.h5", 100, 2)
    write_file(tmp_path / "test.h5", 60, 3)
    data = DataSpec(source="train_{0..1}.h5", test_source="test.h5", n_train=150, n_test=40)
    splits = make_splits(
        data, NoiseSpec(level=1.0, redraw=True), base_dir=tmp_path, cache_dir=tmp_path / "c", val_frac=0.1
    )
    assert (len(splits.train), len(splits.val), len(splits.test)) == (150, 15, 40)
    assert np.array_equal(splits.test.index, np.arange(40))
    assert splits.train.noise_epoch is None
    # the test draw differs from a training draw on the same row index
    assert not np.array_equal(
        splits.test.arrays()[0][:1], Split(splits.test.source, [0], ("log_g",), 1.0, 42).arrays()[0]
    )


def test_bad_selections_are_data_errors(tmp_path):
    write_file(tmp_path / "a.h5", 50)
    noise = NoiseSpec()
    with pytest.raises(DataError, match="data.select.ranges.T_eff"):
        make_splits(
            DataSpec(source="a.h5", select={"ranges": {"T_eff": [100, 200]}}),
            noise,
            base_dir=tmp_path,
            cache_dir=tmp_path,
        )
    with pytest.raises(DataError, match="data.n_train"):
        make_splits(DataSpec(source="a.h5", n_train=5000, n_test=5), noise, base_dir=tmp_path, cache_dir=tmp_path)
    with pytest.raises(DataError, match="missing file"):
        make_splits(DataSpec(source="b.h5"), noise, base_dir=tmp_path, cache_dir=tmp_path)


def test_synthetic_source_is_generated_once_and_cached(tmp_path):
    data = DataSpec(
        source="synthetic",
        n_train=60,
        n_val=10,
        n_test=20,
        test_select={"snr_top_frac": 0.25},
        targets=["log_g", "T_eff"],
    )
    noise = NoiseSpec(level=1.0)
    first = make_splits(data, noise, base_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert (len(first.train), len(first.val), len(first.test)) == (60, 10, 20)
    files = sorted((tmp_path / "cache" / "synthetic").rglob("*.h5"))
    assert len(files) == 2
    stamps = [os.stat(f).st_mtime_ns for f in files]
    time.sleep(0.01)
    second = make_splits(data, noise, base_dir=tmp_path, cache_dir=tmp_path / "cache")
    assert [os.stat(f).st_mtime_ns for f in files] == stamps
    assert second.fingerprint() == first.fingerprint()
    assert np.array_equal(second.train.arrays()[0], first.train.arrays()[0])
    test_snr = first.test.param("snr")
    assert test_snr.min() > np.median(first.train.param("snr"))
