"""Noise: counter-based, so a draw depends on (seed, epoch, row, pixel) only — and torch agrees."""

import importlib.util
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from engine.data import noise, threads
from engine.data.noise import add_noise, snr, standard_normal

_spec = importlib.util.spec_from_file_location(
    "noise_reference", Path(__file__).parent / "fixtures" / "noise_reference.py"
)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)  # the first version of the generator, frozen: its bits are the data


def _reference_add_noise(flux, error, level, seed, epoch, index):
    z = reference.standard_normal(seed, epoch, index, flux.shape[1])
    z *= error
    if np.float32(level) != 1:
        z *= np.float32(level)
    return flux.astype(np.float32) + z


def test_a_row_is_the_same_in_any_block():
    rows = np.array([3, 7, 8, 1000, 123456789])
    whole = standard_normal(42, 3, rows, 257)
    for size in (1, 2, 3):
        parts = [standard_normal(42, 3, rows[i : i + size], 257) for i in range(0, len(rows), size)]
        assert np.array_equal(np.concatenate(parts), whole)


def test_full_width_rows_do_not_depend_on_the_block_size():
    """4096 pixels: 8 rows per inner chunk and 64 per add_noise step, so blocks cross both."""
    rows = np.arange(5, 5 + 150) * 7919
    whole = standard_normal(3, 1, rows, 4096)
    for size in (1, 7, 8, 9, 63, 64, 65, 149):
        parts = [standard_normal(3, 1, rows[i : i + size], 4096) for i in range(0, len(rows), size)]
        assert np.concatenate(parts).tobytes() == whole.tobytes(), size
    flux = np.linspace(1, 2, 150 * 4096, dtype=np.float32).reshape(150, 4096)
    error = np.full_like(flux, 0.1)
    noisy = add_noise(flux, error, 1.5, 3, 1, rows)
    for size in (1, 9, 64, 100):
        parts = [
            add_noise(flux[i : i + size], error[i : i + size], 1.5, 3, 1, rows[i : i + size])
            for i in range(0, 150, size)
        ]
        assert np.concatenate(parts).tobytes() == noisy.tobytes(), size


def test_seed_epoch_and_row_each_change_the_draw():
    base = standard_normal(1, 0, [5], 64)
    for other in (standard_normal(2, 0, [5], 64), standard_normal(1, 1, [5], 64), standard_normal(1, 0, [6], 64)):
        assert not np.allclose(base, other)
    assert np.array_equal(base, standard_normal(1, 0, np.array([5]), 64))


def test_looks_standard_normal():
    z = standard_normal(7, 0, np.arange(2000), 512).ravel()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(z**3)) < 0.02 and abs(np.mean(z**4) - 3) < 0.05
    assert abs(np.mean((z < 0)) - 0.5) < 0.005


def test_add_noise_scales_by_level_and_error_and_keeps_flux():
    flux = np.ones((3, 100), np.float32)
    error = np.full((3, 100), 0.2, np.float32)
    noisy = add_noise(flux, error, 2.0, 9, 0, np.arange(3))
    assert np.all(flux == 1)
    assert np.allclose(noisy, 1 + 0.4 * standard_normal(9, 0, np.arange(3), 100), atol=1e-6)
    assert np.array_equal(add_noise(flux, error, 0.0, 9, 0, np.arange(3)), flux)


def test_snr_is_median_flux_over_error():
    flux = np.array([[1.0, -4.0, 9.0]], np.float32)
    error = np.array([[1.0, 1.0, 3.0]], np.float32)
    assert snr(flux, error)[0] == pytest.approx(3.0)


