"""`research adopt` on a finished report, whatever form its header takes.

The fixture (tests/fixtures/finished_report.md) is a finished report in the user's style: a
header block with the ID on its own line and `Topic ｜ MVP` joined by a full-width bar, design
tables (data, sweep, loss weights), prose that quotes the results, and an appendix with the
overall, per-bin and bootstrap tables. Each test rewrites only its header to try another form.
"""

from pathlib import Path

import pytest
import yaml
from conftest import git

from engine.adopt.legacy import adopt_file, adopt_text, header_line_fields
from engine.browse.check import check_file
from engine.cli import main
from engine.text import document

FIXTURE = Path(__file__).parent / "fixtures" / "finished_report.md"
TEXT = FIXTURE.read_text(encoding="utf-8")
HEADER_END = TEXT.index("\n\n---\n")
BODY = TEXT[HEADER_END:]
TITLE = "# 📘 Experiment Report: Attention pooling head for log g (ViT)\n"
EXPECTED = {
    "id": "VIT-20260203-pool-attn-01",
    "topic": "VIT",
    "mvp": "MVP-3.2",
    "author": "B. Observer",
    "date": "2026-02-03",
}

HEADERS = {
    "own lines, bold, full-width bar": TEXT[:HEADER_END],
    "one line, ASCII bars": TITLE
    + "> **ID:** `VIT-20260203-pool-attn-01` | **Author:** B. Observer | **Date:** 2026-02-03\n"
    "> **Topic:** VIT | **MVP:** MVP-3.2 | **Status:** ✅ Done",
    "Chinese labels, not bold, full-width colons": TITLE
    + "> 编号：VIT-20260203-pool-attn-01\n> 主题 ｜ MVP：VIT ｜ MVP-3.2\n"
    "> 作者：B. Observer ｜ 日期：2026-02-03 ｜ 状态：✅ 完成",
    "a paragraph, emoji before the labels": TITLE + "\n🆔 **ID**: VIT-20260203-pool-attn-01  \n"
    "👤 **Author**: B. Observer ｜ 📅 **Date**: 2026-02-03  \n"
    "**Topic ｜ MVP**: VIT ｜ MVP-3.2",
    "a quote with blank quoted lines between": TITLE + "> **Name:** Attention pooling head\n>\n"
    "> **ID:** VIT-20260203-pool-attn-01\n>\n"
    "> **Topic ｜ MVP:** VIT ｜ MVP-3.2\n> **Author:** B. Observer\n"
    "> **Date:** 2026-02-03",
}


def front(result) -> dict:
    return yaml.safe_load(document.front_matter(result.text).text)


def without_adoption(text: str) -> str:
    fm = document.front_matter(text)
    return document.strip_markers(text[fm.body_start :] if fm else text)


@pytest.mark.parametrize("form", list(HEADERS))
def test_every_header_form_fills_the_front_matter(form):
    text = HEADERS[form] + BODY

    result = adopt_text(text, path="exp_pool.md")

    spec = front(result)
    assert {key: spec.get(key) for key in EXPECTED} == EXPECTED
    assert spec["title"] == "Attention pooling head for log g (ViT)"
    assert "no ID" not in result.summary() and "no ID" not in result.text
    assert without_adoption(result.text) == text  # the words and bytes of the report are all kept


def test_one_header_line_reads_each_form():
    assert header_line_fields("> **Topic ｜ MVP:** VIT ｜ MVP-3.2  ") == [("topic", "VIT"), ("mvp", "MVP-3.2")]
    assert header_line_fields("> 作者：张三 | 日期：2026-01-02") == [("author", "张三"), ("date", "2026-01-02")]
    assert header_line_fields("> **状态:** ✅ Done | **Root:** [hub](../hub.md)") == [("status", "✅ Done")]
    assert header_line_fields("The hypothesis: attention helps.") == []  # a sentence with a colon is not a field
    assert header_line_fields("Hypothesis: Q3.2 holds") == [("hypothesis", "Q3.2 holds")]


