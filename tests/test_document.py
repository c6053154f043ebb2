"""The text core: regions are found, replaced and sealed; everything else stays byte for byte."""

import pytest

from engine.errors import DocumentError, RegionEditedError
from engine.text import document

REPORT = """\
---
id: EXP-1  # the id
status: planned   # engine-maintained
---
# 📘 实验报告

## ⚡ 关键数字
<!-- research:key-numbers -->
| 指标 | 值 |
|---|---|
| log g MAE | [待实验] |
<!-- /research:key-numbers -->

用户写的话：$R^2 = 1 - SS_{res}/SS_{tot}$
"""


def test_regions_are_found_by_name_with_their_lines():
    found = document.regions(REPORT)
    assert list(found) == ["key-numbers"]
    region = found["key-numbers"]
    assert (region.start_line, region.end_line) == (8, 12)
    assert region.body.startswith("| 指标 | 值 |\n")
    assert region.recorded is None and not region.edited


def test_replacing_a_region_changes_only_its_body_and_seals_it():
    new = document.replace_regions(REPORT, {"key-numbers": "| a | b |\n|---|---|\n"})
    before, after = REPORT.split("<!-- research:key-numbers -->")
    assert new.startswith(before)
    assert new.endswith("\n\n用户写的话：$R^2 = 1 - SS_{res}/SS_{tot}$\n")
    region = document.regions(new)["key-numbers"]
    assert region.body == "| a | b |\n|---|---|\n"
    assert region.recorded == document.checksum(region.body)
    assert document.replace_regions(new, {"key-numbers": "| a | b |\n|---|---|\n"}) == new


def test_a_hand_edit_inside_a_sealed_region_stops_the_write():
    sealed = document.replace_regions(REPORT, {"key-numbers": "| a | 1 |\n"})
    edited = sealed.replace("| a | 1 |", "| a | 2 |")
    assert document.regions(edited)["key-numbers"].edited
    with pytest.raises(RegionEditedError) as err:
        document.replace_regions(edited, {"key-numbers": "| a | 3 |\n"}, path="r.md")
    assert "key-numbers" in str(err.value) and "edited by hand" in str(err.value)
    assert str(err.value).startswith("r.md:8:")
    assert "--force" in str(err.value)
    forced = document.replace_regions(edited, {"key-numbers": "| a | 3 |\n"}, force=True)
    assert "| a | 3 |" in forced and not document.regions(forced)["key-numbers"].edited


def test_crlf_documents_keep_crlf_and_their_checksum():
    crlf = REPORT.replace("\n", "\r\n")
    new = document.replace_regions(crlf, {"key-numbers": "| x |\n| y |\n"})
    assert "\n" not in new.replace("\r\n", "")
    assert document.regions(new)["key-numbers"].recorded == document.checksum("| x |\n| y |\n")
    # An editor converting the file to LF is not a hand edit.
    assert not document.regions(new.replace("\r\n", "\n"))["key-numbers"].edited


def test_markers_inside_code_fences_are_text():
    text = "# doc\n\n```markdown\n<!-- research:example -->\n<!-- /research:other -->\n```\n"
    assert document.regions(text) == {}
    assert document.replace_regions(text, {}, path="x.md") == text


def test_markers_inside_indented_code_are_text():
    text = "para\n\n    <!-- research:example -->\n\nafter\n"
    assert document.regions(text) == {}


@pytest.mark.parametrize(
    "text, fragment, line",
    [
        ("<!-- research:a -->\nx\n", "never closed", 1),
        ("x\n<!-- /research:a -->\n", "has no start marker", 2),
        (
            "<!-- research:a -->\n<!-- research:b -->\n<!-- /research:b -->\n<!-- /research:a -->\n",
            "inside region 'a'",
            2,
        ),
        ("<!-- research:a -->\n<!-- /research:b -->\n", "closes region 'a'", 2),
        (
            "<!-- research:a -->\n<!-- /research:a -->\n<!-- research:a -->\n<!-- /research:a -->\n",
            "appears twice",
            3,
        ),
        ("<!-- research:Key Numbers -->\n", "malformed region marker", 1),
    ],
    ids=["unclosed", "unopened", "nested", "mismatched", "duplicate", "malformed"],
)
def test_bad_markers_are_located_errors(text, fragment, line):
    with pytest.raises(DocumentError) as err:
        document.regions(text, path="doc.md")
    assert fragment in str(err.value)
    assert err.value.line == line
    assert str(err.value).startswith(f"doc.md:{line}:")


def test_replacing_a_region_that_does_not_exist_is_an_error_with_a_way_out():
    with pytest.raises(DocumentError) as err:
        document.replace_regions(REPORT, {"results": "x\n"}, path="r.md")
    assert "'results'" in str(err.value) and "research adopt" in str(err.value)
    assert document.replace_regions(REPORT, {"results": "x\n"}, missing_ok=True) == REPORT


