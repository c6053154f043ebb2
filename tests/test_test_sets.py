"""Named test sets (`data.tests`): every trial scored on each, `r2.log_g@<set>` everywhere a
metric is read, a column group per set in the results table, mistakes found before training.

A real git notebook, the synthetic data and Ridge (fast, no torch); one test set is an HDF5 file
of its own, written by the generator into the notebook.
"""

import json
import subprocess
import sys
from pathlib import Path

import git
import numpy as np
import pytest
from conftest import report_body

from engine.cli import main
from engine.data.load import make_splits
from engine.spec import TrialConfig
from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))

REPORT = """\
---
id: EXP-SETS
title: named test sets
data:
  source: synthetic
  n_train: 300
  n_test: 200
  targets: [log_g]
  tests:
    full: {}
    low_noise: {select: {snr_top_frac: 0.25}}
    noisy: {noise: 3.0}
    other: {source: other/shard_0/dataset.h5, n: 80}
noise: {level: 1.0}
model: {type: ridge, alpha: 100}
trials:
  base: {model.alpha: 1.0e+6}
  cand: {}
metrics: [r2.log_g, mae.log_g]
binned:
  - {metric: mae.log_g@low_noise, by: T_eff, edges: [3500, 5000, 7000]}
decision:
  baseline: base
  rules:
    - when: best.r2.log_g@low_noise > best.r2.log_g@noisy
      verdict: pass
      says: "R² {{ best.r2.log_g@low_noise }} on the brightest quarter"
    - otherwise: fail
      says: "no"
key_numbers:
  - {label: low-noise R², value: trials.cand.r2.log_g@low_noise}
  - {label: noisy lower bound, value: ci.cand.r2.log_g@noisy.lo}
---
""" + report_body("summary", "key-numbers", "results", "binned", title="Sets")


@pytest.fixture
def sets_notebook(notebook):
    from engine.data.synth import write_shards

    write_shards(notebook / "other", 120, 1, seed=7, n_pixels=4096)
    (notebook / "exp.md").write_text(REPORT, encoding="utf-8")
    repo = git.Repo.init(notebook)
    repo.index.add(["exp.md"])
    repo.index.commit("init")
    return notebook


def _record(path):
    body = document.regions(path.read_text(encoding="utf-8"))["record"].body
    return json.loads(body.split("```json", 1)[1].split("```", 1)[0])


def test_every_trial_is_scored_on_every_named_set(sets_notebook):
    report = sets_notebook / "exp.md"
    assert main(["run", "exp.md"]) == 0
    text = report.read_text(encoding="utf-8")
    results = document.regions(text)["results"].body
    header = results.splitlines()[0]
    groups = [cell.strip() for cell in header.strip("|").split("|")][2:]  # after Trial and Seeds
    # a column group per set, the primary (the first: full) first, in the spec's order
    assert groups == [f"{m}@{t}" for t in ("full", "low_noise", "noisy", "other") for m in ("r2.log_g", "mae.log_g")]
    assert "**full** (primary: the bare metrics) 200 spectra" in results
    assert "**low_noise** 50 spectra" in results and "**other** 80 spectra" in results
    record = _record(report)
    cand = next(t for t in record["trials"] if t["name"] == "cand")["metrics"]
    assert set(cand) >= {"r2.log_g@low_noise", "r2.log_g@noisy", "mae.log_g@other"}
    # the bright quarter is easier than the whole set, three times the noise harder
    assert cand["r2.log_g@low_noise"] > cand["r2.log_g@full"] > cand["r2.log_g@noisy"]
    numbers = document.regions(text)["key-numbers"].body
    assert f"| low-noise R² | {cand['r2.log_g@low_noise']:.4f} |" in numbers
    assert "✅ pass" in document.regions(text)["summary"].body
    binned = document.regions(text)["binned"].body
    assert "**mae.log_g@low_noise by T_eff**" in binned
    observed = binned.split("Key observations:\n", 1)[1].splitlines()
    assert observed and all(line.startswith("- ") for line in observed)
    assert not any("base has the best" in line for line in observed)  # the baseline's MAE is far worse


