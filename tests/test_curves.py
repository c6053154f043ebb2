"""Training curves: the nets' per-epoch losses, learning rate and validation R² kept in the
trial's info, the `curves` figure drawn from them (read back from its SVG), its caption and
observations in a real run, and a spec whose `series` is unknown refused before anything trains."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import SpecError  # noqa: E402
from engine.metrics import r2  # noqa: E402
from engine.models import build  # noqa: E402
from engine.models.toy import TARGETS, toy_splits  # noqa: E402
from engine.render import figures  # noqa: E402
from engine.render.figures import Roles  # noqa: E402
from engine.render.notes import model_notes  # noqa: E402
from engine.render.observations import observe_curves  # noqa: E402
from engine.spec import load_spec  # noqa: E402
from engine.text import document  # noqa: E402

MLP = {"type": "mlp", "hidden": [32]}
TRAIN = {"epochs": 2, "batch_size": 64, "lr": 3e-3, "device": "cpu", "seed": 1}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def splits():
    return toy_splits(300, 100, 100, 64, noise_level=1.0)


def fit(splits, **train):
    tr, va, _ = splits
    net = build(MLP, {**TRAIN, **train}, TARGETS)
    net.fit(tr, va)
    return net


def test_a_two_epoch_mlp_records_its_curves(splits):
    net = fit(splits)
    info = net.info()
    curves = info["curves"]
    assert curves["epoch"] == [1, 2]
    assert len(curves["train_loss"]) == len(curves["val_loss"]) == len(curves["lr"]) == 2
    assert set(curves["val_r2"]) == set(TARGETS) and all(len(v) == 2 for v in curves["val_r2"].values())
    assert info["best_epoch"] in curves["epoch"] and info["epochs_run"] == 2 and info["stopped_early"] is False
    best = curves["epoch"].index(info["best_epoch"])
    assert curves["val_loss"][best] == min(curves["val_loss"])  # the best epoch is the lowest validation loss
    assert curves["lr"][0] > curves["lr"][1]  # the cosine schedule, as the optimiser had it
    # R² per target in the targets' units: what the kept weights score on the validation split
    val = splits[1]
    measured = r2(val.labels(), net.predict(val))
    np.testing.assert_allclose([curves["val_r2"][t][best] for t in TARGETS], measured, atol=1e-4)
    # plain JSON, and the same run gives the same bytes
    again = fit(splits).info()["curves"]
    assert json.dumps(again, sort_keys=True) == json.dumps(json.loads(json.dumps(curves)), sort_keys=True)


def test_early_stopping_gives_shorter_curves(splits):
    info = fit(splits, epochs=12, lr=0.05, patience=1, schedule="none").info()
    curves = info["curves"]
    assert info["stopped_early"] is True and info["epochs_run"] < 12
    assert curves["epoch"] == list(range(1, info["epochs_run"] + 1)) and len(curves["val_loss"]) == info["epochs_run"]
    assert info["best_epoch"] == info["epochs_run"] - 1  # patience 1: one epoch without gain stops it
    assert set(curves["lr"]) == {0.05}


def test_without_a_validation_split_only_the_training_curves(splits):
    tr, _, _ = splits
    net = build(MLP, TRAIN, TARGETS)
    net.fit(tr, None)
    curves = net.info()["curves"]
    assert set(curves) == {"epoch", "train_loss", "lr"} and len(curves["train_loss"]) == 2


def test_curves_are_not_a_note(splits):
    info = fit(splits).info()
    notes, warnings = model_notes("mlp", info)
    assert notes == [f"best epoch {info['best_epoch']} of 2"] and warnings == []
    assert not any("curves" in n or "val_loss" in n for n in notes)


# --- the figure -------------------------------------------------------------------------------


def texts(svg: bytes) -> list[str]:
    """What the figure shows as text: <text> elements, and the source of mathtext labels."""
    root = ET.fromstring(svg)
    return ["".join(el.itertext()).strip() for el in root.iter() if el.tag.endswith("}text")] + re.findall(
        r"<!-- (.*?) -->", svg.decode()
    )


def ids(svg: bytes) -> set[str]:
    return {el.get("id") for el in ET.fromstring(svg).iter() if el.get("id")}


def line_of(curves: dict, info: dict, series: str = "val_loss") -> dict:
    return {
        "x": curves["epoch"],
        "y": curves[series],
        "best": info["best_epoch"],
        "stopped": info["stopped_early"],
        "train": curves["train_loss"] if series == "val_loss" else None,
    }


def test_the_curves_figure_names_its_axis_its_trials_and_marks_the_best_epoch(splits):
    short = fit(splits).info()
    stopped = fit(splits, epochs=12, lr=0.05, patience=1, schedule="none").info()
    lines = {"mlp-2": line_of(short["curves"], short), "mlp-stop": line_of(stopped["curves"], stopped)}
    svg = figures.curves(Path("c.svg"), lines, ylabel="loss", roles=Roles(baseline="mlp-2"), fmt="svg")
    shown = texts(svg)
    assert "epoch" in shown
    assert "mlp-2 (baseline)" in shown and "mlp-stop" in shown  # a legend entry per trial
    assert {"best epoch", "stopped early", "training (dashed)", "validation (solid)"} <= set(shown)
    assert any(t.startswith("loss (MSE of standardised targets)") for t in shown)
    found = ids(svg)
    assert {"best-epoch-mlp-2", "best-epoch-mlp-stop", "stopped-mlp-stop", "train-mlp-2"} <= found
    assert "stopped-mlp-2" not in found  # it ran every epoch
    assert svg == figures.curves(Path("c.svg"), lines, ylabel="loss", roles=Roles(baseline="mlp-2"), fmt="svg")


def test_a_loss_spanning_decades_gets_a_log_axis():
    line = {"x": [1, 2, 3, 4], "y": [2.0, 0.5, 0.08, 0.05], "best": 4, "stopped": False, "train": None}
    svg = figures.curves(Path("c.svg"), {"net": line}, ylabel="val_loss", fmt="svg")
    assert {"0.05", "0.1", "0.2", "0.5", "1", "2"} <= set(texts(svg))  # 1-2-5 ticks of a log axis
    flat = figures.curves(Path("c.svg"), {"net": {**line, "y": [0.9, 0.8, 0.75, 0.7]}}, ylabel="val_loss", fmt="svg")
    assert "0.05" not in texts(flat) and "0.700" in texts(flat)  # a linear axis: under a decade


def test_observations_say_where_the_best_epoch_fell():
    said = observe_curves(
        {
            "a": {"best": 2, "run": 2, "stopped": False, "monitored": "val"},
            "b": {"best": 3, "run": 4, "stopped": True, "monitored": "val"},
            "c": {"best": 2, "run": 5, "stopped": False, "monitored": "train"},
        }
    )
    assert said == [
        "Stopped early: b at epoch 4 (best epoch 3, on the validation loss).",
        "a (2 epochs): the best epoch is the last, the validation loss was still falling: more epochs may help.",
        "The best epoch: c at epoch 2 of 5, no better training loss in the 3 after it.",
    ]
    assert observe_curves({"a": {"best": 2, "run": 2, "stopped": False, "monitored": "val"}}, lang="zh") == [
        "a（共 2 轮）的最佳轮次即最后一轮：验证损失仍在下降，增加轮次可能有益。"
    ]


# --- the spec ---------------------------------------------------------------------------------

SPEC = """\
id: DEMO-curves
title: curves
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
model: {type: mlp, hidden: [16]}
trials:
  net: {}
