"""`research adopt`: a legacy report becomes runnable, and not one of its words changes.

Adopting puts a front matter skeleton on top of an experiment report and sealed region markers
around its placeholder sections; a hub page only gets the markers. Take the front matter and
the marker lines away again and the original bytes come back.

The documents adopted here are the project's own legacy-style report (tests/fixtures) and, when
../shared is present, the user's real report and hub page.
"""

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adopt.legacy import adopt_file, adopt_text, heading_key, section_name, yaml_scalar
from engine.errors import DocumentError
from engine.text import document, textfile

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_report.md"
SHARED = Path(__file__).parents[2] / "shared" / "examples"
BOM = b"\xef\xbb\xbf"

FIXTURE_REGIONS = {  # no hypotheses: its table has a row (H2.3.1) no run writes, so it stays the user's
    "summary",
    "key-numbers",
    "figure-1",
    "figure-2",
    "results",
    "binned-0",
    "binned-1",
    "reproduce",
    "log",
}
EXAMPLE_REGIONS = {  # no hypotheses: the table's H4.1.1 row is no hub question, so it stays the user's
    "summary",
    "key-numbers",
    "figure-1",
    "figure-2",
    "figure-3",
    "results",
    "binned-0",
    "reproduce",
    "log",
}
HUB_REGIONS = {"leaderboard", "key-numbers", "changelog"}


def shared(name: str) -> Path:
    source = SHARED / name
    if not source.is_file():
        pytest.skip(f"{source} is not here (../shared is absent)")
    return source


def copy(source: Path, folder: Path, transform=lambda data: data) -> Path:
    """A copy of a document in `folder`, its bytes passed through `transform` (CRLF, BOM…)."""
    target = folder / source.name
    target.write_bytes(transform(source.read_bytes()))
    return target


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def with_bom(data: bytes) -> bytes:
    return BOM + data


def without_adoption(data: bytes) -> bytes:
    """What adopting added, taken away again: the front matter and the marker lines."""
    bom = data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8") if bom else data.decode("utf-8")
    fm = document.front_matter(text)
    if fm is not None:
        text = text[fm.body_start :]
    return (BOM if bom else b"") + document.strip_markers(text).encode("utf-8")


def front_matter_of(path: Path) -> dict:
    text, _ = textfile.read(path)
    fm = document.front_matter(text)
    assert fm is not None, "adopting an experiment report adds front matter"
    return yaml.safe_load(fm.text)


# ---------------------------------------------------------------------------------------------
# The round-trip guarantee, on every kind of file


