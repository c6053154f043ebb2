"""The embedded synthetic spectra rank models the way the user's real spectra do.

On the real 1M spectra at noise 1.0 the user sees log g harder than T_eff, and for log g
Ridge < LightGBM < deep nets < the Fisher ceiling, LightGBM ahead of Ridge on the raw pixels too;
their error array alone predicts log g (R² ≈ 0.91), and they bin by S/N > 7, 4–7, 2–4, ≤ 2. The
generator must reproduce that at 20k train / 2k test, or the example reports would teach the
wrong lessons. The bounds are the numbers measured here (2 CPU cores), with room for float
differences between machines; if the order breaks, fix the generator, not this test.

The slowest test of the suite (about 2 minutes on 2 cores): one synthetic set, shared by the models.
"""

from types import SimpleNamespace

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # `make test-all`; run it whenever engine/data/synth.py changes

torch = pytest.importorskip("torch")
pytest.importorskip("lightgbm")

from engine.data.fisher import ceiling_for_split  # noqa: E402
from engine.data.load import make_splits  # noqa: E402
from engine.data.source import ArraySource  # noqa: E402
from engine.data.split import Split  # noqa: E402
from engine.metrics import r2  # noqa: E402
from engine.models import build  # noqa: E402
from engine.spec import DataSpec, NoiseSpec  # noqa: E402

N_TRAIN, N_TEST, LEVEL = 20_000, 2_000, 1.0
TOLERANCE = 0.02

# test R² measured at 20k / 2k, noise 1.0, seed 0 (2026-12-04, generator version 6; v5 in brackets)
MEASURED = {
    ("ridge", "log_g"): 0.556,  # (0.582)
    ("ridge", "T_eff"): 0.614,  # (0.613)
    ("lightgbm", "log_g"): 0.592,  # (0.774)
    ("lightgbm-pixels", "log_g"): 0.825,  # (0.855)
    ("error-ridge", "log_g"): 0.952,  # (0.952)
    ("cnn", "log_g"): 0.760,  # (0.836)
    ("fisher", "log_g"): 0.891,  # (0.931)
    ("fisher", "T_eff"): 0.987,  # (0.988)
}

LIGHTGBM = {"type": "lightgbm", "features": "binned:8", "n_estimators": 600, "learning_rate": 0.05}
LIGHTGBM_PIXELS = {"type": "lightgbm", "features": "pixels", "n_estimators": 200, "learning_rate": 0.05}
SNR_BINS = (0.0, 2.0, 4.0, 7.0, float("inf"))  # the user's bins: ≤ 2, 2–4, 4–7, > 7
SMALL_CNN = {"type": "cnn", "channels": [8, 16, 32], "kernel": 7, "dilation": 1, "stride": 4, "pool": 16, "hidden": 64}
CNN_TRAIN = {"epochs": 6, "lr": 3e-3, "batch_size": 128, "device": "cpu", "seed": 1}


def error_only(part):
    """The split with its error array in place of the flux, as is (no noise on it)."""
    _, error = part.source.read(part.index)
    source = ArraySource(error, error, {name: part.param(name) for name in part.targets})
    return Split(source, np.arange(len(part.index)), part.targets)


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    root = tmp_path_factory.mktemp("realism")

    def splits(*targets):
        data = DataSpec(n_train=N_TRAIN, n_test=N_TEST, targets=list(targets), seed=0)
        return make_splits(data, NoiseSpec(level=LEVEL), base_dir=root, cache_dir=root / "cache")

    def score(model, train, split):
        fitted = build(model, train, split.train.targets)
        fitted.fit(split.train, split.val)
        pred, truth = np.asarray(fitted.predict(split.test)), split.test.labels()
        return {t: float(r2(truth[:, j], pred[:, j])) for j, t in enumerate(split.train.targets)}

    both, log_g = splits("log_g", "T_eff"), splits("log_g")
    ceiling = ceiling_for_split(both.test)
    out = {("fisher", t): ceiling.r2[t] for t in ("log_g", "T_eff")}
    out.update({("ridge", t): v for t, v in score({"type": "ridge"}, {}, both).items()})
    out[("lightgbm", "log_g")] = score(LIGHTGBM, {"seed": 1}, log_g)["log_g"]
    out[("lightgbm-pixels", "log_g")] = score(LIGHTGBM_PIXELS, {"seed": 1}, log_g)["log_g"]
    out[("cnn", "log_g")] = score(SMALL_CNN, CNN_TRAIN, log_g)["log_g"]
    # the error array alone (noise-free, as a data release ships it): a Ridge on it
    errors = SimpleNamespace(train=error_only(log_g.train), val=None, test=error_only(log_g.test))
    out[("error-ridge", "log_g")] = score({"type": "ridge"}, {}, errors)["log_g"]
    out["snr"] = np.asarray(both.test.param("snr")) / LEVEL
    return out


def test_the_error_array_alone_tells_log_g(scores):
    # photon noise follows the flux, lines and all: the shortcut the user found in their data
    assert scores[("error-ridge", "log_g")] >= 0.5


def test_every_snr_bin_the_user_uses_holds_a_tenth_of_the_spectra(scores):
    counts, _ = np.histogram(scores["snr"], bins=SNR_BINS)
    assert (counts / counts.sum() >= 0.10).all(), dict(zip(("≤2", "2–4", "4–7", ">7"), counts))


def test_trees_beat_the_linear_model_on_raw_pixels_too(scores):
    assert scores[("lightgbm-pixels", "log_g")] > scores[("ridge", "log_g")] + 0.05


def test_log_g_is_harder_than_teff(scores):
    assert scores[("ridge", "T_eff")] > scores[("ridge", "log_g")]
    assert scores[("fisher", "T_eff")] > scores[("fisher", "log_g")]


def test_log_g_models_rank_as_on_real_spectra(scores):
    order = [scores[(m, "log_g")] for m in ("ridge", "lightgbm", "cnn", "fisher")]
    assert order == sorted(order) and len(set(order)) == 4, dict(zip(("ridge", "lightgbm", "cnn", "fisher"), order))
    # clear gaps, not ties: trees beat the linear model, the net beats the trees, the ceiling beats the net
    assert order[1] - order[0] > 0.01 and order[2] - order[1] > 0.03 and order[3] - order[2] > 0.05
    # the levels the issue set from the user's figures: a linear model well short, a high ceiling
    assert order[0] <= 0.65 and order[3] >= 0.85


@pytest.mark.parametrize("key", sorted(MEASURED))
def test_scores_match_the_measured_values(scores, key):
    assert scores[key] == pytest.approx(MEASURED[key], abs=TOLERANCE), key
