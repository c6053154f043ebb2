"""Metric functions against hand-computed values; binned tables; bootstrap intervals."""

import math

import numpy as np
import pytest

from engine.metrics import (
    bias,
    bin_edges,
    binned,
    bootstrap_ci,
    evaluate,
    mae,
    paired_bootstrap_delta,
    r2,
    rmse,
    snr_binned,
)

Y = np.array([1.0, 2.0, 3.0, 4.0])
P = np.array([1.5, 2.0, 2.0, 5.0])  # errors +0.5, 0, -1, +1


def test_hand_computed_values():
    assert mae(Y, P) == pytest.approx(2.5 / 4)
    assert rmse(Y, P) == pytest.approx(math.sqrt(2.25 / 4))
    assert bias(Y, P) == pytest.approx(0.5 / 4)
    assert r2(Y, P) == pytest.approx(1 - 2.25 / 5.0)  # SS_tot = 2.25 + .25 + .25 + 2.25
    assert r2(Y, Y) == 1.0
    assert r2(Y, np.full(4, Y.mean())) == 0.0
    assert math.isnan(r2(np.ones(3), np.arange(3.0)))
    assert math.isnan(mae(np.array([]), np.array([])))


def test_columns_and_shapes():
    y2, p2 = np.stack([Y, 10 * Y], 1), np.stack([P, 10 * P], 1)
    np.testing.assert_allclose(mae(y2, p2), [0.625, 6.25])
    np.testing.assert_allclose(r2(y2, p2), [r2(Y, P)] * 2)
    with pytest.raises(ValueError, match="shape"):
        mae(Y, P[:3])


def test_evaluate_gives_nested_plain_floats():
    y2, p2 = np.stack([Y, 10 * Y], 1), np.stack([P, 10 * P], 1)
    out = evaluate(y2, p2, ["log_g", "T_eff"])
    assert set(out) == {"r2", "mae", "rmse", "bias"}
    assert out["mae"] == {"log_g": pytest.approx(0.625), "T_eff": pytest.approx(6.25)}
    assert all(type(v) is float for d in out.values() for v in d.values())
    assert evaluate(y2, p2, ["log_g", "T_eff"], ["r2.T_eff", "mae.log_g"]) == {
        "r2": {"T_eff": pytest.approx(r2(Y, P))},
        "mae": {"log_g": pytest.approx(0.625)},
    }
    with pytest.raises(ValueError, match="unknown metric 'mea'"):
        evaluate(y2, p2, ["log_g", "T_eff"], ["mea.log_g"])
    with pytest.raises(ValueError, match="no target 'Fe_H'"):
        evaluate(y2, p2, ["log_g", "T_eff"], ["mae.Fe_H"])


def test_binned_by_edges():
    by = np.array([3800.0, 4100, 4300, 4400, 5300, 6000, 7000, np.nan])
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    pred = y + np.array([0.1, 0.3, -0.2, 0.4, 0.0, 1.0, 9, 9])
    table = binned(by, y, pred, edges=[3750, 4250, 4750, 5250, 6000])
    counts = [row["count"] for row in table["rows"]]
    assert counts == [2, 2, 0, 2]  # 6000 falls in the closed last bin; 7000 and nan are outside
    assert table["outside"] == 2
    first, second, empty, last = table["rows"]
    assert (first["lo"], first["hi"]) == (3750, 4250)
    assert first["bias"] == pytest.approx(0.2) and first["mae"] == pytest.approx(0.2)
    assert first["rmse"] == pytest.approx(math.sqrt((0.01 + 0.09) / 2))
    assert first["r2"] == pytest.approx(1 - 0.1 / 0.5)
    assert second["bias"] == pytest.approx(0.1) and second["mae"] == pytest.approx(0.3)
    assert empty["count"] == 0 and math.isnan(empty["bias"]) and math.isnan(empty["r2"])
    assert last["bias"] == pytest.approx(0.5) and last["r2"] == pytest.approx(1 - 1.0 / 0.5)
    assert table["bias_std"] == pytest.approx(np.std([0.2, 0.1, 0.5], ddof=1))  # the one std: n − 1
    one = binned(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([1.0, 2.0]), edges=[0, 1.5, 3])
    assert [r["count"] for r in one["rows"]] == [1, 1] and math.isnan(one["rows"][0]["r2"])  # one row: no R²


