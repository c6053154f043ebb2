"""Key observations on constructed numbers: each claim the rules allow is made, each they forbid
is not (a crossing interval is never "better", a tiny bin never ranked, two points never a
trend), and the Chinese sentences carry the same numbers as the English ones."""

from __future__ import annotations

import ast
import inspect
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from engine.notebook.config import LANGS
from engine.render import observations
from engine.render.observations import (
    HEADINGS,
    MAX_SENTENCES,
    heading,
    interval_verdict,
    observe_binned,
    observe_deltas,
    observe_sweep,
    observe_trials,
    one_seed,
    render,
)
from engine.render.phrasebook import BOOKS

NAN = math.nan
NAMES = [f"{t} {m}" for t in ("Cool", "Warm", "Hot") for m in ("Metal-poor", "Solar", "Metal-rich")]


def d(value, lo, hi, p=0.5):
    return {"value": value, "lo": lo, "hi": hi, "p_positive": p}


def numbers(sentences) -> Counter:
    """The numbers a text states, whatever the language around them."""
    return Counter(re.findall(r"[+-]?\d+(?:\.\d+)?(?:e-?\d+)?k?", " ".join(sentences)))


def cells_table(**over):
    """A 3 × 3 table of R²: mlp against classify, Δ intervals chosen cell by cell.

    Cells 0, 1, 4, 8: improvement, interval excludes 0 (4); cell 3: improvement, lower end ≈ 0
    (marginal); cells 6, 7: improvement, interval holds 0; cell 2: worse, interval excludes 0;
    cell 5: 12 spectra (under min_n) holding mlp's lowest R² of all."""
    table = {
        "metric": "r2.log_g",
        "by": "T_eff × Fe_H",
        "axes": ["T_eff", "Fe_H"],
        "trials": ["classify", "mlp"],
        "labels": [f"c{i}" for i in range(9)],
        "names": list(NAMES),
        "min_n": 30,
        "reference": "classify",
        "delta_trials": ["mlp"],
        "n": [120, 95, 80, 200, 340, 12, 90, 150, 60],
        "values": {
            "classify": [0.90, 0.88, 0.86, 0.92, 0.93, 0.60, 0.89, 0.91, 0.87],
            "mlp": [0.92, 0.90, 0.84, 0.94, 0.96, 0.41, 0.91, 0.915, 0.88],
        },
        "delta_values": {
            "mlp": [
                d(0.02, 0.01, 0.03),
                d(0.02, 0.005, 0.035),
                d(-0.02, -0.035, -0.005),
                d(0.02, -0.0001, 0.04),
                d(0.03, 0.02, 0.04),
                None,
                d(0.02, -0.01, 0.05),
                d(0.005, -0.01, 0.02),
                d(0.01, 0.002, 0.018),
            ]
        },
        "spread_values": {"classify": 0.02, "mlp": 0.025},
    }
    table.update(over)
    return table


# ---------------------------------------------------------------------------------------------
# What "excludes 0" and "≈ 0" mean


def test_an_end_within_five_percent_of_the_width_is_near_zero_whichever_side_it_is_on():
    assert interval_verdict(d(0.0097, -0.00001, 0.0168), "high") == (
        "marginal",
        "lower",
    )  # the user's [−0.0000, +0.0168]
    assert interval_verdict(d(0.02, 0.0004, 0.04), "high") == ("marginal", "lower")  # excludes 0, but barely
    assert interval_verdict(d(-0.02, -0.04, 0.0001), "high") == ("marginal", "upper")


def test_near_zero_is_relative_to_the_interval_width_not_absolute():
    # the same lower end, 0.0005: ≈ 0 beside a wide interval, clear of 0 beside a narrow one
    assert interval_verdict(d(0.02, 0.0005, 0.05), "high")[0] == "marginal"
    assert interval_verdict(d(0.001, 0.0005, 0.0015), "high")[0] == "better"


def test_direction_decides_better_or_worse_and_no_direction_only_differs():
    assert interval_verdict(d(0.02, 0.01, 0.03), "high")[0] == "better"
    assert interval_verdict(d(0.02, 0.01, 0.03), "low")[0] == "worse"  # a larger MAE
    assert interval_verdict(d(0.02, 0.01, 0.03), None)[0] == "differs"
    assert interval_verdict(d(0.0, -0.02, 0.03), "high")[0] == "unresolved"
    assert interval_verdict(d(NAN, NAN, NAN), "high") is None and interval_verdict(None, "high") is None


