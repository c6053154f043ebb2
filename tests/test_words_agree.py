"""Generated words never contradict the numbers they stand beside.

Each sentence, caption, table cell and page label the engine writes about a result is checked
against the numbers it describes: "best" is the best by the metric's own direction (one table of
directions, `engine.render.quantities`), in the bins and among the trials the table shows; a note about
parentheses only where something is in parentheses; an empty or open-ended bin in words, never
`nan` or `1e+09`; the user's label kept with the conditions of the test set its number was read
on; one number printed one way wherever it is printed.
"""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.notebook import record
from engine.render import binned, quantities
from engine.render.decision import badness, standing
from engine.render.observations import observe_binned, observe_trials
from engine.render.templates import fmt_metric, render

METRICS = ["r2.log_g", "mae.log_g", "rmse.T_eff", "mae.Fe_H"]


def _bad(metric: str, value: float) -> float:
    """The oracle's ranking, written from the direction table alone (not from the code under test)."""
    way = quantities.direction(metric)
    return {"higher": -value, "lower": value, "zero": abs(value)}[way]


# ---------------------------------------------------------------------------------------------
# Binned observations agree with the table they describe (property)


@st.composite
def binned_tables(draw):
    metric = draw(st.sampled_from(METRICS))
    k = draw(st.integers(2, 6))
    trials = [f"t{i}" for i in range(draw(st.integers(2, 4)))]
    value = st.floats(0.01, 0.99) if metric.startswith("r2") else st.floats(0.01, 500.0)
    values = {t: draw(st.lists(value, min_size=k, max_size=k)) for t in trials}
    n = draw(st.lists(st.sampled_from([0, 5, 40, 120, 300]), min_size=k, max_size=k))
    for t in trials:  # an empty bin has no value, as binned_table leaves it
        values[t] = [math.nan if c == 0 else v for v, c in zip(values[t], n)]
    reference = draw(st.sampled_from([None, *trials]))
    references = draw(
        st.lists(st.sampled_from([t for t in trials if t != reference]), unique=True, max_size=len(trials) - 2)
    )
    table = {
        "metric": metric,
        "by": "x",
        "axes": ["x"],
        "trials": trials,
        "labels": [f"{i}–{i + 1}" for i in range(k)],
        "names": [None] * k,
        "min_n": 30,
        "n": n,
        "small": [c < 30 for c in n],
        "values": values,
        "reference": None,
        "delta_values": {},
        "spread_values": {},
    }
    return table, reference, references


def _bin(table, where: str) -> int:
    return [f"x {label}" for label in table["labels"]].index(where)


