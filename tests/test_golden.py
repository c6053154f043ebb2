"""The golden files of tests/golden/: observations in both languages, as a reviewer reads them
(see tests/golden.py for the format and how to update them)."""

from __future__ import annotations

from pathlib import Path

import golden

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


def test_a_changed_sentence_is_named(tmp_path):
    path = tmp_path / "g.md"
    preamble, cases = golden.read(GOLDEN / "observations.md")
    cases[0].expected["en"] = "something else\n"
    golden.write(path, preamble, cases)
    assert golden.check(path, _observe) == [f"{cases[0].title} [en]"]
