"""`inputs:` — what a model sees: read from the spec once, fitted on the training split only,
applied alike to every split, and refused (located) where a model family cannot read it."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPORT_BODY, git_notebook

from engine.data.features import error_statistics, line_features
from engine.data.input_matrix import fit, global_features, global_names
from engine.data.inputs import FEATURES, Inputs
from engine.errors import SpecError
from engine.models.toy import toy_splits
from engine.spec import TrialConfig, load_spec

RESEARCH = str(Path(sys.executable).with_name("research"))


def inputs(value) -> Inputs:
    return TrialConfig.model_validate({"model": {"type": "ridge"}, "inputs": value}).inputs


@pytest.mark.parametrize(
    ("written", "dumped"),
    [
        ("flux", "flux"),
        ({"flux": {"top_k": 256}}, {"flux": {"top_k": 256}}),
        ({"flux": {"wave": [8450, 8700]}}, {"flux": {"wave": [[8450.0, 8700.0]]}}),  # one window, unbracketed
        (["flux", "error"], ["flux", "error"]),
        ({"labels": ["T_eff", "Fe_H"]}, {"labels": ["T_eff", "Fe_H"]}),
        ([{"error": {"top_k": 8, "by": "T_eff"}}, "quality"], [{"error": {"top_k": 8, "by": "T_eff"}}, "quality"]),
    ],
)
def test_each_form_reads_and_dumps_as_written(written, dumped):
    read = inputs(written)
    assert read.model_dump() == dumped
    assert Inputs.model_validate(read.model_dump()) == read  # a record's config reads back the same


def test_the_default_is_the_flux():
    default = TrialConfig.model_validate({"model": {"type": "ridge"}})
    assert default.inputs.is_flux and default.model_dump()["inputs"] == "flux"
    assert not inputs({"flux": {"top_k": 3}}).is_flux


@pytest.mark.parametrize(
    ("value", "words", "key"),
    [
        ("glbal", "did you mean 'global'", "inputs"),
        ("labels", "needs the labels", "inputs"),
        ({"flux": {"by": "T_eff"}}, "give top_k too", "inputs.flux.by"),
        ({"flux": {"top_k": 0}}, "positive integer", "inputs.flux.top_k"),
        ({"flux": {"wave": [[8700, 8450]]}}, "low < high", "inputs.flux.wave[0]"),
        ({"flux": {"topk": 5}}, "unknown option", "inputs.flux.topk"),
        ({"quality": {"top_k": 5}}, "takes no options", "inputs.quality"),
        ({"labels": ["log_g"]}, "is a target of this trial", "inputs.labels"),
        ({"labels": ["M_H"]}, "write Fe_H", "inputs"),
        (["flux", "flux"], "listed twice", "inputs[1]"),
    ],
)
def test_a_wrong_input_is_a_located_error(value, words, key):
    text = f"---\nid: X\ntitle: x\nmodel: {{type: ridge}}\ninputs: {value!r}\n---\n".replace("'", '"')
    with pytest.raises(SpecError) as bad:
        load_spec(text.split("---")[1], path="x.md")
    assert words in str(bad.value)
    assert bad.value.key == key, str(bad.value)


def split_with(value, n=300, pixels=64, noise=1.0, targets=("log_g",)):
    train, val, test = toy_splits(n, 60, 90, pixels, noise_level=noise, targets=targets)
    fitted = fit(inputs(value), train, list(targets))
    return [dataclasses.replace(s, inputs=fitted) for s in (train, val, test)], (train, val, test)


def test_windows_keep_the_pixels_inside_them():
    (train, _, _), (raw, _, _) = split_with({"flux": {"wave": [[7000, 7500], [9000, 9200]]}})
    wave = raw.wave
    inside = ((wave >= 7000) & (wave <= 7500)) | ((wave >= 9000) & (wave <= 9200))
    np.testing.assert_array_equal(train.wave, wave[inside])
    np.testing.assert_array_equal(train.arrays()[0], raw.arrays()[0][:, inside])


def test_a_top_k_ranking_is_fitted_on_the_training_split_only():
    (train, _, test), (raw_train, _, raw_test) = split_with({"flux": {"top_k": 16}})
    x, _ = raw_train.arrays()
    y = raw_train.labels()[:, 0]
    r = np.array([abs(np.corrcoef(x[:, j], y)[0, 1]) for j in range(x.shape[1])])
    kept = np.isin(raw_train.wave, train.wave)
    assert kept.sum() == 16
    # the 16 strongest: no pixel left out correlates more (up to rounding: the engine sums in blocks)
    assert r[kept].min() >= r[~kept].max() - 1e-9
    np.testing.assert_array_equal(test.wave, train.wave)  # the test split keeps the training split's pixels
    again = fit(inputs({"flux": {"top_k": 16}}), raw_train, ["log_g"])
    assert again.digest == train.inputs.digest  # deterministic
    other = fit(inputs({"flux": {"top_k": 16}}), raw_test, ["log_g"])  # ranked on other rows: another choice
    assert other.digest != train.inputs.digest
    assert train.inputs.info()["top_k_wave.flux"] == [round(float(w), 3) for w in train.wave]


def test_features_and_labels_are_what_they_say():
    (train, _, _), (raw, _, _) = split_with(["quality", "lines", "global", {"labels": ["T_eff", "Fe_H"]}])
    x = train.arrays()[0]
    assert x.shape == (len(raw), 10 + 9 + 128 + 2) == (len(raw), train.n_pixels)
    flux = raw.arrays()[0]
    error = raw.source.read(raw.index)[1]
    np.testing.assert_allclose(x[:, :10], error_statistics(error), rtol=1e-5)
    np.testing.assert_allclose(x[:, 10:19], line_features(flux.astype(np.float64), raw.wave), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(x[:, 19:147], global_features(flux, raw.wave), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(
        x[:, 147:], np.column_stack([raw.param("T_eff"), raw.param("Fe_H")]).astype(np.float32)
    )
    assert len(global_names()) == FEATURES["global"] == 128


def test_blocks_of_any_size_give_the_same_matrix():
    (train, _, _), _ = split_with([{"flux": {"top_k": 8}}, "error", "global"])
    whole = train.arrays()[0]
    pieces = np.concatenate([block.x for block in train.blocks(rows=37)])
    np.testing.assert_array_equal(pieces, whole)


def test_inputs_change_the_splits_fingerprint():
    (train, _, _), (raw, _, _) = split_with("error")
    assert train.fingerprint() != raw.fingerprint()


@pytest.mark.parametrize(
    ("model", "value", "ok"),
    [
        ("cnn", {"flux": {"top_k": 32}}, True),
        ("cnn", "error", True),
        ("cnn", "global", False),
        ("vit", ["flux", "error"], False),
        ("moe", "error", False),
        ("ridge", ["global", {"labels": ["T_eff"]}], True),
        ("mlp", "quality", True),
        ("lightgbm", "lines", True),
    ],
)
def test_each_model_family_says_which_inputs_it_reads(model, value, ok):
    from engine.models.configs import inputs_problem

    problem = inputs_problem(model, inputs(value))
    assert (problem is None) == ok, problem


SPEC = """\
---
id: EXP-INPUTS
title: inputs
data: {source: synthetic, n_train: 300, n_test: 120, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alpha: 10}
trials:
  pixels: {}
  top-k: {inputs: {flux: {top_k: 64}}}
  meta: {inputs: {labels: [T_eff, Fe_H]}}
  both: {inputs: [lines, quality]}