def test_bias_improves_only_towards_zero_and_not_past_its_mirror():
    # reference bias +0.05: Δ in (−0.1, 0) shrinks |bias|
    assert interval_verdict(d(-0.04, -0.06, -0.02), "abs", reference_value=0.05)[0] == "better"
    assert interval_verdict(d(0.03, 0.02, 0.04), "abs", reference_value=0.05)[0] == "worse"
    assert interval_verdict(d(-0.09, -0.14, -0.06), "abs", reference_value=0.05)[0] == "unresolved"  # may overshoot
    assert interval_verdict(d(-0.2, -0.25, -0.15), "abs", reference_value=0.05)[0] == "worse"  # |−0.15| > 0.05


# ---------------------------------------------------------------------------------------------
# Binned tables


def test_improvements_are_counted_and_the_resolved_ones_beside_them():
    out = observe_binned(cells_table(), best="mlp", baseline="classify")
    assert out[0].startswith(
        "mlp improves on classify in 7 of 8 cells (point estimates), the interval excluding 0 in 4"
    )
    assert "marginal (an end ≈ 0) in 1" in out[0]
    assert "worse, the interval excluding 0, in 1" in out[0]
    assert "1 cell with fewer than 30 spectra not counted" in out[0]


def test_the_largest_gain_is_named_with_its_interval():
    out = observe_binned(cells_table(), best="mlp", baseline="classify")
    assert (
        out[1]
        == "The largest gain over classify is in Warm Solar (n = 340): Δ R² +0.0300 [+0.0200, +0.0400]; the interval excludes 0."
    )


def test_a_marginal_largest_gain_says_marginal_and_a_crossing_one_not_separable():
    table = cells_table()
    table["delta_values"]["mlp"][4] = d(0.03, -0.0002, 0.06)
    assert "the lower end of the interval is ≈ 0: marginal" in observe_binned(table, best="mlp")[1]
    table["delta_values"]["mlp"][4] = d(0.03, -0.02, 0.08)
    gain = observe_binned(table, best="mlp")[1]
    assert "the interval includes 0: not separable at 95 %" in gain and "excludes" not in gain


def test_a_tiny_bin_holding_the_extreme_is_named_but_not_ranked():
    extremes = observe_binned(cells_table(), best="mlp")[2]
    assert extremes.startswith(
        "Across cells, mlp's own R² is highest in Warm Solar (R² 0.9600, n = 340) and lowest in "
        "Cool Metal-rich (R² 0.8400, n = 80)"
    )
    assert "the lowest R² (0.4100) is in Warm Metal-rich, a cell of 12 spectra, too few to rank" in extremes
    assert "lowest in Warm Metal-rich" not in extremes


def test_a_lower_min_n_lets_the_same_bin_be_ranked():
    extremes = observe_binned(cells_table(), best="mlp", min_n=10)[2]
    assert "lowest in Warm Metal-rich (R² 0.4100, n = 12)" in extremes and "too few" not in extremes


def test_without_intervals_the_count_is_called_a_point_estimate():
    out = observe_binned(cells_table(delta_values={}, reference=None), best="mlp", baseline="classify")
    assert (
        out[0]
        == "mlp has a better R² than classify in 7 of 8 cells (point estimates, no intervals); 1 cell with fewer than 30 spectra not counted."
    )
    assert not any("excludes 0" in s or "largest gain" in s for s in out)


def test_without_a_reference_the_extremes_come_first_and_the_wins_are_counted():
    out = observe_binned(cells_table(delta_values={}, reference=None), best="mlp")
    assert out[0].startswith("Across cells, mlp's own R² is highest in Warm Solar")
    assert out[1] == "mlp has the best R² of the 2 trials in 7 of 8 cells; classify in 1 (point estimates)."


def test_the_focus_trial_defaults_to_the_best_non_reference_trial():
    assert observe_binned(cells_table())[0].startswith("mlp improves on classify")


