"""The tables and figures of the user's finished MoE report: a two-way binned table with named
cells and Δ, a comparison table of two pairs, and the figure kinds their reports draw.

The small notebook's two Ridge trials plus a plugin trial that reports per-spectrum extras (gate
weights over three "experts" and their entropy, as a MoE does), at tiny size.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import metrics
from engine.cli import main
from engine.render import figures
from engine.run.plan import make_plan
from engine.text import document

PLUGIN = '''\
import numpy as np


class Gated:
    """A mean predictor with a made-up gate: what a MoE reports besides its predictions."""

    def __init__(self, params, train, targets):
        self.targets = list(targets)

    def fit(self, train, val=None, *, log=print, progress=None):
        self.mean = train.labels(self.targets).mean(axis=0)

    def predict(self, split):
        teff = split.param("T_eff")
        self.weights = np.stack([teff < 4500, (teff >= 4500) & (teff < 5250), teff >= 5250], axis=1).astype(float) * 0.8 + 0.2 / 3
        return np.tile(self.mean, (len(split), 1)) + 0.01 * (teff[:, None] - 4875) / 1000

    def extras(self):
        w = self.weights
        return {"gate_weights": w, "gate_entropy": -(w * np.log(w)).sum(axis=1)}


def make(params, train, targets):
    return Gated(params, train, targets)
'''

SECTIONS = """\
binned:
  - metric: r2.log_g
    by: [T_eff, Fe_H]
    name: cells
    edges: {T_eff: [3750, 4500, 5250, 6000], Fe_H: [-1, -0.5, 0]}
    names: {T_eff: [Cool, Warm, Hot], Fe_H: [Metal-poor, Metal-rich]}
    delta: baseline
    min_n: 5
  - {metric: extra.gate_entropy, by: snr, edges: [0, 3, 6, 100], trials: [gated]}
comparisons: [[cand, base], [gated, base]]
figures:
  - {kind: bar, file: img/bar.png, trials: [cand, base]}
  - {kind: binned_delta, binned: cells, file: img/delta_cells.png}
  - {kind: binned, binned: cells, style: bars, file: img/r2_cells.png}
  - {kind: bootstrap, file: img/bootstrap.png, trials: [cand, gated]}
  - {kind: ablation, file: img/ablation.png, against: base}
  - {kind: weights, file: img/weights.png, trials: [gated]}
  - {kind: heatmap, extra: gate_entropy, by: snr, file: img/entropy_snr.png, trials: [gated]}
