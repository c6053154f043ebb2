"""The synthetic generator: deterministic, in range, roughly physical; the Fisher ceiling behaves."""

import h5py
import numpy as np
import pytest

from engine.data import synth
from engine.data.fisher import ceiling, ceiling_for_split
from engine.data.shards import open_shards
from engine.data.split import Split


def test_same_seed_same_bytes_and_rows_do_not_depend_on_n():
    a = synth.generate(40, seed=5)
    b = synth.generate(40, seed=5)
    assert a.flux.tobytes() == b.flux.tobytes() and a.error.tobytes() == b.error.tobytes()
    head = synth.generate(10, seed=5)
    assert np.array_equal(head.flux, a.flux[:10]) and np.array_equal(head.param("log_g"), a.param("log_g")[:10])
    tail = synth.generate(10, seed=5, start=30)
    assert np.array_equal(tail.flux, a.flux[30:])
    assert not np.array_equal(synth.generate(10, seed=6).flux, head.flux)


def test_parameters_lie_in_their_ranges():
    src = synth.generate(300, seed=1)
    for name, (lo, hi) in synth.RANGES.items():
        values = src.param(name)
        assert lo <= values.min() and values.max() <= hi
        assert values.max() - values.min() > 0.9 * (hi - lo)
    narrow = synth.generate(50, seed=1, ranges={"T_eff": (4000, 4100), "M_H": (-0.2, -0.1)})
    assert 4000 <= narrow.param("T_eff").min() and narrow.param("T_eff").max() <= 4100
    assert -0.2 <= narrow.param("Fe_H").min() and narrow.param("Fe_H").max() <= -0.1


def test_spectra_are_finite_positive_and_snr_falls_with_magnitude():
    src = synth.generate(400, seed=2)
    assert np.isfinite(src.flux).all() and (src.flux > 0).all() and (src.error > 0).all()
    assert src.wave[0] == 6500 and src.wave[-1] == 9500 and src.n_pixels == 4096
    snr, mag = src.param("snr"), src.param("mag")
    assert np.corrcoef(snr, mag)[0, 1] < -0.8
    assert 1 < np.median(snr[mag > 22.2]) < np.median(snr[mag < 20.8]) < 40
    ratio = np.median(src.flux / src.error, axis=0)
    assert ratio.max() / ratio.min() > 2  # SNR varies along the spectrum (throughput, sky lines)


def star(**kw):
    params = {"T_eff": 4500.0, "log_g": 3.0, "Fe_H": -0.5, "mag": 21.0, **kw}
    return {k: np.array([v], dtype=np.float64) for k, v in params.items()}


def depth(flux, wave, center, offset=0.0):
    """1 - flux / local continuum (the continuum read 30-45 Å away)."""
    side = ((np.abs(wave - center) > 30) & (np.abs(wave - center) < 45))
    cont = np.median(flux[side])
    return 1 - np.interp(center + offset, wave, flux) / cont


def test_calcium_triplet_deepens_with_metallicity():
    wave = synth.wavelength()
    depths = [depth(synth.spectra(star(Fe_H=m))[0][0], wave, 8662.14) for m in (-1.0, -0.5, 0.0)]
    assert depths[0] < depths[1] < depths[2]


def test_line_wings_widen_with_gravity():
    """Damping wings: their shape (depth 6 Å out / depth 3 Å out) broadens as γ grows with log g."""
    wave = synth.wavelength()
    shapes = []
    for g in (1.5, 3.0, 4.5):
        flux = synth.spectra(star(log_g=g, T_eff=5000.0, Fe_H=0.0))[0][0]
        far = np.mean([depth(flux, wave, 8542.09, s * 6.0) for s in (-1, 1)])
        near = np.mean([depth(flux, wave, 8542.09, s * 3.0) for s in (-1, 1)])
        shapes.append(far / near)
    assert shapes[0] < shapes[1] < shapes[2]


def test_shards_round_trip_through_the_reader(tmp_path):
    paths = synth.write_shards(tmp_path, 30, shards=3, seed=4, block=7)
    data = open_shards("shard_{0..2}/dataset.h5", base_dir=tmp_path)
    ref = synth.generate(30, seed=4)
    flux, error = data.read(np.arange(30))
    assert np.array_equal(flux, ref.flux) and np.array_equal(error, ref.error)
    assert np.array_equal(data.param("log_g"), ref.param("log_g").astype("f4"))
    assert data.synthetic_info()["generator_version"] == synth.GENERATOR_VERSION
    with h5py.File(paths[1], "r") as f:
        assert f.attrs["first_row"] == 10


def test_fisher_ceiling_is_in_range_and_rises_as_noise_falls():
    params = synth.draw_params(40, seed=9)
    result = ceiling(params, level=1.0)
    assert result.sigma.shape == (40, 3)
    for name in ("T_eff", "log_g", "Fe_H"):
        assert 0 < result.r2[name] < 1
        assert result.r2_unbiased[name] <= result.r2[name]
        assert result.at(0.5).r2[name] > result.r2[name] > result.at(2.0).r2[name]
    assert np.allclose(ceiling(params, level=2.0).sigma, 2 * result.sigma)
    bins = result.r2_by_mag["log_g"]
    assert sum(count for _, _, count, _ in bins) == 40


def test_fisher_ceiling_from_a_split_of_synthetic_files(tmp_path):
    synth.write_shards(tmp_path, 12, seed=1)
    data = open_shards("shard_0/dataset.h5", base_dir=tmp_path)
    split = Split(data, np.arange(12), ("log_g",), noise_level=1.0)
    assert np.allclose(ceiling_for_split(split).sigma, ceiling(synth.draw_params(12, seed=1), level=1.0).sigma, rtol=1e-4)


def test_fisher_ceiling_refuses_other_data():
    from engine.data.source import ArraySource
    from engine.errors import DataError

    src = ArraySource(np.ones((2, 4)), np.ones((2, 4)), {"log_g": np.ones(2)})
    with pytest.raises(DataError, match="synthetic generator"):
        ceiling_for_split(Split(src, [0, 1], ("log_g",)))