def test_a_lower_is_better_metric_ranks_the_smallest_error_best():
    table = {
        "metric": "mae.T_eff",
        "by": "snr",
        "axes": ["snr"],
        "trials": ["a"],
        "labels": ["0–3", "3–6", "6–100"],
        "names": [None] * 3,
        "min_n": 20,
        "n": [50, 60, 70],
        "values": {"a": [120.0, 80.0, 60.0]},
    }
    assert observe_binned(table)[0] == (
        "Across bins, a's own MAE is smallest in snr 6–100 (MAE 60.0 K, n = 70) and largest in "
        "snr 0–3 (MAE 120.0 K, n = 50)."
    )


def test_nan_bins_are_skipped_and_said_never_ranked():
    table = cells_table()
    table["values"]["mlp"][4] = NAN  # the best cell has no value now
    table["delta_values"]["mlp"][4] = None
    out = observe_binned(table, best="mlp")
    assert len(out) == MAX_SENTENCES
    assert out[-1] == "No R² for mlp in 1 cell (Warm Solar): skipped."
    assert not any("highest in Warm Solar" in s for s in out[:-1])
    assert "in 6 of 7 cells" in out[0]


def bias_table():
    return {
        "metric": "bias.log_g",
        "by": "T_eff",
        "axes": ["T_eff"],
        "trials": ["single", "multi"],
        "labels": ["3750–4500", "4500–5250", "5250–6000", "6000–7000"],
        "names": [None] * 4,
        "min_n": 20,
        "reference": "single",
        "n": [100, 200, 150, 10],
        "values": {"single": [0.05, -0.02, 0.03, 0.2], "multi": [0.01, -0.03, 0.01, -0.3]},
        "delta_values": {"multi": [d(-0.04, -0.06, -0.02), d(-0.01, -0.02, 0.0), d(-0.02, -0.07, 0.01), None]},
        "spread_values": {"single": 0.029, "multi": 0.017},
    }


def test_bias_tables_lead_with_the_spread_and_judge_by_the_size_of_the_bias():
    out = observe_binned(bias_table())
    assert (
        out[0]
        == "The spread of bias across bins (std of the bin values) falls from 0.0290 dex (single) to 0.0170 dex (multi)."
    )
    assert out[1].startswith(
        "multi improves on single in 2 of 3 bins (point estimates), the interval excluding 0 in 1;"
    )
    assert "closest to zero in T_eff 3750–4500 (bias 0.0100 dex, n = 100)" in out[2]
    assert "the largest |bias| (-0.3000 dex) is in T_eff 6000–7000, a bin of 10 spectra, too few to rank" in out[2]


def test_an_extra_has_no_better_or_worse():
    table = {
        "metric": "extra.gate_entropy",
        "by": "snr",
        "axes": ["snr"],
        "trials": ["moe"],
        "labels": ["0–3", "3–6"],
        "names": [None] * 2,
        "min_n": 5,
        "n": [50, 60],
        "values": {"moe": [0.7, 0.3]},
    }
    out = observe_binned(table)
    assert out == [
        "moe has its highest gate_entropy in snr 0–3 (gate_entropy 0.7000, n = 50) and its lowest in "
        "snr 3–6 (gate_entropy 0.3000, n = 60)."
    ]


def test_a_real_binned_table_is_read():
    np = pytest.importorskip("numpy")
    from engine.render.binned import binned_table
    from engine.spec.report_config import Binned

    rng = np.random.default_rng(0)
    n = 600
    teff = rng.uniform(3750, 6000, n)
    truth = rng.normal(3, 1, n)

    def trial(noise):
        return {
            "index": np.arange(n),
            "targets": np.array(["log_g"]),
            "y_true": truth[:, None],
            "y_pred": (truth + rng.normal(0, noise, n))[:, None],
            "param.T_eff": teff,
        }

    spec = Binned(
        metric="r2.log_g",
        by="T_eff",
        edges=[3750, 4500, 5250, 6000],
        names=["Cool", "Warm", "Hot"],
        delta="baseline",
        min_n=30,
    )
    table = binned_table(spec, {"base": trial(0.8), "good": trial(0.3)}, baseline="base", bootstrap=(200, 0))
    out = observe_binned(table, best="good", baseline="base")
    assert out[0].startswith("good improves on base in 3 of 3 bins (point estimates), the interval excluding 0 in 3")
    assert "good's own R² is highest in" in out[2]


