"""The house style of the figures, read back from the SVG they make: labels with symbols and
units, legends that say best / baseline / reference, interval error bars (their geometry, not
just their presence), n per bin, small bins, zero lines only where zero means something, log
axes, colour bars, the labelled 1:1 line; the same bytes from the same inputs in every format.

The style writes text as text (`svg.fonttype: none`): a plain label is a <text> element, and a
mathtext label is drawn glyph by glyph after a comment holding its source, which is what these
tests read. Artists the tests look for carry an SVG id (`interval-…`, `zero-line`, `colorbar`,
`one-to-one`, `n-per-bin`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from engine.render import figures, quantities
from engine.render.figures import Roles
from engine.spec.report_config import Figure

SVG = Path("f.svg")


def texts(svg: bytes) -> list[str]:
    """Every string the figure shows: plain <text> elements, and the source of mathtext ones."""
    root = ET.fromstring(svg)
    plain = ["".join(el.itertext()).strip() for el in root.iter() if el.tag.endswith("}text")]
    return plain + re.findall(r"<!-- (.*?) -->", svg.decode())


def ids(svg: bytes) -> dict[str, ET.Element]:
    return {el.get("id"): el for el in ET.fromstring(svg).iter() if el.get("id")}


def intervals(svg: bytes, prefix: str = "interval-") -> dict[str, list[tuple[float, float, float, float]]]:
    """id → the line segments (x0, y0, x1, y1) drawn as error bars under that id."""
    out = {}
    for name, el in ids(svg).items():
        if name.startswith(prefix):
            segments = []
            for path in el.iter():
                if path.tag.endswith("}path"):
                    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
                    segments += [tuple(numbers[i : i + 4]) for i in range(0, len(numbers) - 3, 4)]
            out[name] = segments
    return out


def has(svg: bytes, *wanted: str) -> None:
    shown = texts(svg)
    missing = [w for w in wanted if not any(w in t for t in shown)]
    assert not missing, f"{missing} not in {shown}"


def lacks(svg: bytes, *unwanted: str) -> None:
    shown = texts(svg)
    assert not [u for u in unwanted if any(u in t for t in shown)]


def exactly(svg: bytes, *wanted: str) -> None:
    """Each of `wanted` is a whole text of the figure (a tick label, not a digit of one)."""
    shown = set(texts(svg))
    assert not [w for w in wanted if w not in shown], f"{wanted} not all in {sorted(shown)}"


# ---------------------------------------------------------------------------------------------
# The quantities table


def test_every_kind_of_key_gets_a_label_with_its_symbol_and_unit():
    assert quantities.label("mae.log_g") == r"MAE of $\log g$ [dex]"
    assert quantities.label("rmse.T_eff") == r"RMSE of $T_{\rm eff}$ [K]"
    assert quantities.label("bias.Fe_H") == "bias of [Fe/H] [dex]"
    assert quantities.label("r2.log_g") == r"$R^2$ of $\log g$"  # unitless: no brackets
    assert quantities.label("r2.log_g@low_noise") == r"$R^2$ of $\log g$ on low_noise"
    assert quantities.label("mae.log_g@low_noise") == r"MAE of $\log g$ on low_noise [dex]"
    assert quantities.label("T_eff") == r"$T_{\rm eff}$ [K]"
    assert quantities.label("snr") == quantities.label("param.snr") == "S/N"
    assert quantities.label("extra.gate_entropy") == quantities.label("gate_entropy") == "gate entropy [nats]"
    assert quantities.label("extra.gate_weights") == "gate weight"
    assert quantities.label("extra.sigma.log_g") == quantities.label("sigma.log_g") == r"Cramér–Rao σ of $\log g$ [dex]"
    assert quantities.label("model.alpha") == r"$\alpha$"
    assert quantities.label("data.n_train") == r"$N_{\rm train}$"
    assert quantities.label("train.lr") == "learning rate"
    assert quantities.label("model.depth") == "model.depth"  # unknown: the key, never an error
    assert quantities.label("mae.log_g", {"mae.log_g": "mean abs. error"}) == "mean abs. error"
    assert quantities.delta_label("r2.log_g", vs="base") == r"Δ $R^2$ of $\log g$ vs base"
    assert quantities.unit("mae.T_eff") == "K" and quantities.unit("r2.T_eff") is None


def test_the_table_says_where_zero_means_something_and_where_a_log_axis_helps():
    assert not quantities.zero_line("r2.log_g") and not quantities.zero_line("extra.gate_entropy")
    assert quantities.zero_line("bias.log_g")
    assert quantities.from_zero("mae.log_g") and not quantities.from_zero("r2.log_g")
    assert quantities.better("r2.log_g") == "higher" and quantities.better("mae.log_g") == "lower"
    assert quantities.better("bias.log_g") is None
    assert quantities.log_scale("snr", [1, 50]) and not quantities.log_scale("snr", [1, 7])
    assert quantities.log_scale("model.alpha", [10, 1e5]) and quantities.log_scale("data.n_train", [1000, 1e6])
    assert not quantities.log_scale("T_eff", [3000, 50000])  # a span of decades, but not a swept scale
    assert not quantities.log_scale("model.alpha", [0, 10, 100])  # a zero has no place on a log axis
    assert quantities.log_scale("model.depth", [1, 1000]) and not quantities.log_scale("model.depth", [1, 50])
    assert quantities.number("r2.log_g", 0.71349) == "0.7135" and quantities.number("mae.T_eff", 81.26) == "81.3"


# ---------------------------------------------------------------------------------------------
# Metrics per trial

VALUES = {
    "ref": {"mae.log_g": 0.2101, "r2.log_g": 0.72},
    "base": {"mae.log_g": 0.2376, "r2.log_g": 0.64},
    "cand": {"mae.log_g": 0.2273, "r2.log_g": 0.66},
    "other": {"mae.log_g": 0.2300, "r2.log_g": 0.65},
}
WIDTHS = {"ref": 0.002, "base": 0.004, "cand": 0.008, "other": 0.016}


def _intervals(values, widths):
    return {t: {m: {"lo": v - widths[t] / 2, "hi": v + widths[t] / 2} for m, v in d.items()} for t, d in values.items()}


def _bar(values=VALUES, **kwargs):
    return figures.bar(
        SVG,
        values,
        ["mae.log_g", "r2.log_g"],
        best="cand",
        baseline="base",
        references=["ref"],
        intervals=_intervals(values, WIDTHS),
        primary="r2.log_g",
        **kwargs,
    )


def test_a_bar_figure_labels_its_axes_and_says_which_trial_is_which():
    svg = _bar()
    has(
        svg,
        r"MAE of $\log g$ [dex]",
        r"$R^2$ of $\log g$",
        r"best candidate (by $R^2$ of $\log g$)",
        "baseline",
        "reference (not a candidate)",
        "candidate",
        "95 % bootstrap interval",
    )
    lacks(svg, "mae.log_g", "r2.log_g")  # no raw key left on an axis
    plain = {"".join(el.itertext()).strip() for el in ET.fromstring(svg).iter() if el.tag.endswith("}text")}
    assert {"baseline", "candidate", "cand", "base"} <= plain  # text kept as text, not outlines
    has(_bar(axis_labels={"mae.log_g": "mean abs. error [dex]"}), "mean abs. error [dex]")


def test_a_bar_figure_draws_each_trials_interval_to_scale():
    found = intervals(_bar())
    for metric in ("mae.log_g", "r2.log_g"):
        lengths = {
            t: abs(found[f"interval-{metric}-{i}"][0][2] - found[f"interval-{metric}-{i}"][0][0])
            for i, t in enumerate(VALUES)
        }
        assert len([k for k in found if k.startswith(f"interval-{metric}-")]) == 4
        for t in VALUES:  # widths 1 : 2 : 4 : 8 on the page as in the data
            assert lengths[t] / lengths["ref"] == pytest.approx(WIDTHS[t] / WIDTHS["ref"], rel=1e-3)


def test_an_interval_spans_from_its_lo_to_its_hi_on_the_axis():
    """Read the axis scale off the tick labels, then where each interval starts and ends."""
    values = {t: {"mae.log_g": d["mae.log_g"]} for t, d in VALUES.items()}
    svg = figures.bar(SVG, values, ["mae.log_g"], best="cand", baseline="base", intervals=_intervals(values, WIDTHS))
    root = ET.fromstring(svg)
    ticks = [
        (float(el.text), float(el.get("x")))
        for el in root.iter()
        if el.tag.endswith("}text")
        and "font-size: 8px" in (el.get("style") or "")
        and re.fullmatch(r"\d\.\d+", el.text or "")
    ]
    assert len(ticks) >= 3
    scale, offset = np.polyfit([v for v, _ in ticks], [x for _, x in ticks], 1)
    drawn = intervals(svg)
    for i, t in enumerate(VALUES):
        ((x0, _, x1, _),) = drawn[f"interval-mae.log_g-{i}"]
        lo, hi = sorted(((x0 - offset) / scale, (x1 - offset) / scale))
        assert lo == pytest.approx(VALUES[t]["mae.log_g"] - WIDTHS[t] / 2, abs=2e-5)
        assert hi == pytest.approx(VALUES[t]["mae.log_g"] + WIDTHS[t] / 2, abs=2e-5)


def test_close_values_are_dots_on_a_zoomed_axis_and_far_ones_bars_from_zero():
    def ticks(svg):
        return [float(t.replace("−", "-")) for t in texts(svg) if re.fullmatch(r"[−-]?\d+(\.\d+)?", t)]

    close = figures.bar(
        SVG, {t: {"mae.log_g": d["mae.log_g"]} for t, d in VALUES.items()}, ["mae.log_g"], best="cand", baseline="base"
    )
    assert min(ticks(close)) > 0.15  # zoomed: 0.2101 … 0.2376 fill the axis, zero is not on it
    far = {"a": {"mae.log_g": 0.1}, "b": {"mae.log_g": 0.5}}
    assert 0.0 in ticks(figures.bar(SVG, far, ["mae.log_g"], best="a", baseline="b"))


def test_twelve_trials_keep_their_names_and_values_apart():
    trials = {f"trial-{k:02d}": {"mae.log_g": 0.22 + 0.001 * k} for k in range(12)}
    svg = figures.bar(SVG, trials, ["mae.log_g"], best="trial-03", baseline="trial-00")
    root = ET.fromstring(svg)
    names = [el for el in root.iter() if el.tag.endswith("}text") and (el.text or "").startswith("trial-")]
    values = [el for el in root.iter() if el.tag.endswith("}text") and "font-size: 7px" in (el.get("style") or "")]
    assert len(names) == 12 and sorted(el.text for el in values) == [f"{0.22 + 0.001 * k:.4f}" for k in range(12)]
    for group in (names, values):  # one row each, unrotated, at least a line of 8-pt text apart
        ys = sorted(float(el.get("y")) for el in group)
        assert min(np.diff(ys)) >= 9
        assert all(el.get("transform", "rotate(-0").startswith("rotate(-0") for el in group)


# ---------------------------------------------------------------------------------------------
# Binned tables

CENTERS = [4000.0, 4500.0, 5000.0, 5500.0]
SERIES = {"base": [0.02, -0.01, 0.03, 0.2], "cand": [0.01, 0.0, -0.02, 0.1]}
BIN_INTERVALS = {name: [{"lo": v - 0.01, "hi": v + 0.01} for v in ys] for name, ys in SERIES.items()}
ROLES = Roles(best="cand", baseline="base")


def _lines(ylabel="bias.log_g", **kwargs):
    return figures.binned_lines(
        SVG,
        CENTERS,
        SERIES,
        xlabel="T_eff",
        ylabel=ylabel,
        small=[False, False, False, True],
        intervals=BIN_INTERVALS,
        n=[400, 800, 300, 12],
        min_n=30,
        roles=ROLES,
        **kwargs,
    )


def test_a_binned_line_figure_has_intervals_n_per_bin_and_hollow_small_bins():
    svg = _lines()
    has(
        svg,
        r"$T_{\rm eff}$ [K]",
        r"bias of $\log g$ [dex]",
        "base (baseline)",
        "cand (best)",
        "fewer than 30 spectra (off the line)",
        "95 % bootstrap interval",
        "spectra per bin",
    )
    exactly(svg, "400", "800", "300", "(12)")
    found = intervals(svg)
    assert {k: len(v) for k, v in found.items()} == {"interval-base": 3, "interval-cand": 3}  # not the small bin
    assert "n-per-bin" in ids(svg) and "small-base" in ids(svg) and "small-cand" in ids(svg)
    assert "zero-line" in ids(svg)  # a bias: zero is no bias
    assert "zero-line" not in ids(_lines("r2.log_g"))  # R²: zero means nothing here


def test_the_n_axis_explains_parentheses_only_when_a_count_in_parentheses_is_drawn():
    """An empty open bin (SNR ≥ 7 up to a stand-in 1e9) sits past the data: its "(0)" is not on
    the figure, so neither is "in parentheses: fewer than 30"."""
    series = {"a": [0.3, 0.5, 0.7, float("nan")], "b": [0.35, 0.55, 0.72, float("nan")]}
    svg = figures.binned_lines(
        SVG,
        [1.0, 3.0, 5.5, 7.0],
        series,
        xlabel="snr",
        ylabel="r2.log_g",
        small=[False, False, False, True],
        n=[275, 969, 755, 0],
        min_n=30,
    )
    has(svg, "spectra per bin")
    lacks(svg, "(in parentheses: fewer than 30)", "(0)", "fewer than 30 spectra (off the line)")
    svg = figures.binned_lines(
        SVG,
        [1.0, 3.0, 5.5, 7.0],
        {n: v[:3] + [0.8] for n, v in series.items()},
        xlabel="snr",
        ylabel="r2.log_g",
        small=[True, False, False, False],
        n=[12, 969, 755, 400],
        min_n=30,
    )
    has(svg, "spectra per bin (in parentheses: fewer than 30)", "(12)")


def test_binned_bars_say_fewer_than_only_for_a_bin_drawn_hollow():
    series = {"a": [0.4, 0.6, float("nan")], "b": [0.45, 0.62, float("nan")]}
    for dots in (False, True):
        svg = figures.binned_bars(
            SVG,
            ["0–2", "2–4", "≥ 4"],
            series,
            ylabel="r2.log_g",
            small=[False, False, True],
            n=[100, 200, 1],
            min_n=30,
            dots=dots,
        )
        lacks(svg, "fewer than 30 spectra")


def test_a_binned_figure_of_snr_gets_a_log_axis_in_plain_numbers():
    svg = figures.binned_lines(
        SVG, [1.5, 4.0, 12.0, 40.0], {"a": [0.3, 0.5, 0.7, 0.8]}, xlabel="snr", ylabel="r2.log_g"
    )
    exactly(svg, "S/N", "2", "5", "10", "20")
    linear = figures.binned_lines(
        SVG, [1.5, 3.0, 4.5, 6.0], {"a": [0.3, 0.5, 0.7, 0.8]}, xlabel="snr", ylabel="r2.log_g"
    )
    exactly(linear, "3", "4")  # a linear axis: 1-2-5 steps of a log one have no 3 or 4
    assert not {"10", "20"} & set(texts(linear))


def test_binned_bars_say_n_under_each_bin_and_mark_small_and_empty_bins():
    labels = ["0–2", "2–4", "4–7", "7–100"]
    series = {"base": [0.4, 0.6, 0.8, float("nan")], "cand": [0.45, 0.62, 0.84, float("nan")]}
    ivs = {n: [{"lo": v - 0.02, "hi": v + 0.02} for v in s] for n, s in series.items()}
    for dots in (False, True):
        svg = figures.binned_bars(
            SVG,
            labels,
            series,
            ylabel="r2.log_g",
            small=[False, False, True, True],
            intervals=ivs,
            n=[100, 200, 12, 0],
            min_n=30,
            roles=ROLES,
            dots=dots,
        )
        has(
            svg,
            "n = 100",
            "n = 12, few",
            "no spectra",
            "fewer than 30 spectra",
            "base (baseline)",
            "cand (best)",
            r"$R^2$ of $\log g$",
        )
        assert {k: len(v) for k, v in intervals(svg).items()} == {"interval-base": 2, "interval-cand": 2}
        assert "small-cand" in ids(svg)


def test_a_delta_figure_says_who_minus_whom_which_way_is_better_and_where_no_delta_exists():
    deltas = {
        "cand": [{"value": 0.02, "lo": 0.01, "hi": 0.03}, None],
        "other": [{"value": -0.01, "lo": -0.02, "hi": 0.0}, None],
    }
    svg = figures.delta_bars(
        SVG,
        ["Cool", "Hot"],
        deltas,
        ylabel="r2.log_g",
        reference="base",
        n=[300, 4],
        small=[False, True],
        min_n=30,
        roles=ROLES,
    )
    has(
        svg,
        "cand (best) − base",
        "other − base",
        "paired bootstrap 95 % interval",
        "no Δ: fewer than 30 spectra",
        r"Δ $R^2$ of $\log g$ (↑ trial better)",
    )
    assert {k: len(v) for k, v in intervals(svg).items()} == {"interval-cand": 1, "interval-other": 1}
    assert "zero-line" in ids(svg)
    mae = figures.delta_bars(SVG, ["Cool", "Hot"], deltas, ylabel="mae.log_g", reference="base")
    has(mae, r"Δ MAE of $\log g$ [dex] (↓ trial better)")


# ---------------------------------------------------------------------------------------------
# The other kinds


def test_pred_vs_true_has_a_labelled_one_to_one_line_and_a_colour_bar():
    rng = np.random.default_rng(0)
    truth = rng.normal(3, 1, 400)
    svg = figures.pred_vs_true(SVG, truth, truth + rng.normal(0, 0.2, 400), target="log_g", title="cand: $R^2$ = 0.96")
    has(
        svg,
        r"true $\log g$ [dex]",
        r"predicted $\log g$ [dex]",
        "1:1 (prediction = truth)",
        "spectra per hexagon",
        "cand: $R^2$ = 0.96",
    )
    assert "one-to-one" in ids(svg) and "colorbar" in ids(svg)


def test_a_sweep_over_alpha_is_on_a_log_axis_with_intervals_and_the_best_marked():
    xs = [10.0, 100.0, 1e3, 1e4, 1e5]
    ys = [0.66, 0.67, 0.69, 0.71, 0.55]
    svg = figures.sweep(
        SVG,
        xs,
        ys,
        [f"a{k}" for k in range(5)],
        xlabel="model.alpha",
        ylabel="r2.log_g",
        intervals=[{"lo": y - 0.01, "hi": y + 0.01} for y in ys],
        best="a3",
    )
    has(svg, r"$\alpha$", r"$R^2$ of $\log g$", "best candidate (a3)", "95 % bootstrap interval", "10^{")
    assert len(intervals(svg)["interval-sweep"]) == 5
    lacks(svg, "baseline", "reference")
    marked = figures.sweep(
        SVG,
        xs,
        ys,
        [f"a{k}" for k in range(5)],
        xlabel="model.alpha",
        ylabel="r2.log_g",
        roles=Roles(best="a3", baseline="a0", references=("a4",)),
    )
    has(marked, "best candidate (a3)", "baseline", "reference")
    has(
        figures.sweep(SVG, [1, 2, 3], [0.5, 0.6, 0.7], ["x", "y", "z"], xlabel="train.epochs", ylabel="r2.log_g"),
        "epochs",
    )
    lacks(
        figures.sweep(SVG, [1, 2, 3], [0.5, 0.6, 0.7], ["x", "y", "z"], xlabel="train.epochs", ylabel="r2.log_g"),
        "10^{",
    )


def test_the_weights_figure_explains_its_boxes_and_the_uniform_line():
    w = np.random.default_rng(1).dirichlet(np.ones(3), 50)
    svg = figures.weight_distribution(SVG, {"gated": w})
    has(
        svg,
        "gate weight",
        "expert",
        "median",
        "mean",
        "box: quartiles; whiskers: 1.5 × IQR",
        "uniform (1 / experts)",
        "gated (n = 50)",
    )
    assert "uniform-weight" in ids(svg)


def test_the_bootstrap_figure_draws_each_interval_and_the_line_of_no_difference():
    rng = np.random.default_rng(2)
    samples = {"cand": rng.normal(0.02, 0.005, 500), "other": rng.normal(-0.01, 0.004, 500)}
    found = {
        n: {"value": float(np.mean(s)), "lo": float(np.quantile(s, 0.025)), "hi": float(np.quantile(s, 0.975))}
        for n, s in samples.items()
    }
    svg = figures.bootstrap_distribution(SVG, samples, found, xlabel="r2.log_g", reference="base", roles=ROLES)
    has(
        svg,
        r"Δ $R^2$ of $\log g$ (trial better →)",
        "cand (best) − base",
        "other − base",
        "Δ = 0: no difference",
        "resamples per bin",
    )
    drawn = intervals(svg)
    assert set(drawn) == {"interval-cand", "interval-other"} and "zero-line" in ids(svg)
    widths = {n: abs(drawn[f"interval-{n}"][0][2] - drawn[f"interval-{n}"][0][0]) for n in samples}
    expected = {n: found[n]["hi"] - found[n]["lo"] for n in samples}
    assert widths["cand"] / widths["other"] == pytest.approx(expected["cand"] / expected["other"], rel=1e-3)


def test_the_heatmap_has_a_colour_bar_labels_and_the_median_line():
    rng = np.random.default_rng(3)
    svg = figures.heatmap(
        SVG,
        {"gated": rng.uniform(1, 60, 400)},
        {"gated": rng.uniform(0, 1, 400)},
        xlabel="snr",
        ylabel="extra.gate_entropy",
    )
    has(svg, "S/N", "gate entropy [nats]", "spectra per cell (log scale)", "median per S/N bin", "gated (n = 400)")
    exactly(svg, "10", "20")  # log S/N axis (1 … 60) in plain numbers
    assert "colorbar" in ids(svg) and "median-gated" in ids(svg)


def test_the_ablation_figure_colours_by_what_the_interval_says():
    deltas = {
        "up": {"value": 0.02, "lo": 0.01, "hi": 0.03},
        "down": {"value": -0.02, "lo": -0.03, "hi": -0.01},
        "flat": {"value": 0.001, "lo": -0.01, "hi": 0.012},
    }
    svg = figures.ablation(SVG, deltas, ylabel="r2.log_g", reference="base")
    has(
        svg,
        "better than base",
        "worse than base",
        "interval includes 0",
        "paired bootstrap 95 % interval",
        "+0.0200 [+0.0100, +0.0300]",
        r"Δ $R^2$ of $\log g$ vs base (trial better →)",
    )
    assert {k: len(v) for k, v in intervals(svg).items()} == {"interval-up": 1, "interval-down": 1, "interval-flat": 1}
    assert "zero-line" in ids(svg)
    mae = figures.ablation(SVG, {"up": deltas["up"]}, ylabel="mae.log_g", reference="base")
    has(mae, "worse than base")  # a higher MAE is worse
    lacks(mae, "better than base")


# ---------------------------------------------------------------------------------------------
# Bytes: deterministic, in the format asked


DRAWINGS = {
    "bar": lambda p: figures.bar(
        p, VALUES, ["mae.log_g"], best="cand", baseline="base", intervals=_intervals(VALUES, WIDTHS)
    ),
    "lines": lambda p: figures.binned_lines(
        p, CENTERS, SERIES, xlabel="T_eff", ylabel="bias.log_g", intervals=BIN_INTERVALS, n=[1, 2, 3, 4], roles=ROLES
    ),
    "pred": lambda p: figures.pred_vs_true(
        p, np.linspace(0, 5, 200), np.linspace(0, 5, 200) ** 1.02, target="log_g", title="t"
    ),
    "heatmap": lambda p: figures.heatmap(
        p, {"a": np.linspace(1, 50, 300)}, {"a": np.sin(np.arange(300)) ** 2}, xlabel="snr", ylabel="gate_entropy"
    ),
}


@pytest.mark.parametrize("kind", sorted(DRAWINGS))
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".pdf", b"%PDF-"), (".png", b"\x89PNG\r\n\x1a\n")])
def test_the_same_call_gives_the_same_bytes_in_the_format_asked(kind, suffix, magic):
    one = DRAWINGS[kind](Path("f" + suffix))
    assert one.startswith(magic) and DRAWINGS[kind](Path("f" + suffix)) == one
    if suffix == ".pdf":
        assert b"CreationDate" not in one and b"Matplotlib" not in one
    if suffix == ".svg":
        assert b"<dc:date>" not in one


def test_the_format_argument_wins_over_the_suffix_and_an_unknown_one_is_refused():
    assert DRAWINGS["bar"](Path("f.png")).startswith(b"\x89PNG")
    assert figures.bar(Path("f.png"), VALUES, ["mae.log_g"], best=None, baseline=None, fmt="pdf").startswith(b"%PDF-")
    with pytest.raises(ValueError, match="jpg"):
        DRAWINGS["bar"](Path("f.jpg"))


def test_the_style_does_not_leak_into_whoever_draws_next():
    import matplotlib

    before = matplotlib.rcParams["svg.fonttype"], matplotlib.rcParams["axes.spines.top"]
    DRAWINGS["bar"](SVG)
    assert (matplotlib.rcParams["svg.fonttype"], matplotlib.rcParams["axes.spines.top"]) == before


# ---------------------------------------------------------------------------------------------
# The spec's Figure


def test_a_figure_takes_a_format_that_must_agree_with_its_file_and_labels():
    assert Figure.model_validate({"kind": "bar", "file": "img/x.pdf"}).image_format == "pdf"
    assert Figure.model_validate({"kind": "bar", "file": "img/x.svg", "format": "svg"}).image_format == "svg"
    with pytest.raises(ValidationError, match=r"format svg but the file 'img/x.png' ends in \.png"):
        Figure.model_validate({"kind": "bar", "file": "img/x.png", "format": "svg"})
    with pytest.raises(ValidationError, match=r"\.png, \.svg or \.pdf"):
        Figure.model_validate({"kind": "bar", "file": "img/x.jpg"})
    with pytest.raises(ValidationError):
        Figure.model_validate({"kind": "bar", "file": "img/x.png", "format": "jpg"})
    fig = Figure.model_validate({"kind": "bar", "file": "img/x.png", "labels": {"mae.log_g": "MAE [dex]"}})
    assert fig.labels == {"mae.log_g": "MAE [dex]"}


# ---------------------------------------------------------------------------------------------
# Through a run: intervals, per-bin intervals, labels and formats reach the files


def test_a_run_draws_its_figures_with_the_reports_intervals_labels_and_formats(small_notebook):
    from engine.cli import main
    from engine.text import document

    root, report = small_notebook
    text = report.read_text(encoding="utf-8")
    text = (
        text.replace(
            "figures:\n  - {kind: bar, file: img/bar.png}\n",
            """\