figures:
  - {kind: curves, series: val_loss, file: img/curves.svg}
"""


def test_a_curves_figure_with_an_unknown_series_is_a_located_error():
    with pytest.raises(SpecError) as info:
        load_spec(SPEC.replace("series: val_loss", "series: val_los"), path="exp.md", first_line=2)
    assert str(info.value) == (
        "exp.md:9: figures[0].series: expected one of val_loss, train_loss, lr or "
        "val_r2.<target>, got 'val_los'. did you mean 'val_loss'?"
    )
    with pytest.raises(SpecError) as info:
        load_spec(SPEC.replace("series: val_loss", "series: val_r2.T_eff"), path="exp.md", first_line=2)
    assert info.value.key == "figures[0].series" and "no trial predicts T_eff" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec(SPEC.replace("series: val_loss", "series: val_r2.logg"), path="exp.md", first_line=2)
    assert "unknown target 'logg'" in str(info.value) and "did you mean 'log_g'?" in str(info.value)
    spec = load_spec(
        SPEC.replace("series: val_loss", "series: val_r2.M_H").replace("[log_g]", "[log_g, M_H]"),
        path="exp.md",
        first_line=2,
    )
    assert spec.figures[0].series == "val_r2.Fe_H"


# --- a real run -------------------------------------------------------------------------------

REPORT = """\
---
id: EXP-CURVES
title: training curves
data: {source: synthetic, n_train: 240, n_test: 60, targets: [log_g]}
noise: {level: 1.0, seed: 3}
model: {type: mlp, hidden: [16]}
train: {epochs: 2, batch_size: 64, seed: 1, device: cpu}
trials:
  mean: {model: {type: "meanmodel:make"}}
  net: {}
