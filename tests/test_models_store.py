"""Trained models kept in the run store, and trials that read them: `from:`, probes, shared MoE
experts, gate early stopping, `prerequisite:`.

Tiny data on a coarse grid (512-pixel synthetic shards, a few hundred spectra, 1–2 epochs), so
each run takes seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_DATA
from conftest import spec_report as report

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from engine.cli import main
from engine.data import synth
from engine.notebook import record as run_record
from engine.notebook.store import MODEL, RunStore
from engine.text import document


def records(root: Path, path: Path) -> dict[str, dict]:
    """The report's trials as its run record names them, with each trial's stored record.json."""
    from engine.notebook.store import KeyParts

    rec = run_record.parse(path.read_text(encoding="utf-8"))
    store = RunStore(root / ".research/runs")
    out = {}
    for row in rec["trials"]:
        if not row.get("parts"):
            continue  # left out by --trial
        key = KeyParts(**row["parts"]).key
        out[row["name"]] = {"key": key, **json.loads((store.path(key) / "record.json").read_text())}
    return out


def test_split(root: Path, config: dict, report_path: Path):
    from engine.data.load import make_splits
    from engine.spec import TrialConfig

    trial = TrialConfig.model_validate(config)
    return make_splits(
        trial.data,
        trial.noise,
        base_dir=report_path.parent,
        cache_dir=root / ".research/cache",
        val_frac=trial.train.val_frac,
    ).test


test_split.__test__ = False  # a helper, not a test

RIDGE = f"""
data: {{source: {TINY_DATA}, n_train: 300, n_test: 100, targets: [log_g]}}
noise: {{level: 1.0, seed: 42}}
model: {{type: ridge, alpha: 100.0}}
train: {{epochs: 1, batch_size: 64, seed: 1, device: cpu}}
metrics: [r2.log_g, mae.log_g]
"""


# ---------------------------------------------------------------------------------------------
# 1. The model is kept, and reloads bit for bit


def test_every_trial_keeps_its_model_and_it_reloads_bit_for_bit(tiny_nb, capsys):
    from engine.models import load

    path = report(
        tiny_nb,
        "research/a/exp/exp_keep.md",
        RIDGE
        + """
trials:
  ridge: {}
  mlp: {model: {type: mlp, hidden: [16]}}
  cnn: {model: {type: cnn, channels: [4, 8], pool: 4, hidden: 16}}
  moe: {model: {type: moe, alpha: 300.0, gate: dual_tower, gate_steps: 20}, data.n_train: 600}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().out
    store = RunStore(tiny_nb / ".research/runs")
    for name, rec in records(tiny_nb, path).items():
        folder = store.path(rec["key"])
        assert sorted(p.name for p in folder.iterdir()) == [MODEL, "predictions.h5", "record.json"], name
        model = load(folder / MODEL)
        assert model.type == name and model.targets == ("log_g",)
        stored = store.predictions(rec["key"])
        again = model.predict(test_split(tiny_nb, rec["config"], path))
        assert np.array_equal(again[:, 0], stored["y_pred"][:, 0]), name  # bit for bit


