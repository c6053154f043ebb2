"""Streaming ridge: equal to scikit-learn, independent of the block size, α chosen right."""

import os

import numpy as np
import pytest

from engine.data.source import ArraySource
from engine.data.split import Split
from engine.metrics import r2
from engine.models import build, load
from engine.models.toy import toy_splits

TARGETS = ("log_g", "T_eff", "Fe_H")

DEVICE = os.environ.get("RESEARCH_TEST_DEVICE", "cpu")  # bench/gpu_check.sh sets cuda


def linear_split(n=300, p=40, seed=0, noise=3.0, offset=True):
    """y = X w + noise with pixels of very different scales and offsets (a hard case for accuracy)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) * rng.uniform(0.1, 10, p)
    if offset:
        x += rng.uniform(-5, 50, p)
    x = x.astype(np.float32)
    y = x.astype(np.float64) @ rng.standard_normal((p, 3)) + noise * rng.standard_normal((n, 3))
    src = ArraySource(x, np.ones_like(x), dict(zip(TARGETS, y.T)))
    return Split(src, np.arange(n), TARGETS)


def sklearn_fit(split, alpha, standardize, fit_intercept=True):
    from sklearn import preprocessing
    from sklearn.linear_model import Ridge

    x, y = (a.astype(np.float64) for a in split.arrays())
    if not standardize:
        model = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(x, y)
        return model.coef_.T, model.intercept_
    scaler = preprocessing.StandardScaler().fit(x)
    model = Ridge(alpha=alpha).fit(scaler.transform(x), y)
    coef = model.coef_.T / scaler.scale_[:, None]
    return coef, model.intercept_ - scaler.mean_ @ coef


def fit(split, val=None, **params):
    model = build({"type": "ridge", **params}, {"device": DEVICE}, split.targets)
    model.fit(split, val)
    return model


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("alpha", [0.01, 3.0, 300.0])
def test_equals_sklearn(standardize, alpha):
    split = linear_split()
    ours = fit(split, alpha=alpha, standardize=standardize, block_rows=64)
    coef, intercept = sklearn_fit(split, alpha, standardize)
    np.testing.assert_allclose(ours.coef, coef, rtol=1e-6, atol=1e-6 * np.abs(coef).max())
    np.testing.assert_allclose(ours.intercept, intercept, rtol=1e-6, atol=1e-6 * np.abs(intercept).max())
    x = split.arrays()[0].astype(np.float64)
    np.testing.assert_allclose(ours.predict(split), x @ coef + intercept, rtol=1e-6, atol=1e-9)


def test_equals_sklearn_without_intercept():
    split = linear_split(offset=False)
    ours = fit(split, alpha=2.0, standardize=False, fit_intercept=False)
    coef, _ = sklearn_fit(split, 2.0, standardize=False, fit_intercept=False)
    np.testing.assert_allclose(ours.coef, coef, rtol=1e-6, atol=1e-6 * np.abs(coef).max())
    assert np.all(ours.intercept == 0)


def test_same_answer_for_any_block_size():
    train, val, _ = toy_splits(500, 200, 10, 64, noise_level=1.0)
    models = [fit(train, val, alphas=[0.1, 10, 1000], block_rows=rows) for rows in (7, 100, 501)]
    for other in models[1:]:
        np.testing.assert_allclose(other.coef, models[0].coef, rtol=1e-9, atol=1e-12 * np.abs(models[0].coef).max())
        assert other.info()["alpha"] == models[0].info()["alpha"]


def test_float32_gram_is_close():
    split = linear_split()
    a, b = fit(split, alpha=3.0), fit(split, alpha=3.0, precision="float32")
    assert np.abs(a.coef - b.coef).max() / np.abs(a.coef).max() < 1e-4


def test_alpha_chosen_on_validation_is_the_best_one():
    """Few rows, many noisy pixels: the val error of the path has an interior minimum."""
    rng = np.random.default_rng(3)
    n, p = 260, 120
    x = rng.standard_normal((n, p)).astype(np.float32)
    w = np.zeros((p, 3))
    w[:5] = rng.standard_normal((5, 3)) * [[1.0, 3.0, 0.3]]
    y = x @ w + rng.standard_normal((n, 3)) * [[1.0, 1.0, 0.5]]
    src = ArraySource(x, np.ones_like(x), dict(zip(TARGETS, y.T)))
    train, val = Split(src, np.arange(160), TARGETS), Split(src, np.arange(160, n), TARGETS)
    alphas = [1e-3, 1e-2, 0.1, 1.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e4]
    model = fit(train, val, alphas=alphas)
    from sklearn import preprocessing
    from sklearn.linear_model import Ridge

    xt, yt = (a.astype(np.float64) for a in train.arrays())
    xv, yv = (a.astype(np.float64) for a in val.arrays())
    scaler = preprocessing.StandardScaler().fit(xt)
    mse = np.array(
        [
            ((Ridge(alpha=a).fit(scaler.transform(xt), yt).predict(scaler.transform(xv)) - yv) ** 2).mean(0)
            for a in alphas
        ]
    )
    for i, target in enumerate(TARGETS):
        best = int(mse[:, i].argmin())
        assert 0 < best < len(alphas) - 1, "the constructed case must have an interior best α"
        assert model.info()["alpha"][target] == alphas[best]
        np.testing.assert_allclose(model.info()["scores"][target], mse[:, i], rtol=1e-6)
    assert model.info()["alpha_selection"] == "validation"


def test_gcv_without_validation_matches_the_hat_matrix():
    split = linear_split(n=120, p=30, noise=20.0)
    alphas = [0.01, 1.0, 30.0, 1000.0, 1e5]
    model = fit(split, alphas=alphas)
    x, y = (a.astype(np.float64) for a in split.arrays())
    xs = (x - x.mean(0)) / x.std(0)
    n = len(x)
    for i, target in enumerate(TARGETS):
        gcv = []
        for a in alphas:
            hat = np.full((n, n), 1.0 / n) + xs @ np.linalg.solve(xs.T @ xs + a * np.eye(xs.shape[1]), xs.T)
            resid = y[:, i] - hat @ y[:, i]
            gcv.append((resid @ resid / n) / (1 - np.trace(hat) / n) ** 2)
        np.testing.assert_allclose(model.info()["scores"][target], gcv, rtol=1e-6)
        assert model.info()["alpha"][target] == alphas[int(np.argmin(gcv))]


def test_learns_the_toy_spectra_and_round_trips(tmp_path):
    train, val, test = toy_splits(1500, 300, 500, 128, noise_level=1.0)
    model = fit(train, val)
    pred = model.predict(test)
    scores = r2(test.labels(), pred)
    # measured R²: 0.986, 0.996, 0.970 (log_g, T_eff, Fe_H); predicting the mean scores 0
    assert np.all(scores > [0.95, 0.99, 0.93]), scores
    model.save(tmp_path / "ridge.npz")
    again = load(tmp_path / "ridge.npz")
    np.testing.assert_array_equal(again.predict(test), pred)
    assert again.info()["alpha"] == model.info()["alpha"]


def test_wrong_targets_are_refused():
    train, _, _ = toy_splits(50, 10, 10, 16)
    model = build({"type": "ridge"}, {}, ["log_g"])
    with pytest.raises(ValueError, match="targets"):
        model.fit(train)


def test_every_route_to_the_alpha_path_gives_the_same_coefficients_and_gcv_scores():
    """Cholesky per α (GCV's trace from the factor) and one eigh: the same path to 1e-9 (float64)."""
    from engine.models.ridge import alpha_path, alpha_route

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 40)) @ rng.normal(size=(40, 40))  # correlated columns
    y = x[:, :3] @ rng.normal(size=(3, 2)) + rng.normal(size=(300, 2))
    gram, b, yty = x.T @ x, x.T @ y, (y * y).sum(axis=0)
    alphas = np.array([1e-2, 1.0, 1e2, 1e4])
    w_c, dof_c, rss_c = alpha_path(gram.copy(), b, alphas, "cholesky", "cpu", yty=yty, need_rss=True)
    w_e, dof_e, rss_e = alpha_path(gram.copy(), b, alphas, "eigh", "cpu", yty=yty, need_rss=True)
    np.testing.assert_allclose(w_c, w_e, rtol=1e-9, atol=1e-12 * np.abs(w_e).max())
    np.testing.assert_allclose(dof_c, dof_e, rtol=1e-9)
    np.testing.assert_allclose(rss_c, rss_e, rtol=1e-9)
    direct = np.stack([np.linalg.solve(gram + a * np.eye(40), b) for a in alphas], axis=2)
    np.testing.assert_allclose(w_c, direct, rtol=1e-9, atol=1e-12 * np.abs(direct).max())
    hat_trace = [np.trace(np.linalg.solve(gram + a * np.eye(40), gram)) for a in alphas]
    np.testing.assert_allclose(dof_c, hat_trace, rtol=1e-9)
    # a Gram in either layout: the same numbers
    w_f, dof_f, _ = alpha_path(np.asfortranarray(gram), b, alphas, "cholesky", "cpu", yty=yty, need_rss=True)
    np.testing.assert_allclose(w_f, w_c, rtol=1e-9, atol=1e-12 * np.abs(w_c).max())
    np.testing.assert_allclose(dof_f, dof_c, rtol=1e-9)
    assert alpha_route(1, "fixed") == "cholesky" and alpha_route(9, "validation") == "cholesky"
    assert (
        alpha_route(9, "gcv") == "cholesky"
        and alpha_route(30, "gcv") == "eigh"
        and alpha_route(60, "validation") == "eigh"
    )
    # α = 0 on a singular Gram: the factor fails, the eigenbasis route answers
    singular = np.outer(np.arange(1.0, 6.0), np.arange(1.0, 6.0))
    w0, _, _ = alpha_path(
        singular.copy(), np.ones((5, 1)), np.array([0.0, 1.0]), "cholesky", "cpu", yty=np.ones(1), need_rss=False
    )
    assert w0.shape == (5, 1, 2) and np.isfinite(w0).all()
    np.testing.assert_allclose(w0[:, 0, 0], np.linalg.pinv(singular) @ np.ones(5), rtol=1e-6)


