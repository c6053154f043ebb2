"""`inputs: {latent: {of: cnn}}` — a stored net's embeddings as an input block of any feature
model: the same numbers a probe reads (one embedding code), its source trial run first and in
the key, and every mistake (no such trial, not a net, a model that cannot read features, no such
layer) refused at its line before anything trains, exit 2, no file changed.

Tiny data (512-pixel synthetic shards, a few hundred spectra, a 2-epoch cnn): seconds a run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BASE, tree_digest
from conftest import spec_report as report

pytest.importorskip("torch")

from engine.cli import main
from engine.notebook import record as run_record
from engine.notebook.store import KeyParts, RunStore

pytestmark = pytest.mark.usefixtures("one_torch_thread")

RESEARCH = str(Path(sys.executable).with_name("research"))
BASE = TINY_BASE + "metrics: [r2.log_g]\n"
CNN = "{model: {type: cnn, channels: [8, 16], pool: 8, hidden: 32}, train.epochs: 2}"
CONV = "{of: cnn, layer: backbone.convs.2, pool: 4}"  # 8 channels averaged down to 4 positions: 32 features


def records(root: Path, path: Path) -> dict[str, dict]:
    import json

    rec = run_record.parse(path.read_text(encoding="utf-8"))
    store = RunStore(root / ".research/runs")
    out = {}
    for row in rec["trials"]:
        key = KeyParts(**row["parts"]).key
        out[row["name"]] = {"key": key, **json.loads((store.path(key) / "record.json").read_text())}
    return out


def line_of(path: Path, fragment: str) -> int:
    return next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if fragment in row)


# ---------------------------------------------------------------------------------------------
# What a latent input is: a probe's embeddings, side by side with other blocks


def test_a_ridge_on_a_latent_predicts_what_a_ridge_probe_predicts(tiny_nb, capsys):
    path = report(
        tiny_nb,
        "research/l/exp/exp_latent.md",
        BASE
        + f"""
trials:
  latent: {{inputs: {{latent: {CONV}}}, data.targets: [T_eff]}}
  probe: {{model: {{type: probe, of: cnn, layer: backbone.convs.2, pool: 4, alpha: 10.0}}, data.targets: [T_eff]}}
  both: {{inputs: [{{latent: {CONV}}}, quality], data.targets: [T_eff]}}
  trees: {{model: {{type: lightgbm, n_estimators: 20, num_leaves: 7}}, inputs: {{latent: {{of: cnn}}}}}}
  cnn: {CNN}
""",
    )
    assert main(["run", str(path), "--no-commit"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    recs = records(tiny_nb, path)
    store = RunStore(tiny_nb / ".research/runs")

    # the same frozen net, layer and pool on the same noisy spectra, then the same Ridge (α = 10):
    # the same matrix, bit for bit, so the same predictions
    latent, probe = (store.predictions(recs[n]["key"])["y_pred"] for n in ("latent", "probe"))
    assert np.array_equal(latent, probe)
    assert recs["latent"]["metrics"]["r2"]["T_eff"] == recs["probe"]["metrics"]["r2"]["T_eff"] > 0.2

    used = recs["latent"]["info"]["latent"]
    assert used == [
        {"of": "cnn", "source_key": recs["cnn"]["key"], "net": "cnn", "layer": "backbone.convs.2", "width": 32}
    ]
    assert recs["latent"]["info"]["input_width"] == recs["probe"]["info"]["n_features"] == 32
    assert recs["both"]["info"]["input_width"] == 32 + 10  # the latent beside the 10 quality statistics
    # the backbone's output (its dense layer, 32 wide), read by trees, with the net's own target
    assert recs["trees"]["info"]["latent"][0]["layer"] == "backbone" and recs["trees"]["info"]["input_width"] == 32
    assert "latent: 32 features at backbone.convs.2 of the cnn of 'cnn'" in out
    # written before the cnn, they ran after it (else they would have had no net to read)


def test_a_latent_reader_waits_for_its_source_and_a_sweep_over_inputs_reads_it(tiny_nb):
    from engine.run.plan import make_plan

    path = report(
        tiny_nb,
        "research/l/exp/exp_sweep.md",
        BASE
        + f"""
trials:
  cnn: {CNN}
sweep:
  inputs: [quality, {{latent: {{of: cnn}}}}, [{{latent: {{of: cnn, pool: 2}}}}, lines]]
""",
    )
    plan = make_plan(path)
    order = [t.name for t in plan.to_run]
    readers = [t for t in plan.trials if t.needs]
    assert len(readers) == 2 and all(t.needs == ["cnn"] for t in readers)
    assert all(order.index("cnn") < order.index(t.name) for t in readers)  # a failed cnn skips them (executors)
    cnn_key = next(t.key for t in plan.trials if t.name == "cnn")
    assert sorted(next(iter(t.uses.values())) for t in readers) == [cnn_key, cnn_key]
    assert sorted(k for t in readers for k in t.uses) == ["inputs.latent", "inputs[0].latent"]


def test_a_repeated_reader_reads_the_run_of_its_source_with_its_own_seed(tiny_nb):
    from engine.run.plan import make_plan

    path = report(
        tiny_nb,
        "research/l/exp/exp_seeds.md",
        BASE
        + f"""