@settings(max_examples=300, deadline=None)
@given(binned_tables())
def test_what_a_binned_sentence_calls_best_is_best_in_the_table(drawn):
    table, reference, references = drawn
    metric, values, small = table["metric"], table["values"], table["small"]
    said = observe_binned(table, baseline=reference, references=references)
    shown = {
        row["label"]: row["cells"]
        for row in binned.cell_texts(
            {
                **table,
                "rows": [
                    {"label": lab, "n": c, "small": s, "values": [values[t][i] for t in table["trials"]], "deltas": []}
                    for i, (lab, c, s) in enumerate(zip(table["labels"], table["n"], small))
                ],
            },
            lambda v: fmt_metric(metric, v),
        )
    }
    ranked = [i for i in range(len(small)) if not small[i]]
    checked = 0
    for sentence in said:
        assert "nan" not in sentence
        m = re.match(
            r"(?:Across (?:bins|cells), )?(\S+)'s own \S+ is (?:highest|smallest) in (x \S+) \(\S+ (.+?), n = \d+\) "
            r"and (?:lowest|largest) in (x \S+) \(\S+ (.+?), n = \d+\)",
            sentence,
        )
        if m:  # the focus's own best and worst bins, each value as its table cell shows it
            focus, best_at, best_text, worst_at, worst_text = m.groups()
            assert focus not in references or set(references) >= set(table["trials"]) - {reference}
            own = {i: values[focus][i] for i in ranked if not math.isnan(values[focus][i])}
            b, w = _bin(table, best_at), _bin(table, worst_at)
            assert _bad(metric, own[b]) == min(_bad(metric, v) for v in own.values())
            assert _bad(metric, own[w]) == max(_bad(metric, v) for v in own.values())
            column = table["trials"].index(focus)
            assert shown[table["labels"][b]][column] == best_text and shown[table["labels"][w]][column] == worst_text
            checked += 1
        m = re.match(
            r"(\S+) has the best \S+ of the (\d+) trials in (\d+) of (\d+) (?:bins|cells)(?:; (.+))? \(point estimates\)",
            sentence,
        )
        if m:  # who is best in how many bins: every trial the table shows, yardsticks included
            focus, total, wins, of, others = m.groups()
            full = [i for i in ranked if all(not math.isnan(values[t][i]) for t in table["trials"])]
            winners = [
                min(table["trials"], key=lambda t: (_bad(metric, values[t][i]), table["trials"].index(t))) for i in full
            ]
            assert int(total) == len(table["trials"]) and int(of) == len(full) and int(wins) == winners.count(focus)
            named = dict(part.split(" in ") for part in others.split(", ")) if others else {}
            assert {t: int(c) for t, c in named.items()} == {t: winners.count(t) for t in set(winners) - {focus}}
            checked += 1
        m = re.match(r"(\S+) has a better \S+ than (\S+) in (\d+) of (\d+) (?:bins|cells)", sentence)
        if m:  # against the reference, bin by bin
            focus, ref, up, of = m.groups()
            both = [i for i in ranked if not math.isnan(values[focus][i]) and not math.isnan(values[ref][i])]
            assert ref == reference and int(of) == len(both)
            assert int(up) == sum(1 for i in both if _bad(metric, values[focus][i]) < _bad(metric, values[ref][i]))
            checked += 1
    assume(checked)


def test_a_reference_that_wins_every_bin_is_said_to_and_the_focus_is_never_called_best():
    """The reported case: "mlp is best in T_eff 3750–4500" where Ridge (a reference) had the
    lower MAE in every bin."""
    table = {
        "metric": "mae.log_g",
        "by": "T_eff",
        "axes": ["T_eff"],
        "trials": ["ridge", "mlp"],
        "labels": ["3750–4500", "4500–5250", "5250–6000"],
        "names": [None] * 3,
        "min_n": 30,
        "n": [300, 400, 200],
        "values": {"ridge": [0.20, 0.15, 0.18], "mlp": [0.22, 0.19, 0.25]},
        "reference": None,
        "delta_values": {},
    }
    said = observe_binned(table, best="mlp", references=["ridge"])
    assert not any(re.search(r"\bmlp (?:is|has the) best\b", s) and "in 0 of" not in s for s in said)
    assert "Across bins, mlp's own MAE is smallest in T_eff 4500–5250 (MAE 0.1900 dex, n = 400)" in said[0]
    assert said[1] == "mlp has the best MAE of the 2 trials in 0 of 3 bins; ridge in 3 (point estimates)."
    # the default focus is a candidate, never the yardstick
    assert observe_binned(table, references=["ridge"])[0].startswith("Across bins, mlp's own")


def test_a_reference_ahead_of_the_best_candidate_is_not_passed_over_under_a_bar_figure():
    said = observe_trials(
        {"ridge": 0.7135, "phys": 0.6390, "dual": 0.6493}, metric="r2.log_g", baseline="phys", references=["ridge"]
    )
    assert said[0].startswith("dual has the best R² of all but ridge (0.6493)")
    assert "The reference ridge (0.7135) beats every candidate" in said[-1]


# ---------------------------------------------------------------------------------------------
# One direction per metric, used by the verdict's ranking and the words alike