def test_binned_by_width():
    np.testing.assert_allclose(bin_edges(np.array([-0.9, -0.3, 0.0]), 0.25), [-1.0, -0.75, -0.5, -0.25, 0.0, 0.25])
    by = np.array([-0.9, -0.3, 0.0, -0.6])
    table = binned(by, np.zeros(4), np.array([1.0, 2, 3, 4]), width=0.25)
    assert [r["count"] for r in table["rows"]] == [1, 1, 1, 0, 1]
    assert table["outside"] == 0
    with pytest.raises(ValueError, match="exactly one"):
        binned(by, np.zeros(4), np.zeros(4), edges=[0, 1], width=1.0)


def test_snr_bins_have_equal_counts():
    rng = np.random.default_rng(0)
    snr = rng.lognormal(3, 1, 1000)
    table = snr_binned(snr, np.zeros(1000), rng.normal(size=1000), n_bins=4)
    assert [r["count"] for r in table["rows"]] == [250, 250, 250, 250]
    assert snr_binned(snr, np.zeros(1000), np.zeros(1000), edges=[0, 10, 1e9])["rows"][0]["hi"] == 10


def test_bootstrap_interval_covers_the_known_value():
    """Predictions off by N(0.3, 1): the interval of the bias covers 0.3, and about 95% of
    intervals do so over many independent samples."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=400)
    ci = bootstrap_ci(bias, y, y + rng.normal(0.3, 1.0, 400), B=1000, seed=0)
    assert ci.lo < 0.3 < ci.hi and ci.lo < ci.value < ci.hi
    assert ci.hi - ci.lo == pytest.approx(2 * 1.96 / math.sqrt(400), rel=0.15)
    covered = 0
    for k in range(100):
        y = rng.normal(size=100)
        c = bootstrap_ci(bias, y, y + rng.normal(0.3, 1.0, 100), B=200, seed=k)
        covered += c.lo < 0.3 < c.hi
    assert 85 <= covered <= 100
    again = bootstrap_ci(bias, y, y + 1, B=50, seed=3)
    assert again == bootstrap_ci(bias, y, y + 1, B=50, seed=3)  # seeded


def test_bootstrap_of_r2_and_level():
    rng = np.random.default_rng(2)
    y = rng.normal(size=500)
    pred = y + rng.normal(0, 0.5, 500)  # population R² = 1 - 0.25 = 0.75
    wide, narrow = bootstrap_ci(r2, y, pred, B=500, level=0.99), bootstrap_ci(r2, y, pred, B=500, level=0.5)
    assert wide.lo < 0.75 < wide.hi and wide.lo < narrow.lo < narrow.hi < wide.hi


def test_paired_bootstrap_sign():
    rng = np.random.default_rng(3)
    y = rng.normal(size=300)
    noise = rng.normal(size=300)
    better, worse = y + 0.5 * noise, y + 0.6 * noise + rng.normal(0, 0.1, 300)
    d = paired_bootstrap_delta(mae, y, better, worse, B=500, seed=0)
    assert d.value < 0 and d.hi < 0 and d.p_positive == 0.0
    d = paired_bootstrap_delta(r2, y, better, worse, B=500, seed=0)
    assert d.value > 0 and d.lo > 0 and d.p_positive == 1.0
    same = paired_bootstrap_delta(mae, y, better, better, B=100)
    assert same.value == same.lo == same.hi == 0.0
    assert set(d.as_dict()) == {"value", "lo", "hi", "p_positive"}
