"""What a finished report states in its sentences: noise level, test size, bootstrap resamples,
the experts' α and grid, the gate's training, the acceptance criterion.

The user writes many settings once, in a sentence ("所有光谱都加了 noise level 0.2 的噪声",
"Bootstrap CI | 1,000 resamples", "Adam, 100 epochs, early stopping 10") rather than in a data
table. Each finder here reads one such setting from the report's prose lines (every line but
code: sentences, list items, quotes, headings, table rows), one regex per line, and returns it
with the line it came from — always as a guess, since a sentence is not a spec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.adopt.said import Said

Lines = Sequence[tuple[int, str]]  # (0-based body line, its text): `Outline.prose_lines`

_NUM = r"[-+−]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NOISE_RE = re.compile(
    rf"(?:noise[ _-]?level|noise|噪声水平|噪声等级|噪声强度|噪声|σ_?noise)\s*(?:=|:|：|of|at|is|为|是|取)?\s*(?P<n>{_NUM})(?!\s*%)(?![\w.])",
    re.IGNORECASE,
)
_RESAMPLES_RE = re.compile(
    r"(?P<n>\d[\d,]*)\s*(?:bootstrap\s+)?(?:resamples|re-samples|resamplings|iterations|draws|次重采样|次\s*bootstrap|次)",
    re.IGNORECASE,
)
_BOOTSTRAP_N_RE = re.compile(r"bootstrap[^\d\n]{0,20}?(?:[nNB]\s*=\s*)(?P<n>\d[\d,]*)", re.IGNORECASE)
_TEST_RE = re.compile(
    r"(?P<n>\d[\d,]*(?:\.\d+)?\s*[kK]?)\s*(?:test\s+spectra|test\s+stars|spectra\s+in\s+the\s+test\s+set|条测试|个测试)"
    r"|(?:测试集|test\s+set)\s*(?:共|有|为|是|of|:|：)?\s*(?P<m>\d[\d,]*(?:\.\d+)?\s*[kK]?)(?!\s*%)(?![\w.])",
    re.IGNORECASE,
)
_TRAIN_RE = re.compile(
    r"(?P<n>\d[\d,]*(?:\.\d+)?\s*[kK]?)\s*(?:training\s+spectra|train\s+spectra|条训练)"
    r"|(?:训练集|training\s+set)\s*(?:共|有|为|是|of|:|：)?\s*(?P<m>\d[\d,]*(?:\.\d+)?\s*[kK]?)(?!\s*%)(?![\w.])",
    re.IGNORECASE,
)
_ALPHA_RE = re.compile(rf"(?:α|alpha)\s*(?:=|:|：)\s*(?P<n>{_NUM}|10\^\d+)", re.IGNORECASE)
_EPOCHS_RE = re.compile(r"(?P<n>\d+)\s*(?:epochs?|轮)\b|(?:epochs?|轮数)\s*(?:=|:|：)\s*(?P<m>\d+)", re.IGNORECASE)
_PATIENCE_RE = re.compile(
    r"(?:early[ -]?stopping|patience|早停)\s*(?:\(?\s*patience\s*)?(?:=|:|：)?\s*(?P<n>\d+)", re.IGNORECASE
)
_EXPERTS_RE = re.compile(
    r"(?P<n>\d+)\s*(?:个\s*)?(?:frozen\s+|冻结的?\s*)?(?:ridge\s+)?(?:experts?|专家)", re.IGNORECASE
)
_GRID_RE = re.compile(
    r"(?:t_?eff|温度)\s*[×x*]\s*\[?(?:m/h|fe/h|feh|mh|金属丰度)\]?|\d\s*[×x*]\s*\d\s*(?:grid|网格|cells?|格)",
    re.IGNORECASE,
)
_SNR_EXPERTS_RE = re.compile(
    r"(?:snr|信噪比)[^\n]{0,30}(?:experts?|专家)|(?:experts?|专家)[^\n]{0,30}(?:snr|信噪比)", re.I
)
_GATE_RE = re.compile(r"\bgate|gating|门控|路由", re.IGNORECASE)
_EXPERT_WORD_RE = re.compile(r"experts?|专家", re.IGNORECASE)

#: The labels of an acceptance criterion, English and Chinese.
ACCEPTANCE_LABELS = (
    "验收标准",
    "成功标准",
    "判定标准",
    "通过标准",
    "决策规则",
    "acceptance criterion",
    "acceptance criteria",
    "acceptance",
    "success criterion",
    "success criteria",
    "pass criterion",
    "decision rule",
)
_ACCEPTANCE_RE = re.compile(
    r"^(?:[>\s*-]*)(?:\*\*)?\s*(?P<label>" + "|".join(re.escape(w) for w in ACCEPTANCE_LABELS) + r")\s*(?:\*\*)?\s*"
    r"[:：]\s*(?:\*\*)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?P<text>.+)$")


def number(text: str) -> int | float:
    """A number as a report writes it: "1,000" → 1000, "1e4" → 10000.0, "−0.5" → -0.5, "10^4"."""
    text = text.replace("−", "-").replace(",", "").replace(" ", "")
    if text.startswith("10^"):
        return 10.0 ** int(text[3:])
    scale = 1000 if text[-1:] in "kK" else 1
    text = text.rstrip("kK")
    value = float(text) * scale
    return int(round(value)) if scale > 1 or re.fullmatch(r"[-+]?\d+", text) else value


@dataclass(frozen=True)
class Found:
    """A value a sentence states, and the sentence."""

    value: int | float | str
    said: Said


def _first(lines: Lines, pattern: re.Pattern, why: str, *, check=lambda v: True) -> Found | None:
    for at, text in lines:
        for match in pattern.finditer(text):
            raw = match.groupdict().get("n") or match.groupdict().get("m")
            if raw is None:
                continue
            try:
                value = number(raw)
            except ValueError:
                continue
            if check(value):
                return Found(value, Said(at, text.strip(), guess=True, why=why))
    return None


def noise_level(lines: Lines) -> Found | None:
    """The noise level a sentence states ("noise level 0.2", "噪声 1.0", "noise=1.0")."""
    return _first(lines, _NOISE_RE, "the noise level a sentence states", check=lambda v: 0 <= v <= 100)


def bootstrap_n(lines: Lines) -> Found | None:
    """The bootstrap resamples ("1,000 resamples", "bootstrap (B = 1000)") on a line about the bootstrap."""
    about = [(at, t) for at, t in lines if re.search(r"bootstrap|resampl|重采样", t, re.I)]
    return _first(about, _BOOTSTRAP_N_RE, "the bootstrap's resamples", check=lambda v: v >= 50) or _first(
        about, _RESAMPLES_RE, "the bootstrap's resamples", check=lambda v: isinstance(v, int) and v >= 50
    )


def n_test(lines: Lines) -> Found | None:
    """The test-set size a sentence states ("816 test spectra", "测试集 816")."""
    return _first(lines, _TEST_RE, "the test size a sentence states", check=lambda v: isinstance(v, int) and v > 0)


def n_train(lines: Lines) -> Found | None:
    """The training-set size a sentence states ("32k training spectra", "训练集 32,000")."""
    return _first(lines, _TRAIN_RE, "the training size a sentence states", check=lambda v: isinstance(v, int) and v > 0)


def alpha(lines: Lines) -> Found | None:
    """A ridge α a sentence states ("α = 1e4", "alpha: 10000")."""
    return _first(lines, _ALPHA_RE, "the ridge penalty a sentence states", check=lambda v: v > 0)


def gate_epochs(lines: Lines) -> Found | None:
    """The epochs the gate trained for, on a line that speaks of Adam, epochs or early stopping."""
    return _first(
        [(at, t) for at, t in lines if re.search(r"adam|early|patience|早停|epoch", t, re.I)],
        _EPOCHS_RE,
        "one full-batch Adam step of the engine's gate is one epoch",
        check=lambda v: isinstance(v, int) and v > 0,
    )


def patience(lines: Lines) -> Found | None:
    """The early-stopping patience ("early stopping 10", "patience=20", "早停 10")."""
    return _first(
        lines, _PATIENCE_RE, "steps without a better validation MSE", check=lambda v: isinstance(v, int) and v > 0
    )


def mixture(lines: Lines) -> tuple[str, Said] | None:
    """A mixture of experts with a gate: `grid` (Teff × [M/H] cells) or `snr` experts, from the
    first line that names experts and their layout; None when the report has no experts and gate."""
    if not any(_GATE_RE.search(t) for _, t in lines) or not any(_EXPERT_WORD_RE.search(t) for _, t in lines):
        return None
    about = [(at, t) for at, t in lines if _EXPERT_WORD_RE.search(t) and not t.lstrip().startswith("# ")]
    for at, text in about:
        if _SNR_EXPERTS_RE.search(text):
            return "snr", Said(at, text.strip(), why="experts by SNR bin")
    for pattern in (_GRID_RE, _EXPERTS_RE):  # a line that gives the grid, else one that counts the experts
        for at, text in about:
            if pattern.search(text):
                return "grid", Said(at, text.strip(), why="Ridge experts over a Teff × [Fe/H] grid")
    return None


def acceptance(lines: Lines) -> tuple[str, Said] | None:
    """The acceptance criterion: the text after its label ("验收标准：…", "Acceptance: …"), or,
    when the label stands alone, the list items right under it joined."""
    for index, (at, text) in enumerate(lines):
        match = _ACCEPTANCE_RE.match(text.strip())
        if match is None:
            continue
        rest = match["rest"].strip().strip("*").strip()
        if rest:
            return rest, Said(at, text.strip(), why="the report's acceptance criterion made a rule")
        items: list[str] = []
        for _, item in lines[index + 1 :]:
            found = _LIST_ITEM_RE.match(item)
            if found is None:
                if items or item.strip():
                    break
                continue
            items.append(found["text"].strip())
        if items:
            return " ; ".join(items), Said(
                at, f"{text.strip()} {' ; '.join(items)}", why="the report's acceptance criterion made a rule"
            )
    return None
