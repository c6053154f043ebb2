"""A sweep or line figure's `y:`: any metric, or a number each trial's model reported
(`info.<key>`: a ridge's chosen α against N), and hand-written trials beside a grid shown under
their own names — never as a step of the sweep, nor as `α = v0` / `noise.level = None`.

One real run (ridge on tiny synthetic spectra, its α chosen by GCV from a path, so what it chose
moves with N and the noise), read back from the report's figures region, the SVGs and the run
store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import git_notebook
from pydantic import ValidationError
from test_figures_style import has, ids, lacks

from engine.render import quantities
from engine.spec.report_config import Figure
from engine.text import document

RESEARCH = str(Path(sys.executable).with_name("research"))

SPEC = """\
---
id: EXP-Y
title: the chosen alpha against N
data: {source: synthetic, n_train: 300, n_test: 120, targets: [log_g]}
noise: {level: 1.0}
model: {type: ridge, alphas: [1.0e-2, 1.0e-1, 1, 10, 100, 1000, 1.0e+4, 1.0e+5]}
trials:
  fixed: {model: {type: ridge, alpha: 1000}}
  lgb: {model: {type: lightgbm, features: "binned:8", n_estimators: 20}}
sweep:
  data.n_train: [200, 400]
  noise.level: [0.3, 3.0]
metrics: [r2.log_g, mae.log_g]
figures:
  - {kind: sweep, param: data.n_train, y: info.alpha.log_g, file: img/alpha_n.svg}
  - {kind: line, x: data.n_train, group: noise.level, y: info.alpha.log_g, file: img/alpha_lines.svg}
  - {kind: line, x: data.n_train, group: noise.level, y: mae.log_g, file: img/mae_lines.svg}
  - {kind: sweep, param: data.n_train, y: info.best_epoch, file: img/epochs.svg}
---
# Chosen α against N

<!-- research:results -->
<!-- /research:results -->

<!-- research:figures -->
<!-- /research:figures -->

