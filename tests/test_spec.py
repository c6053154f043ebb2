"""The spec: a report's front matter, read into typed, frozen objects.

Every bad input gets one located paragraph — `file:line: key: what was wrong. suggestion` — and
every test here checks both the words and the line. The front matter in these tests sits in a
markdown file right after its opening `---`, so its first line is line 2 of the file.
"""

import time

import pytest
from pydantic import ValidationError

from engine.errors import ExpressionError, SpecError
from engine.spec import Spec, Trial, load_spec, parse_set_option, spec_line, spec_schema

FIRST_LINE = 2  # line 1 of the file is the opening `---`

EXAMPLE = """\
id: DEMO-20260105-logg-joint
title: Joint heads for log g, Teff and metallicity
topic: logg_demo
mvp: MVP-2.1
author: A. Researcher
date: 2026-01-05
status: planned
hub: ../../../hubs/logg_demo_hub.md
roadmap: ../../../hubs/logg_demo_roadmap.md
answers: [Q2.4]
data:
  source: synthetic
  n_train: 8000
  n_test: 1000
  targets: [log_g, T_eff, M_H]        # M_H is read as Fe_H
  test_select: {snr_top_frac: 0.25}
noise: {level: 0.5, apply: [train, test], seed: 7}
model: {type: mlp, hidden: [256, 128]}
train: {epochs: 5, batch_size: 128, lr: 2e-3, device: auto, seed: 7, loss_weights: equal}
trials:
  single-task: {data.targets: [log_g]}
  equal: {}
  inv-var: {train.loss_weights: inverse_variance}
  logg-heavy: {train.loss_weights: {log_g: 3, T_eff: 1, Fe_H: 1}}
metrics: [mae.log_g, r2.log_g, mae.T_eff, mae.Fe_H]
binned:
  - {metric: bias.log_g, by: T_eff, edges: [4000, 4500, 5000, 5500, 6000]}
  - {metric: bias.log_g, by: Fe_H, width: 0.5}
figures:
  - {kind: bar, metrics: [mae.log_g, r2.log_g], file: img/joint_bar.png}
  - {kind: binned, binned: 0, file: img/joint_bias_teff.svg, caption: log g bias by Teff}
  - {kind: pred_vs_true, trial: equal, file: img/joint_scatter.png}
decision:
  baseline: single-task
  rules:
    - when: best.mae.log_g <= 0.95 * baseline.mae.log_g
      verdict: pass
      says: joint heads cut log g MAE by 5% or more; make them the default
    - otherwise: fail
      says: the coupling is not what limits log g; keep one head
key_numbers:
  - {label: single-task log g MAE, value: trials.single-task.mae.log_g, format: .4f}
  - {label: best log g MAE, value: best.mae.log_g}
bootstrap: {n: 200, seed: 1}
"""

MINIMAL = """\
id: DEMO-min
title: Ridge on the synthetic default
model: {type: ridge, alpha: 1.0e5}
"""


def load(text: str) -> Spec:
    return load_spec(text, path="exp.md", first_line=FIRST_LINE)


def fails(text: str, error: type[SpecError] = SpecError) -> SpecError:
    with pytest.raises(error) as info:
        load(text)
    return info.value


def line(text: str, fragment: str, nth: int = 1) -> int:
    """The file line of the `nth` line of `text` that contains `fragment`."""
    hits = [i for i, row in enumerate(text.splitlines()) if fragment in row]
    return FIRST_LINE + hits[nth - 1]