"""


@pytest.fixture
def moe_like(small_notebook):
    root, report = small_notebook
    (root / "gatedplugin.py").write_text(PLUGIN, encoding="utf-8")
    text = report.read_text(encoding="utf-8")
    text = text.replace("  cand: {}\n", '  cand: {}\n  gated: {model: {type: "gatedplugin:make"}}\n')
    text = text.replace("figures:\n  - {kind: bar, file: img/bar.png}\n", SECTIONS)
    text = text.replace(
        "key_numbers:\n",
        "key_numbers:\n  - {label: Hot Metal-poor cand, value: \"binned['cells']['Hot Metal-poor']['cand']\"}\n"
        "  - {label: cand − base low, value: \"compare('cand', 'base').r2.log_g.lo\"}\n"
        "  - {label: Hot Metal-poor Δ, value: \"binned['cells']['Hot Metal-poor']['delta']['cand'].value\"}\n",
    )
    text = text.replace(
        "<!-- research:results -->",
        "<!-- research:comparisons -->\n<!-- /research:comparisons -->\n\n"
        "<!-- research:binned -->\n<!-- /research:binned -->\n\n<!-- research:results -->",
    )
    report.write_text(text, encoding="utf-8")
    return root, report


def test_a_two_way_table_names_its_cells_and_gives_each_trials_delta(moe_like):
    root, report = moe_like
    assert main(["run", str(report), "--no-commit"]) == 0
    text = report.read_text(encoding="utf-8")
    body = document.regions(text)["binned"].body
    assert "**r2.log_g by T_eff × Fe_H** · Δ = trial − base" in body
    assert "| # | cell | T_eff × Fe_H | n | base | cand | gated | Δ cand | Δ gated |" in body
    rows = [line for line in body.splitlines() if re.match(r"\| \d \|", line)]
    assert len(rows) == 6 and "| 6 | Hot Metal-rich | 5250–6000 · -0.5–0 |" in rows[5]
    assert re.search(r"\| [+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\] \|", rows[0])
    numbers = document.regions(text)["key-numbers"].body
    assert (
        "| Hot Metal-poor cand |" in numbers and "| cand − base low |" in numbers and "| Hot Metal-poor Δ |" in numbers
    )
    assert "**extra.gate_entropy by snr**" in body and "| snr bin | n | gated |" in body


def test_the_comparison_table_matches_a_direct_paired_bootstrap(moe_like):
    root, report = moe_like
    assert main(["run", str(report), "--no-commit"]) == 0
    body = document.regions(report.read_text(encoding="utf-8"))["comparisons"].body
    rows = [line for line in body.splitlines() if line.startswith("| cand − base") or line.startswith("| gated − base")]
    assert len(rows) == 2
    plan = make_plan(report)
    preds = {t.name: plan.store.predictions(t.key) for t in plan.trials}
    for row, name in zip(rows, ("cand", "gated")):
        direct = metrics.paired_bootstrap_delta(
            metrics.r2,
            preds[name]["y_true"][:, 0],
            preds[name]["y_pred"][:, 0],
            preds["base"]["y_pred"][:, 0],
            B=1000,
            seed=0,
        )
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == "r2.log_g" and cells[6] == "1000"
        assert [float(c) for c in cells[2:5]] == pytest.approx([direct.value, direct.lo, direct.hi], abs=5e-5)


def test_every_figure_kind_is_drawn_and_the_same_results_give_the_same_bytes(moe_like):
    root, report = moe_like
    assert main(["run", str(report), "--no-commit"]) == 0
    img = report.parent / "img"
    names = ["bar", "delta_cells", "r2_cells", "bootstrap", "ablation", "weights", "entropy_snr"]
    first = {n: (img / f"{n}.png").read_bytes() for n in names}
    assert all(len(b) > 5000 for b in first.values())
    figures_body = document.regions(report.read_text(encoding="utf-8"))["figures"].body
    assert "(no " not in figures_body and "P(Δ > 0)" in figures_body
    # under each figure, the caveat of the trials that ran with one seed is said once, also
    # under a binned figure, which repeats its table's observations (the caveat among them)
    said = [chunk.count("ran with one seed") for chunk in figures_body.split("![")[1:]]
    assert len(said) == len(names) and max(said) == 1, said
    for path in img.glob("*.png"):
        path.unlink()
    (root / ".research" / "reports").joinpath("EXP-NB.json").unlink()  # render again from the store
    assert main(["run", str(report), "--no-commit"]) == 0
    assert {n: (img / f"{n}.png").read_bytes() for n in names} == first


def test_the_figure_functions_are_deterministic():
    from pathlib import Path

    rng = np.random.default_rng(1)
    weights = {"a": rng.dirichlet(np.ones(4), 200)}
    samples = {"a": rng.normal(0.01, 0.004, 1000)}
    interval = {"a": {"value": 0.01, "lo": 0.002, "hi": 0.018, "p_positive": 0.99}}
    for draw in (
        lambda: figures.weight_distribution(Path("w.png"), weights),
        lambda: figures.bootstrap_distribution(Path("b.svg"), samples, interval, xlabel="r2.log_g", reference="base"),
        lambda: figures.heatmap(
            Path("h.png"),
            {"a": rng.uniform(1, 8, 300)},
            {"a": rng.uniform(0, 1, 300)},
            xlabel="snr",
            ylabel="gate_entropy",
            log_x=True,
        ),
        lambda: figures.ablation(Path("a.png"), interval, ylabel="r2.log_g", reference="base"),
        lambda: figures.delta_bars(
            Path("d.png"), ["x", "y"], {"a": [interval["a"], None]}, ylabel="r2.log_g", reference="base"
        ),
    ):
        state = rng.bit_generator.state
        one = draw()
        rng.bit_generator.state = state
        assert draw() == one and len(one) > 2000


def test_a_rule_that_reads_a_cell_or_a_pair_that_does_not_exist_is_refused_before_training(moe_like, capsys):
    root, report = moe_like
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("['Hot Metal-poor']['cand']", "['Hot Metal-pure']['cand']"), encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 2
    assert "has no 'Hot Metal-pure'" in capsys.readouterr().err
    report.write_text(text.replace("compare('cand', 'base')", "compare('cand', 'bsae')"), encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 2
    err = capsys.readouterr().err
    assert "no trial 'bsae'" in err and "did you mean 'base'?" in err
