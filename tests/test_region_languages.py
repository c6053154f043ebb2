"""Every region a run writes speaks the report's language: a `language: zh` report holds none of
the English words its `language: en` twin holds (but names, metric keys, units, code and the
user's own words), and states the same numbers; the region phrasebooks hold the same phrases.

One real run per language of a small spec (the golden oracle, a Ridge, a one-seed trial, a
binned table, a figure of each kind that draws from what it ran, and three that say why they
draw nothing) on a few hundred synthetic spectra; the figure phrases no such run reaches (a net's
curves, a MoE's gate weights, a heatmap of its extras, a sweep beside a grid) are held to the
same two checks phrase by phrase.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path

import pytest
from test_golden import ORACLE

from engine.render.phrasebook import REGIONS, regions_en

CJK = re.compile(r"[\u4e00-\u9fff]")
REPORT = "research/t/exp/exp_langs.md"
SPEC = """\
---
id: EXP-LANGS
title: two languages
language: {lang}
hub: ../../../hubs/hub.md
answers: [Q1.1]
data: {{source: synthetic, n_train: 300, n_test: 200, targets: [log_g, T_eff]}}
noise: {{level: 1.0}}
model: {{type: "oracle:make", noise: 0.5}}
train: {{seed: 42}}
repeats: 2
trials:
  blunt: {{}}
  sharp: {{model.noise: 0.3}}
  lone: {{model.noise: 0.4, repeats: 1}}
  ridge: {{model: {{type: ridge}}, inputs: {{labels: [Fe_H]}}}}
metrics: [r2.log_g, mae.log_g, info.alpha.log_g]
binned:
  - {{metric: mae.log_g, by: T_eff, edges: [3750, 4500, 5250, 6000], delta: blunt}}
comparisons:
  - {{a: sharp, b: blunt, metrics: [r2.log_g]}}
figures:
  - {{kind: bar, metrics: [r2.log_g], file: img/bars.png}}
  - {{kind: binned, binned: 0, file: img/binned.png}}
  - {{kind: binned_delta, binned: 0, file: img/delta.png}}
  - {{kind: bootstrap, file: img/bootstrap.png}}
  - {{kind: ablation, file: img/ablation.png}}
  - {{kind: pred_vs_true, file: img/scatter.png}}
  - {{kind: sweep, param: model.noise, file: img/sweep.png}}
  - {{kind: sweep, param: data.n_train, y: info.alpha.log_g, trials: [ridge, blunt], file: img/alpha.png}}
  - {{kind: line, x: model.noise, group: train.seed, file: img/line.png}}
  - {{kind: sweep, param: data.n_train, y: info.alpha, trials: [ridge], file: img/keys.png}}
  - {{kind: curves, file: img/curves.png}}
  - {{kind: weights, file: img/weights.png}}
decision:
  baseline: blunt
  references: [ridge]
  rules:
    - when: best.r2.log_g > baseline.r2.log_g + 0.02
      verdict: pass
      says: "sharper helps ({{{{ best.r2.log_g }}}})"
    - otherwise: fail
      says: no help
key_numbers:
  - {{label: sharp log g R², value: trials.sharp.r2.log_g}}
  - {{label: ridge log g R², value: trials.ridge.r2.log_g}}
---
"""
HUB = "# Hub\n\n```\nQ1: does noise matter?\n└── Q1.1: is a sharper oracle better? → ⏳ MVP-1\n```\n"
SHOWN = ("summary", "hypotheses", "key-numbers", "results", "binned", "comparisons", "figures", "reproduce")
#: Words both languages keep: the names of methods and tools, units, what markdown and code hold.
KEPT = {
    "bootstrap",
    "engine",
    "dex",
    "Ridge",
    "ridge",
    "oracle",
    "make",
    "Adam",
    "epoch",
    "CI",
    "CPU",
    "MAE",
    "img",
    "png",
}


def _regions(root: Path, lang: str) -> dict[str, str]:
    from conftest import git_notebook, report_body

    from engine.cli import main
    from engine.text import document

    git_notebook(
        root,
        {
            "oracle.py": ORACLE,
            "hubs/hub.md": HUB,
            REPORT: SPEC.format(lang=lang) + report_body(*SHOWN, log=True),
        },
    )
    assert main(["run", str(root / REPORT), "--no-commit"]) == 0
    found = document.regions((root / REPORT).read_text(encoding="utf-8"))
    bodies = {name: found[name].body for name in SHOWN}
    return {**bodies, "log": found["log"].body.splitlines()[-1]}  # the run's row, under the test's header


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict[str, dict[str, str]]:
    import os

    out = {}
    for lang in ("en", "zh"):
        root = tmp_path_factory.mktemp(lang)
        here = os.getcwd()
        os.chdir(root)
        try:
            out[lang] = _regions(root, lang)
        finally:
            os.chdir(here)
    return out


def _prose(text: str) -> str:
    """A region's words: code fences, code spans, links' targets, the log's date and commit cells
    and the user's own words left out."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^\| [\d-]+ [\d:]+ \|(.*)\| [^|]* \|$", r"\1", text, flags=re.M)
    return text


