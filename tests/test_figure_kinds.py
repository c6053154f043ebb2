"""The figure kinds: the spec names them (`FIGURE_KINDS`, validated without the renderer), the
renderer registers what each does (`engine.render.figure_kinds.KINDS`); the two must hold the same
kinds. And a binned figure's per-bin intervals come from the table's own bins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import metrics
from engine.render import binned
from engine.render.figure_kinds import KINDS
from engine.render.figure_scene import FigureKind
from engine.render.phrasebook import REGIONS
from engine.spec.report_config import FIGURE_KINDS, Figure


def test_every_kind_the_spec_accepts_has_a_renderer_and_every_renderer_a_kind():
    assert set(KINDS) - set(FIGURE_KINDS) == set(), "registered in render, unknown to the spec"
    assert set(FIGURE_KINDS) - set(KINDS) == set(), "accepted by the spec, drawn by nothing"


@pytest.mark.parametrize("name", sorted(FIGURE_KINDS))
def test_each_kind_reads_draws_captions_and_says(name):
    kind = KINDS[name]
    assert isinstance(kind, FigureKind)
    assert all(callable(f) for f in (kind.read, kind.draw, kind.caption, kind.said, kind.trials))
    assert all(kind.missing(say).strip() for say in REGIONS.values())  # why it drew nothing, in each language


def test_the_spec_accepts_exactly_its_kinds():
    needs = {
        "binned": {"binned": 0},
        "binned_delta": {"binned": 0},
        "line": {"x": "data.n_train", "group": "model.alpha"},
        "sweep": {"param": "model.alpha"},
        "heatmap": {"extra": "gate_entropy", "by": "snr"},
    }
    for name in FIGURE_KINDS:
        assert Figure(kind=name, file="f.png", **needs.get(name, {})).kind == name
    with pytest.raises(ValueError):
        Figure(kind="pie", file="f.png")


# ---------------------------------------------------------------------------------------------
# The per-bin intervals of a binned figure


def _arrays(rng, n: int, noise: float, *, teff, truth, extra=None):
    p = {
        "index": np.arange(n),
        "targets": np.array(["log_g"]),
        "y_true": truth[:, None],
        "y_pred": (truth + rng.normal(0, noise, n))[:, None],
        "param.T_eff": teff,
    }
    if extra is not None:
        p["extra.gate_entropy"] = extra
    return p


def _table(rng, n=200):
    from engine.spec.report_config import Binned

    teff = np.concatenate([rng.uniform(3750, 4500, n - 5), rng.uniform(5250, 6000, 5)])  # 5 in the last bin
    truth = rng.normal(3, 1, n)
    extra = rng.uniform(0, 1, n)
    runs = [_arrays(rng, n, 0.3, teff=teff, truth=truth, extra=extra) for _ in range(2)]  # two seeds
    spec = Binned(metric="mae.log_g", by="T_eff", edges=[3750, 4500, 5250, 6000], min_n=10)
    return spec, runs, teff, truth


def test_a_bins_interval_is_the_bootstrap_of_the_rows_the_table_put_in_it():
    rng = np.random.default_rng(3)
    spec, runs, teff, truth = _table(rng)
    table = binned.binned_table(spec, {"cand": runs}, bootstrap=(200, 0))
    found = binned.bin_intervals(table, runs, bootstrap=(200, 0))
    assert found is not None and len(found) == 3
    inside = (teff >= 3750) & (teff < 4500)
    direct = metrics.bootstrap_ci(
        metrics.mae,
        truth[inside],
        np.stack([r["y_pred"][inside, 0] for r in runs]),
        B=200,
        seed=0,
    )
    assert found[0] == {"lo": direct.lo, "hi": direct.hi}
    assert found[0]["lo"] <= table["values"]["cand"][0] <= found[0]["hi"]
    assert found[1] is None  # empty
    assert found[2] is None and table["small"][2]  # 5 spectra, fewer than min_n


def test_an_extras_bin_interval_is_of_its_mean_and_a_trial_the_table_cannot_bin_has_none():
    from engine.spec.report_config import Binned

    rng = np.random.default_rng(4)
    _, runs, teff, _ = _table(rng)
    spec = Binned(metric="extra.gate_entropy", by="T_eff", edges=[3750, 4500, 5250, 6000], min_n=10)
    table = binned.binned_table(spec, {"gated": runs[:1]}, bootstrap=(200, 0))
    found = binned.bin_intervals(table, runs[:1], bootstrap=(200, 0))
    assert found is not None and found[0] is not None
    inside = (teff >= 3750) & (teff < 4500)
    mean = float(np.mean(runs[0]["extra.gate_entropy"][inside]))
    assert found[0]["lo"] < mean < found[0]["hi"]
    assert math.isclose(table["values"]["gated"][0], mean)
    without = {k: v for k, v in runs[0].items() if k != "param.T_eff"}
    assert binned.bin_intervals(table, [without], bootstrap=(200, 0)) is None
    two_d = {**runs[0], "extra.gate_entropy": np.ones((len(teff), 3))}
    assert binned.bin_intervals(table, [two_d], bootstrap=(200, 0)) is None