metrics: [r2.log_g]
---
"""


def _research(root, *args):
    return subprocess.run([RESEARCH, *args], cwd=root, capture_output=True, text=True)


def test_a_report_runs_each_input_and_records_what_the_model_saw(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + REPORT_BODY})
    done = _research(root, "run", "exp.md", "--no-commit")
    assert done.returncode == 0, done.stdout + done.stderr
    text = (root / "exp.md").read_text()
    for name in ("pixels", "top-k", "meta", "both"):
        assert f"| {name} " in text or f"| **{name}**" in text, name
    assert 'inputs: {"flux": {"top_k": 64}} (64 columns)' in done.stdout
    assert "inputs: lines + quality (19 columns)" in done.stdout
    keys = {
        line.split()[0]: line.split()[-1]
        for line in done.stdout.splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    }
    assert len({keys[n] for n in ("pixels", "top-k", "meta", "both")}) == 4  # the inputs are in the key


def test_a_cnn_on_features_is_refused_before_anything_trains(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + REPORT_BODY})
    refused = _research(root, "run", "exp.md", "--set", "model={type: cnn}", "--set", "inputs=global")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "reads one spectrum along its wavelengths" in refused.stderr and "Traceback" not in refused.stderr
    assert not (root / ".research" / "runs").exists() or not any((root / ".research" / "runs").rglob("record.json"))


def test_a_window_outside_the_data_is_refused_before_anything_trains(tmp_path):
    root = git_notebook(tmp_path, {"exp.md": SPEC + REPORT_BODY})
    refused = _research(root, "run", "exp.md", "--set", "inputs={flux: {wave: [[100, 200]]}}")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "no pixel of the data lies in the windows [100, 200]" in refused.stderr
    too_many = _research(root, "run", "exp.md", "--dry-run", "--set", "inputs={error: {top_k: 5000}}")
    assert too_many.returncode == 2 and "only 4096 pixels are there to rank" in too_many.stderr


@pytest.mark.parametrize(
    ("model", "value"),
    [
        ({"type": "cnn", "channels": [8, 8]}, {"flux": {"top_k": 48}}),  # a top-K window CNN
        ({"type": "vit"}, {"flux": {"wave": [[7000, 8000]]}}),
        ({"type": "mlp", "hidden": [32]}, ["global", "quality"]),
    ],
)
def test_a_net_trains_on_what_it_is_given(model, value, one_torch_thread):
    pytest.importorskip("torch")
    from engine.models import build

    raw = toy_splits(400, 80, 100, 128, noise_level=1.0, targets=("log_g",))
    fitted = fit(inputs(value), raw[0], ["log_g"])
    train, val, test = (dataclasses.replace(s, inputs=fitted) for s in raw)
    net = build(model, {"epochs": 2, "device": "cpu"}, ["log_g"])
    net.fit(train, val)
    assert net.predict(test).shape == (100, 1) and np.isfinite(net.predict(test)).all()
    assert net.info()["n_params"] > 0