@pytest.mark.parametrize("metric", [*METRICS, "bias.log_g", "r2.log_g@noisy"])
def test_the_verdict_and_the_sentences_rank_by_the_one_direction_table(metric):
    low, high = 0.1, 0.3
    better = high if quantities.direction(metric) == "higher" else low
    assert (
        min((low, high), key=lambda v: badness(metric, v)) == better == min((low, high), key=lambda v: _bad(metric, v))
    )
    table = {
        "metric": metric,
        "by": "x",
        "axes": ["x"],
        "trials": ["a", "b"],
        "labels": ["0–1", "1–2"],
        "names": [None] * 2,
        "min_n": 1,
        "n": [50, 50],
        "values": {"a": [low, low], "b": [high, high]},
        "reference": None,
        "delta_values": {},
    }
    ranking = [s for s in observe_binned(table, best="a") if "of the 2 trials" in s]
    if quantities.direction(metric) != "zero":
        assert ranking == [
            f"a has the best {ranking[0].split()[4]} of the 2 trials in {2 if better == low else 0} of 2 bins"
            + ("" if better == low else "; b in 2")
            + " (point estimates)."
        ]


# ---------------------------------------------------------------------------------------------
# Captions: "best" only for a candidate that beat the baseline


def _caption_best(results, baseline, references=()):
    from engine.render.figure_trials import standing_words

    place = standing(results, "r2.log_g", baseline=baseline, references=references)
    return standing_words(SimpleNamespace(primary_metric="r2.log_g", language="en"), SimpleNamespace(standing=place))


def test_a_caption_does_not_call_a_candidate_that_lost_to_the_baseline_best():
    results = {"base": {"r2": {"log_g": 0.70}}, "mlp": {"r2": {"log_g": 0.66}}}
    words = _caption_best(results, "base")
    assert "best:" not in words and "best by" not in words
    assert words == " (no candidate beats the baseline base by r2.log_g; the best candidate: mlp)"
    assert _caption_best({**results, "mlp": {"r2": {"log_g": 0.72}}}, "base") == " (best by r2.log_g: mlp)"


def test_a_caption_names_the_reference_ahead_of_every_candidate():
    results = {"ridge": {"r2": {"log_g": 0.7135}}, "phys": {"r2": {"log_g": 0.6390}}, "dual": {"r2": {"log_g": 0.6493}}}
    assert (
        _caption_best(results, "phys", ["ridge"])
        == " (best by r2.log_g: dual; the reference ridge is ahead of every candidate)"
    )


# ---------------------------------------------------------------------------------------------
# Binned tables: open-ended and empty bins in words, parentheses only where they are


def test_an_open_ended_bin_is_said_in_words_and_a_real_edge_kept():
    assert binned.cell_words([[0, 2, 4, 7, 1e9]], (3,)) == "≥ 7"
    assert binned.cell_words([[0, 2, 4, 7, math.inf]], (3,)) == "≥ 7"
    assert binned.cell_words([[-math.inf, 2, 4, 7]], (0,)) == "< 2"
    assert binned.cell_words([[0, 2, 4, 7, 100]], (3,)) == "7–100"  # the user's own edge
    assert binned.cell_words([[0, 2, 4, 7, 1e9]], (1,)) == "2–4"
    assert binned.cell_words([[3750, 4500, 6000], [-1, 0, 1e9]], (1, 1)) == "4500–6000 · ≥ 0"


def _snr_table():
    from engine.spec.report_config import Binned

    rng = np.random.default_rng(1)
    n = 300
    snr = np.concatenate([rng.uniform(0, 2, 10), rng.uniform(2, 7, n - 10)])  # 10 in the first bin, none above 7
    truth = rng.normal(3, 1, n)

    def trial(noise):
        return {
            "index": np.arange(n),
            "targets": np.array(["log_g"]),
            "y_true": truth[:, None],
            "y_pred": (truth + rng.normal(0, noise, n))[:, None],
            "param.snr": snr,
        }

    spec = Binned(metric="mae.log_g", by="snr", edges=[0, 2, 4, 7, 1e9], min_n=30)
    return binned.binned_table(spec, {"base": trial(0.5), "cand": trial(0.3)}, bootstrap=(50, 0))


