"""Verdicts: `best` is the best candidate by the primary metric; the first rule that holds wins."""

import pytest

from engine.errors import ExpressionError
from engine.render.decision import badness, build_context, decide, key_numbers, pick_best
from engine.spec import load_spec

RESULTS = {
    "single-task": {"mae": {"log_g": 0.300}, "r2": {"log_g": 0.50}},
    "equal": {"mae": {"log_g": 0.295}, "r2": {"log_g": 0.52}},
    "logg-first": {"mae": {"log_g": 0.280}, "r2": {"log_g": 0.55}},
}

SPEC = """\
id: X
title: x
model: {type: mlp}
trials: {single-task: {}, equal: {}, logg-first: {}}
metrics: [mae.log_g, r2.log_g]
decision:
  baseline: single-task
  rules:
    - when: best.mae.log_g <= 0.95 * baseline.mae.log_g
      verdict: pass
      says: at least 5 % better
    - when: best.delta.r2.log_g.lo > 0
      verdict: weak
      says: better, but by less than 5 %
    - otherwise: fail
      says: no better
key_numbers:
  - {label: baseline MAE, value: baseline.mae.log_g}
  - {label: relative change, value: best.mae.log_g / baseline.mae.log_g - 1}
"""


def test_lower_is_better_for_errors_and_higher_for_r2():
    assert badness("mae.log_g", 0.2) < badness("mae.log_g", 0.3)
    assert badness("r2.log_g", 0.9) < badness("r2.log_g", 0.5)
    assert badness("bias.log_g", -0.01) < badness("bias.log_g", 0.05)


def test_best_excludes_the_baseline():
    assert pick_best(RESULTS, "mae.log_g", exclude="single-task") == "logg-first"
    assert pick_best({"a": RESULTS["single-task"], "b": RESULTS["equal"]}, "r2.log_g", exclude="b") == "a"


def test_first_rule_that_holds_gives_the_verdict():
    spec = load_spec(SPEC)
    context = build_context(
        RESULTS,
        primary="mae.log_g",
        baseline="single-task",
        delta={"logg-first": {"r2": {"log_g": {"value": 0.05, "lo": 0.01, "hi": 0.09}}}},
    )
    verdict = decide(spec, context)
    assert (verdict.verdict, verdict.rule) == ("pass", 0)  # 0.280 <= 0.95 * 0.300


def test_a_later_rule_and_the_bootstrap_interval():
    spec = load_spec(SPEC)
    results = {**RESULTS, "logg-first": {"mae": {"log_g": 0.290}, "r2": {"log_g": 0.53}}}
    context = build_context(
        results,
        primary="mae.log_g",
        baseline="single-task",
        delta={"logg-first": {"r2": {"log_g": {"value": 0.03, "lo": 0.004, "hi": 0.05}}}},
    )
    assert decide(spec, context).verdict == "weak"
    context["best"]["delta"]["r2"]["log_g"]["lo"] = -0.01
    assert decide(spec, context).verdict == "fail"


def test_key_numbers_know_which_metric_they_show():
    spec = load_spec(SPEC)
    context = build_context(RESULTS, primary="mae.log_g", baseline="single-task")
    rows = key_numbers(spec, context)
    assert rows[0] == ("baseline MAE", 0.300, "mae.log_g")
    assert rows[1][0] == "relative change" and rows[1][1] == pytest.approx(0.28 / 0.30 - 1) and rows[1][2] is None


def test_a_when_that_is_not_true_or_false_is_a_located_error():
    spec = load_spec(SPEC.replace("best.delta.r2.log_g.lo > 0", "best.mae.log_g"), path="exp.md", first_line=2)
    results = {**RESULTS, "logg-first": {"mae": {"log_g": 0.299}, "r2": {"log_g": 0.5}}}
    context = build_context(results, primary="mae.log_g", baseline="single-task")
    with pytest.raises(ExpressionError, match="not true or false") as err:
        decide(spec, context)
    assert str(err.value).startswith("exp.md:")


def test_reference_trials_are_yardsticks_never_best():
    results = {"ridge": {"r2": {"log_g": 0.72}}, "cnn": {"r2": {"log_g": 0.82}}, "ceiling": {"r2": {"log_g": 0.92}}}
    context = build_context(results, primary="r2.log_g", baseline="ridge", references=["ceiling"])
    assert context["best"]["name"] == "cnn"
    assert context["trials"]["ceiling"]["r2"]["log_g"] == 0.92  # still there for the rules
    assert build_context(results, primary="r2.log_g", baseline="ridge")["best"]["name"] == "ceiling"


ANSWERING = """\
id: X
title: x
answers: [Q1.1, Q1.2]
model: {type: mlp}
trials: {single-task: {}, logg-first: {}}
metrics: [mae.log_g]
decision:
  baseline: single-task
  rules:
    - when: best.mae.log_g < baseline.mae.log_g
      verdict: pass
      says: "MAE down {{ ((1 - best.mae.log_g / baseline.mae.log_g) * 100) | round(1) }} % ({{ best.name }}: {{ best.mae.log_g }})"
      answers:
        Q1.2: "single-task MAE is {{ baseline.mae.log_g }}"
    - otherwise: fail
      says: no better
"""


def test_says_and_answers_fill_in_numbers_in_the_metric_format():
    spec = load_spec(ANSWERING, path="x.md")
    results = {k: RESULTS[k] for k in ("single-task", "logg-first")}
    verdict = decide(spec, build_context(results, primary="mae.log_g", baseline="single-task"))
    assert verdict.verdict == "pass"
    assert verdict.says == "MAE down 6.7 % (logg-first: 0.2800 dex)"
    assert verdict.answer("Q1.2") == "single-task MAE is 0.3000 dex"
    assert verdict.answer("Q1.1") == verdict.says  # a question without its own answer gets says


def test_a_bad_placeholder_or_an_answer_for_another_question_is_a_spec_error():
    with pytest.raises(ExpressionError) as caught:
        load_spec(ANSWERING.replace("{{ baseline.mae.log_g }}", "{{ basline.mae.log_g }}"), path="x.md")
    assert "basline" in str(caught.value) and "decision.rules[0].answers" in str(caught.value)
    with pytest.raises(Exception) as caught:
        load_spec(ANSWERING.replace("        Q1.2:", "        Q1.3:"), path="x.md")
    assert "Q1.3" in str(caught.value) and "Q1.2" in str(caught.value)