# ---------------------------------------------------------------------------------------------
# Comparisons of trials


VALUES = {"classify": 0.9213, "mlp": 0.9310, "linear": 0.9037}


def test_overlapping_intervals_are_not_separable():
    out = observe_trials(
        VALUES, {"classify": (0.91, 0.93), "mlp": (0.92, 0.94), "linear": (0.89, 0.915)}, metric="r2.log_g"
    )
    assert out[0] == (
        "mlp has the best R² (0.9310), 0.0097 ahead of classify (0.9213); their 95 % intervals overlap: "
        "not separable at 95 %."
    )


def test_apart_intervals_are_said_apart():
    out = observe_trials(VALUES, {"classify": (0.905, 0.925), "mlp": (0.926, 0.936)}, metric="r2.log_g")
    assert out[0].endswith("their 95 % intervals do not overlap.") and "not separable" not in out[0]


def test_a_paired_interval_near_zero_is_marginal_against_the_baseline():
    out = observe_trials(
        VALUES,
        {"classify": (0.905, 0.925), "mlp": (0.926, 0.936)},
        metric="r2.log_g",
        baseline="classify",
        deltas={"mlp": d(0.0097, -0.00001, 0.0168, 0.97)},
    )
    assert out[0].endswith("Δ R² +0.0097 [-0.0000, +0.0168]; the lower end of the interval is ≈ 0: marginal.")


def test_the_best_candidate_is_held_against_a_baseline_that_is_not_the_runner_up():
    values = {"classify": 0.90, "mlp": 0.93, "linear": 0.92}
    out = observe_trials(values, None, metric="r2.log_g", baseline="classify", deltas={"mlp": d(0.03, 0.01, 0.05)})
    assert out[0].endswith("no intervals: a point estimate.")
    assert (
        out[1]
        == "Against the baseline classify (0.9000), mlp is 0.0300 ahead; Δ R² +0.0300 [+0.0100, +0.0500]; the interval excludes 0."
    )


def test_a_baseline_no_candidate_beats_is_said():
    out = observe_trials({"classify": 0.95, "mlp": 0.93, "linear": 0.92}, None, metric="r2.log_g", baseline="classify")
    assert (
        out[0]
        == "No candidate beats the baseline classify (0.9500): the best, mlp, is 0.0200 behind; no intervals: a point estimate."
    )
    assert len(out) == 1


def test_references_and_ceilings():
    values = {"classify": 0.9213, "mlp": 0.9310, "global": 0.9400, "fisher": 0.95}
    out = observe_trials(
        values,
        {"mlp": (0.92, 0.94), "global": (0.93, 0.95)},
        metric="r2.log_g",
        baseline="classify",
        references=["global", "fisher"],
        ceilings=["fisher"],
        deltas={"mlp": d(0.0097, 0.004, 0.015)},
    )
    assert out[-1] == (
        "The reference global (0.9400) beats every candidate, 0.0090 ahead of mlp (intervals overlap: not "
        "separable at 95 %); mlp is 0.0190 short of the ceiling fisher (0.9500)."
    )
    beaten = observe_trials(
        {"mlp": 0.96, "fisher": 0.95}, None, metric="r2.log_g", references=["fisher"], ceilings=["fisher"]
    )
    assert "mlp is above the ceiling fisher (0.9500): the ceiling or the data is wrong" in beaten[-1]


def test_lower_is_better_crowns_the_smallest_error():
    out = observe_trials({"a": 0.12, "b": 0.10}, None, metric="mae.log_g")
    assert out[0].startswith("b has the best MAE (0.1000 dex), 0.0200 dex ahead of a (0.1200 dex)")


def test_missing_trial_values_are_skipped_and_said():
    out = observe_trials({**VALUES, "broken": NAN, "absent": None}, None, metric="r2.log_g")
    assert out[-1] == "No R² for broken and absent: skipped."
    assert not any("broken" in s for s in out[:-1])


# ---------------------------------------------------------------------------------------------
# Differences against a reference


