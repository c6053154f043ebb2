"""Repeated seeds: `repeats:` / `seeds:` run a trial once per seed, each run cached under its own
key, and the report shows the trial as the mean ± std over its seeds; `best` is chosen by the
mean, rules read `.mean` / `.std`, the intervals resample the seeds too."""

import json
import statistics

import git
import numpy as np
import pytest
from conftest import report_body

from engine import metrics
from engine.cli import main
from engine.errors import SpecError
from engine.render.repeats import fold, spread_text
from engine.run.plan import make_plan
from engine.spec import load_spec
from engine.spec.expressions import Spread, compile_expression
from engine.text import document

BASE = """\
id: EXP-REP
title: seeds
data: {source: synthetic, n_train: 200, n_test: 120, targets: [log_g]}
noise: {level: 1.0}
model: {type: mlp, hidden: [16]}
train: {epochs: 2, batch_size: 64, device: cpu, seed: 5}
"""


def test_repeats_expand_into_one_run_per_seed_named_after_the_trial():
    spec = load_spec(
        BASE + "repeats: 3\ntrials:\n  wide: {model.hidden: [32]}\n  ridge: {model: {type: ridge, alpha: 10}}\n"
        "  fixed: {seeds: [7, 9]}\n  once: {repeats: 1}\n",
        path="exp.md",
    )
    runs = [(t.name, t.group, t.config["train"]["seed"]) for t in spec.resolve_trials()]
    assert runs[:3] == [("wide.seed-5", "wide", 5), ("wide.seed-6", "wide", 6), ("wide.seed-7", "wide", 7)]
    assert ("ridge", None, 5) in runs  # a seedless model runs once: three Ridges would be one Ridge
    assert ("fixed.seed-7", "fixed", 7) in runs and ("fixed.seed-9", "fixed", 9) in runs
    assert ("once", None, 5) in runs
    assert spec.trial_names == ["wide", "ridge", "fixed", "once"]
    assert spec.groups["wide"] == ["wide.seed-5", "wide.seed-6", "wide.seed-7"]
    # the seeds share everything but the seed: configs equal once it is taken out
    configs = [t.config for t in spec.resolve_trials() if t.group == "wide"]
    for config in configs:
        config["train"].pop("seed")
    assert configs[0] == configs[1] == configs[2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("repeats: 3\nseeds: [1, 2]\n", "set repeats: or seeds:, not both"),
        ("seeds: [4]\n", "at least two different seeds"),
        ("seeds: [4, 4]\n", "at least two different seeds"),
        ("trials:\n  a: {repeats: 0}\n", "expected a whole number of runs"),
        ("trials:\n  a: {seeds: one}\n", "expected a list of integer seeds"),
    ],
)
def test_bad_repeats_are_located_errors(text, message):
    with pytest.raises(SpecError) as caught:
        load_spec(BASE + text, path="exp.md")
    assert message in str(caught.value) and caught.value.line is not None


def test_fold_gives_the_mean_and_the_sample_std_of_every_score():
    runs = [{"r2": {"log_g": 0.90, "T_eff": 0.5}}, {"r2": {"log_g": 0.92, "T_eff": 0.6}}, {"r2": {"log_g": 0.97}}]
    means, spreads = fold(runs)
    assert means == {"r2": {"log_g": pytest.approx(statistics.fmean([0.90, 0.92, 0.97]))}}  # T_eff: not in every run
    assert spreads["r2"]["log_g"]["std"] == pytest.approx(statistics.stdev([0.90, 0.92, 0.97]))
    assert spreads["r2"]["log_g"]["n"] == 3 and spreads["r2"]["log_g"]["values"] == [0.90, 0.92, 0.97]
    assert spread_text("0.2273 dex", "0.0040 dex") == "0.2273 ± 0.0040 dex"
    assert spread_text("0.9071", "0.0031") == "0.9071 ± 0.0031"


def test_rules_read_the_mean_and_the_std_and_a_single_run_has_no_std():
    score = Spread(0.91, 0.02, [0.89, 0.91, 0.93])
    context = {"best": {"r2": {"log_g": score}}}
    assert compile_expression("best.r2.log_g.mean - 2 * best.r2.log_g.std > 0.86").evaluate(context) is True
    assert compile_expression("best.r2.log_g > 0.9 and best.r2.log_g.n == 3").evaluate(context) is True
    from engine.errors import ExpressionError

    with pytest.raises(ExpressionError) as caught:
        compile_expression("best.r2.log_g.std").evaluate({"best": {"r2": {"log_g": 0.9}}})
    assert "repeated trial" in (caught.value.hint or "")


def test_an_interval_over_seeds_resamples_them_and_equals_the_single_run_one_for_one_seed():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    runs = np.stack([y + rng.normal(scale=s, size=400) for s in (0.3, 0.5, 0.7)])
    one = metrics.bootstrap_ci(metrics.mae, y, runs[0], B=200, seed=1)
    assert metrics.bootstrap_ci(metrics.mae, y, runs[:1], B=200, seed=1) == one  # (1, n) is the run itself
    group = metrics.bootstrap_ci(metrics.mae, y, runs, B=200, seed=1)
    assert group.value == pytest.approx(np.mean([metrics.mae(y, r) for r in runs]))
    # the seeds differ a lot here: the interval holds that spread, wider than any one seed's
    widths = [metrics.bootstrap_ci(metrics.mae, y, r, B=200, seed=1) for r in runs]
    assert group.hi - group.lo > max(w.hi - w.lo for w in widths)
    delta = metrics.paired_bootstrap_delta(metrics.mae, y, runs, runs[0], B=200, seed=1)
    assert delta.value == pytest.approx(group.value - one.value) and delta.lo < delta.value < delta.hi