def edit(old: str, new: str, text: str = EXAMPLE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --- a good spec -------------------------------------------------------------------------------


def test_the_example_spec_loads():
    spec = load(EXAMPLE)
    assert spec.id == "DEMO-20260105-logg-joint"
    assert spec.date == "2026-01-05"  # YAML reads a date; the spec keeps the ISO string
    assert spec.data.targets == ["log_g", "T_eff", "Fe_H"]  # M_H is an alias of Fe_H
    assert spec.train.lr == 2e-3  # `2e-3` is a number (YAML 1.1 would read a string)
    assert spec.model.type == "mlp" and spec.model.params == {"hidden": [256, 128]}
    assert spec.trial_names == ["single-task", "equal", "inv-var", "logg-heavy"]
    assert spec.primary_metric == "mae.log_g"
    assert spec.decision.rules[1].outcome == "fail"
    assert spec.path == "exp.md"


def test_defaults_fill_a_minimal_spec():
    spec = load(MINIMAL)
    assert spec.data.source == "synthetic" and spec.data.targets == ["log_g"]
    assert spec.noise.level == 0.0 and spec.noise.apply == ["train", "test"]
    assert spec.train.epochs == 10 and spec.train.schedule == "cosine"
    assert spec.metrics == ["r2.log_g", "mae.log_g"]
    assert spec.status == "planned"


def test_the_spec_is_frozen():
    spec = load(EXAMPLE)
    with pytest.raises(ValidationError):
        spec.title = "something else"
    with pytest.raises(ValidationError):
        spec.train.lr = 1.0


def test_each_key_knows_its_line():
    spec = load(EXAMPLE)
    assert spec.lines["train"] == line(EXAMPLE, "train: {epochs")
    assert spec_line(spec, "decision.rules[0].when") == line(EXAMPLE, "- when:")
    assert spec.line_of("trials.inv-var") == line(EXAMPLE, "inv-var:")
    # a key the file does not spell out resolves to its nearest parent
    assert spec_line(spec, "train.weight_decay") == line(EXAMPLE, "train: {epochs")


def test_expressions_are_compiled_at_load_time():
    expressions = load(EXAMPLE).expressions()
    rule = expressions["decision.rules[0].when"]
    assert rule.line == line(EXAMPLE, "- when:")
    results = {"mae": {"log_g": 0.20}}
    assert rule.evaluate({"best": results, "baseline": {"mae": {"log_g": 0.25}}, "trials": {}}) is True
    value = expressions["key_numbers[0].value"]
    assert value.evaluate({"trials": {"single-task": {"mae": {"log_g": 0.25}}}}) == 0.25


def test_json_schema_lists_the_top_level_keys():
    schema = spec_schema()
    assert Spec.json_schema() == schema
    for key in ("id", "title", "data", "noise", "model", "train", "trials", "metrics", "decision", "key_numbers"):
        assert key in schema["properties"]
    assert {"id", "title", "model"} <= set(schema["required"])
    assert schema["properties"]["metrics"]["description"]


# --- trials --------------------------------------------------------------------------------------


def test_each_trial_overrides_the_base_by_dotted_keys():
    trials = load(EXAMPLE).resolve_trials()
    assert all(isinstance(t, Trial) for t in trials)
    by_name = {t.name: t for t in trials}
    assert list(by_name) == ["single-task", "equal", "inv-var", "logg-heavy"]  # the file's order
    assert by_name["single-task"].data.targets == ["log_g"]
    assert by_name["equal"].data.targets == ["log_g", "T_eff", "Fe_H"]  # inherited
    assert by_name["inv-var"].train.loss_weights == "inverse_variance"
    assert by_name["logg-heavy"].train.loss_weights == {"log_g": 3.0, "T_eff": 1.0, "Fe_H": 1.0}
    assert by_name["single-task"].overrides == {"data.targets": ["log_g"]}


def test_a_trial_config_is_plain_json_with_defaults_filled():
    import json

    config = load(EXAMPLE).resolve_trials()[0].config
    assert set(config) == {"data", "noise", "inputs", "model", "train"}
    assert config["train"]["weight_decay"] == 0.0  # a default
    assert config["inputs"] == "flux"  # what the model sees, said even when it is the default
    assert config["model"] == {"type": "mlp", "hidden": [256, 128]}
    assert json.loads(json.dumps(config)) == config


def test_set_options_apply_on_top_of_every_trial():
    spec = load(EXAMPLE)
    trials = spec.resolve_trials({"train.epochs": 1, "model.hidden": [64]})
    assert [t.train.epochs for t in trials] == [1, 1, 1, 1]
    assert trials[0].model.params == {"hidden": [64]}
    assert trials[0].overrides == {"data.targets": ["log_g"], "train.epochs": 1, "model.hidden": [64]}
    # the spec itself is unchanged
    assert [t.train.epochs for t in spec.resolve_trials()] == [5, 5, 5, 5]


def test_a_set_option_can_target_one_trial():
    trials = load(EXAMPLE).resolve_trials({"trials.inv-var.train.epochs": 2})
    assert [t.train.epochs for t in trials] == [5, 5, 2, 5]


def test_a_spec_without_trials_has_one_trial_named_main():
    spec = load(MINIMAL)
    (trial,) = spec.resolve_trials({"train.lr": 3e-4})
    assert trial.name == "main" and spec.trial_names == ["main"]
    assert trial.model.params == {"alpha": 1e5}
    assert trial.train.lr == 3e-4


def test_a_trial_may_add_a_model_parameter():
    text = edit("  equal: {}", "  equal: {model.dropout: 0.1}")
    trial = load(text).resolve_trials()[1]
    assert trial.model.params == {"hidden": [256, 128], "dropout": 0.1}


def test_parse_set_option_reads_the_value_as_yaml():
    assert parse_set_option("train.lr=3e-4") == ("train.lr", 3e-4)
    assert parse_set_option("model.hidden=[64, 32]") == ("model.hidden", [64, 32])
    assert parse_set_option("train.loss_weights={log_g: 2}") == ("train.loss_weights", {"log_g": 2})
    assert parse_set_option("data.source=train_{0..4}/dataset.h5") == ("data.source", "train_{0..4}/dataset.h5")
    with pytest.raises(SpecError, match="expected --set KEY=VALUE"):
        parse_set_option("train.lr")
    with pytest.raises(SpecError, match="tags are not allowed"):
        parse_set_option("x=!!python/object/apply:os.system [ls]")


# --- bad YAML ------------------------------------------------------------------------------------


def test_malformed_yaml_names_the_line():
    text = "id: a\ntitle: [unclosed\nmodel: {type: mlp}\n"
    error = fails(text)
    assert "invalid YAML" in str(error)
    assert error.line == line(text, "model:")  # where the parser gave up
    assert f"starts at line {line(text, 'title:')}" in str(error)  # and where the list began


def test_the_front_matter_must_be_a_mapping():
    error = fails("- just\n- a list\n")
    assert "must be a mapping" in str(error) and error.line == FIRST_LINE


def test_an_unsafe_tag_is_refused_before_anything_runs():
    text = MINIMAL + "note: !!python/object/apply:os.system ['echo pwned']\n"
    error = fails(text)
    assert str(error) == (
        f"exp.md:{line(text, 'note:')}: YAML tags are not allowed here "
        "(found '!!python/object/apply:os.system'). "
        "a spec holds plain values: strings, numbers, lists and mappings."
    )


def test_an_alias_bomb_is_refused_fast():
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    text = "\n".join(rows) + "\n"  # 10**9 values once expanded
    start = time.perf_counter()
    error = fails(text)
    assert time.perf_counter() - start < 1.0
    assert "expands to more than 100,000 values" in str(error)


def test_a_recursive_alias_is_refused():
    error = fails("id: &a [*a]\n")
    assert "alias refers to a node that contains it" in str(error)


def test_a_duplicate_key_is_an_error():
    text = MINIMAL + "train:\n  lr: 0.1\n  epochs: 3\n  lr: 0.2\n"
    error = fails(text)
    assert str(error).startswith(f"exp.md:{line(text, 'lr: 0.2')}: duplicate key 'lr'")
    assert f"first at line {line(text, 'lr: 0.1')}" in str(error)


# --- bad keys and values ---------------------------------------------------------------------------


def test_an_unknown_top_level_key_suggests_the_right_one():
    text = MINIMAL + "metircs: [r2.log_g]\n"
    assert str(fails(text)) == f"exp.md:{line(text, 'metircs')}: metircs: unknown key. did you mean 'metrics'?"


def test_an_unknown_nested_key_suggests_the_right_one():
    text = MINIMAL + "train:\n  epochs: 3\n  lrr: 0.1\n"
    assert str(fails(text)) == f"exp.md:{line(text, 'lrr')}: train.lrr: unknown key. did you mean 'lr'?"


def test_an_unknown_key_without_a_close_match_lists_the_valid_ones():
    text = MINIMAL + "noise: {colour: pink}\n"
    assert "valid keys here: level, apply, seed, redraw" in str(fails(text))


def test_a_wrong_type_says_what_was_expected():
    text = MINIMAL + "train:\n  epochs: ten\n"
    error = fails(text)
    assert str(error) == f"exp.md:{line(text, 'epochs')}: train.epochs: expected an integer, got 'ten'."


def test_a_missing_required_key_is_named():
    text = "id: DEMO-x\nmodel: {type: mlp}\n"
    error = fails(text)
    assert error.key == "title" and "required key is missing" in str(error)
    assert error.line == FIRST_LINE


def test_a_missing_nested_key_points_at_its_parent():
    text = "id: DEMO-x\ntitle: t\nmodel:\n  hidden: [64]\n"
    error = fails(text)
    assert error.key == "model.type" and error.line == line(text, "model:")


def test_a_bad_choice_suggests_a_valid_one():
    text = edit("device: auto", "device: gpu")
    error = fails(text)
    assert error.key == "train.device"
    assert "expected one of 'auto', 'cpu', 'cuda', got 'gpu'" in str(error)


def test_a_misspelled_target_suggests_the_right_one():
    text = edit("targets: [log_g, T_eff, M_H]", "targets: [log_g, Teff, M_H]")
    error = fails(text)
    assert error.key == "data.targets[1]" and "did you mean 'T_eff'?" in str(error)


def test_a_model_type_must_be_a_registry_name_or_a_plugin():
    assert load(edit("type: mlp", "type: my_pkg.models:build")).model.type == "my_pkg.models:build"
    error = fails(edit("type: mlp", "type: My MLP"))
    assert error.key == "model.type" and "package.module:factory" in str(error)


def test_bin_edges_must_increase():
    error = fails(edit("4500, 5000", "5000, 4500"))
    assert error.key == "binned[0].edges[2]" and "strictly increasing" in str(error)
    assert error.line == line(EXAMPLE, "by: T_eff")


def test_a_figure_path_must_be_relative():
    error = fails(edit("file: img/joint_bar.png", "file: /tmp/joint_bar.png"))
    assert error.key == "figures[0].file" and "absolute path" in str(error)


# --- trials that do not resolve ---------------------------------------------------------------------


def test_a_bad_sweep_key_names_the_trial_the_line_and_a_suggestion():
    text = edit("inv-var: {train.loss_weights: inverse_variance}", "inv-var: {train.lrr: 0.01}")
    assert str(fails(text)) == (
        f"exp.md:{line(text, 'inv-var:')}: trials.inv-var.train.lrr: unknown key. did you mean 'lr'?"
    )


def test_a_misspelled_section_in_a_sweep_key_is_caught():
    text = edit("  equal: {}", "  equal: {modle.type: cnn}")
    error = fails(text)
    assert error.key == "trials.equal.modle.type" and error.line == line(text, "equal:")
    assert "did you mean 'model'?" in str(error)


def test_a_sweep_key_cannot_go_through_a_list():
    error = fails(edit("  equal: {}", "  equal: {data.targets.first: log_g}"))
    assert "data.targets is a list, not a mapping" in str(error)


def test_a_bad_set_option_is_named():
    with pytest.raises(SpecError) as info:
        load(EXAMPLE).resolve_trials({"train.lrr": 1})
    assert str(info.value) == "exp.md: --set train.lrr: unknown key. did you mean 'lr'?"


# --- checks across the spec -------------------------------------------------------------------------


def test_the_baseline_must_be_a_trial():
    text = edit("baseline: single-task", "baseline: single-tsk")
    assert str(fails(text)) == (
        f"exp.md:{line(text, 'baseline:')}: decision.baseline: no trial named 'single-tsk'. did you mean 'single-task'?"
    )


def test_a_figure_trial_must_exist():
    error = fails(edit("trial: equal", "trial: eqaul"))
    assert error.key == "figures[2].trial" and "did you mean 'equal'?" in str(error)


def test_a_metric_must_be_predicted_by_some_trial():
    error = fails(edit("targets: [log_g, T_eff, M_H]", "targets: [log_g, T_eff]"))
    assert error.key == "metrics[3]" and "no trial predicts Fe_H" in str(error)


def test_a_when_with_a_syntax_error_is_located_to_its_line():
    text = edit("0.95 * baseline", "0.95 * * baseline")
    error = fails(text, ExpressionError)
    assert error.line == line(text, "- when:") and error.key == "decision.rules[0].when"
    assert "cannot parse" in str(error)


def test_an_expression_naming_an_unknown_trial_is_caught_at_load_time():
    text = edit("value: trials.single-task.mae", "value: trials.single.mae")
    error = fails(text, ExpressionError)
    assert error.line == line(text, "value: trials.single.mae") and "did you mean 'single-task'?" in str(error)


def test_otherwise_must_be_the_last_rule():
    text = edit(
        "      says: the coupling is not what limits log g; keep one head\n",
        "      says: the coupling is not what limits log g; keep one head\n"
        "    - when: best.r2.log_g > 0.9\n      verdict: pass\n      says: good enough anyway\n",
    )
    error = fails(text)
    assert error.key == "decision.rules[1].otherwise" and error.line == line(text, "- otherwise:")
    assert "`otherwise` must be the last rule" in str(error)


def test_every_problem_is_reported_the_first_then_the_rest_one_a_line():
    text = MINIMAL + "train: {epochs: x, lr: -1}\nnoise: {level: y}\n"
    first, *rest = str(fails(text)).splitlines()
    assert first == f"exp.md:{line(text, 'train:')}: train.epochs: expected an integer, got 'x'. 2 more problems:"
    assert rest == [
        f"  exp.md:{line(text, 'train:')}: train.lr: expected a value greater than 0, got -1.",
        f"  exp.md:{line(text, 'noise:')}: noise.level: expected a number, got 'y'.",
    ]


def test_a_misspelled_key_is_reported_before_the_required_key_it_hides():
    text = "id: DEMO-x\ntitel: Ridge\nmodel: {type: ridge}\n"
    assert str(fails(text)) == (
        f"exp.md:{line(text, 'titel')}: titel: unknown key. did you mean 'title'? 1 more problem:\n"
        f"  exp.md:{line(text, 'id:')}: title: required key is missing."
    )
