"""Live numbers in prose (`<!-- research:value EXPR -->0.93<!-- /research:value -->`) and stale
numbers in prose (`research check` names the line that still quotes an earlier run's result).

The notebook is the conftest's small git notebook: two Ridge trials on a few hundred synthetic
spectra, already in the run store; a `--set` makes one of them train again, for real.
"""

import pytest
from conftest import git

from engine.cli import main
from engine.errors import DocumentError
from engine.render import live
from engine.text import document

SPAN = "<!-- research:value trials.cand.r2.log_g -->?<!-- /research:value -->"


def add_prose(report, line: str) -> None:
    text = report.read_text(encoding="utf-8")
    report.write_text(text.replace("用户写的前言。\n", f"用户写的前言。\n\n{line}\n"), encoding="utf-8")


def shown(report) -> list[str]:
    return [s.shown for s in live.spans(report.read_text(encoding="utf-8"))]


def key_number(report) -> str:
    body = document.regions(report.read_text(encoding="utf-8"))["key-numbers"].body
    row = next(line for line in body.splitlines() if line.startswith("| cand log g R²"))
    return row.split("|")[2].strip()


# ---------------------------------------------------------------------------------------------
# The span, as text


def test_a_span_shows_only_its_number_and_the_rest_of_the_line_is_kept():
    text = f"# T\n\nThe candidate reaches {SPAN} on the test set.\n"
    [span] = live.spans(text)
    assert (span.source, span.line, span.shown) == ("trials.cand.r2.log_g", 3, "?")

    filled = live.fill(text, {"trials.cand.r2.log_g": "0.9310"})

    assert filled == text.replace(">?<", ">0.9310<")
    assert document.regions(filled) == {}  # a span is not a region marker, even at the start of a line
    assert live.spans("<!-- research:value best.r2.log_g -->1<!-- /research:value --> first\n")[0].shown == "1"


def test_a_span_in_code_is_text_and_a_span_left_open_is_an_error():
    assert live.spans(f"```\n{SPAN}\n```\n\nquoted: `{SPAN}`\n") == []
    with pytest.raises(DocumentError, match="not closed on its line") as caught:
        live.spans("# T\n\nsays <!-- research:value best.r2.log_g -->0.9\n")
    assert caught.value.line == 3


# ---------------------------------------------------------------------------------------------
# A run keeps them true


def test_a_run_writes_the_live_number_as_the_key_numbers_show_it_and_a_rerun_updates_it(small_notebook):
    root, report = small_notebook
    add_prose(report, f"The candidate reaches {SPAN} (R²).")
    git(root, "commit", "-qam", "a live number")

    assert main(["run", str(report)]) == 0
    first = key_number(report)
    assert shown(report) == [first] and first.startswith("0.") and len(first) == 6  # R² to 4 decimals
    assert "a live number" in git(root, "log", "--format=%s", "-n", "2")  # the run committed on top

    assert main(["run", str(report), "--set", "trials.cand.model.alpha=1.0e+4"]) == 0  # cand trains again
    second = key_number(report)
    assert second != first and shown(report) == [second]
    assert "(R²)." in report.read_text(encoding="utf-8")


def test_a_new_span_in_a_cached_report_is_filled_without_training(small_notebook, capsys):
    root, report = small_notebook
    assert main(["run", str(report)]) == 0
    add_prose(report, f"Now quoted: {SPAN}.")
    capsys.readouterr()

    assert main(["run", str(report)]) == 0

    assert shown(report) == [key_number(report)]
    assert "up to date" not in capsys.readouterr().out


def test_a_bad_expression_in_a_span_stops_the_run_before_training(small_notebook, capsys):
    root, report = small_notebook
    add_prose(report, "Broken: <!-- research:value trials.nope.r2.log_g -->?<!-- /research:value -->.")
    before = report.read_bytes()
    store = sorted(p.name for p in (root / ".research").rglob("*") if p.is_file())

    code = main(["run", str(report), "--set", "trials.cand.model.alpha=3.0e+3"])

    err = capsys.readouterr().err
    assert code == 2
    assert f"{report}:" in err and "nope" in err and "Traceback" not in err
    assert report.read_bytes() == before  # not even `status: running`
    assert sorted(p.name for p in (root / ".research").rglob("*") if p.is_file()) == store  # nothing trained


# ---------------------------------------------------------------------------------------------
# Stale prose: `research check` names the line that quotes an earlier run's number


def test_check_names_the_line_whose_prose_still_quotes_the_previous_result(small_notebook, capsys):
    root, report = small_notebook
    assert main(["run", str(report)]) == 0
    first = key_number(report)
    add_prose(report, f"We found that the candidate reaches {first}, a clear gain.")
    git(root, "commit", "-qam", "prose quotes the result")
    capsys.readouterr()
    assert main(["check", str(report)]) == 0  # the prose agrees with the results: nothing said

    assert main(["run", str(report), "--set", "trials.cand.model.alpha=1.0e+4"]) == 0
    second = key_number(report)
    assert second != first
    capsys.readouterr()

    assert main(["check", str(report)]) == 1
    out = capsys.readouterr().out
    line = next(
        i
        for i, text in enumerate(report.read_text(encoding="utf-8").splitlines(), 1)
        if first in text and "clear gain" in text
    )
    assert f"{report}:{line}: stale prose: still says {first}" in out
    assert f"the results now say {second}" in out
    assert out.count("stale prose") == 1  # the dates, the log, the commit hashes: not results


def test_prose_numbers_ignore_short_numbers_code_dates_and_live_spans():
    from engine.browse.quoted import numbers, prose_numbers, significant

    assert [significant(t) for t in ("0.9213", "+0.0097", "0.05", "816", "1000", "12.5")] == [4, 2, 1, 3, 1, 3]
    assert [n.text for n in numbers("R² 0.9213 on 2026-02-03 at 10:15, `0.4444` in code, 3 bins, −0.1234")] == [
        "0.9213",
        "−0.1234",
    ]
    text = (
        f"# T\n\nsays 0.8765 and {SPAN.replace('?', '0.5555')}\n\n```\n0.7777\n```\n\n"
        "<!-- research:results -->\n0.6666\n<!-- /research:results -->\n"
    )
    assert [(line, n.text) for line, n in prose_numbers(text)] == [(3, "0.8765")]


def test_a_missing_image_is_named_with_its_line(small_notebook, capsys):
    root, report = small_notebook
    add_prose(report, "![the loss curve](img/nowhere.png)")

    assert main(["check", str(report)]) == 1

    out = capsys.readouterr().out
    line = next(i for i, text in enumerate(report.read_text(encoding="utf-8").splitlines(), 1) if "nowhere" in text)
    assert f"{report}:{line}: image 'img/nowhere.png' does not exist" in out