def _own_words(text: str) -> set[str]:
    """The English words the engine wrote: not a trial's name, a metric key, a key of the spec or
    the user's text (all of it is in the spec, written once for both languages)."""
    spec = set(re.findall(r"[A-Za-z]+", SPEC + HUB))
    return {w for w in re.findall(r"[A-Za-z]{2,}", _prose(text)) if w not in spec and w not in KEPT}


def _numbers(text: str) -> Counter:
    """(A comma after a number is the sentence's, not the number's: `5250–6000, lone` in English,
    `5250–6000；lone` in Chinese.)"""
    return Counter(re.findall(r"[+-]?\d(?:[\d,]*\d)?(?:\.\d+)?", _prose(text)))


def test_a_chinese_report_writes_no_english_word_of_its_english_twin(both):
    for name in (*SHOWN, "log"):
        en, zh = both["en"][name], both["zh"][name]
        english = _own_words(en)
        assert english, name  # the check reads something
        left = sorted(w for w in english if re.search(rf"\b{w}\b", _prose(zh)))
        assert left == [], (name, left, zh)
        assert CJK.search(zh), (name, zh)
        assert not CJK.search(en), (name, en)


def test_both_languages_state_the_same_numbers(both):
    """(The key observations' caveat of one seed says "one" in English, "1" in Chinese: its
    numbers are tests/test_observations.py's to check.)"""
    from engine.render.observations import one_seed

    for name in (*SHOWN, "log"):
        en, zh = (both[lang][name].replace(one_seed(["lone"], lang), "") for lang in ("en", "zh"))
        assert _numbers(en) == _numbers(zh), name


def test_the_run_said_what_the_check_needs(both):
    """The spec reaches every sentence the check above is meant to read."""
    en = both["en"]
    assert "Decided over the joint bootstrap" in en["summary"]
    for said in ("Repeated trials", "⚠ One seed: **lone**", "No training noise (–): **ridge**", "What the models"):
        assert said in en["results"], said
    assert "† fewer than" in en["binned"] or "std of bin means" in en["binned"]
    assert "**Figure 2.**" in en["figures"]
    for said in (
        "Δ mae.log_g per T_eff bin: each trial − blunt",  # binned_delta
        ": largest gain in ",
        "Paired bootstrap distribution of Δ r2.log_g",  # bootstrap
        "Δ r2.log_g of each trial from blunt",  # ablation
        "Predicted vs true log_g for sharp, seed 42",  # pred_vs_true
        "r2.log_g against model.noise: blunt (0.5)",  # sweep
        "Left out, with no number at info.alpha.log_g: blunt.",
        "r2.log_g against model.noise, one line per train.seed (error bars",  # line
        "(no sweep figure: info.alpha holds one value per key (log_g, T_eff)",
        "(no curves figure: none of the trials it shows recorded training curves",
        "(no weights figure: the trials it shows have no result)",
    ):
        assert said in en["figures"], said
    assert "ran blunt.seed-42" in en["log"]
    zh = both["zh"]
    assert "| 试验 | 种子数 |" in zh["results"] and "闭式解" in zh["results"] and "**图 2.**" in zh["figures"]