REPORT = """\
---
id: EXP-REPRUN
title: seeds in a report
data: {source: synthetic, n_train: 200, n_test: 120, targets: [log_g]}
noise: {level: 1.0}
model: {type: mlp, hidden: [16]}
train: {epochs: 2, batch_size: 64, device: cpu, seed: 5}
repeats: 2
trials:
  base: {model: {type: ridge, alpha: 1.0e+4}}
  net: {}
metrics: [r2.log_g, mae.log_g]
binned:
  - {metric: mae.log_g, by: T_eff, edges: [3000, 5000, 8000], delta: baseline}
figures:
  - {kind: bar, file: img/bar.svg}
decision:
  baseline: base
  rules:
    - when: best.r2.log_g.mean - best.r2.log_g.std > -10
      verdict: pass
      says: "R² {{ best.r2.log_g }} ± {{ best.r2.log_g.std }}"
key_numbers:
  - {label: net R² std, value: trials.net.r2.log_g.std}
---
""" + report_body("summary", "key-numbers", "results", "binned", "figures", title="Seeds")


def test_a_repeated_trial_is_shown_as_the_mean_and_std_of_its_seeds(notebook):
    report = notebook / "exp.md"
    report.write_text(REPORT, encoding="utf-8")
    repo = git.Repo.init(notebook)
    repo.index.add(["exp.md"])
    repo.index.commit("init")
    assert main(["run", "exp.md"]) == 0
    plan = make_plan(report)
    assert [t.name for t in plan.trials] == ["base", "net.seed-5", "net.seed-6"]
    seeds = [t.record.metrics["r2"]["log_g"] for t in plan.trials[1:]]
    mean, std = statistics.fmean(seeds), statistics.stdev(seeds)
    assert seeds[0] != seeds[1]  # the seed changes the net

    text = report.read_text(encoding="utf-8")
    regions = document.regions(text)
    results = regions["results"].body
    assert f"| net 🥇 | 2 | {mean:.4f} ± {std:.4f} |" in results or f"| net | 2 | {mean:.4f} ± {std:.4f} |" in results
    assert "| base (baseline) | – |" in results and "No training noise (–): **base**, a closed form" in results
    assert "net.seed-5" not in results and "**net** 5, 6" in results
    assert f"{std:.4f}" in regions["key-numbers"].body
    assert f"± {std:.4f}" in regions["summary"].body
    record = json.loads(regions["record"].body.split("```json", 1)[1].split("```", 1)[0])
    rows = {t["name"]: t for t in record["trials"]}
    assert rows["net"]["metrics"]["r2.log_g"] == pytest.approx(mean, abs=1e-6)
    assert rows["net"]["std"]["r2.log_g"] == pytest.approx(std, abs=1e-6) and rows["net"]["seeds"] == [5, 6]
    assert rows["net.seed-6"]["of"] == "net" and rows["net.seed-6"]["parts"] and rows["net.seed-6"]["se"]
    assert "of" not in rows["base"]
    binned = regions["binned"].body
    assert "net" in binned and "net.seed" not in binned
    svg = (notebook / "img" / "bar.svg").read_text(encoding="utf-8")
    assert "net" in svg and "seed" not in svg

    # a third seed runs only the new seed: the first two are the same keys
    text = report.read_text(encoding="utf-8").replace("repeats: 2", "repeats: 3")
    report.write_text(text, encoding="utf-8")
    plan = make_plan(report)
    assert [(t.name, t.cached) for t in plan.trials] == [
        ("base", True),
        ("net.seed-5", True),
        ("net.seed-6", True),
        ("net.seed-7", False),
    ]
    # and --trial takes the repeated trial's name
    assert [t.name for t in make_plan(report, trials=["net"]).trials if t.runs] == ["net.seed-7"]


def test_a_spec_wide_repeats_leaves_out_what_no_seed_changes(notebook):
    """LightGBM without sampling, the oracle MoE and a plugin that says it is deterministic run
    once under a spec-wide `repeats:`; a net and a sampling LightGBM run per seed."""
    (notebook / "closedform.py").write_text(
        "def make(params, train, targets):\n    raise RuntimeError('not built here')\n\nmake.deterministic = True\n",
        encoding="utf-8",
    )
    spec = load_spec(
        """\
id: EXP-R
title: r
model: {type: mlp}
repeats: 3
trials:
  net: {}
  trees: {model: {type: lightgbm}}
  fixed-trees: {model: {type: lightgbm, feature_fraction: 1.0}}
  oracle: {model: {type: moe, gate: oracle}}
  own: {model: {type: "closedform:make"}}
""",
        path="exp.md",
    )
    assert spec.groups == {
        "net": ["net.seed-42", "net.seed-43", "net.seed-44"],
        "trees": ["trees.seed-42", "trees.seed-43", "trees.seed-44"],
        "fixed-trees": ["fixed-trees"],
        "oracle": ["oracle"],
        "own": ["own"],
    }
