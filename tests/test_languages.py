"""`research new --lang en|zh`: the same sections and regions in either language, a spec that runs.

Each language's report is scaffolded by the CLI, its spec validated, then run end to end on a
few hundred synthetic spectra (two Ridge trials); its headings are in its language, its
`language:` follows `--lang`, and every heading above an owned region is one `research adopt`
recognises. The notebook's `research.yaml` sets the default; a bad one is exit 2.
"""

from __future__ import annotations

import re

import pytest
import yaml

from engine.adopt import legacy as adopt
from engine.cli import main
from engine.text import document

CJK = re.compile(r"[\u4e00-\u9fff]")
TINY = ["--set", "data.n_train=300", "--set", "data.n_test=100"]
REPORT = "research/t/exp/exp_t_idea.md"


def headings(text: str) -> list[str]:
    lines = text[document.front_matter(text).body_start :].splitlines()
    fenced, out = False, []
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            out.append(line)
    return out


def heading_above(text: str, line: int) -> str:
    return next(h for h in reversed(text.splitlines()[: line - 1]) if h.startswith("#"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_language_scaffolds_validates_and_runs(notebook, lang, capsys):
    (notebook / "research.yaml").write_text(f"language: {lang}\n", encoding="utf-8")
    assert main(["new", "hub", "t"]) == 0 and main(["new", "kanban"]) == 0
    assert (
        main(["new", "exp", "t", "idea", "--lang", lang, "--hub", "hubs/t_hub.md", "--kanban", "hubs/kanban.md"]) == 0
    )
    path = notebook / REPORT
    text = path.read_text(encoding="utf-8")
    assert yaml.safe_load(document.front_matter(text).text)["language"] == lang
    found = headings(text)
    chinese = [h for h in found if CJK.search(h)]
    if lang == "en":
        assert chinese == [] and "### One-sentence summary" in found
    else:
        assert len(chinese) > len(found) // 2 and "### 一句话总结" in found
    regions = document.regions(text)
    assert set(regions) == {
        "summary",
        "hypotheses",
        "key-numbers",
        "figures",
        "results",
        "binned",
        "comparisons",
        "reproduce",
        "log",
        "record",
    }
    for name, region in regions.items():  # `research adopt` would find each region again by its heading
        if name in adopt.EXPERIMENT_REGIONS:
            assert adopt.section_name(heading_above(text, region.start_line).lstrip("# ")) == name, (lang, name)

    assert main(["spec", str(path), *TINY]) == 0
    assert main(["run", str(path), *TINY]) == 0
    after = path.read_text(encoding="utf-8")
    assert headings(after) == found
    assert "⏳" not in document.regions(after)["results"].body
    assert "status: done" in after
    hub = (notebook / "hubs/t_hub.md").read_text(encoding="utf-8")  # the pages' regions in the notebook's language
    kanban = (notebook / "hubs/kanban.md").read_text(encoding="utf-8")
    assert "EXP-" in document.regions(hub)["experiments"].body and "✅ done" in document.regions(kanban)["board"].body
    if lang == "en":
        assert not CJK.search(hub) and not CJK.search(kanban)
    else:
        assert "> **权威数字（r2.log_g）**" in hub and "| 状态 | 实验 |" in kanban


def test_the_notebook_setting_is_the_default_and_lang_wins(notebook):
    (notebook / "research.yaml").write_text("language: en\n", encoding="utf-8")
    assert main(["new", "exp", "t", "idea"]) == 0
    assert main(["new", "hub", "t"]) == 0
    assert main(["new", "kanban", "--lang", "zh"]) == 0
    assert "## ⚡ Key Findings (for hub extraction)" in (notebook / REPORT).read_text(encoding="utf-8")
    assert "## 1) 🌲 Hypothesis tree" in (notebook / "hubs/t_hub.md").read_text(encoding="utf-8")
    assert "由 `research sync` 维护" in (notebook / "hubs/kanban.md").read_text(encoding="utf-8")


def test_no_setting_keeps_the_chinese_pages(notebook):
    assert main(["new", "roadmap", "t"]) == 0
    assert "## 2) 📋 MVP 列表" in (notebook / "hubs/t_roadmap.md").read_text(encoding="utf-8")


def test_a_misspelled_setting_is_bad_input_and_creates_nothing(notebook, capsys):
    (notebook / "research.yaml").write_text("# mine\nlangauge: en\n", encoding="utf-8")
    assert main(["new", "exp", "t", "idea"]) == 2
    err = capsys.readouterr().err
    assert "research.yaml:2:" in err and "unknown setting 'langauge'" in err and "language" in err
    assert not (notebook / "research").exists()
    (notebook / "research.yaml").write_text("language: fr\n", encoding="utf-8")
    assert main(["new", "hub", "t"]) == 2
    assert "expected one of en, zh, got 'fr'" in capsys.readouterr().err
    assert not (notebook / "hubs").exists()


def test_an_english_notebook_passes_check(notebook):
    from engine.browse.check import check_paths

    for argv in (["new", "hub", "noise"], ["new", "roadmap", "noise", "--hub", "hubs/noise_hub.md"], ["new", "kanban"]):
        assert main([*argv, "--lang", "en"]) == 0
    assert (
        main(
            [
                "new",
                "exp",
                "noise",
                "curriculum",
                "--lang",
                "en",
                "--hub",
                "hubs/noise_hub.md",
                "--roadmap",
                "hubs/noise_roadmap.md",
                "--kanban",
                "hubs/kanban.md",
                "--mvp",
                "MVP-1.0",
            ]
        )
        == 0
    )
    problems, count = check_paths([notebook / "research", notebook / "hubs"])
    assert count == 4 and problems == []
    hub = (notebook / "hubs/noise_hub.md").read_text(encoding="utf-8")
    assert not CJK.search(hub) and set(document.regions(hub)) == {
        "authoritative",
        "leaderboard",
        "key-numbers",
        "experiments",
        "changelog",
    }


def test_a_page_keeps_the_language_it_was_made_in(notebook, capsys):
    """No research.yaml (the notebook's default is zh): a hub made with --lang en is filled in
    English by the run that propagates to it, the kanban made without --lang in Chinese — each page
    its own; a mark naming no language is what `research check` says, and runs fall back."""
    assert not (notebook / "research.yaml").exists()
    assert main(["new", "hub", "t", "--lang", "en"]) == 0 and main(["new", "kanban"]) == 0
    assert (
        main(["new", "exp", "t", "idea", "--lang", "en", "--hub", "hubs/t_hub.md", "--kanban", "hubs/kanban.md"]) == 0
    )
    hub_path, kanban_path = notebook / "hubs/t_hub.md", notebook / "hubs/kanban.md"
    assert "<!-- research-language: en -->" in hub_path.read_text(encoding="utf-8")
    assert main(["run", REPORT, *TINY, "--no-commit"]) == 0
    hub, kanban = hub_path.read_text(encoding="utf-8"), kanban_path.read_text(encoding="utf-8")
    regions = document.regions(hub)
    assert "EXP-" in regions["experiments"].body and "EXP-" in regions["changelog"].body
    assert not CJK.search(hub), [line for line in hub.splitlines() if CJK.search(line)]
    assert "| 状态 | 实验 |" in document.regions(kanban)["board"].body

    kanban_path.write_text(kanban.replace("research-language: zh", "research-language: fr"), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "hubs"]) == 1
    out = capsys.readouterr().out
    assert "kanban.md:" in out and "research-language: expected one of en, zh, got 'fr'" in out
