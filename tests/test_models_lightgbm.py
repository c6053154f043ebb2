"""LightGBM: learns on pixels and on reduced features, stops early on val, repeats for a seed."""

import numpy as np
import pytest

pytest.importorskip("lightgbm")

from engine.metrics import r2
from engine.models import build, load
from engine.models.toy import toy_splits

# One thread: on a busy 2-core runner, OpenMP with two threads was measured 50-100x slower on
# these tiny fits (threads default to os.cpu_count(), which the dedicated CI runner suits).
BASE = {"type": "lightgbm", "n_estimators": 300, "learning_rate": 0.1, "threads": 1}


@pytest.fixture(scope="module")
def data():
    return toy_splits(1500, 300, 500, 128, noise_level=1.0)


def fit(data, **params):
    train, val, test = data
    model = build({**BASE, **params}, {"seed": 1}, train.targets)
    lines = []
    model.fit(train, val, log=lines.append)
    return model, model.predict(test), test.labels(), lines


# measured test R² (log_g, T_eff, Fe_H); predicting the mean scores 0
@pytest.mark.parametrize(
    ("features", "measured"),
    [("pixels", [0.977, 0.992, 0.985]), ("binned:4", [0.980, 0.994, 0.981]), ("pca:16", [0.972, 0.984, 0.980])],
)
def test_learns(data, features, measured):
    model, pred, y, lines = fit(data, features=features)
    assert np.all(r2(y, pred) > np.array(measured) - 0.03), r2(y, pred)
    info = model.info()
    assert info["n_features"] == {"pixels": 128, "binned:4": 32, "pca:16": 16}[features]
    assert all(0 < n < 300 for n in info["best_iteration"].values())  # early stopping on val cut them
    assert lines[0].startswith("lightgbm: 1500 rows") and len(lines) == 4


def test_deterministic_for_a_seed_and_round_trips(data, tmp_path):
    a, pred_a, _, _ = fit(data, features="pca:8", n_estimators=60)
    _, pred_b, _, _ = fit(data, features="pca:8", n_estimators=60)
    np.testing.assert_array_equal(pred_a, pred_b)
    a.save(tmp_path / "gbm.npz")
    np.testing.assert_array_equal(load(tmp_path / "gbm.npz").predict(data[2]), pred_a)


def test_without_validation_runs_every_round(data):
    train, _, test = data
    model = build({**BASE, "features": "binned:8", "n_estimators": 40}, {"seed": 1}, train.targets)
    model.fit(train)
    assert model.info()["best_iteration"] == {t: 40 for t in train.targets}
    assert model.predict(test).shape == (500, 3)