def test_the_legacy_status_and_the_hypothesis_are_kept():
    result = adopt_text(TEXT, path="exp_pool.md")

    assert front(result)["status"] == "planned"
    assert "the report said: ✅ Done" in result.text
    assert front(result)["answers"] == ["Q3.2"]  # from "Hypothesis: Q3.2: …" (the links table has no hypothesis table)
    assert "header: id, name, topic, mvp, author, date, status, hypothesis" in result.summary()


def test_a_report_without_an_id_says_so():
    result = adopt_text(TITLE + "> **Author:** B. Observer\n" + BODY, path="exp_pool.md")

    assert front(result)["id"] == "exp_pool"
    assert "no ID found" in result.summary()


# ---------------------------------------------------------------------------------------------
# The appendix's numeric tables


def test_the_appendix_tables_become_the_regions_a_run_fills():
    result = adopt_text(TEXT, path="exp_pool.md")

    found = document.regions(result.text)
    assert {"results", "binned-0", "comparisons"} <= set(found)
    assert "| Attention pool | 0.8537 |" in found["results"].body
    assert "Hot Metal-poor" in found["binned-0"].body and "| 428 |" in found["binned-0"].body
    assert "attn − mean" in found["comparisons"].body
    assert not any(r.edited for r in found.values())
    assert "| GPU | 1 × A100 |" not in "".join(r.body for r in found.values())  # the environment: words, not results
    assert "2.1 Data" not in "".join(r.body for r in found.values())
    assert "results" not in result.missing and "binned" not in result.missing


def test_a_design_table_of_words_under_an_appendix_heading_is_not_wrapped():
    text = "# R\n\n# 6. Appendix\n\n### 6.1.1 Overall\n\n| Method | Note |\n|---|---|\n| a | words |\n"

    result = adopt_text(text)
    assert (
        "results" not in result.found and document.regions(result.text)["results"].body == ""
    )  # appended empty instead


def test_adopting_keeps_crlf_line_endings_and_every_byte(tmp_path):
    path = tmp_path / "exp_pool.md"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))

    adopt_file(path)

    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    text = data.decode("utf-8")
    assert without_adoption(text) == TEXT.replace("\n", "\r\n")


# ---------------------------------------------------------------------------------------------
# The draft spec