VARIANTS = {
    "lf": lambda data: data,
    "crlf": crlf,
    "bom": with_bom,
    "bom+crlf": lambda data: with_bom(crlf(data)),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_adopting_the_fixture_keeps_every_byte(tmp_path, variant):
    path = copy(FIXTURE, tmp_path, VARIANTS[variant])
    before = path.read_bytes()

    result = adopt_file(path)

    after = path.read_bytes()
    assert after != before
    assert without_adoption(after) == before
    assert {name for name, _, _ in result.regions} == FIXTURE_REGIONS
    assert result.front_matter_added and result.kind == "exp"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", ["exp_logg_1m_multitask.md", "logg_1m_hub.md"])
def test_adopting_the_users_documents_keeps_every_byte(tmp_path, name, variant):
    path = copy(shared(name), tmp_path, VARIANTS[variant])
    before = path.read_bytes()

    adopt_file(path)

    assert without_adoption(path.read_bytes()) == before


@pytest.mark.parametrize("variant", ["crlf", "bom+crlf"])
def test_a_crlf_file_stays_crlf_front_matter_and_markers_included(tmp_path, variant):
    path = copy(FIXTURE, tmp_path, VARIANTS[variant])

    adopt_file(path)

    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n"), "no line ends in a bare LF"
    assert data.startswith(BOM + b"---\r\n") if "bom" in variant else data.startswith(b"---\r\n")
    assert front_matter_of(path)["id"] == "CNN-20260114-logg_noise-curriculum"


def test_the_bom_stays_first_and_the_front_matter_follows_it(tmp_path):
    path = copy(FIXTURE, tmp_path, with_bom)

    adopt_file(path)

    assert path.read_bytes().startswith(BOM + b"---\n")
    assert path.read_bytes().count(BOM) == 1


# ---------------------------------------------------------------------------------------------
# The front matter: the report's header, then a runnable default spec


def test_the_front_matter_is_prefilled_from_the_report_header(tmp_path):
    path = copy(FIXTURE, tmp_path)

    adopt_file(path)

    spec = front_matter_of(path)
    assert spec["id"] == "CNN-20260114-logg_noise-curriculum"
    assert spec["title"] == "Noise-level curriculum for log g (1-D CNN)"  # no emoji, no "Experiment Report:"
    assert spec["topic"] == "CNN"
    assert spec["mvp"] == "MVP-2.4"
    assert spec["author"] == "A. Researcher"
    assert spec["date"] == "2026-01-14"  # a string, as written, not a date object
    assert spec["hub"] == "../logg_noise_hub.md"
    assert spec["roadmap"] == "../logg_noise_roadmap.md"
    assert spec["kanban"] == "../../../hubs/kanban.md"
    assert spec["answers"] == ["Q2.3", "Q2.4"]  # question ids only; H2.3.1 is a sub-hypothesis


def test_the_status_starts_planned_and_the_legacy_status_stays_as_a_comment(tmp_path):
    path = copy(FIXTURE, tmp_path)

    adopt_file(path)

    assert front_matter_of(path)["status"] == "planned"
    status_line = next(line for line in path.read_text().splitlines() if line.startswith("status:"))
    assert "⏳ Planned" in status_line.split("#", 1)[1]


def test_the_spec_skeleton_is_runnable_and_guesses_targets_from_the_data_table(tmp_path):
    path = copy(FIXTURE, tmp_path)

    adopt_file(path)

    spec = front_matter_of(path)
    assert spec["data"] == {"source": "synthetic", "targets": ["log_g", "T_eff"]}  # "| Targets | log_g, Teff |"
    assert spec["model"] == {"type": "ridge"}  # its schedules name no model: the runnable default
    assert spec["metrics"] == ["r2.log_g", "mae.log_g", "mae.T_eff"]  # the main results table's columns


def test_without_a_targets_row_the_target_is_log_g():
    result = adopt_text("# 📘 Experiment Report: Something\n\n### 关键数字\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")

    assert result.spec["data"]["targets"] == ["log_g"]
    assert result.spec["title"] == "Something"


def test_a_report_without_header_fields_gets_an_id_from_its_file_name():
    result = adopt_text("Just some notes.\n", path="research/x/exp/exp_noise_floor.md")

    spec = yaml.safe_load(document.front_matter(result.text).text)
    assert spec["id"] == "exp_noise_floor" and spec["title"] == "exp_noise_floor"
    assert result.regions == []
    assert set(result.missing) == {
        "summary",
        "hypotheses",
        "key-numbers",
        "results",
        "binned",
        "figures",
        "log",
        "reproduce",
    }
    assert result.appended == ["results", "record"]  # what the spec needs to run, empty at the end
    assert result.text.endswith(
        "Just some notes.\n<!-- research:results -->\n<!-- /research:results sha256:e3b0c44298fc1c14 -->\n"
        "<!-- research:record -->\n<!-- /research:record sha256:e3b0c44298fc1c14 -->\n"
    )


def test_the_users_report_front_matter(tmp_path):
    path = copy(shared("exp_logg_1m_multitask.md"), tmp_path)

    adopt_file(path)

    spec = front_matter_of(path)
    assert spec["id"] == "VIT-20251222-logg_1m-multitask"
    assert spec["title"] == "Multi-task (Teff+FeH+logg)"
    assert spec["mvp"] == "MVP-1.5"
    assert spec["hub"] == "../logg_1m_hub_20251222.md"
    assert spec["roadmap"] == "../logg_1m_roadmap_20251222.md"
    assert spec["kanban"] == "../../../status/kanban.md"
    assert spec["answers"] == ["Q3.1"]
    assert spec["status"] == "planned"
    assert spec["data"]["targets"] == ["log_g", "T_eff", "Fe_H"]
    assert spec["language"] == "zh"  # the user writes in Chinese: the run's words will be Chinese too
    assert "language: zh  # guess: the prose is Chinese (" in path.read_text(encoding="utf-8")


def test_an_english_report_keeps_the_default_language(tmp_path):
    # a report in English with a Chinese phrase or two (3 words to one character here) stays en
    path = tmp_path / "exp.md"
    path.write_text(
        "# Ridge on the error array\n\n> **ID:** EXP-1\n\n## Insights\n\n"
        "- The error array alone predicts log g: a shortcut (捷径) every model must be checked against.\n",
        encoding="utf-8",
    )
    adopt_file(path)
    assert "language" not in front_matter_of(path)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_header_value_reads_back_from_the_yaml_unchanged(value):
    rendered = yaml_scalar(value)
    assert yaml.safe_load(f"key: {rendered}  # comment\n") == {"key": value}
    assert yaml.safe_load(f"key: [{rendered}, next]\r\n") == {"key": [value, "next"]}


# ---------------------------------------------------------------------------------------------
# The regions: found by heading, sealed, placed right around the content


def test_the_fixture_regions_are_sealed_and_not_hand_edited(tmp_path):
    path = copy(FIXTURE, tmp_path)

    result = adopt_file(path)

    found = document.regions(path.read_text())
    assert set(found) == FIXTURE_REGIONS | {"record"}  # the run record: appended, empty
    assert [r for r in found.values() if r.edited] == []
    assert all(r.recorded is not None for r in found.values())
    assert result.regions == [
        (r.name, r.start_line, r.end_line) for r in found.values() if r.name not in result.appended
    ]


def test_the_users_report_regions(tmp_path):
    path = copy(shared("exp_logg_1m_multitask.md"), tmp_path)

    result = adopt_file(path)

    found = document.regions(path.read_text())
    assert set(found) == EXAMPLE_REGIONS | {"record"}  # the run record: appended, empty
    assert not any(r.edited for r in found.values())
    assert result.missing == []
    assert result.kept and '"H4.1.1"' in result.kept[0]  # said, not lost: the table stays the user's


def test_markers_go_right_around_the_content_not_the_heading_or_blank_lines():
    result = adopt_text(FIXTURE.read_text())

    found = document.regions(result.text)
    lines = result.text.splitlines()
    for region in found.values():
        first_body_line = lines[region.start_line]  # the line after the start marker
        last_body_line = lines[region.end_line - 2]  # the line before the end marker
        assert first_body_line.strip() and last_body_line.strip(), region.name
        assert not first_body_line.startswith("#"), region.name
    assert found["summary"].body.startswith("> **[待实验")
    assert found["reproduce"].body.startswith("```bash") and found["reproduce"].body.endswith("```\n")
    assert found["figure-1"].body == "![R2 per epoch](../img/curriculum_r2_vs_epoch.png)\n"


def test_only_the_first_key_numbers_table_is_wrapped_the_quick_reference_copy_stays():
    result = adopt_text(FIXTURE.read_text())

    body = document.regions(result.text)["key-numbers"].body
    assert "课程式 log g R²" in body
    assert "| 最佳 schedule | [待实验] | noise=1.0 |" not in body


def test_an_image_inside_a_sentence_is_not_a_figure_region():
    result = adopt_text(FIXTURE.read_text())

    bodies = [r.body for r in document.regions(result.text).values()]
    assert not any("legend.png" in body for body in bodies)


def test_each_binned_table_gets_its_own_region_in_order():
    found = document.regions(adopt_text(FIXTURE.read_text()).text)

    assert found["binned-0"].body.startswith("| Teff (K) |")
    assert found["binned-1"].body.startswith("| SNR |")


def test_a_heading_inside_a_code_block_is_not_a_section():
    text = "# Experiment Report: x\n\n```python\n# Main results\n| a | b |\n|---|---|\n```\n\n| a | b |\n|---|---|\n"

    result = adopt_text(text)

    assert result.regions == [] and "results" in result.missing


def test_the_engine_can_fill_an_adopted_region():
    adopted = adopt_text(FIXTURE.read_text()).text

    filled = document.replace_regions(adopted, {"key-numbers": "| Metric | Value |\n|---|---|\n| R² | 0.7312 |\n"})

    assert "| R² | 0.7312 |" in document.regions(filled)["key-numbers"].body


def test_markers_do_not_change_the_tables_they_wrap():
    result = adopt_text(FIXTURE.read_text())

    body = result.text[document.front_matter(result.text).body_start :]
    lines = document.split_lines(body)
    for token in document.markdown_tokens(body):
        if token.type == "table_open":
            begin, end = token.map
            assert not any("research:" in line for line in lines[begin:end])


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("### 一句话总结", "summary"),
        ("## One-line summary", "summary"),
        ("## TL;DR", "summary"),
        ("### 对假设的验证", "hypotheses"),
        ("### 🔑 Key numbers", "key-numbers"),
        ("### 6.3 关键数字速查（只留会反复用到的）", "key-numbers"),
        ("### 6.1 主要结果", "results"),
        ("### Bias 分析", "binned"),
        ("# 3. 📊 实验图表", "figures"),
        ("# 3. 📊 Figures & Results", "figures"),
        ("## 6.4 实验日志", "log"),
        ("### 6.2.1 执行命令", "reproduce"),
        ("## §3 Reproduce", "reproduce"),
        ('## 8) 变更日志（只记录"知识改变"）', "changelog"),
        ("## 6.3 Changelog", "changelog"),
        ("### 设计启示（1-2 条）", None),
        ("## 6.1 数值结果表", None),
        ("### 图 2：logg Bias 随 Teff 的变化", None),
    ],
)
def test_headings_are_recognised_in_english_or_chinese_with_or_without_emoji(heading, name):
    assert section_name(heading.lstrip("#").strip()) == name


