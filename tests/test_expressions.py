"""`when:` and `value:` expressions: small, sandboxed, and clear when they go wrong."""

import re
from pathlib import Path

import pytest

import engine.spec.expressions
from engine.errors import ExpressionError
from engine.spec.expressions import compile_expression

TRIALS = ["single-task", "equal", "inv-var"]

CONTEXT = {
    "trials": {
        "single-task": {"mae": {"log_g": 0.25}, "r2": {"log_g": 0.61}},
        "equal": {"mae": {"log_g": 0.22}, "r2": {"log_g": 0.66}},
        "inv-var": {"mae": {"log_g": 0.23}, "r2": {"log_g": 0.64}},
    },
    "best": {"name": "equal", "mae": {"log_g": 0.22}, "r2": {"log_g": 0.66}},
    "baseline": {"name": "single-task", "mae": {"log_g": 0.25}, "r2": {"log_g": 0.61}},
    "ci": {"mae": {"log_g": [0.21, 0.23]}},
}


def value(source: str, context=CONTEXT):
    return compile_expression(source, names=TRIALS).evaluate(context)


def problem(source: str, context=CONTEXT) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source, names=TRIALS, path="exp.md", line=40, key="decision.rules[0].when").evaluate(context)
    return info.value


def test_arithmetic_and_comparisons_over_the_results():
    assert value("best.mae.log_g <= 0.97 * baseline.mae.log_g") is True
    assert value("baseline.mae.log_g - best.mae.log_g") == pytest.approx(0.03)
    assert value("best.r2.log_g > 0.7 or best.name == 'equal'") is True
    assert value("not (best.r2.log_g > 0.7) and ci.mae.log_g[1] < baseline.mae.log_g") is True


def test_the_allowed_functions():
    assert value("abs(best.mae.log_g - baseline.mae.log_g)") == pytest.approx(0.03)
    assert value("max(trials.equal.r2.log_g, trials.inv-var.r2.log_g)") == 0.66
    assert value("min(1, 2)") == 1
    assert value("round(sqrt(16) + log10(1000), 1)") == 7.0


def test_trial_names_with_hyphens_read_as_names():
    assert value("trials.single-task.mae.log_g") == 0.25
    assert value("trials.single-task.mae.log_g - trials.inv-var.mae.log_g") == pytest.approx(0.02)
    assert value('trials["single-task"].mae.log_g') == 0.25


def test_a_longer_trial_name_wins_over_its_prefix():
    context = {"trials": {"a": {"x": 1}, "a-b": {"x": 2}}}
    assert compile_expression("trials.a-b.x", names=["a", "a-b"]).evaluate(context) == 2
    assert compile_expression("trials.a.x - 1", names=["a", "a-b"]).evaluate(context) == 0


def test_text_inside_quotes_is_not_rewritten():
    assert value("best.name == 'trials.equal'") is False


def test_the_source_is_kept():
    expression = compile_expression("trials.single-task.mae.log_g", names=TRIALS)
    assert expression.source == "trials.single-task.mae.log_g"
    assert expression.names == {"trials"} and expression.trials == {"single-task"}


def test_a_result_that_is_a_mapping_comes_back_as_a_dict():
    assert value("best.mae") == {"log_g": 0.22}


def test_a_missing_key_is_named_with_a_suggestion():
    error = problem("best.mae.log_gg < 0.3")
    assert str(error) == (
        "exp.md:40: decision.rules[0].when: best.mae has no 'log_gg' (in `best.mae.log_gg < 0.3`). "
        "did you mean 'log_g'?"
    )


def test_a_missing_name_is_named_with_a_suggestion():
    error = problem("bset.mae.log_g < 0.3")
    assert "unknown name 'bset'" in str(error) and "did you mean 'best'?" in str(error)


def test_an_unknown_name_can_be_caught_at_compile_time():
    with pytest.raises(ExpressionError, match="did you mean 'baseline'"):
        compile_expression("baselin.mae.log_g", allowed=["trials", "best", "baseline", "ci"])


def test_an_unknown_trial_is_caught_at_compile_time():
    with pytest.raises(ExpressionError, match="no trial named 'single'.*did you mean 'single-task'"):
        compile_expression("trials.single.mae.log_g", names=TRIALS)


def test_a_syntax_error_is_located():
    with pytest.raises(ExpressionError) as info:
        compile_expression("best.mae.log_g <=", path="exp.md", line=12, key="decision.rules[0].when")
    assert str(info.value).startswith("exp.md:12: decision.rules[0].when: cannot parse `best.mae.log_g <=`")


def test_division_by_zero_is_an_expression_error():
    assert "division by zero" in str(problem("best.mae.log_g / 0"))


@pytest.mark.parametrize(
    "source",
    [
        "().__class__.__mro__",
        "().__class__.__mro__[1].__subclasses__()",
        "best.__class__",
        "best._data",
        "abs.__globals__",
        "round.__self__",
        "best.mae.log_g.__class__.__base__",
        "'{0.__class__}'.format(1)",
    ],
)
def test_the_sandbox_blocks_python_internals(source):
    error = problem(source)
    assert "not allowed" in str(error) or "undefined" in str(error)


def test_no_builtins_beyond_the_listed_functions():
    assert "unknown name 'range'" in str(problem("range(10)"))
    assert "unknown name '__import__'" in str(problem("__import__('os')"))


def test_huge_powers_and_repeats_are_refused():
    assert "too large" in str(problem("2 ** 100000"))
    assert "not allowed" in str(problem("'x' * 10000000"))


def test_the_module_never_calls_eval():
    source = Path(engine.spec.expressions.__file__).read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])(eval|exec)\s*\(", source)


def test_mean_and_std_of_seeds_are_one_call_each():
    from engine.spec.expressions import PROBE, compile_expression

    seeds = compile_expression(
        "mean(trials.s1.r2.log_g, trials.s2.r2.log_g, trials.s3.r2.log_g)", names=["s1", "s2", "s3"]
    )
    context = {"trials": {n: {"r2": {"log_g": v}} for n, v in (("s1", 0.70), ("s2", 0.72), ("s3", 0.77))}}
    assert abs(seeds.evaluate(context) - 0.73) < 1e-12
    spread = compile_expression(
        "std([trials.s1.r2.log_g, trials.s2.r2.log_g, trials.s3.r2.log_g])", names=["s1", "s2", "s3"]
    )
    assert abs(spread.evaluate(context) - 0.036055512754639945) < 1e-12  # the sample std (n − 1)
    probed = {"trials": {n: {"r2": {"log_g": PROBE}} for n in ("s1", "s2", "s3")}}
    assert seeds.evaluate(probed) is PROBE  # checkable before anything has run
    with pytest.raises(ExpressionError, match="at least two"):
        compile_expression("std(trials.s1.r2.log_g)", names=["s1"]).evaluate(context)
