"""What a heading (or a label, or a cell) of a legacy report says, whatever its dress.

Hand-written reports name the same section a dozen ways: in English or Chinese, numbered or not,
with an emoji, a parenthetical remark, bold, full-width forms. Every part of `research adopt`
that matches words — sections, header labels, link types, design-table rows — compares them
folded here, so one report's "### 6.1 🔑 Key numbers (速查)" and another's "## 关键数字" are
found by the same list of synonyms.
"""

from __future__ import annotations

import re
import unicodedata

# What the headings may say. Each name maps to its synonyms, English and Chinese; a heading
# matches when it equals a synonym after `heading_key` (emoji, numbering, a trailing
# parenthetical remark, punctuation, spaces and case all dropped: "### 6.1 🔑 Key numbers (速查)"
# and "## 关键数字" both read "keynumbers" / "关键数字").
SECTIONS: dict[str, tuple[str, ...]] = {
    # experiment reports
    "summary": ("一句话总结", "一句话结论", "one-line summary", "one-sentence summary", "tl;dr"),
    "hypotheses": (
        "对假设的验证",
        "假设验证",
        "hypothesis verification",
        "hypotheses verification",
        "verification of hypotheses",
    ),
    "key-numbers": ("关键数字", "关键数字速查", "key numbers", "key numbers at a glance"),
    "results": ("主要结果", "main results", "main result"),
    "binned": (
        "bias 分析",
        "偏差分析",
        "分箱",
        "分箱分析",
        "分箱结果",
        "bias analysis",
        "binned",
        "binned bias",
        "binned results",
        "binned metrics",
    ),
    "figures": ("实验图表", "图表", "figures", "figures & results", "figures and results"),
    "log": ("实验日志", "experiment log", "run log"),
    "reproduce": ("执行命令", "复现", "复现命令", "reproduce", "how to reproduce", "commands"),
    # hub pages
    "leaderboard": ("排行榜", "排行", "权威数字", "leaderboard", "authoritative numbers"),
    "changelog": ("变更日志", "更新日志", "changelog", "change log"),
    # not wrapped: where the front matter finds its links
    "upstream": ("上游链接", "相关链接", "upstream links", "upstream", "links"),
}

_NUMBERING_RE = re.compile(r"^(?:§\s*)?\d+(?:\.\d+)*(?:[.)、:]\s*|\s+|$)")
_REMARK_RE = re.compile(r"\s*\([^()]*\)\s*$")


def fold(text: str) -> str:
    """Drop emoji, symbols, punctuation and spaces; case-fold; full-width forms made ASCII."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def heading_key(text: str) -> str:
    """What a heading says, for matching: "## 6.4 📝 实验日志（按时间）" → "实验日志"."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn", "Me") else ch for ch in text)
    text = text.strip()
    text = _NUMBERING_RE.sub("", text, count=1)
    previous = None
    while previous != text:  # "变更日志（只记录"知识改变"）" → "变更日志"
        previous, text = text, _REMARK_RE.sub("", text)
    return fold(text)


_SYNONYMS: dict[str, str] = {}
for _name, _words in SECTIONS.items():
    for _word in _words:
        _SYNONYMS.setdefault(heading_key(_word), _name)


def section_name(heading: str) -> str | None:
    """The SECTIONS name a heading stands for, or None."""
    return _SYNONYMS.get(heading_key(heading))


def strip_emoji(text: str) -> str:
    """A title without its emoji (and their modifiers), spaces collapsed."""
    kept = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Cs", "Co")
        and ch not in "\ufe0f\ufe0e\u200d\u20e3"
        and not 0x1F3FB <= ord(ch) <= 0x1F3FF
    )
    return re.sub(r"\s+", " ", kept).strip()