def _region(table):
    from engine.render.regions import shown_binned

    shown = shown_binned(table)
    return render("regions/binned.md.j2", tables=[{**shown, "observations": []}], observations_heading="")


def test_an_empty_open_bin_is_words_and_dashes_never_nan_or_the_stand_in_edge():
    table = _snr_table()
    assert table["n"][-1] == 0 and table["labels"][-1] == "7–1e+09"  # what rules call it stays
    body = _region(table)
    assert "| ≥ 7 | 0 | - | - |" in body
    assert "nan" not in body and "1e+09" not in body
    assert "| 0–2 | 10 † | (" in body and "shown in parentheses" in body  # the small bin with values is in parentheses


def test_the_parentheses_note_appears_only_when_something_is_in_parentheses():
    table = _snr_table()
    rows = table["rows"]
    table = {**table, "rows": [rows[1], rows[2], rows[3]], "small": table["small"][1:], "n": table["n"][1:]}
    body = _region(table)
    assert "(" not in body.split("**std")[0].split("|---|")[-1]  # no cell in parentheses
    assert "in parentheses" not in body


def test_a_binned_sentence_names_the_open_bin_in_words():
    table = _snr_table()
    table["values"]["cand"][-1] = 5.0  # pretend 3 spectra are there, with the worst MAE: named, too few to rank
    table["n"][-1] = 3
    said = " ".join(observe_binned(table, best="cand"))
    assert (
        "the largest MAE (5.0000 dex) is in snr ≥ 7, a bin of 3 spectra, too few to rank" in said
        and "1e+09" not in said
    )


# ---------------------------------------------------------------------------------------------
# One rounding of one number


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([*METRICS, "bias.log_g", "extra.gate_entropy", "r2.log_g@noisy"]),
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)
def test_a_number_prints_the_same_from_the_record_as_when_it_was_computed(metric, value):
    assert fmt_metric(metric, value) == fmt_metric(metric, record.rounded(value))
    if quantities.quantity(metric) is not None and quantities.quantity(metric).per_target:
        assert quantities.number(metric, value) == fmt_metric(metric, value, unit=False)  # a figure label too


def test_the_reported_double_rounding_is_gone():
    """0.67514996 was printed 0.6751 in the key numbers (from the float) and 0.6752 in the
    results of `research show` (from the record's 0.67515)."""
    value = 0.67514996
    assert record.rounded(value) == 0.67515
    assert fmt_metric("r2.log_g", value) == fmt_metric("r2.log_g", record.rounded(value)) == "0.6752"
    assert quantities.number("r2.log_g", value) == "0.6752"


def test_the_show_screen_does_not_call_a_best_that_lost_to_the_baseline_best(capsys):
    from engine.browse.views import print_show

    shown = {
        "path": "exp.md",
        "id": "EXP",
        "title": "t",
        "status": "done",
        "why": [],
        "stale": False,
        "verdict": "fail",
        "says": "no",
        "best": "mlp",
        "baseline": "base",
        "beats_baseline": False,
        "primary": "r2.log_g",
        "trials": [],
        "key_numbers": [],
        "binned": [],
        "figures": [],
    }
    print_show(shown)
    out = capsys.readouterr().out
    assert "best candidate (does not beat the baseline): mlp · baseline: base" in out and "\nbest: mlp" not in out


# ---------------------------------------------------------------------------------------------
# Hub key numbers: the user's label, with the conditions of the test set the number was read on