def test_deltas_are_grouped_by_what_their_intervals_say():
    out = observe_deltas(
        {"big": d(0.02, 0.01, 0.03, 1.0), "lin": d(-0.0176, -0.03, -0.005, 0.01)},
        metric="r2.log_g",
        reference="classify",
    )
    assert out == [
        "big (Δ R² +0.0200 [+0.0100, +0.0300], P(Δ > 0) = 1.000) improves on classify: the interval excludes 0.",
        "lin (Δ R² -0.0176 [-0.0300, -0.0050], P(Δ > 0) = 0.010) is worse than classify: the interval excludes 0.",
    ]


def test_marginal_and_crossing_deltas_are_not_called_better():
    out = observe_deltas(
        {"mlp": d(0.0097, -0.00001, 0.0168, 0.97), "z": d(0.001, -0.01, 0.012, 0.55)},
        metric="r2.log_g",
        reference="classify",
    )
    assert (
        out[0]
        == "Against classify, mlp (Δ R² +0.0097 [-0.0000, +0.0168], P(Δ > 0) = 0.970): the lower end of the interval is ≈ 0, marginal."
    )
    assert (
        out[1]
        == "z (Δ R² +0.0010 [-0.0100, +0.0120], P(Δ > 0) = 0.550): the interval includes 0, not separable from classify at 95 %."
    )
    assert not any("improve" in s for s in out)


def test_a_lower_is_better_delta_below_zero_improves():
    out = observe_deltas({"a": d(-0.02, -0.03, -0.01, 0.0)}, metric="mae.log_g", reference="base")
    assert out[0].startswith("a (Δ MAE -0.0200 dex [-0.0300 dex, -0.0100 dex], P(Δ > 0) = 0.000) improves on base")


def test_a_bias_delta_only_differs():
    out = observe_deltas({"a": d(-0.02, -0.03, -0.01)}, metric="bias.log_g", reference="base")
    assert "differs from base: the interval excludes 0" in out[0] and "improve" not in out[0]


def test_missing_deltas_are_skipped_and_the_note_survives_the_cut():
    deltas = {
        "a": d(0.02, 0.01, 0.03),
        "b": d(-0.02, -0.03, -0.01),
        "c": d(0.01, -0.0001, 0.03),
        "e": d(0.0, -0.01, 0.01),
        "gone": None,
    }
    out = observe_deltas(deltas, metric="r2.log_g", reference="base")
    assert len(out) == MAX_SENTENCES and out[-1] == "No interval against base for gone: skipped."


# ---------------------------------------------------------------------------------------------
# Sweeps


def sweep(values, xs=(1e2, 1e3, 1e4, 1e5), group=None, intervals=None):
    return [(x, group, v, intervals[i] if intervals else None) for i, (x, v) in enumerate(zip(xs, values))]


def test_a_monotone_sweep_claims_its_trend_and_its_edge_optimum():
    out = observe_sweep(sweep([0.40, 0.45, 0.47, 0.50]), x_key="model.alpha", metric="r2.log_g")
    assert out[0] == "The best R² (0.5000) is at alpha = 1e5, the largest value swept: at the edge, extend the sweep."
    assert out[1] == "R² rises with alpha at every step (4 values, 100 → 1e5: 0.4000 → 0.5000)."


def test_a_non_monotone_sweep_claims_no_trend_and_an_interior_optimum():
    out = observe_sweep(sweep([0.40, 0.47, 0.45, 0.46]), x_key="model.alpha", metric="r2.log_g")
    assert out[0] == "The best R² (0.4700) is at alpha = 1e3, inside the swept range 100–1e5."
    assert out[1] == "R² is not monotone in alpha (4 values): no trend claimed."
    assert not any("rises" in s or "falls" in s or "edge" in s for s in out)


def test_two_points_are_no_trend():
    out = observe_sweep(sweep([0.40, 0.45], xs=(2000, 20000)), x_key="data.n_train", metric="r2.log_g", x_label="N")
    assert out[1] == "Only 2 values of N: no trend claimed." and "rises" not in " ".join(out)


def test_an_optimum_inside_overlapping_intervals_is_flat():
    out = observe_sweep(
        sweep([0.40, 0.47, 0.465, 0.44], intervals=[(0.39, 0.41), (0.46, 0.48), (0.455, 0.475), (0.43, 0.45)]),
        x_key="model.alpha",
        metric="r2.log_g",
    )
    assert out[0].endswith("(not separable from alpha = 1e4 at 95 %).")


