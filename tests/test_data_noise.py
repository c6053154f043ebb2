"""Noise: counter-based, so a draw depends on (seed, epoch, row, pixel) only — and torch agrees."""

import numpy as np
import pytest

from engine.data.noise import add_noise, snr, standard_normal


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
        parts = [add_noise(flux[i : i + size], error[i : i + size], 1.5, 3, 1, rows[i : i + size]) for i in range(0, 150, size)]
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