def test_a_heading_key_drops_numbering_emoji_remarks_punctuation_and_case():
    assert heading_key("6.4 📝 Experiment Log (by date)") == "experimentlog"
    assert heading_key("1) 🌲 核心假设树") == "核心假设树"


# ---------------------------------------------------------------------------------------------
# Hub pages: no front matter, three tables


def test_the_users_hub_gets_exactly_leaderboard_key_numbers_and_changelog(tmp_path):
    path = copy(shared("logg_1m_hub.md"), tmp_path)
    before = path.read_text()

    result = adopt_file(path)

    after = path.read_text()
    found = document.regions(after)
    assert result.kind == "hub" and not result.front_matter_added
    assert set(found) == HUB_REGIONS
    assert not any(r.edited for r in found.values())
    assert document.front_matter(after) is None
    assert document.strip_markers(after) == before
    added = [line for line in after.splitlines() if line not in set(before.splitlines())]
    assert len(added) == 6 and all(line.startswith("<!-- ") for line in added)


def test_the_hub_regions_hold_the_right_tables(tmp_path):
    path = copy(shared("logg_1m_hub.md"), tmp_path)

    adopt_file(path)

    found = document.regions(path.read_text())
    assert found["leaderboard"].body.startswith("| 模型/方法 |")
    assert "**Best R²**" in found["key-numbers"].body
    assert found["changelog"].body.startswith("| 日期 |")  # §8, not the appendix "6.3 Changelog"