def test_a_trend_whose_ends_overlap_says_so():
    out = observe_sweep(
        sweep([0.40, 0.41, 0.42], xs=(1, 2, 3), intervals=[(0.35, 0.45)] * 3), x_key="k", metric="r2.log_g"
    )
    assert out[1].endswith("but the ends' intervals overlap: not separable at 95 %.")


def test_a_lower_is_better_optimum_is_the_smallest_error():
    out = observe_sweep(sweep([0.20, 0.15, 0.18], xs=(1, 2, 3)), x_key="model.depth", metric="mae.log_g")
    assert out[0] == "The best MAE (0.1500 dex) is at depth = 2, inside the swept range 1–3."


GRID = {2000: [0.40, 0.45, 0.43, 0.41], 5000: [0.42, 0.47, 0.48, 0.46], 20000: [0.43, 0.48, 0.50, 0.51]}


def grid(rows):
    return [p for n, values in rows.items() for p in sweep(values, group=n)]


def test_a_grid_says_the_optimum_drift_and_the_trend_at_every_alpha():
    out = observe_sweep(
        grid(GRID), x_key="model.alpha", group_key="data.n_train", metric="r2.log_g", x_label="α", group_label="N"
    )
    assert out[0] == (
        "The best α grows with N: 1e3 at N = 2k → 1e4 at N = 5k → 1e5 at N = 20k; at the edge for N = 20k: "
        "extend the sweep."
    )
    assert out[1] == "R² rises with N at every α (4 curves)."
    assert out[2] == "R² rises with α at N = 20k; not monotone at N = 2k and N = 5k."


def test_two_groups_list_the_optima_without_a_drift():
    rows = {2000: GRID[2000], 20000: GRID[20000]}
    out = observe_sweep(
        grid(rows), x_key="model.alpha", group_key="data.n_train", metric="r2.log_g", x_label="α", group_label="N"
    )
    assert out[0] == "The best α is 1e3 at N = 2k, 1e5 at N = 20k; at the edge for N = 20k: extend the sweep."
    assert not any("grows" in s or "with N" in s or "in N" in s for s in out)


def test_two_alphas_per_group_are_no_trend_in_alpha():
    rows = {n: values[:2] for n, values in GRID.items()}
    out = observe_sweep(
        grid(rows), x_key="model.alpha", group_key="data.n_train", metric="r2.log_g", x_label="α", group_label="N"
    )
    assert out[-1] == "Fewer than 3 values of α per N: no trend claimed."
    assert not any("with α" in s or "monotone" in s for s in out)


def test_a_turning_curve_across_groups_is_not_a_trend():
    rows = {2000: [0.40, 0.45, 0.43], 5000: [0.44, 0.49, 0.41], 20000: [0.43, 0.48, 0.50]}
    out = observe_sweep(
        [p for n, v in rows.items() for p in sweep(v, group=n)],
        x_key="model.alpha",
        group_key="data.n_train",
        metric="r2.log_g",
        x_label="α",
        group_label="N",
    )
    assert "R² is not monotone in N at any α: no trend claimed." in out


def test_nan_points_are_skipped_and_said():
    points = sweep([0.40, 0.45, NAN, 0.50]) + [(None, None, 0.3)]
    out = observe_sweep(points, x_key="model.alpha", metric="r2.log_g")
    assert out[-1] == "2 points without a usable value skipped: alpha = 1e4 and alpha = None."
    assert out[1] == "R² rises with alpha at every step (3 values, 100 → 1e5: 0.4000 → 0.5000)."


# ---------------------------------------------------------------------------------------------
# Language and rendering