def test_a_subset_is_scored_on_the_same_rows_and_noise_as_the_full_set(sets_notebook):
    """`low_noise` is part of `full`: its rows are full's rows with the highest SNR, with the same
    noise draw, so its arrays are full's arrays at those rows."""
    assert main(["run", "exp.md"]) == 0
    from engine.notebook.store import RunStore

    store = RunStore(sets_notebook / ".research" / "runs")
    keys = [p.name for p in (sets_notebook / ".research" / "runs").glob("*/*") if (p / "predictions.h5").is_file()]
    assert len(keys) == 2
    for key in keys:
        p = store.predictions(key)
        assert p["primary_test"].decode() == "full"
        low = p["@low_noise:index"]
        assert set(low) <= set(p["index"]) and len(low) == 50
        at = np.searchsorted(p["index"], low)
        assert np.allclose(
            p["@low_noise:y_pred"], p["y_pred"][at], rtol=1e-5, atol=1e-6
        )  # same spectra (BLAS may block rows differently)
        assert np.array_equal(p["@low_noise:y_true"], p["y_true"][at])
        snr = p["param.snr"]
        assert snr[at].min() >= np.sort(snr)[-50]  # the brightest quarter, not any 50
        assert not np.array_equal(p["@noisy:y_pred"], p["y_pred"])  # another noise level


def test_the_splits_follow_the_spec(tmp_path):
    config = TrialConfig.model_validate(
        {
            "data": {
                "source": "synthetic",
                "n_train": 100,
                "n_test": 80,
                "tests": {"bright": {"select": {"snr_top_frac": 0.5}}, "all": None},
                "primary_test": "all",
            },
            "model": {"type": "ridge"},
        }
    )
    splits = make_splits(config.data, config.noise, cache_dir=tmp_path)
    assert list(splits.tests) == ["bright", "all"]
    assert splits.test is splits.tests["all"] and len(splits.test) == 80
    assert len(splits.tests["bright"]) == 40
    assert set(splits.tests["bright"].index) <= set(splits.test.index)


BAD = [
    (
        "r2.log_g@lownoise",
        "metrics: [r2.log_g, mae.log_g]",
        "metrics: [r2.log_g, r2.log_g@lownoise]",
        "no test set named 'lownoise'",
        "low_noise",
    ),
    ("a rule", "best.r2.log_g@low_noise > best", "best.r2.log_g@low_nose > best", "r2@low_nose", "r2@low_noise"),
    ("a bad name", "    full: {}", "    full set: {}", "test set name", None),
    ("too many", "n: 80}", "n: 500}", "data.tests.other.n", None),
    ("a missing source", "other/shard_0/dataset.h5", "other/nowhere.h5", "exp.md:13: data.tests.other.source", None),
]


@pytest.mark.parametrize("label, old, new, message, hint", BAD, ids=[b[0] for b in BAD])
def test_mistakes_in_test_sets_are_found_before_training(sets_notebook, label, old, new, message, hint):
    report = sets_notebook / "exp.md"
    report.write_text(REPORT.replace(old, new, 1), encoding="utf-8")
    before = report.read_bytes()
    done = subprocess.run([RESEARCH, "run", "exp.md"], cwd=sets_notebook, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    if hint:
        assert hint in done.stderr
    assert report.read_bytes() == before
    assert not list((sets_notebook / ".research" / "runs").glob("*/*/predictions.h5"))  # nothing trained


def test_a_test_set_reference_reads_the_sets_scores_in_an_expression():
    from engine.spec.expressions import compile_expression

    expression = compile_expression(
        "best.rmse.log_g@low_noise / trials.ceiling.sigma.log_g + ci.a.r2.log_g@full.lo "
        "+ compare('a', 'b').mae.T_eff@full.hi",
        names=["a", "b", "ceiling"],
    )
    context = {
        "best": {"rmse@low_noise": {"log_g": 0.3}, "rmse": {"log_g": 9.0}},
        "trials": {"ceiling": {"sigma": {"log_g": 0.1}}},
        "ci": {"a": {"r2@full": {"log_g": {"lo": 0.5}}}},
        "compare": lambda a, b: {"mae@full": {"T_eff": {"hi": 2.0}}},
    }
    assert abs(expression.evaluate(context) - 5.5) < 1e-12
    assert compile_expression("'x.r2.log_g@y' == 'x.r2.log_g@y'").evaluate({}) is True  # strings are left alone


def test_the_primary_test_set_must_be_one_of_them():
    from engine.errors import SpecError
    from engine.spec import load_spec

    text = REPORT.replace("  tests:\n", "  primary_test: lowest\n  tests:\n", 1).split("---\n")[1]
    with pytest.raises(SpecError) as caught:
        load_spec(text, path="exp.md")
    assert "no test set named 'lowest'" in str(caught.value) and "data.primary_test" in str(caught.value)