HUB = """\
# 🧠 Noise Hub
> **ID:** `CNN-20260110-noise-hub` | **Status:** 🌱探索

> **权威数字**：Best=0.64 (CNN)

| Model/method | R² | Config |
|---|---|---|
| CNN | 0.64 | noise=1.0 |

## 1) 🌲 Hypothesis tree
```
├── Q2.3: 课程式加噪有用吗？ → ⏳ MVP-2.4
```

## 6) Key numbers
| Metric | Value |
|---|---|
| Best R² | 0.64 |

## 8) Changelog
| Date | Change |
|---|---|
| 2026-01-10 | 创建 hub |
"""


def test_a_small_hub_is_recognised_and_adopted():
    result = adopt_text(HUB)

    assert result.kind == "hub"
    assert [name for name, _, _ in result.regions] == ["leaderboard", "key-numbers", "changelog"]
    assert document.strip_markers(result.text) == HUB


def test_the_kind_can_be_forced():
    result = adopt_text(HUB, kind="exp")

    assert result.kind == "exp" and result.front_matter_added
    assert "leaderboard" not in result.found


# ---------------------------------------------------------------------------------------------
# Safety: no double adoption, dry runs write nothing


@pytest.mark.parametrize("source", ["fixture", "hub"])
def test_adopting_twice_is_an_error_and_leaves_the_file_as_it_was(tmp_path, source):
    if source == "fixture":
        path = copy(FIXTURE, tmp_path)
    else:
        path = tmp_path / "noise_hub.md"
        path.write_text(HUB)
    adopt_file(path)
    adopted = path.read_bytes()

    with pytest.raises(DocumentError, match="already adopted") as error:
        adopt_file(path)

    assert path.read_bytes() == adopted
    assert error.value.hint and str(path) in str(error.value)


def test_a_report_with_front_matter_is_not_adopted():
    with pytest.raises(DocumentError, match="front matter"):
        adopt_text("---\nid: x\n---\n# Experiment Report: x\n")


def test_a_dry_run_writes_nothing_and_shows_the_diff(tmp_path):
    path = copy(FIXTURE, tmp_path)
    before = path.read_bytes()

    result = adopt_file(path, dry_run=True)

    assert path.read_bytes() == before
    diff = result.diff(path)
    assert diff.startswith(f"--- {path}\n+++ {path} (adopted)\n")
    assert "+<!-- research:key-numbers -->" in diff
    assert "+<!-- /research:key-numbers sha256:" in diff
    assert "+id: CNN-20260114-logg_noise-curriculum" in diff
    assert not [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]


def test_the_summary_names_what_was_wrapped_and_what_was_not_found():
    result = adopt_text(HUB)
    assert "region leaderboard: lines 6-10" in result.summary()

    result = adopt_text("# Experiment Report: x\n\n### 关键数字\n\n| a |\n|---|\n| 1 |\n")
    assert "no section found for: summary, hypotheses, results" in result.summary()


def test_the_adopted_front_matter_is_a_valid_spec():
    spec_module = pytest.importorskip("engine.spec")
    text = adopt_text(FIXTURE.read_text(), path=str(FIXTURE)).text
    fm = document.front_matter(text)

    spec = spec_module.load_spec(fm.text, path=str(FIXTURE), first_line=fm.first_line)

    assert spec.id == "CNN-20260114-logg_noise-curriculum" and spec.status == "planned"