@pytest.mark.parametrize(
    "make",
    [
        lambda lang: observe_binned(cells_table(), best="mlp", lang=lang),
        lambda lang: observe_binned(cells_table(delta_values={}, reference=None), best="mlp", min_n=60, lang=lang),
        lambda lang: observe_binned(bias_table(), lang=lang),
        lambda lang: observe_trials(
            {**VALUES, "global": 0.94, "x": NAN},
            {"mlp": (0.92, 0.94), "global": (0.93, 0.95)},
            metric="r2.log_g",
            baseline="classify",
            references=["global"],
            lang=lang,
        ),
        lambda lang: observe_deltas(
            {"mlp": d(0.0097, -0.00001, 0.0168, 0.97), "z": d(0.001, -0.01, 0.012, 0.55)},
            metric="r2.log_g",
            reference="classify",
            lang=lang,
        ),
        lambda lang: observe_sweep(
            grid(GRID), x_key="model.alpha", group_key="data.n_train", metric="r2.log_g", lang=lang
        ),
        lambda lang: observe_sweep(sweep([0.40, 0.47, NAN, 0.46]), x_key="model.alpha", metric="r2.log_g", lang=lang),
    ],
)
def test_chinese_states_the_same_numbers(make):
    en, zh = make("en"), make("zh")
    assert len(en) == len(zh) and en != zh
    assert numbers(en) == numbers(zh)
    assert all(s.endswith("。") for s in zh) and all(s.endswith(".") for s in en)


def test_chinese_keeps_the_verdict_words():
    zh = observe_binned(cells_table(), best="mlp", lang="zh")
    assert "其中 4 个的区间不含 0" in zh[0]
    assert "样本太少，不参与排名" in zh[2]
    edge = observe_sweep(sweep([0.40, 0.45, 0.47, 0.50]), x_key="model.alpha", metric="r2.log_g", lang="zh")
    assert "位于扫描范围边缘，应扩展扫描" in edge[0]


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        observe_trials(VALUES, None, metric="r2.log_g", lang="fr")


def test_render_is_a_short_bulleted_list():
    assert render(["One.", "Two\nlines."]) == "- One.\n- Two lines.\n"
    assert render([]) == ""
    assert observe_binned({"metric": "r2.log_g", "trials": [], "values": {}}) == []  # a table whose trials all failed
    out = observe_binned(cells_table(), best="mlp")
    assert render(out) == render(observe_binned(cells_table(), best="mlp"))
    assert render(out).count("\n- ") == len(out) - 1 and len(out) <= MAX_SENTENCES


def test_the_caveat_of_one_seed_in_either_language():
    assert one_seed([]) is None
    assert one_seed(["mlp"]) == (
        "mlp ran with one seed: its training noise was not measured, and the intervals above hold the test rows only."
    )
    assert one_seed(["ridge", "mlp", "cnn", "vit", "moe"]).startswith(
        "ridge, mlp, cnn and 2 more ran with one seed: their"
    )
    assert one_seed(["ridge", "mlp", "cnn", "vit", "moe"], "zh") == (
        "ridge、mlp、cnn 等 5 项 只跑了 1 个种子：训练噪声未测，以上区间只含测试集的抽样误差。"
    )
    assert heading("en") == HEADINGS["en"] == "Key observations:" and heading("zh") == "主要观察："


# ---------------------------------------------------------------------------------------------
# The phrasebooks: the rules ask one phrasebook per language for their words


def _phrases(book) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(value)
        for name, value in vars(book).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == book.__name__
    }


def test_every_language_has_a_phrasebook():
    assert set(BOOKS) == set(LANGS)


@pytest.mark.parametrize("lang", sorted(set(BOOKS) - {"en"}))
def test_the_phrasebooks_hold_the_same_phrases_with_the_same_signatures(lang):
    english, other = _phrases(BOOKS["en"]), _phrases(BOOKS[lang])
    assert sorted(set(english) ^ set(other)) == []
    assert {name: str(sig) for name, sig in other.items() if sig != english[name]} == {}


def test_the_rules_ask_for_every_phrase_and_for_no_other():
    """The rules reach the words only as `say.<phrase>`: a phrase nobody asks for is dead wording,
    and one asked for but missing would fail only in the sentence that needs it."""
    tree = ast.parse(Path(observations.__file__).read_text(encoding="utf-8"))
    asked = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "say"
    }
    asked |= {"heading"}  # HEADINGS is made from every book's heading, not through `say`
    assert sorted(asked ^ set(_phrases(BOOKS["en"]))) == []


def test_the_rules_never_ask_which_language_they_write():
    source = Path(observations.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\bzh\b|lang ==|[\u4e00-\u9fff（），：；。、]", source.split('"""', 2)[2])
