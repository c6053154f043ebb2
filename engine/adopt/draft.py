"""The draft spec `research adopt` proposes from a legacy report's design tables.

A report's design section already says much of what a spec says, in tables: the data (how many
training and test spectra, the noise level, the pixels), the values a sweep tried, the loss
weights. This reads those it recognises into spec keys, each with the table row it came from,
and leaves the rest to the user with a note of what to fill. Pure: rows of cell texts in, spec
values out; the tables are found by `engine.adopt.legacy` (markdown-it token maps).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Rows = Sequence[Sequence[str]]  # a table: header row first, each cell's text

# The first cell of a data-table row, and the spec key its value goes to.
DATA_ROWS: dict[str, tuple[str, ...]] = {
    "data.n_train": (
        "n_train",
        "n",
        "training spectra",
        "training set",
        "train size",
        "training samples",
        "训练集",
        "训练样本",
        "训练样本数",
        "训练数据",
        "训练集大小",
    ),
    "data.n_test": (
        "n_test",
        "test spectra",
        "test set",
        "test size",
        "test samples",
        "测试集",
        "测试样本",
        "测试样本数",
    ),
    "noise.level": ("noise", "noise level", "noise_level", "噪声", "噪声水平", "噪声等级"),
    "pixels": ("pixels", "n_pixels", "spectral pixels", "像素", "像素数"),
}
# The first header cell of a sweep table and a loss-weight table.
SWEEP_HEADERS = ("parameter", "param", "hyperparameter", "swept parameter", "参数", "超参数", "扫描参数")
SWEEP_VALUES = ("values", "value", "sweep", "sweep values", "grid", "取值", "扫描值", "扫描范围")
WEIGHT_HEADERS = ("target", "task", "目标", "任务", "标签")
WEIGHT_COLUMNS = ("weight", "loss weight", "权重", "loss 权重")
# A sweep row's parameter and the dotted key it sweeps (only keys every model accepts, or ridge's).
SWEEP_KEYS: dict[str, tuple[str, ...]] = {
    "model.alpha": ("alpha", "α", "ridge alpha", "正则化"),
    "train.lr": ("lr", "learning rate", "学习率"),
    "train.epochs": ("epochs", "epoch", "训练轮数"),
    "train.batch_size": ("batch size", "batch_size", "批大小"),
    "data.n_train": ("n_train", "training spectra", "训练样本数"),
    "noise.level": ("noise", "noise level", "噪声水平"),
}

# A cell that *is* a number: "24,000", "~5.8k", "1e5", "0.3", "32k spectra"; not "Top 20% SNR".
_NUMBER_RE = re.compile(r"^(?:~|≈|约|about\s)?\s*(?P<n>[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?\s*[kKmM]?)(?![\w%.])")
_RANGE_RE = re.compile(r"^\S+\s*(?:-|–|~|to|至)\s*\d")
_SCALE = {"k": 1_000, "m": 1_000_000}


@dataclass
class Draft:
    """What the design tables said: spec values, where each came from, and what is left to the user."""

    values: dict[str, Any] = field(default_factory=dict)  # dotted key → value ("trials": name → overrides)
    guesses: dict[str, str] = field(default_factory=dict)  # dotted key → why the value is a guess
    labels: dict[str, str] = field(default_factory=dict)  # trial name → the row it was read from
    sources: dict[str, str] = field(default_factory=dict)  # dotted key → the row it was read from
    unread: list[str] = field(default_factory=list)  # what the tables said that no spec key holds


def number(text: str) -> int | float | None:
    """The first number of a cell: "24,000" → 24000, "~5.8k" → 5800, "1e5" → 100000.0, "0.3" → 0.3."""
    match = _NUMBER_RE.match(_plain(text))
    if match is None:
        return None
    raw = match["n"].replace(",", "").replace(" ", "")
    scale = _SCALE.get(raw[-1].lower(), 1) if raw[-1] in "kKmM" else 1
    raw = raw.rstrip("kKmM")
    value = float(raw) * scale
    if scale > 1 or re.fullmatch(r"[-+]?\d+", raw):
        return int(round(value))
    return value


def numbers(text: str) -> list[int | float]:
    """Every value of a list cell: "0.1, 1, 10" → [0.1, 1, 10]."""
    parts = [p for p in re.split(r"[;,，、/]|\s+", _plain(text)) if p.strip()]
    out = [number(p) for p in parts]
    return [v for v in out if v is not None] if all(v is not None for v in out) else []


def _plain(text: str) -> str:
    return text.replace("`", "").replace("*", "").strip()


def read(
    tables: Sequence[Rows], targets: Sequence[str], key: Callable[[str], str], target_of: Callable[[str], str | None]
) -> Draft:
    """The draft values of the first data, sweep and loss-weight tables recognised.

    `key` folds a cell for matching (the heading key of `engine.adopt.legacy`), `target_of` names the
    target a cell means ("Teff" → T_eff) or None."""
    draft = Draft()
    data_rows = {key(w): name for name, words in DATA_ROWS.items() for w in words}
    sweep_keys = {key(w): name for name, words in SWEEP_KEYS.items() for w in words}
    for rows in tables:
        if len(rows) < 2 or len(rows[0]) < 2:
            continue
        head = key(rows[0][0])
        wide = _wide_weights(rows, targets, key, target_of)
        if wide is not None:
            if "trials" not in draft.values and wide[0]:
                draft.values["trials"] = {name: overrides for name, (overrides, _) in wide[0].items()}
                draft.labels = {name: label for name, (_, label) in wide[0].items()}
                draft.sources["trials"] = "the report's loss-weight table (loss weights act on the nets: mlp, cnn, vit)"
                draft.unread += wide[1]
            continue
        if (
            head in {key(w) for w in SWEEP_HEADERS}
            and key(rows[0][1]) in {key(w) for w in SWEEP_VALUES}
            and "sweep" not in draft.values
        ):
            grid = {}
            for row in rows[1:]:
                chosen = sweep_keys.get(key(row[0])) if len(row) > 1 else None
                values = numbers(row[1]) if chosen else []
                if chosen and len(values) > 1:
                    grid[chosen] = values
                elif len(row) > 1 and _plain(row[0]):
                    draft.unread.append(f"sweep of {_plain(row[0])}: {_plain(row[1])}")
            if grid:
                draft.values["sweep"] = grid
                draft.sources["sweep"] = "the report's sweep table"
            continue
        weights_at = next((i for i, cell in enumerate(rows[0]) if key(cell) in {key(w) for w in WEIGHT_COLUMNS}), None)
        if head in {key(w) for w in WEIGHT_HEADERS} and weights_at and "train.loss_weights" not in draft.values:
            weights = {}
            for row in rows[1:]:
                target = target_of(row[0]) if len(row) > weights_at else None
                weight = number(row[weights_at]) if target else None
                if target and weight and weight > 0:
                    weights[target] = weight
            if weights and set(weights) <= set(targets):
                draft.values["train.loss_weights"] = weights
                draft.sources["train.loss_weights"] = (
                    "the report's loss-weight table (loss weights act on the nets: mlp, cnn, vit)"
                )
            elif weights:
                draft.unread.append(f"loss weights for {', '.join(weights)} (not all of them are data.targets)")
            continue
        for row in rows[1:]:
            name = data_rows.get(key(row[0])) if len(row) > 1 else None
            if name is None or name in draft.values or name in draft.sources:
                continue
            value = number(row[1])
            if value is None:
                continue
            if name == "pixels":
                draft.sources[name] = "unread"
                draft.unread.append(f"{value} pixels (the spec has no pixel count: the data source decides it)")
                continue
            if name.startswith("data.n_") and (not isinstance(value, int) or value <= 0):
                continue
            draft.values[name] = value
            draft.sources[name] = f'"{_plain(row[0])} | {_plain(row[1])}"'
            if _RANGE_RE.match(_plain(row[1])):
                draft.guesses[name] = f"the report gives a range ({_plain(row[1])}); its first value is taken"
    return draft


def _weight_target(cell: str, target_of: Callable[[str], str | None]) -> str | None:
    """The target a weight column is for: "$w_{logg}$" → log_g, "weight Teff" → T_eff."""
    plain = re.sub(r"[$\\{}_`*]", "", cell).strip()
    for prefix in ("weight", "权重", "w"):
        if plain.lower().startswith(prefix) and target_of(plain[len(prefix) :].strip()):
            return target_of(plain[len(prefix) :].strip())
    return None


def _wide_weights(
    rows: Rows, targets: Sequence[str], key, target_of
) -> tuple[dict[str, tuple[dict, str]], list[str]] | None:
    """A table of weight settings, one row each, a column per target's weight: one trial a row."""
    columns = {i: t for i, cell in enumerate(rows[0]) if i and (t := _weight_target(cell, target_of))}
    if len(columns) < 2:
        return None
    trials: dict[str, tuple[dict[str, Any], str]] = {}
    unread: list[str] = []
    for index, row in enumerate(rows[1:], start=1):
        label = _plain(row[0]) if row else ""
        weights = {t: number(row[i]) for i, t in columns.items() if i < len(row)}
        if not all(isinstance(w, (int, float)) and w > 0 for w in weights.values()) or set(weights) - set(targets):
            unread.append(f"weights of {label or f'row {index}'}: not numbers for every target in data.targets")
            continue
        name = re.sub(r"[^A-Za-z0-9_.+\-]+", "-", label).strip("-.+_") or f"weights-{index}"
        if not name[0].isalnum() or name in trials:
            name = f"weights-{index}"
        trials[name] = ({"train.loss_weights": {t: float(w) for t, w in weights.items() if w is not None}}, label)
    return trials, unread