<!-- research:record -->
<!-- /research:record -->
"""

GRID = ["n_train-200.level-0.3", "n_train-200.level-3", "n_train-400.level-0.3", "n_train-400.level-3"]


def _stored_info(root: Path) -> dict[str, dict]:
    """Each trial's `info` as the run store keeps it, by trial name."""
    out = {}
    for path in (root / ".research" / "runs").glob("*/*/record.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        out[record["trial"]] = record["info"]
    return out


def _caption(figures: str, image: str) -> str:
    """The caption under the figure linked as `image` (the line after its image link)."""
    after = figures.split(f"({image})", 1)[1]
    return re.sub(r"^\*\*Figure \d+\.\*\* ", "", after.strip().split("\n", 1)[0])


def _y_ticks(svg: bytes) -> list[str]:
    """The y axis's tick labels (matplotlib names each tick's group `ytick_<k>`): plain text, or
    the source of a mathtext one (`10^{3}`)."""
    out = []
    for name, el in ids(svg).items():
        if name.startswith("ytick_"):
            raw = ET.tostring(el, encoding="unicode")
            out += ["".join(e.itertext()).strip() for e in el.iter() if e.tag.endswith("}text")]
            out += re.findall(r"10\^\{-?\d+\}", raw)
    return [t for t in out if t]


def _one_two_five(tick: str) -> bool:
    """A log axis's tick: 1, 2 or 5 times a power of ten, or a power of ten itself."""
    if tick.startswith("10^"):
        return True
    value = float(tick.replace("−", "-"))
    return value > 0 and f"{value:e}"[0] in "125" and float(f"{value:e}".split("e")[0]) in (1.0, 2.0, 5.0)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The report run once through the CLI: (root, figures region)."""
    root = git_notebook(tmp_path_factory.mktemp("y") / "nb", {"exp.md": SPEC})
    done = subprocess.run([RESEARCH, "run", "exp.md", "--no-commit"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = document.regions((root / "exp.md").read_text(encoding="utf-8"))["figures"].body
    return root, figures


def test_a_sweep_figure_draws_what_each_model_chose_and_the_hand_written_trial_by_name(ran):
    root, figures = ran
    info = _stored_info(root)
    chosen = {name: info[name]["alpha"]["log_g"] for name in [*GRID, "fixed"]}
    assert chosen["fixed"] == 1000.0
    assert len({chosen[name] for name in GRID}) > 1, chosen  # GCV chose by N and noise: a curve, not a line

    caption = _caption(figures, "img/alpha_n.svg")
    assert caption.startswith("chosen α of log_g (info.alpha.log_g) against data.n_train: ")
    for name in GRID:  # each sweep point at its N with the α its model chose, as the store holds it
        n = 200 if "n_train-200" in name else 400
        assert f"{name} ({n}) {chosen[name]:.4g}" in caption
    assert f"Apart from the sweep, under their own names: fixed (300) {chosen['fixed']:.4g}." in caption
    assert "Left out, with no number at info.alpha.log_g: lgb." in caption

    svg = (root / "img" / "alpha_n.svg").read_bytes()
    has(svg, r"chosen $\alpha$ of $\log g$", r"$N_{\rm train}$", "fixed")
    assert "trial-fixed" in ids(svg)  # the hand-written trial: a marker of its own, off the curve
    ticks = _y_ticks(svg)
    assert ticks and all(_one_two_five(t) for t in ticks), ticks  # a chosen α spans decades: a log axis


def test_a_line_figure_of_an_info_value_has_a_line_per_group_and_says_nothing_it_cannot(ran):
    root, figures = ran
    info = _stored_info(root)
    caption = _caption(figures, "img/alpha_lines.svg")
    assert caption.startswith("chosen α of log_g (info.alpha.log_g) against data.n_train, one line per noise.level: ")
    for level in ("0.3", "3"):
        values = ", ".join(f"{n} {info[f'n_train-{n}.level-{level}']['alpha']['log_g']:.4g}" for n in (200, 400))
        assert f"noise.level = {level}: {values}" in caption
    assert "under their own names: fixed (300) 1000" in caption
    assert "error bars" not in caption  # nothing resamples what a model chose
    svg = (root / "img" / "alpha_lines.svg").read_bytes()
    has(svg, "noise level = 0.3", "noise level = 3", "fixed")
    section = figures.split("(img/alpha_lines.svg)", 1)[1].split("![", 1)[0]
    assert "Key observations" not in section  # the rules speak of a metric's optimum: none for a chosen α


def test_a_metric_line_figure_names_the_hand_written_trial_and_never_a_stand_in(ran):
    root, figures = ran
    caption = _caption(figures, "img/mae_lines.svg")
    assert caption.startswith("mae.log_g against data.n_train, one line per noise.level (error bars")
    assert re.search(r"under their own names: fixed \(300\) \d\.\d{4} dex, lgb \(300\) \d\.\d{4} dex", caption)
    svg = (root / "img" / "mae_lines.svg").read_bytes()
    has(svg, "fixed", "lgb", r"MAE of $\log g$ [dex]")
    assert {"trial-fixed", "trial-lgb", "interval-fixed", "interval-lgb"} <= set(ids(svg))
    for shown in (figures, (root / "img" / "alpha_lines.svg").read_text(encoding="utf-8")):
        assert "v0" not in shown and "= None" not in shown
    lacks(svg, "= v0", "= None")
    assert not all(_one_two_five(t) for t in _y_ticks(svg))  # a metric's axis stays linear, as it was


def test_an_info_value_no_model_reported_is_a_note_under_the_figure_not_a_crash(ran):
    root, figures = ran
    assert not (root / "img" / "epochs.svg").exists()
    assert (
        "(no sweep figure: none of the trials it shows reported info.best_epoch; fixed reported info.alpha" in figures
    )


def test_an_unknown_metric_as_y_is_a_located_error_before_anything_trains(tmp_path):
    spec = SPEC.replace("y: mae.log_g", "y: mea.log_g")
    root = git_notebook(tmp_path / "nb", {"exp.md": spec})
    done = subprocess.run([RESEARCH, "run", "exp.md", "--no-commit"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    line = spec.splitlines().index(next(s for s in spec.splitlines() if "mea.log_g" in s)) + 1
    assert f"exp.md:{line}" in done.stderr and "unknown metric 'mea'" in done.stderr
    assert "did you mean" in done.stderr.lower() or "mae" in done.stderr
    assert not (root / ".research" / "runs").exists() or not any((root / ".research" / "runs").rglob("record.json"))


def test_y_is_a_metric_or_an_info_path_and_only_for_sweep_and_line():
    sweep = {"kind": "sweep", "param": "data.n_train", "file": "f.svg"}
    assert Figure.model_validate({**sweep, "y": "mae.M_H"}).y == "mae.Fe_H"  # a metric, as metrics are read
    assert Figure.model_validate({**sweep, "y": "info.alpha.M_H"}).y == "info.alpha.Fe_H"
    assert Figure.model_validate({**sweep, "y": "info.n_params"}).y == "info.n_params"
    for bad, message in [
        ("info", "expected info.<key>"),
        ("info.alpha..log_g", "expected info.<key>"),
        ("r3.log_g", "unknown metric 'r3'"),
    ]:
        with pytest.raises(ValidationError, match=re.escape(message)):
            Figure.model_validate({**sweep, "y": bad})
    with pytest.raises(ValidationError, match="`y:` is for sweep and line figures, not bar"):
        Figure.model_validate({"kind": "bar", "file": "f.svg", "y": "mae.log_g"})
    line = {"kind": "line", "x": "data.n_train", "group": "model.alpha", "file": "f.svg"}
    with pytest.raises(ValidationError, match="not both"):
        Figure.model_validate({**line, "y": "mae.log_g", "metric": "r2.log_g"})
    assert "info.<key>" in json.dumps(Figure.model_json_schema()["properties"]["y"])  # `research spec --schema`


def test_info_values_have_quantity_words_and_a_log_axis_over_decades():
    assert quantities.label("info.alpha.log_g") == r"chosen $\alpha$ of $\log g$"
    assert quantities.label("info.receptive_field") == "receptive field [pixels]"
    assert quantities.label("info.some_new_key") == "info.some_new_key"  # unknown: the key itself
    assert quantities.log_scale("info.alpha.log_g", [10, 1e4]) and not quantities.log_scale("info.best_epoch", [3, 40])
    assert quantities.direction("info.alpha.log_g") is None  # what a model chose ranks nothing