binned:
  - {metric: bias.log_g, by: T_eff, edges: [3750, 4500, 5250, 6000], min_n: 5}
figures:
  - {kind: bar, file: img/bar.svg, format: svg, labels: {mae.log_g: "mean abs. error [dex]"}}
  - {kind: binned, binned: 0, file: img/bias.svg}
  - {kind: sweep, param: model.alpha, file: img/alpha.pdf}
""",
        )
        + "\n<!-- research:binned -->\n<!-- /research:binned -->\n"
    )
    report.write_text(text, encoding="utf-8")
    assert main(["run", str(report), "--no-commit"]) == 0
    img = report.parent / "img"
    bar = (img / "bar.svg").read_bytes()
    has(bar, "mean abs. error [dex]", r"$R^2$ of $\log g$", "baseline", "95 % bootstrap interval")
    assert len([k for k in intervals(bar) if k.startswith("interval-mae.log_g-")]) == 2
    bias = (img / "bias.svg").read_bytes()
    has(bias, r"$T_{\rm eff}$ [K]", r"bias of $\log g$ [dex]", "spectra per bin", "base (baseline)")
    per_bin = intervals(bias)
    assert set(per_bin) == {"interval-base", "interval-cand"} and all(len(v) >= 2 for v in per_bin.values())
    assert (img / "alpha.pdf").read_bytes().startswith(b"%PDF-")
    body = document.regions(report.read_text(encoding="utf-8"))["figures"].body
    assert "(img/alpha.pdf)" in body and "per trial (best by r2.log_g: cand) with 95 % bootstrap intervals" in body
    assert "Error bars: 95 % bootstrap intervals. Spectra per bin:" in body