def test_a_plugin_model_is_kept_only_when_it_can_save(tiny_nb, capsys):
    (tiny_nb / "keepers.py").write_text(
        """
import numpy as np


class Mean:
    def __init__(self, params, train, targets):
        self.targets = list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        self.mean = train.labels(self.targets).mean(axis=0)

    def predict(self, split):
        return np.tile(self.mean, (len(split), 1))


class Saved(Mean):
    def save(self, path):
        np.save(str(path) + ".npy", self.mean)

    def load(self, path):
        self.mean = np.load(path)


def plain(params, train, targets):
    return Mean(params, train, targets)


def saved(params, train, targets):
    return Saved(params, train, targets)
""",
        encoding="utf-8",
    )
    path = report(
        tiny_nb,
        "research/a/exp/exp_plugin.md",
        RIDGE
        + """
trials:
  plain: {model: {type: "keepers:plain"}}
  saved: {model: {type: "keepers:saved"}}
  again: {model: {from: saved}, noise.level: 2.0}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().out
    store = RunStore(tiny_nb / ".research/runs")
    recs = records(tiny_nb, path)
    assert store.model_path(recs["plain"]["key"]) is None  # no save(): simply not kept
    assert store.model_path(recs["saved"]["key"]).name == "model.bin"
    assert recs["again"]["metrics"] == recs["saved"]["metrics"]  # a mean ignores the noise: the same model, loaded
    assert recs["again"]["info"]["from"] == "saved"
    assert store.model_path(recs["again"]["key"]).read_bytes() == store.model_path(recs["saved"]["key"]).read_bytes()


# ---------------------------------------------------------------------------------------------
# 2. `from:` a stored trial: this report's, another report's


def test_from_a_trial_of_the_same_report_scores_it_without_training(tiny_nb, capsys):
    from engine.models import load

    path = report(
        tiny_nb,
        "research/a/exp/exp_from.md",
        RIDGE
        + """
trials:
  noisy: {noise.level: 2.0, model: {from: base}}   # before its source in the file: the plan runs the source first
  base: {}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0
    out = capsys.readouterr().out
    assert out.index("base (new)") < out.index("noisy (new)")
    recs = records(tiny_nb, path)
    assert recs["noisy"]["info"]["from"] == "base" and recs["noisy"]["info"]["source_key"] == recs["base"]["key"]
    assert "not retrained" in "\n".join(recs["noisy"]["log"])
    store = RunStore(tiny_nb / ".research/runs")
    source = load(store.path(recs["base"]["key"]) / MODEL)
    expected = source.predict(test_split(tiny_nb, recs["noisy"]["config"], path))[:, 0]
    assert np.array_equal(store.predictions(recs["noisy"]["key"])["y_pred"][:, 0], expected)
    assert recs["noisy"]["metrics"]["r2"]["log_g"] < recs["base"]["metrics"]["r2"]["log_g"]  # more noise, same model

    # the reader's key holds its source's: a new source makes it run again, and says why
    text = path.read_text(encoding="utf-8").replace("base: {}", "base: {model.alpha: 1000.0}")
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--no-commit", "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert "noisy                    source changed" in plan and "base                     spec changed" in plan


def test_a_source_left_out_by_trial_and_not_stored_is_refused_before_anything_trains(tiny_nb, capsys):
    path = report(
        tiny_nb,
        "research/a/exp/exp_subset.md",
        RIDGE
        + """
trials:
  base: {}
  noisy: {noise.level: 2.0, model: {from: base}}
  typo: {model: {from: bsae}}
""",
    )
    code = main(["run", str(path), "--no-commit", "--trial", "noisy"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:13" in err and "reads trial 'base', which --trial leaves out" in err and "add --trial base" in err
    assert not (tiny_nb / ".research/runs").exists() or not list((tiny_nb / ".research/runs").rglob("record.json"))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:14: trials.typo.model.from: no trial named 'bsae'" in out and "did you mean 'base'?" in out


def test_from_a_trial_of_another_report_and_every_way_it_can_be_wrong(tiny_nb, capsys):
    first = report(
        tiny_nb,
        "research/a/exp/exp_first.md",
        RIDGE
        + """
trials:
  cand: {}
""",
    )
    second = report(
        tiny_nb,
        "research/b/exp/exp_second.md",
        RIDGE.replace("level: 1.0", "level: 2.0")
        + """
trials:
  mine: {}
  theirs: {model: {from: "../../a/exp/exp_first.md#cand"}}
""",
    )
    line = 13  # `theirs:` in the second report

    def refused(fragment: str) -> str:
        assert main(["run", str(second), "--no-commit", "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert f"{second}:{line}: trials.theirs.model.from: " in err and fragment in err, err
        assert main(["check", str(second)]) == 1
        assert fragment in capsys.readouterr().out
        return err

    refused("the report '../../a/exp/exp_first.md' is planned, not done")  # never run
    assert main(["run", str(first), "--no-commit"]) == 0
    capsys.readouterr()
    assert main(["run", str(second), "--no-commit"]) == 0
    capsys.readouterr()
    recs = records(tiny_nb, second)
    assert recs["theirs"]["info"]["source_key"] == records(tiny_nb, first)["cand"]["key"]

    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace("  cand: {}", "  cand: {model.alpha: 10.0}"), encoding="utf-8")
    refused("trial 'cand' of '../../a/exp/exp_first.md' would not give the recorded result today")  # stale
    first.write_text(text.replace("  cand: {}", "  other: {}"), encoding="utf-8")
    refused("would not give the recorded result today (it is gone from the spec)")
    first.write_text(text, encoding="utf-8")
    mine = second.read_text(encoding="utf-8")
    second.write_text(mine.replace("#cand", "#cnad", 1), encoding="utf-8")  # the spec, not the tables
    err = refused("the run record of '../../a/exp/exp_first.md' names no trial 'cnad'")
    assert "did you mean 'cand'?" in err
    second.write_text(mine, encoding="utf-8")
    for folder in (tiny_nb / ".research/runs").iterdir():
        if folder.name != "experts":
            shutil.rmtree(folder)  # a fresh clone: records in the reports, nothing stored
    err = refused("trial 'cand' is not in this notebook's run store")
    assert f"research run {first}" in err
    first.unlink()
    refused("there is no report '../../a/exp/exp_first.md'")


# ---------------------------------------------------------------------------------------------
# 3. MoE experts fitted once, shared by every gate trial (in one run and across runs)

GATES = f"""
data: {{source: {TINY_DATA}, n_train: 800, n_test: 100, targets: [log_g]}}
noise: {{level: 1.0, seed: 42}}
model: {{type: moe, alpha: 300.0, gate: mlp_regression, gate_steps: 30}}
train: {{seed: 1, device: cpu}}
metrics: [r2.log_g, mae.log_g]
trials:
  mlp: {{model.gate: mlp_regression}}
  linear: {{model.gate: linear_regression}}
  dual: {{model.gate: dual_tower}}
"""


@pytest.fixture
def count_fits(monkeypatch):
    from engine.models.ridge import Ridge

    fits = []
    fit = Ridge.fit

    def counted(self, *args, **kwargs):
        fits.append(len(args[0]))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(Ridge, "fit", counted)
    return fits


def test_three_gate_trials_fit_the_experts_once(tiny_nb, capsys, count_fits):
    path = report(tiny_nb, "research/m/exp/exp_gates.md", GATES)
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().out
    recs = records(tiny_nb, path)
    first = recs["mlp"]["info"]
    n = first["n_experts"]
    assert n == 9 and len(count_fits) == 3 * n  # every expert once, and each out-of-fold half once
    assert first["experts_source"] == "fitted" and first["expert_fits"] == 3 * n
    for name in ("linear", "dual"):
        assert recs[name]["info"]["experts_source"] == "shared" and recs[name]["info"]["expert_fits"] == 0
        assert recs[name]["info"]["experts_key"] == first["experts_key"]
    artifact = tiny_nb / ".research/runs/experts" / first["experts_key"][:2] / first["experts_key"]
    assert sorted(p.name for p in artifact.iterdir()) == ["experts.npz", "oof.npz"]

    # across runs: retrained gates, no expert fitted; the same numbers as fitting them
    capsys.readouterr()
    assert main(["run", str(path), "--no-commit", "--retrain"]) == 0
    assert len(count_fits) == 3 * n
    assert {k: r["metrics"] for k, r in records(tiny_nb, path).items()} == {k: r["metrics"] for k, r in recs.items()}

    # other data (another noise level): other experts
    text = path.read_text(encoding="utf-8").replace("level: 1.0", "level: 2.0", 1)
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--no-commit", "--trial", "linear"]) == 0
    assert len(count_fits) == 6 * n


def test_experts_from_takes_a_stored_moe_trials_experts(tiny_nb, capsys, count_fits):
    first = report(tiny_nb, "research/m/exp/exp_experts.md", GATES)
    assert main(["run", str(first), "--no-commit", "--trial", "mlp"]) == 0
    fitted = len(count_fits)
    second = report(
        tiny_nb,
        "research/m/exp/exp_reuse.md",
        GATES.replace("level: 1.0", "level: 1.5")
        + """
  reused: {model.experts_from: "exp_experts.md#mlp", model.gate: dual_tower}
""",
    )
    assert main(["run", str(second), "--no-commit", "--trial", "reused"]) == 0, capsys.readouterr().out
    assert len(count_fits) == fitted  # no ridge fitted: the experts are the first report's
    info = records(tiny_nb, second)["reused"]["info"]
    assert info["experts_source"] == "from exp_experts.md#mlp" and info["expert_fits"] == 0
    assert info["experts_key"] == records(tiny_nb, first)["mlp"]["info"]["experts_key"]

    bad = report(
        tiny_nb,
        "research/m/exp/exp_bad.md",
        RIDGE
        + """
trials:
  ok: {}
  wrong: {model: {type: moe, experts_from: "exp_experts.md#mlp"}, data.targets: [T_eff]}
""",
    )
    assert main(["check", str(bad)]) == 1
    assert "model.experts_from: 'exp_experts.md#mlp' predicts log_g, this trial T_eff" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# 4. A regression gate stops early on a validation set and keeps its best state


def gate_splits():
    from engine.data.split import Split

    source = synth.generate(2000, seed=3, n_pixels=512)
    rows = np.arange(2000)

    def split(a, b, epoch=None):
        return Split(source, rows[a:b], ("log_g",), noise_level=1.0, noise_seed=5, noise_epoch=epoch)

    return split(0, 1400), split(1400, 1700, 1), split(1700, 2000, 2)


def test_a_regression_gate_stops_early_and_keeps_its_best_step():
    from engine.metrics import r2
    from engine.models import build

    train, val, test = gate_splits()
    params = {"type": "moe", "alpha": 300.0, "gate": "mlp_regression", "gate_steps": 3000, "gate_lr": 0.05}
    stopping = build({**params, "gate_patience": 10}, {"seed": 1}, ["log_g"])
    stopping.fit(train, val)
    info = stopping.info()
    assert info["stopped_early"] is True and info["epochs_run"] < 3000
    assert info["best_epoch"] == info["epochs_run"] - 10  # then ten steps without a better validation MSE
    assert info["gate_validation"] == "the validation split (300 spectra)"
    # a working mixture, not a gate stuck at a bad step: measured R² 0.142 (generator v6; 1,400
    # spectra of 512 pixels, ~155 per expert), against 0.129 after 40 steps and 0.126 after 3,000
    assert r2(test.labels()[:, 0], stopping.predict(test)[:, 0]) > 0.1

    held = build({**params, "gate_patience": 10}, {"seed": 1}, ["log_g"])
    held.fit(train, None)  # no validation split: a tenth of the gate's rows held out
    assert held.info()["stopped_early"] and held.info()["gate_validation"].endswith(
        "of the gate's training rows held out (0.1)"
    )

    plain = build({**params, "gate_steps": 40}, {"seed": 1}, ["log_g"])
    plain.fit(train, val)
    assert plain.info()["epochs_run"] == plain.info()["best_epoch"] == 40 and not plain.info()["stopped_early"]
    assert plain.info()["gate_validation"] is None

    from engine.render.notes import model_notes

    notes, _ = model_notes("moe", info)
    assert any(
        n.startswith(
            f"gate: best step {info['best_epoch']} of {info['epochs_run']} full-batch Adam steps (stopped early)"
        )
        for n in notes
    )


# ---------------------------------------------------------------------------------------------
# 6. A probe on the embeddings of a stored net


def test_a_probe_on_a_stored_cnn_learns(tiny_nb, capsys):
    from engine.models import load

    path = report(
        tiny_nb,
        "research/p/exp/exp_probe.md",
        RIDGE.replace("n_train: 300", "n_train: 400")
        + """
trials:
  cnn: {model: {type: cnn, channels: [8, 16], pool: 8, hidden: 32}, train.epochs: 2}
  probe: {model: {type: probe, of: cnn}, data.targets: [T_eff]}
  probe-conv: {model: {type: probe, of: cnn, layer: backbone.convs.2, alpha: 10.0, pool: 8}, data.targets: [T_eff]}
  probe-mlp: {model: {type: probe, of: cnn, layer: -1, head: mlp, hidden: [16]}, train.epochs: 40, train.lr: 0.003, data.targets: [T_eff]}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr().out
    recs = records(tiny_nb, path)
    for name in ("probe", "probe-conv", "probe-mlp"):  # T_eff, which the net was not trained on, read off its features
        assert recs[name]["metrics"]["r2"]["T_eff"] > 0.2, (name, recs[name]["metrics"]["r2"])  # the mean scores 0
        assert recs[name]["info"]["source_key"] == recs["cnn"]["key"]
    assert recs["probe"]["info"]["layer"] == "backbone" and recs["probe-conv"]["info"]["layer"] == "backbone.convs.2"
    assert recs["probe-conv"]["info"]["n_features"] == 8 * 8  # 8 channels averaged down to `pool` positions
    assert recs["probe-mlp"]["info"]["layer"] == "backbone.dense.4"  # the last of the backbone's layers

    store = RunStore(tiny_nb / ".research/runs")
    for name in ("probe-conv", "probe-mlp"):
        probe = load(store.path(recs[name]["key"]) / MODEL)  # the whole predictor: net and head
        again = probe.predict(test_split(tiny_nb, recs[name]["config"], path))[:, 0]
        assert np.array_equal(again, store.predictions(recs[name]["key"])["y_pred"][:, 0]), name

    bad = report(
        tiny_nb,
        "research/p/exp/exp_bad_probe.md",
        RIDGE
        + """
trials:
  ridge: {}
  probe: {model: {type: probe, of: ridge}}
""",
    )
    assert main(["check", str(bad)]) == 1
    assert "model.of: needs a mlp / cnn / vit trial, but 'ridge' is a ridge model" in capsys.readouterr().out

    typo = report(
        tiny_nb,
        "research/p/exp/exp_typo.md",
        RIDGE
        + """
trials:
  cnn: {model: {type: cnn, channels: [8, 16], pool: 8, hidden: 32}}
  probe: {model: {type: probe, of: cnn, layer: backbone.conv.2}}
""",
    )
    assert main(["run", str(typo), "--no-commit", "--dry-run"]) == 2  # before the cnn trains
    err = capsys.readouterr().err
    assert (
        f"{typo}:13: trials.probe.model.layer: the cnn has no layer 'backbone.conv.2'" in err
        and "did you mean 'backbone.convs.2'?" in err
    )


# ---------------------------------------------------------------------------------------------
# 5. prerequisite: the reports a report builds on


def test_a_prerequisite_must_exist_be_done_and_not_be_stale(tiny_nb, capsys):
    base = report(tiny_nb, "research/a/exp/exp_base.md", RIDGE)
    later = report(
        tiny_nb,
        "research/b/exp/exp_later.md",
        "prerequisite: [../../a/exp/exp_base.md, ../../a/exp/exp_gone.md]\n" + RIDGE,
    )

    def problems() -> str:
        assert main(["run", str(later), "--no-commit", "--dry-run"]) == 2
        capsys.readouterr()
        assert main(["check", str(later)]) == 1
        return capsys.readouterr().out

    out = problems()
    assert f"{later}:5: prerequisite: prerequisite '../../a/exp/exp_gone.md': there is no report" in out
    assert (
        f"{later}:5: prerequisite: prerequisite '../../a/exp/exp_base.md': the report '../../a/exp/exp_base.md' is planned, not done"
        in out
    )
    later.write_text(later.read_text(encoding="utf-8").replace(", ../../a/exp/exp_gone.md", ""), encoding="utf-8")
    assert main(["run", str(base), "--no-commit"]) == 0
    capsys.readouterr()
    assert main(["run", str(later), "--no-commit", "--dry-run"]) == 0
    capsys.readouterr()
    base.write_text(base.read_text(encoding="utf-8").replace("alpha: 100.0", "alpha: 10.0"), encoding="utf-8")
    out = problems()
    assert f"{later}:5: prerequisite: prerequisite '../../a/exp/exp_base.md' is stale: main (spec changed)" in out
    assert main(["run", str(base), "--no-commit"]) == 0
    later.write_text(
        later.read_text(encoding="utf-8") + "\n<!-- research:reproduce -->\n<!-- /research:reproduce -->\n",
        encoding="utf-8",
    )
    assert main(["run", str(later), "--no-commit"]) == 0
    text = later.read_text(encoding="utf-8")
    assert run_record.parse(text)["prerequisite"] == ["../../a/exp/exp_base.md"]
    assert "Builds on: [exp_base.md](../../a/exp/exp_base.md)" in document.regions(text)["reproduce"].body


@pytest.mark.xdist_group("ray")  # beside the other Ray tests (make test: --dist loadgroup)
def test_on_ray_a_reader_waits_for_its_source(tiny_nb, capsys):
    pytest.importorskip("ray")
    path = report(
        tiny_nb,
        "research/a/exp/exp_ray.md",
        RIDGE
        + """
trials:
  noisy: {noise.level: 2.0, model: {from: base}}
  base: {}
""",
    )
    text = path.read_text(encoding="utf-8")
    assert main(["run", str(path), "--no-commit", "--executor", "ray"]) == 0, capsys.readouterr().out
    on_ray = records(tiny_nb, path)
    assert on_ray["noisy"]["info"]["source_key"] == on_ray["base"]["key"]
    shutil.rmtree(tiny_nb / ".research/runs")
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--no-commit"]) == 0
    here = records(tiny_nb, path)
    for name in ("base", "noisy"):  # Ray's workers use one BLAS thread: the same up to rounding
        assert here[name]["metrics"]["r2"]["log_g"] == pytest.approx(on_ray[name]["metrics"]["r2"]["log_g"], abs=1e-12)


def test_a_reader_of_a_failed_source_fails_without_running(tiny_nb, capsys):
    (tiny_nb / "failing.py").write_text(
        """
class Failing:
    def __init__(self, params, train, targets):
        pass

    def fit(self, train, val=None, *, log=print, progress=None):
        raise RuntimeError("this trial is meant to fail")

    def predict(self, split):
        raise AssertionError

    def save(self, path):
        raise AssertionError


def make(params, train, targets):
    return Failing(params, train, targets)
""",
        encoding="utf-8",
    )
    path = report(
        tiny_nb,
        "research/a/exp/exp_fail.md",
        RIDGE
        + """
trials:
  ok: {}
  fails: {model: {type: "failing:make"}}
  reader: {model: {from: fails}}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 1
    out = capsys.readouterr().out
    assert "failed: RuntimeError: this trial is meant to fail" in out
    assert "failed: not run: the trial it reads, 'fails', failed" in out
