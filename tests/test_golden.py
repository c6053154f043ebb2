"""The golden files of tests/golden/: observations in both languages, as a reviewer reads them
(see tests/golden.py for the format and how to update them)."""

from __future__ import annotations

from pathlib import Path

import golden
import pytest

from engine.render import observations

GOLDEN = Path(__file__).parent / "golden"


def _observe(case: golden.Case, lang: str) -> str:
    args = dict(case.args)
    call = getattr(observations, args.pop("call"))
    return golden.as_lines(call(**args, lang=lang))


def test_observations_match_their_golden_file():
    assert golden.check(GOLDEN / "observations.md", _observe) == []


def test_a_golden_file_holds_every_case_in_both_languages():
    _, cases = golden.read(GOLDEN / "observations.md")
    assert len(cases) >= 10 and all(set(case.expected) == {"en", "zh"} for case in cases)
    assert all(case.expected["en"].strip() and case.expected["zh"].strip() for case in cases)


def test_a_changed_sentence_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "UPDATE", False)  # a comparison, even while the others are being rewritten
    path = tmp_path / "g.md"
    preamble, cases = golden.read(GOLDEN / "observations.md")
    cases[0].expected["en"] = "something else\n"
    golden.write(path, preamble, cases)
    assert golden.check(path, _observe) == [f"{cases[0].title} [en]"]


# ---------------------------------------------------------------------------------------------
# The regions of a report, end to end: a real run (synthetic spectra, the bootstrap, the rules)
# of a model whose numbers are elementwise arithmetic on the labels (no BLAS, no training), so
# that its regions are the same bytes on every CPU.

ORACLE = '''\
import numpy as np


class Oracle:
    """The truth plus noise × sd(y) · N(0, 1), drawn from the training seed: a model whose error
    is set by hand and moves with its seed as a net's does."""

    def __init__(self, params, train, targets):
        self.noise, self.targets, self.seed = float(params.get("noise", 0.1)), list(targets), int(train.get("seed") or 0)

    def fit(self, train, val=None, *, log=print, progress=None):
        self.sd = train.labels(self.targets).std(axis=0)

    def predict(self, split):
        y = split.labels(self.targets)
        return y + self.noise * self.sd * np.random.default_rng(self.seed).standard_normal(y.shape)


def make(params, train, targets):
    return Oracle(params, train, targets)
'''

SPEC = """\
---
id: EXP-GOLDEN
title: a sharper oracle
language: {lang}
hub: ../../../hubs/hub.md
answers: [Q1.1]
data: {{source: synthetic, n_train: 400, n_test: 400, targets: [log_g, T_eff]}}
noise: {{level: 1.0}}
model: {{type: "oracle:make", noise: 0.5}}
train: {{seed: 42}}
repeats: 3
trials:
  blunt: {{}}
  sharp: {{model.noise: 0.3}}
  sharper: {{model.noise: 0.25}}
metrics: [r2.log_g, mae.log_g, mae.T_eff]
binned:
  - {{metric: mae.log_g, by: T_eff, edges: [3750, 4500, 5250, 6000]}}
comparisons:
  - {{a: sharper, b: sharp, metrics: [r2.log_g, mae.log_g]}}
decision:
  baseline: blunt
  rules:
    - when: best.r2.log_g > baseline.r2.log_g + 0.02
      verdict: pass
      says: "less noise, a better fit ({{{{ best.r2.log_g }}}} vs {{{{ baseline.r2.log_g }}}})"
    - otherwise: fail
      says: less noise does not help
key_numbers:
  - {{label: best log g R², value: best.r2.log_g}}
  - {{label: blunt log g MAE, value: trials.blunt.mae.log_g}}
---
"""
HUB = "# Hub\\n\\n```\\nQ1: does noise matter?\\n└── Q1.1: is a sharper oracle better? → ⏳ MVP-1\\n```\\n"
SHOWN = ("summary", "hypotheses", "key-numbers", "results", "binned", "comparisons")


def _report_regions(tmp_path, lang: str) -> str:
    from conftest import git_notebook, report_body

    from engine.cli import main
    from engine.text import document

    root = git_notebook(
        tmp_path,
        {
            "oracle.py": ORACLE,
            "hubs/hub.md": HUB,
            "research/t/exp/exp_golden.md": SPEC.format(lang=lang) + report_body(*SHOWN, log=True),
        },
    )
    assert main(["run", str(root / "research/t/exp/exp_golden.md"), "--no-commit"]) == 0
    regions = document.regions((root / "research/t/exp/exp_golden.md").read_text(encoding="utf-8"))
    return "".join(f"<!-- {name} -->\n{regions[name].body}\n" for name in SHOWN)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_regions_of_a_run_match_their_golden_file(tmp_path, monkeypatch, lang):
    monkeypatch.chdir(tmp_path)
    assert golden.same_file(GOLDEN / "regions" / f"{lang}.md", _report_regions(tmp_path, lang))
