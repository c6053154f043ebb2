"""Property tests: on any document, replacing regions is idempotent and owns only its bodies."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.text import document

# Pieces of the user's real documents: Chinese prose, emoji, tables, LaTeX, code fences.
PROSE = st.sampled_from(
    [
        "# 📘 实验报告：多噪声课程",
        "> **核心问题**：噪声课程能否提升 log g？",
        "| 指标 | 值 |",
        "|---|---|",
        "| $R^2$ | 0.71 ⏳ |",
        "$$\\mathcal{L} = \\sum_i w_i \\cdot MSE_i$$",
        "- ✅ 已验证 | ❌ 已否定 | 🔆 进行中",
        "├── Q3.1: 多任务联合是否能拆分因素？ → ⏳ MVP-1.5",
        "---",
        "",
        "   ",
        "tab\there",
        "<!-- an ordinary comment -->",
        "<b>html</b>",
        "plain english text, with | a pipe",
    ]
)
FENCED = st.lists(
    st.sampled_from(["<!-- research:fake -->", "<!-- /research:fake sha256:00 -->", "print('x')", "| a |"]),
    max_size=3,
).map(lambda lines: ["```python", *lines, "```"])
BODY_LINE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=30
).filter(lambda s: "research:" not in s and "```" not in s and "~~~" not in s)
NAMES = st.sampled_from(["summary", "key-numbers", "results", "binned-0", "figure-1", "log"])


@st.composite
def documents(draw):
    """A document of prose, fences and uniquely named regions, in LF or CRLF."""
    names = draw(st.lists(NAMES, unique=True, max_size=4))
    blocks = [[["# 🧪 报告"]]]
    for name in names:
        blocks.append(draw(st.lists(st.one_of(PROSE.map(lambda p: [p]), FENCED), max_size=3)))
        body = draw(st.lists(BODY_LINE, max_size=3))
        blocks.append([[f"<!-- research:{name} -->", *body, f"<!-- /research:{name} -->"]])
    blocks.append(draw(st.lists(st.one_of(PROSE.map(lambda p: [p]), FENCED), max_size=3)))
    lines = [line for block in blocks for group in block for line in group]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    trailing = draw(st.booleans())
    text = newline.join(lines) + (newline if trailing and lines else "")
    return text, names


new_bodies = st.lists(BODY_LINE, max_size=4).map(lambda lines: "".join(line + "\n" for line in lines))


def outside(text: str) -> list[str]:
    """The text with region bodies cut out and end markers reduced to their names."""
    pieces, last = [], 0
    for region in document.regions(text).values():
        pieces.append(text[last : region.body_start])
        pieces.append(f"<{region.name}>")
        last = region.end_marker_end
    pieces.append(text[last:])
    return pieces


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_replacing_regions_leaves_every_byte_outside_them(doc, data):
    text, names = doc
    assert list(document.regions(text)) == names
    bodies = {name: data.draw(new_bodies) for name in names}
    new = document.replace_regions(text, bodies)
    assert outside(new) == outside(text)
    for name, region in document.regions(new).items():
        assert region.body.replace("\r\n", "\n") == bodies[name]
        assert not region.edited


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_replacing_regions_is_idempotent(doc, data):
    text, names = doc
    bodies = {name: data.draw(new_bodies) for name in names}
    once = document.replace_regions(text, bodies)
    assert document.replace_regions(once, bodies) == once


@settings(max_examples=100, deadline=None)
@given(documents())
def test_stripping_markers_keeps_every_other_line(doc):
    text, names = doc
    stripped = document.split_lines(document.strip_markers(text))
    lines = document.split_lines(text)
    kept = [
        line
        for line in lines
        if not (document.START_RE.match(line.rstrip("\r\n")) or document.END_RE.match(line.rstrip("\r\n")))
    ]
    fenced_markers = sum(1 for line in lines if "research:fake" in line)
    assert len(stripped) == len(lines) - 2 * len(names)
    assert len(kept) + fenced_markers == len(stripped)