metrics: [r2.log_g]
figures:
  - {kind: curves, file: img/curves.svg}
  - {kind: curves, trials: [mean], file: img/none.svg}
---
# curves

<!-- research:results -->
<!-- /research:results -->

<!-- research:figures -->
<!-- /research:figures -->

<!-- research:record -->
<!-- /research:record -->
"""


PLUGIN = """\
import numpy as np


class Mean:  # a model with no epochs, so no curves (as a ridge has none)
    def __init__(self, params, train, targets):
        self.targets = list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        self.mean = train.labels(self.targets).mean(axis=0)

    def predict(self, split):
        return np.tile(self.mean, (len(split), 1)).astype(float)


def make(params, train, targets):
    return Mean(params, train, targets)
"""


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    import sys

    import git

    repo = git.Repo.init(tmp_path)
    with repo.config_writer() as config:
        config.set_value("user", "name", "tester")
        config.set_value("user", "email", "tester@example.com")
    report = tmp_path / "research/c/exp/exp_c.md"
    report.parent.mkdir(parents=True)
    report.write_text(REPORT, encoding="utf-8")
    (tmp_path / "meanmodel.py").write_text(PLUGIN, encoding="utf-8")
    repo.index.add(["research/c/exp/exp_c.md", "meanmodel.py"])
    repo.index.commit("notebook")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "meanmodel", raising=False)
    return tmp_path, report


def test_a_run_draws_the_curves_of_the_nets_and_leaves_the_rest_out(notebook, capsys):
    from engine.cli import main

    root, report = notebook
    assert main(["run", str(report), "--no-commit"]) == 0
    body = document.regions(report.read_text(encoding="utf-8"))["figures"].body
    assert "![val_loss per epoch](img/curves.svg)" in body
    assert "Validation loss per epoch, one line per trial (dot: the best epoch; dashed: the training loss)." in body
    assert (
        "net: best epoch " in body and "of 2." in body and "Left out, with no validation loss per epoch: mean." in body
    )
    assert "(no curves figure: none of the trials it shows recorded training curves" in body
    record = next(
        json.loads(f.read_text())
        for f in (root / ".research/runs").glob("*/*/record.json")
        if json.loads(f.read_text())["trial"] == "net"
    )
    assert record["info"]["curves"]["epoch"] == [1, 2]  # the run store keeps them
    said = observe_curves(
        {"net": {"best": record["info"]["best_epoch"], "run": 2, "stopped": False, "monitored": "val"}}
    )
    assert f"- {said[0]}" in body  # the observation under the figure
    svg = (report.parent / "img/curves.svg").read_bytes()
    assert "epoch" in texts(svg) and "net" in texts(svg) and "mean" not in texts(svg)
    assert "best-epoch-net" in ids(svg)
    assert not (report.parent / "img/none.svg").exists()


def test_a_bad_series_stops_the_run_before_anything_trains(notebook, capsys):
    from engine.cli import main

    root, report = notebook
    report.write_text(
        REPORT.replace("{kind: curves, file:", "{kind: curves, series: trian_loss, file:"), encoding="utf-8"
    )
    before = report.read_bytes()
    assert main(["run", str(report), "--no-commit"]) == 2
    err = capsys.readouterr().err
    assert "exp_c.md:13: figures[0].series:" in err and "did you mean 'train_loss'?" in err and "Traceback" not in err
    assert report.read_bytes() == before and not (root / ".research" / "runs").exists()