repeats: 3
trials:
  cnn: {CNN}
  probe: {{model: {{type: probe, of: cnn, layer: backbone.convs.2, pool: 4}}}}
  reader: {{model: {{type: mlp, hidden: [8]}}, inputs: {{latent: {CONV}}}, train.epochs: 1}}
""",
    )
    plan = make_plan(path)
    key = {t.name: t.key for t in plan.trials}
    for seed in (1, 2, 3):  # repeats count up from train.seed
        for reader in ("probe", "reader"):
            run = next(t for t in plan.trials if t.name == f"{reader}.seed-{seed}")
            assert run.needs == [f"cnn.seed-{seed}"], (run.name, run.needs)
            assert list(run.uses.values()) == [key[f"cnn.seed-{seed}"]]
    assert len({key[f"cnn.seed-{s}"] for s in (1, 2, 3)}) == 3  # three nets, each read by its own seed


# ---------------------------------------------------------------------------------------------
# Mistakes: located, exit 2, nothing trained, no file changed


def _refused(root: Path, path: Path, *args: str) -> str:
    before = tree_digest(root)
    done = subprocess.run([RESEARCH, "run", str(path), "--no-commit", *args], capture_output=True, text=True, cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("research: ") and "Traceback" not in done.stderr
    assert tree_digest(root) == before
    assert not any((root / ".research").rglob("record.json"))  # nothing trained
    return done.stderr


@pytest.mark.parametrize(
    ("trial", "said"),
    [
        (
            "{inputs: {latent: {of: cnm}}}",
            "trials.bad.inputs.latent.of: no trial named 'cnm'",
        ),
        (
            "{inputs: {latent: {of: ridge}}}",
            "trials.bad.inputs.latent.of: a latent input needs a mlp / cnn / vit trial, but 'ridge' is a ridge model",
        ),
        (
            "{model: {type: cnn}, inputs: {latent: {of: cnn}}}",
            "trials.bad.inputs: a cnn reads one spectrum along its wavelengths",
        ),
        (
            "{model: {type: moe}, inputs: [{latent: {of: cnn}}, quality]}",
            "trials.bad.inputs: a moe model reads the spectra itself",
        ),
        (
            "{inputs: {latent: {of: cnn, layer: backbone.conv.2}}}",
            "trials.bad.inputs.latent.layer: the cnn has no layer 'backbone.conv.2'",
        ),
        (
            "{inputs: [quality, {latent: {of: cnn, layer: 99}}]}",
            "trials.bad.inputs: the cnn has",
        ),
        (
            "{inputs: [quality, {latent: {of: ../none/exp_gone.md#cnn}}]}",
            "trials.bad.inputs: there is no report '../none/exp_gone.md'",
        ),
        (
            "{inputs: {latent: {of: windowed}}}",
            'trials.bad.inputs.latent.of: \'windowed\' was trained on the inputs {"flux": {"wave": [[8500.0, 8700.0]]}}, '
            "but its latent is read off the flux",
        ),
    ],
)
def test_a_bad_latent_is_refused_at_its_line_before_anything_trains(tiny_nb, trial, said):
    path = report(
        tiny_nb,
        "research/l/exp/exp_bad.md",
        BASE
        + f"""
trials:
  cnn: {CNN}
  ridge: {{}}
  windowed: {{model: {{type: mlp, hidden: [8]}}, inputs: {{flux: {{wave: [[8500, 8700]]}}}}}}
  bad: {trial}
""",
    )
    err = _refused(tiny_nb, path)
    assert f":{line_of(path, 'bad: ')}: {said}" in err, err  # every trial sits on one line: its override's
    if "no trial named" in said:
        assert "did you mean 'cnn'?" in err
    if "no layer" in said:
        assert "did you mean 'backbone.convs.2'?" in err


def test_a_latent_of_another_report_reads_its_stored_net(tiny_nb, capsys):
    base = report(tiny_nb, "research/a/exp/exp_net.md", BASE + f"\ntrials:\n  cnn: {CNN}\n")
    assert main(["run", str(base), "--no-commit"]) == 0, capsys.readouterr()
    reader = report(
        tiny_nb,
        "research/b/exp/exp_reader.md",
        BASE + "\ninputs: {latent: {of: ../../a/exp/exp_net.md#cnn, pool: 2}}\n",
    )
    assert main(["run", str(reader), "--no-commit"]) == 0, capsys.readouterr()
    capsys.readouterr()
    rec = records(tiny_nb, reader)["main"]
    assert rec["info"]["latent"][0]["source_key"] == records(tiny_nb, base)["cnn"]["key"]
    assert rec["info"]["input_width"] == 32