def test_strip_markers_gives_back_the_bodies_without_marker_lines():
    stripped = document.strip_markers(REPORT)
    assert "research:" not in stripped
    assert "| log g MAE | [待实验] |\n\n用户写的话" in stripped


def test_front_matter_span_and_line():
    fm = document.front_matter(REPORT)
    assert fm.first_line == 2
    assert fm.text == "id: EXP-1  # the id\nstatus: planned   # engine-maintained\n"
    assert REPORT[fm.body_start :].startswith("# 📘")
    assert document.front_matter("# no front matter\n---\n") is None


def test_a_lone_rule_on_the_first_line_is_not_front_matter():
    assert document.front_matter("---\n# heading\n") is None


def test_front_matter_keys_are_edited_in_place_keeping_comments_and_order():
    new = document.set_front_matter_keys(REPORT, {"status": "done", "last_run": "2026-11-21 10:00"})
    assert new.startswith("---\nid: EXP-1  # the id\nstatus: done   # engine-maintained\nlast_run: ")
    import yaml

    data = yaml.safe_load(document.front_matter(new).text)
    assert data == {"id": "EXP-1", "status": "done", "last_run": "2026-11-21 10:00"}
    assert new[document.front_matter(new).body_start :] == REPORT[document.front_matter(REPORT).body_start :]


def test_front_matter_values_that_need_quotes_get_them():
    new = document.set_front_matter_keys("---\nid: x\n---\n", {"note": "a: b # c", "flag": "yes"})
    import yaml

    assert yaml.safe_load(document.front_matter(new).text) == {"id": "x", "note": "a: b # c", "flag": "yes"}


def test_split_lines_only_breaks_on_line_feeds():
    assert document.split_lines("a\x0cb\u2028c\r\nd") == ["a\x0cb\u2028c\r\n", "d"]
    assert "".join(document.split_lines("x\n\ny\n")) == "x\n\ny\n"


@pytest.mark.parametrize(
    "text",
    [
        "- item\n\n  ```\n  <!-- research:x -->\n  ```\n",
        "> quote\n> ```\n> <!-- research:x -->\n> ```\n",
        "1. step\n\n       <!-- research:x -->\n",
        "~~~\n<!-- research:x -->\n~~~\n",
    ],
    ids=["fence-in-list", "fence-in-quote", "indented-in-list", "tilde-fence"],
)
def test_markers_in_code_inside_containers_are_text(text):
    assert document.regions(text) == {}


def test_markers_inside_the_front_matter_are_yaml_not_regions():
    text = "---\nnote: <!-- research:x -->\n---\n# body\n"
    assert document.regions(text) == {}


def test_a_setext_heading_does_not_hide_a_region():
    text = "Title\n=====\n\n<!-- research:log -->\nrow\n<!-- /research:log -->\n"
    assert list(document.regions(text)) == ["log"]


@pytest.mark.parametrize(
    "text, names",
    [
        ("para\n\n\t<!-- research:x -->\n\t<!-- /research:x -->\n", []),  # a tab: indented code
        ("- item\n\n  <!-- research:x -->\n  <!-- /research:x -->\n", ["x"]),  # list content, not code
        ("para\n\n   <!-- research:x -->\n   <!-- /research:x -->\n", ["x"]),  # three spaces: not code
    ],
    ids=["tab", "in-list", "three-spaces"],
)
def test_indentation_alone_decides_whether_a_marker_is_code_without_a_fence(text, names):
    assert list(document.regions(text)) == names


def test_the_code_map_is_skipped_only_where_no_marker_can_be_code():
    """`regions` skips the markdown parse when no fence is present and no marker is indented
    four columns: on every document of the notebook, no marker line is code then."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    docs = [p for folder in ("research", "hubs", "templates") for p in (root / folder).rglob("*.md")]
    docs += [p for p in (root / "templates").rglob("*.j2")]
    skipped = 0
    for path in docs:
        text = path.read_text(encoding="utf-8")
        if document._markers_may_be_code(text):
            continue
        code = document.code_lines(text)
        marker_lines = {i for i, line in enumerate(document.split_lines(text)) if document.MARKERISH_RE.match(line)}
        assert not code & marker_lines, path
        skipped += bool(marker_lines)
    assert skipped >= 3, (
        f"only {skipped} of {len(docs)} documents with markers take the skip: the check holds too little"
    )


def test_local_images_are_read_one_way_inline_and_by_reference():
    body = (
        "text\n\n![a](img/a.png)\n\n![b][ref]\n\n![web](https://x.org/b.png) ![anchor](#top)\n\n"
        '![c](img/c.svg?v=2#x "title")\n\n[ref]: img/b.png\n'
    )
    found = list(document.local_images(body))
    assert [(line, file, alt) for line, _, file, alt in found] == [
        (2, "img/a.png", "a"),
        (4, "img/b.png", "b"),
        (8, "img/c.svg", "c"),
    ]
