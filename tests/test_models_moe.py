"""The mixture of Ridge experts: every gate trains and routes, and the routing is worth something.

Synthetic spectra on a coarse grid (512 pixels) keep the experts' ridge solves small; the
physics is the generator's, so the bins matter as they do at 4096 pixels.
"""

import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from engine.data import synth
from engine.data.features import line_features
from engine.data.split import Split
from engine.metrics import r2
from engine.models import build
from engine.models import features as feats
from engine.models.moe import GATES


def splits(n_train: int, n_pixels: int = 512, n_test: int = 1000, seed: int = 3):
    source = synth.generate(n_train + 2 * n_test, seed=seed, n_pixels=n_pixels)
    rows = np.arange(n_train + 2 * n_test)

    def split(a, b, epoch=None):
        return Split(source, rows[a:b], ("log_g",), noise_level=1.0, noise_seed=5, noise_epoch=epoch)

    return split(0, n_train), split(n_train, n_train + n_test, 1), split(n_train + n_test, n_train + 2 * n_test, 2)


@pytest.fixture(scope="module")
def small():
    return splits(6000)


def moe(**params):
    return build({"type": "moe", "alpha": 300.0, "gate_steps": 150, **params}, {"seed": 1}, ["log_g"])


@pytest.mark.parametrize("gate", GATES)
def test_every_gate_trains_and_routes(small, gate):
    train, val, test = small
    model = moe(gate=gate)
    model.fit(train, val)
    pred = model.predict(test)
    w = model.gate_weights
    assert pred.shape == (len(test), 1) and np.isfinite(pred).all()
    assert w.shape == (len(test), model.n_experts) and model.n_experts == 9
    assert np.allclose(w.sum(axis=1), 1.0) and (w >= 0).all()
    entropy = model.extras()["gate_entropy"]
    assert (entropy >= -1e-9).all() and (entropy <= math.log(model.n_experts) + 1e-9).all()
    if gate == "oracle":
        assert np.allclose(entropy, 0.0)  # one expert each
    else:
        assert entropy.mean() > 0.01  # soft routing
    assert r2(test.labels()[:, 0], pred[:, 0]) > 0.2, gate
    info = model.info()
    assert info["gate"] == gate and sum(info["rows_per_bin"]) == len(train)


def test_snr_experts_route_by_the_observed_snr(small):
    train, val, test = small
    model = moe(experts="snr")
    model.fit(train, val)
    model.predict(test)
    observed = test.param("snr") / test.noise_level
    top = np.asarray(model.trained)[model.extras()["gate_top"]]
    expected = np.clip(np.searchsorted([0.0, 2.0, 4.0, 7.0, 1e9], observed, side="right") - 1, 0, 3)
    assert np.mean(top == expected) > 0.95  # bins too small for an expert send their spectra next door


def test_the_oracle_gate_beats_a_global_ridge_where_the_bins_matter():
    # measured (2026-11-22, generator v3, 512 pixels): global ridge 0.503, oracle 9-expert MoE 0.534
    train, val, test = splits(40000)
    truth = test.labels()[:, 0]
    ridge = build({"type": "ridge", "alphas": [10, 100, 1e3, 1e4, 1e5]}, {"seed": 1}, ["log_g"])
    ridge.fit(train, val)
    oracle = moe(gate="oracle")
    oracle.fit(train, val)
    global_r2, oracle_r2 = r2(truth, ridge.predict(test)[:, 0]), r2(truth, oracle.predict(test)[:, 0])
    assert oracle_r2 > global_r2 + 0.01, (oracle_r2, global_r2)


def test_quality_features_know_the_snr_and_leak_log_g_as_the_error_does():
    # measured at 4096 pixels (generator v6, 2026-12-04): linear R² from the 10 statistics of the
    # error: SNR 0.999, T_eff 0.78, log g 0.56 (v5: 0.46). The error is the photon noise of the
    # flux, lines and all, so its statistics carry some log g: the shortcut a quality tower can
    # take, which the error-only baseline measures (v4's error followed the continuum: log g 0.00).
    train, _, test = splits(4000, n_pixels=4096)
    pca = feats.fit_pca(train)
    _, q_train = feats.raw_features(train, pca)
    _, q_test = feats.raw_features(test, pca)
    design = np.column_stack([q_train, np.ones(len(q_train))])

    def linear_r2(train_values, test_values):
        coef = np.linalg.lstsq(design, train_values, rcond=None)[0]
        return r2(test_values, np.column_stack([q_test, np.ones(len(q_test))]) @ coef)

    assert linear_r2(train.param("snr"), test.param("snr")) > 0.9  # they know how good the spectrum is
    assert 0.3 < linear_r2(train.labels()[:, 0], test.labels()[:, 0]) < 0.75  # and part of log g


def test_phys_features_see_the_lines():
    train, _, test = splits(3000, n_pixels=4096)
    phys, _ = feats.raw_features(test, feats.fit_pca(train))
    assert phys.shape == (len(test), 13) and np.isfinite(phys).all()
    # the Ca II triplet's summed equivalent width grows with metallicity: through the noise of a
    # split at S/N ~5 (correlation measured 0.285 on generator v6, 0.311 on v5), and cleanly on
    # noise-free spectra of one star at rising [Fe/H] (3.1 → 8.0 Å from −1 to 0 at 5000 K, log g 3)
    assert np.corrcoef(phys[:, 6], test.param("Fe_H"))[0, 1] > 0.2
    rising = {
        "T_eff": np.full(5, 5000.0),
        "log_g": np.full(5, 3.0),
        "Fe_H": np.linspace(-1, 0, 5),
        "mag": np.full(5, 20.0),
    }
    flux, _ = synth.spectra(rising)
    cat = line_features(flux.astype(np.float64), synth.wavelength())[:, 6]
    assert (np.diff(cat) > 0.3).all() and cat[-1] > 2 * cat[0], cat


def test_a_saved_moe_predicts_the_same(small, tmp_path):
    from engine.models import load

    train, val, test = small
    model = moe(gate="dual_tower")
    model.fit(train, val)
    model.save(tmp_path / "moe.ckpt")
    again = load(tmp_path / "moe.ckpt")
    assert np.allclose(again.predict(test), model.predict(test))