def test_the_pass_gives_the_centred_moments_in_either_precision():
    """The streaming moments against numpy on the whole matrix: float64 to 1e-10, float32 to 1e-5,
    with blocks and chunks of uneven lengths (the buffers are allocated on the first block)."""
    from engine.models import ridge

    train, _, _ = toy_splits(700, 10, 10, 64, noise_level=1.0)
    x, y = (a.astype(np.float64) for a in train.arrays())
    xc, yc = x - x.mean(0), y - y.mean(0)
    for precision, rtol in (("float64", 1e-10), ("float32", 1e-5)):
        mo = ridge.moments(train, precision=precision, block_rows=300)
        np.testing.assert_allclose(mo.mean_x, x.mean(0), rtol=rtol)
        np.testing.assert_allclose(mo.gram, xc.T @ xc, rtol=rtol, atol=rtol * np.abs(xc.T @ xc).max())
        np.testing.assert_array_equal(mo.gram, mo.gram.T)
        np.testing.assert_allclose(mo.xty, xc.T @ yc, rtol=1e-9, atol=1e-9 * np.abs(xc.T @ yc).max())
        np.testing.assert_allclose(mo.yty, (yc * yc).sum(0), rtol=1e-10)


def test_the_torch_routes_a_gpu_takes_give_the_cpu_numbers():
    """The accumulator and the Cholesky path a cuda fit uses, run on torch's CPU device: the
    same moments and the same path (degrees of freedom too) as the scipy routes, in float64."""
    from engine.models import ridge

    rng = np.random.default_rng(5)
    x = (1.0 + 0.1 * rng.normal(size=(500, 24))).astype(np.float32)
    y = rng.normal(size=(500, 2))
    acc = ridge._TorchAccumulator("cpu", "float64")
    for start in range(0, 500, 128):
        acc.add(x[start : start + 128], y[start : start + 128], True)
    n, shift_x, shift_y, sx, sy, g, xty, yty = acc.result()
    g = ridge._downdate(g, sx / n, n)
    ridge._mirror_upper(g)
    xc = x.astype(np.float64) - x.mean(0, dtype=np.float64)
    np.testing.assert_allclose(g, xc.T @ xc, rtol=1e-9, atol=1e-9 * np.abs(xc.T @ xc).max())
    gram, b = xc.T @ xc, xc.T @ (y - y.mean(0))
    alphas = np.array([0.1, 10.0, 1e3])
    w_t, dof_t = ridge._cholesky_path_torch(gram, b, alphas, "cpu", need_dof=True)
    w_c, dof_c = ridge._cholesky_path(gram.copy(), b, alphas, "cpu", need_dof=True)
    np.testing.assert_allclose(w_t, w_c, rtol=1e-9, atol=1e-12 * np.abs(w_c).max())
    np.testing.assert_allclose(dof_t, dof_c, rtol=1e-9)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_a_first_block_shorter_than_the_next_grows_the_pass_buffers(precision):
    """A caller feeding the accumulator itself may start with a short block: the buffers grow."""
    from engine.models import ridge

    rng = np.random.default_rng(9)
    x = (1.0 + 0.1 * rng.normal(size=(3000, 16))).astype(np.float32)
    y = rng.normal(size=(3000, 2))
    acc = ridge._NumpyAccumulator(precision)
    for start, stop in ((0, 100), (100, 2900), (2900, 3000)):  # 100 rows < XTY_ROWS, then a full chunk
        acc.add(x[start:stop], y[start:stop], True)
    n, shift_x, shift_y, sx, sy, g, xty, yty = acc.result()
    g = ridge._downdate(g, sx / n, n)
    ridge._mirror_upper(g)
    xc = x.astype(np.float64) - x.mean(0, dtype=np.float64)
    np.testing.assert_allclose(g, xc.T @ xc, rtol=1e-5, atol=1e-5 * np.abs(xc.T @ xc).max())
    np.testing.assert_allclose(xty - n * np.outer(sx / n, sy / n), xc.T @ (y - y.mean(0)), rtol=1e-6, atol=1e-9)