#: Figure phrases the run above does not reach, each with facts as its caller would give them.
UNREACHED = [
    ("scatter_caption", ("log_g", "ridge", None, "0.9156", 200)),
    ("weights_caption", ([("moe", "0.83"), ("moe_wide", "0.61")],)),
    ("weights_alt", ()),
    ("heatmap_caption", ("gate_entropy", "snr")),
    ("heatmap_alt", ("gate_entropy", "snr")),
    ("top_delta", ("cand", "3750–4500", None)),
    ("sweep_caption", ("r2.log_g", "model.alpha", ["a1 (1) 0.9100"], ["own (10) 0.8500", "base (100) 0.8000"])),
    (
        "lines_caption",
        ("r2.log_g", "data.n_train", "model.alpha", False, [("10", ["300 0.9100", "3000 0.9500"])], ["own (300) 0.9"]),
    ),
    ("along_notes", ("info.alpha", True, ["blunt", "sharp"], ["log_g", "T_eff"])),
    ("no_number", ("rmse.log_g",)),
    ("none_reported", ("info.n_params", "blunt", ["info.alpha", "info.best_epoch"])),
    ("none_reported", ("info.n_params", "blunt", [])),
    ("curves_caption", ("val_loss", [("mlp", 7, 10, True), ("cnn", 9, 9, False)], ["ridge"])),
    ("curves_caption", ("val_r2.log_g", [("mlp", 7, 10, False)], [])),
    ("curves_caption", ("train_loss", [("mlp", 7, 10, True)], ["ridge", "oracle"])),
    ("curves_caption", ("lr", [("mlp", 7, 10, False)], [])),
    ("curves_alt", ("val_loss",)),
]


@pytest.mark.parametrize(("phrase", "facts"), UNREACHED, ids=[f"{p}-{i}" for i, (p, _) in enumerate(UNREACHED)])
def test_the_figure_phrases_no_run_reaches_speak_chinese_with_the_same_numbers(phrase, facts):
    en, zh = (getattr(REGIONS[lang], phrase)(*facts) for lang in ("en", "zh"))
    kept = set(re.findall(r"[A-Za-z]+", repr(facts)))  # the facts' own names and keys
    english = {w for w in re.findall(r"[A-Za-z]{2,}", _prose(en)) if w not in kept and w not in KEPT}
    assert english, en  # the check reads something
    assert sorted(w for w in english if re.search(rf"\b{w}\b", _prose(zh))) == [], zh
    assert CJK.search(zh) and not CJK.search(en), (en, zh)
    assert _numbers(en) == _numbers(zh), (en, zh)


def _phrases(book) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(value)
        for name, value in vars(book).items()
        if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == book.__name__
    }


@pytest.mark.parametrize("lang", sorted(set(REGIONS) - {"en"}))
def test_the_region_phrasebooks_hold_the_same_phrases_with_the_same_signatures(lang):
    english, other = _phrases(REGIONS["en"]), _phrases(REGIONS[lang])
    assert sorted(set(english) ^ set(other)) == []
    assert {name: str(sig) for name, sig in other.items() if sig != english[name]} == {}


def test_every_region_phrase_is_asked_for():
    root = Path(__file__).resolve().parents[1]
    sources = [*root.glob("engine/render/*.py"), *root.glob("templates/regions/*.j2")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    text += Path(REGIONS["zh"].__file__).read_text(encoding="utf-8")  # a phrase may ask another
    unasked = [name for name in _phrases(regions_en) if not re.search(rf"(?<!def ){name}\(", text)]
    assert unasked == []


def test_the_english_words_the_chinese_book_translates_are_those_the_engine_writes():
    """regions_zh translates words other stages write in English (a model's reason for having no
    training noise, an info value's quantity words, how Ridge chose α, what the resamples drew):
    a reworded source must fail here, not fall back to English in a Chinese report."""
    from engine.models.configs import training_noise
    from engine.render.confidence import Evidence
    from engine.render.phrasebook import regions_zh
    from engine.render.quantities import QUANTITIES

    han = re.compile(r"[\u3400-\u9fff]")
    seedless = [
        {"type": "ridge"},
        {"type": "fisher_ceiling"},
        {"type": "lightgbm", "feature_fraction": 1.0, "bagging_fraction": 1.0},
        {"type": "moe", "gate": "oracle"},
    ]
    for model in seedless:
        noise = training_noise(model)
        assert not noise.stochastic and han.search(regions_zh.noise_why(noise.why)), noise.why
    for key, quantity in QUANTITIES.items():
        if key.startswith("info.") and quantity.words:
            said = regions_zh.info_words(quantity.words, None, key).replace(f"({key})", "")
            assert han.search(said) and quantity.words not in said, said  # "epoch" stays, as the user writes it
    for how in ("validation", "gcv"):
        assert how not in regions_zh.alpha_chosen([("log_g", "10")], how, 9), how
    for seeds in ({}, {"a": 5}):
        evidence = Evidence(stochastic={t: True for t in seeds}, seeds=seeds, why={}).words(list(seeds))
        said = regions_zh.held("pass", "97 %", 1000, evidence, [])
        assert "test rows" not in said and han.search(said), said