def test_the_draft_spec_has_what_the_design_tables_say_and_loads(tmp_path, monkeypatch, capsys):
    (tmp_path / ".research").mkdir()  # a notebook: its pages lie inside it
    (tmp_path / "exp").mkdir()
    (tmp_path / "pool_hub.md").write_text(
        "# Pool hub\n\n```\nQ3: which head? → ⏳\n├── Q3.2: does attention pooling help? → ⏳ MVP-3.2\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "pool_roadmap.md").write_text("# Roadmap\n", encoding="utf-8")
    path = tmp_path / "exp" / "exp_pool.md"
    path.write_text(TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    result = adopt_file(path)

    spec = front(result)
    assert spec["data"]["n_train"] == 24000 and spec["data"]["n_test"] == 640
    assert spec["noise"] == {"level": 0.3}
    assert spec["sweep"] == {"model.alpha": [0.1, 1, 10]}
    fm = document.front_matter(result.text).text
    assert "model: {type: ridge}  # guess:" in fm  # "Mean pool" and "Attention pool" name no model
    assert 'metrics: [r2.log_g, mae.log_g, rmse.log_g]  # read from "Method | R² | MAE | RMSE" (line ' in fm
    assert "# not in the spec, fill by hand if it matters: 1024 pixels" in fm
    assert "fill by hand: 1024 pixels" in result.summary()
    capsys.readouterr()
    assert main(["spec", str(path)]) == 0, capsys.readouterr().err  # the draft is a valid spec
    out = capsys.readouterr().out
    assert "alpha-0.1" in out and "alpha-10" in out  # three trials, one per swept alpha


def test_a_wide_weight_table_gives_a_trial_per_setting_and_a_range_is_a_guess():
    text = (
        TITLE + "> **ID:** X-1\n\n## Data\n\n| Item | Value |\n|---|---|\n| Training spectra | 2,000 - 8,000 |\n"
        "| Targets | log_g, Teff |\n\n## Weights\n\n| Setting | $w_{logg}$ | $w_{Teff}$ |\n|---|---|---|\n"
        "| equal | 1.0 | 1.0 |\n| log g first | 2.0 | 1.0 |\n| by variance | [TBD] | [TBD] |\n"
    )

    result = adopt_text(text, path="exp_w.md")

    spec = front(result)
    assert spec["trials"] == {
        "equal": {"train.loss_weights": {"log_g": 1.0, "T_eff": 1.0}},
        "log-g-first": {"train.loss_weights": {"log_g": 2.0, "T_eff": 1.0}},
    }
    assert spec["data"]["n_train"] == 2000
    assert 'n_train: 2000  # guessed from "Training spectra | 2,000 - 8,000" (line ' in result.text
    assert "the report gives a range (2,000 - 8,000); its first value is taken; check" in result.text
    assert any("by variance" in line for line in result.to_fill)


def test_a_cell_that_only_mentions_a_number_is_not_read():
    text = TITLE + "\n| Item | Value |\n|---|---|\n| Test set | low-noise (top 20% SNR) |\n| Noise level | 0.5 |\n"

    spec = front(adopt_text(text))

    assert "n_test" not in spec["data"] and spec["noise"] == {"level": 0.5}


# ---------------------------------------------------------------------------------------------
# After adoption: the appendix numbers are an earlier run's results, and prose that quotes them
# goes stale when the results change


def test_prose_quoting_the_adopted_appendix_goes_stale_when_the_results_change(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    path = tmp_path / "exp_pool.md"
    path.write_text(TEXT, encoding="utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "pool_r2.png").write_bytes(b"\x89PNG")
    adopt_file(path)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "adopted")
    assert not [p for p in check_file(path) if "stale prose" in p.message]

    text = path.read_text(encoding="utf-8")
    results = document.regions(text)["results"].body.replace("0.8537", "0.8102")
    path.write_text(document.replace_regions(text, {"results": results}), encoding="utf-8")  # what a new run writes

    stale = [p for p in check_file(path) if "stale prose" in p.message]
    # the summary and key-numbers regions still hold 0.8537: only numbers gone from every result count
    assert stale == []
    regions = document.regions(path.read_text(encoding="utf-8"))
    bodies = {n: regions[n].body.replace("0.8537", "0.8102") for n in ("summary", "key-numbers")}
    path.write_text(document.replace_regions(path.read_text(encoding="utf-8"), bodies), encoding="utf-8")

    stale = [p for p in check_file(path) if "stale prose" in p.message]
    lines = path.read_text(encoding="utf-8").splitlines()
    sentence = next(i for i, line in enumerate(lines, 1) if line.startswith("The attention head reaches 0.8537"))
    assert [p.line for p in stale] == [sentence]  # the conclusions' sentence: prose, outside every region
    assert all("still says 0.8537" in p.message and "the results now say 0.8102" in p.message for p in stale)


@pytest.mark.parametrize("between", ["\n---\n\n", "\n<!-- written by hand -->\n\n", "\n```\n💡 goal\n```\n\n"])
def test_the_header_block_need_not_follow_the_title_directly(between):
    text = TITLE + between + "> **ID:** VIT-20260203-pool-attn-01\n> **Author:** B. Observer\n" + BODY

    spec = front(adopt_text(text, path="exp_pool.md"))

    assert (spec["id"], spec["author"]) == ("VIT-20260203-pool-attn-01", "B. Observer")


def test_bold_around_label_and_value_and_a_header_above_the_title():
    text = "> **ID: VIT-20260203-pool-attn-01**\n\n" + TITLE + "> **Date：2026-02-03**\n" + BODY

    spec = front(adopt_text(text, path="exp_pool.md"))

    assert (spec["id"], spec["date"]) == ("VIT-20260203-pool-attn-01", "2026-02-03")