def test_torch_draws_the_same_numbers():
    torch = pytest.importorskip("torch")
    from engine.data.noise import standard_normal_torch

    rows = np.array([0, 9, 77, 2**33])
    for n_pixels in (1, 7, 4096):
        expected = standard_normal(5, -1, rows, n_pixels)
        got = standard_normal_torch(5, -1, torch.as_tensor(rows), n_pixels, device="cpu").numpy()
        assert got.shape == expected.shape
        assert np.allclose(got, expected, atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize(
    "n_rows, n_pixels",
    [
        (1, 1),
        (1, 2),
        (1, 4096),
        (3, 7),
        (2, 255),
        (17, 257),
        (5, 4095),
        (300, 4096),
        (70, 4097),
        (40, 1000),
        (2, 131073),
        (1, 262146),
    ],
)
def test_the_draws_are_the_first_versions_bit_for_bit(n_rows, n_pixels):
    """One row, odd and even widths, 4096, many rows, rows wider than an inner step, any thread count."""
    rng = np.random.default_rng(n_rows * 7 + n_pixels)
    index = rng.choice(2**40, size=n_rows, replace=False)
    for seed, epoch in ((0, 0), (7, -1), (2**40 + 3, 12345)):
        expected = reference.standard_normal(seed, epoch, index, n_pixels).tobytes()
        for n_threads in (1, 2, 3, None):
            got = standard_normal(seed, epoch, index, n_pixels, threads=n_threads)
            assert got.tobytes() == expected, (seed, epoch, n_threads)


def test_any_index_gives_the_first_versions_bits():
    """Non-contiguous, unsorted, repeated, int32 and list indices; into a given `out`."""
    base = np.arange(0, 3000, dtype=np.int64) * 104729 + 5
    for index in (base[::3], base[::-7], np.r_[base[:50], base[:50]], base[:200].astype(np.int32), list(base[:9])):
        expected = reference.standard_normal(11, 2, index, 2049)
        out = np.full((len(index), 2049), np.nan, np.float32)
        assert standard_normal(11, 2, index, 2049, out=out) is out
        assert out.tobytes() == expected.tobytes()


def test_large_calls_use_threads_and_the_bits_do_not_change():
    index = np.arange(600) * 31
    spans, workers = noise._row_spans(len(index), 4096, 2)
    assert workers == 2 and len(spans) > 2 and spans[0][0] == 0 and spans[-1][1] == 600
    assert noise._row_spans(1, 4096, 2)[1] == 1  # a single row stays on the caller's thread
    assert noise._row_spans(8, 256, None)[1] == 1  # so does a small block
    one = standard_normal(4, 0, index, 4096, threads=1)
    assert one.tobytes() == reference.standard_normal(4, 0, index, 4096).tobytes()
    for n_threads in (2, 3, 8):
        assert standard_normal(4, 0, index, 4096, threads=n_threads).tobytes() == one.tobytes()


def test_add_noise_is_the_first_versions_sum_whatever_the_threads():
    rng = np.random.default_rng(3)
    index = rng.choice(10**9, size=333, replace=False)
    flux = rng.normal(1, 0.1, (333, 1001)).astype(np.float32)
    error = rng.uniform(0.01, 0.2, (333, 1001)).astype(np.float32)
    for level in (1.0, 0.7):
        expected = _reference_add_noise(flux, error, level, 8, 1, index).tobytes()
        for n_threads in (1, 2, None):
            assert add_noise(flux, error, level, 8, 1, index, threads=n_threads).tobytes() == expected
            out = flux.copy()
            assert add_noise(out, error, level, 8, 1, index, out=out, threads=n_threads) is out
            assert out.tobytes() == expected


def test_the_thread_count_follows_the_cores_and_omp_num_threads(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.available() == cores
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.available() == 1
    assert noise._row_spans(600, 4096, None)[1] == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores + 5))
    assert threads.available() == cores  # never more than the cores


def _draw_digest(_):
    return standard_normal(6, 0, np.arange(400), 4096, threads=2).tobytes()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_pool():
    """The parent's pool threads do not exist in a fork: a child reusing it would wait forever."""
    expected = standard_normal(6, 0, np.arange(400), 4096, threads=2).tobytes()  # the parent's pool is up
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map_async(_draw_digest, [0]).get(timeout=60) == [expected]