def test_a_key_number_read_on_a_named_test_set_keeps_its_label_and_that_sets_conditions(tmp_path):
    from engine.pages.sync import _key_numbers

    config = {
        "data": {
            "source": "synthetic",
            "n_train": 300,
            "n_test": 200,
            "tests": {"full": {}, "noisy": {"noise": 3.0}, "bright": {"select": {"snr_top_frac": 0.25}}},
        },
        "noise": {"level": 1.0},
    }
    conditions = record.trial_conditions(
        config, {"n_test": 200, "n_pixels": 4096, "tests": {"full": 200, "noisy": 200, "bright": 50}}
    )
    assert set(conditions["tests"]) == {"noisy", "bright"} and conditions["test_noise"] == 1.0
    rec = {
        "best": "cand",
        "trials": [{"name": "cand", "conditions": conditions}],
        "key_numbers": [
            ["best R² (noisy)", "0.2532", ["cand"], ["noisy"]],
            ["best R²", "0.5807", ["cand"]],
            ["bright R²", "0.7001", ["cand"], ["bright"]],
        ],
    }
    experiment = SimpleNamespace(record=rec, path=tmp_path / "exp.md", id="EXP-H")
    rows = {r["label"]: r["condition"] for r in _key_numbers(tmp_path / "hub.md", [experiment])}
    assert list(rows) == ["best R² (noisy)", "best R²", "bright R²"]  # the labels as the user wrote them
    assert rows["best R² (noisy)"] == "N_train 300 · synthetic test · 200 spectra · noise 3 · 4096 px"
    assert rows["best R²"] == "N_train 300 · synthetic test · 200 spectra · noise 1 · 4096 px"
    assert rows["bright R²"] == "N_train 300 · synthetic test · 50 spectra · top 25 % SNR · noise 1 · 4096 px"
    old = {**rec, "trials": [{"name": "cand", "conditions": {k: v for k, v in conditions.items() if k != "tests"}}]}
    rows = {
        r["label"]: r["condition"]
        for r in _key_numbers(tmp_path / "hub.md", [SimpleNamespace(**{**vars(experiment), "record": old})])
    }
    assert rows["best R² (noisy)"] == "N_train 300 · test set noisy"  # an older record: the set named, no wrong noise


def test_a_leaderboard_of_a_metric_on_a_named_test_set_says_that_sets_conditions():
    from engine.pages.sync import Row

    config = {
        "data": {"source": "synthetic", "n_test": 200, "tests": {"full": {}, "noisy": {"noise": 3.0}}},
        "noise": {"level": 1.0},
    }
    trial = {
        "name": "cand",
        "conditions": record.trial_conditions(config, {"n_test": 200, "tests": {"full": 200, "noisy": 200}}),
    }
    row = lambda metric: Row(SimpleNamespace(), trial, metric, 0.5, False)  # noqa: E731
    assert row("r2.log_g@noisy").test == "synthetic test · 200 spectra · noise 3"
    assert row("r2.log_g@full").test == row("r2.log_g").test == "synthetic test · 200 spectra · noise 1"  # the primary


def test_a_list_key_number_reads_as_a_row_of_numbers_in_the_table_format():
    from engine.render.templates import fmt_shown
    from engine.spec.expressions import Spread

    cnns = [Spread(0.89538, 0.0006, [0.8950, 0.8953, 0.8959]), Spread(0.85375, 0.0025, [0.851, 0.853, 0.856])]
    # a repeated trial's score reads as its mean, in its metric's format, as the results table has it
    assert fmt_shown(cnns, "r2.log_g") == f"{fmt_metric('r2.log_g', cnns[0])} / {fmt_metric('r2.log_g', cnns[1])}"
    assert fmt_shown(cnns, "r2.log_g") == "0.8954 / 0.8538"
    assert fmt_shown([127, 253, 505]) == "127 / 253 / 505"  # a model's info: integers as they are
    assert fmt_shown([0.1234567, 2.5], None, ".2f") == "0.12 / 2.50"  # a row's `format:` item by item
