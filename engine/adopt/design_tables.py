"""The spec a legacy report's tables already state: its targets and its design tables.

A report's design section already says much of what a spec says, in tables: what is predicted,
the data (how many training and test spectra, the noise level, the pixels), the values a sweep
tried, the loss weights. This reads those it recognises into spec keys, each with the table row
it came from, and leaves the rest to the user with a note of what to fill. Pure: tables of cell
texts with their lines in (`Outline.tables_in_place`), spec values out, each with the `Said` that
names the row it was read from.

(Not to be confused with `engine.notebook.drafts`, reports whose `status: draft` keeps them off
the pages: this is what adopting *reads*.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.adopt.headings import fold, heading_key
from engine.adopt.outline import Table
from engine.adopt.said import Said

Rows = Sequence[Sequence[str]]  # a table: header row first, each cell's text

# A row of a data table that names what is predicted, and the names it may use for each target.
TARGET_ROWS = ("标签参数", "标签", "预测目标", "目标参数", "targets", "target", "labels")
TARGET_NAMES: dict[str, tuple[str, ...]] = {
    "log_g": ("logg", "log_g", "log g", "log(g)"),
    "T_eff": ("teff", "t_eff", "t eff"),
    "Fe_H": ("feh", "fe_h", "fe/h", "[fe/h]", "m_h", "[m/h]", "m/h", "metallicity"),
}
DEFAULT_TARGETS = ["log_g"]
_TARGET_ALIASES = {fold(w): name for name, words in TARGET_NAMES.items() for w in words}

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
    "gate_rows": ("gate training", "gate training set", "gate samples", "gate 训练", "gate 训练集", "门控训练集"),
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
class DesignValues:
    """What the design tables said: spec values, where each came from, and what is left to the user."""

    values: dict[str, Any] = field(default_factory=dict)  # dotted key → value ("trials": name → overrides)
    sources: dict[str, Said] = field(default_factory=dict)  # dotted key (or "trials.<name>") → where it was read
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


def named_targets(tables: Sequence[Table]) -> tuple[list[str], Said] | None:
    """The targets when a data table names them clearly (every item a known target), and the
    row that does; else None."""
    rows_named = {fold(w) for w in TARGET_ROWS}
    for table in tables:
        for at, row in enumerate(table.rows[1:], start=1):
            if len(row) < 2 or fold(row[0]) not in rows_named:
                continue
            items = [i for i in re.split(r"[,，、;；+]|\band\b|和", row[1].replace("`", "")) if i.strip()]
            names = [_TARGET_ALIASES.get(fold(item)) for item in items]
            if names and all(names) and len(set(names)) == len(names):
                said = Said(table.line(at), f"{_plain(row[0])} | {_plain(row[1])}", guess=False)
                return [name for name in names if name], said  # all named: the same list, typed
    return None


def target_of(text: str) -> str | None:
    """The target a cell means ("Teff" → T_eff), or None."""
    return _TARGET_ALIASES.get(fold(text.replace("`", "")))


def read(tables: Sequence[Table], targets: Sequence[str]) -> DesignValues:
    """The values of the first data, sweep and loss-weight tables recognised (cells matched by
    their heading key), for a spec predicting `targets`."""
    design = DesignValues()
    data_rows = {heading_key(w): name for name, words in DATA_ROWS.items() for w in words}
    sweep_keys = {heading_key(w): name for name, words in SWEEP_KEYS.items() for w in words}
    for table in tables:
        rows = table.rows
        if len(rows) < 2 or len(rows[0]) < 2:
            continue
        head = heading_key(rows[0][0])
        wide = _wide_weights(table, targets)
        if wide is not None:
            if "trials" not in design.values and wide[0]:
                design.values["trials"] = {name: overrides for name, (overrides, _) in wide[0].items()}
                design.sources.update({f"trials.{name}": said for name, (_, said) in wide[0].items()})
                design.sources["trials"] = Said(
                    table.line(0),
                    " | ".join(rows[0]),
                    guess=False,
                    why="loss weights act on the nets: mlp, cnn, vit",
                )
                design.unread += wide[1]
            continue
        if (
            head in {heading_key(w) for w in SWEEP_HEADERS}
            and heading_key(rows[0][1]) in {heading_key(w) for w in SWEEP_VALUES}
            and "sweep" not in design.values
        ):
            grid = {}
            for row in rows[1:]:
                chosen = sweep_keys.get(heading_key(row[0])) if len(row) > 1 else None
                values = numbers(row[1]) if chosen else []
                if chosen and len(values) > 1:
                    grid[chosen] = values
                elif len(row) > 1 and _plain(row[0]):
                    design.unread.append(f"sweep of {_plain(row[0])}: {_plain(row[1])}")
            if grid:
                design.values["sweep"] = grid
                design.sources["sweep"] = Said(table.line(0), "the sweep table", guess=False)
            continue
        weights_at = next(
            (i for i, cell in enumerate(rows[0]) if heading_key(cell) in {heading_key(w) for w in WEIGHT_COLUMNS}), None
        )
        if (
            head in {heading_key(w) for w in WEIGHT_HEADERS}
            and weights_at
            and "train.loss_weights" not in design.values
        ):
            weights = {}
            for row in rows[1:]:
                target = target_of(row[0]) if len(row) > weights_at else None
                weight = number(row[weights_at]) if target else None
                if target and weight and weight > 0:
                    weights[target] = weight
            if weights and set(weights) <= set(targets):
                design.values["train.loss_weights"] = weights
                design.sources["train.loss_weights"] = Said(
                    table.line(0),
                    " | ".join(rows[0]),
                    guess=False,
                    why="loss weights act on the nets: mlp, cnn, vit",
                )
            elif weights:
                design.unread.append(f"loss weights for {', '.join(weights)} (not all of them are data.targets)")
            continue
        for at, row in enumerate(rows[1:], start=1):
            name = data_rows.get(heading_key(row[0])) if len(row) > 1 else None
            if name is None or name in design.values or name in design.sources:
                continue
            value = number(row[1])
            if value is None:
                continue
            if name in ("pixels", "gate_rows"):
                design.sources[name] = Said(table.line(at), row[1], guess=False)
                design.unread.append(
                    f"{value} pixels (the spec has no pixel count: the data source decides it)"
                    if name == "pixels"
                    else f"{value} spectra to train the gate ({_plain(row[0])}): a moe gate trains on the training "
                    "split, with its experts' out-of-fold predictions"
                )
                continue
            if name.startswith("data.n_") and (not isinstance(value, int) or value <= 0):
                continue
            design.values[name] = value
            quote = f"{_plain(row[0])} | {_plain(row[1])}"
            if _RANGE_RE.match(_plain(row[1])):
                why = f"the report gives a range ({_plain(row[1])}); its first value is taken"
                design.sources[name] = Said(table.line(at), quote, guess=True, why=why)
            else:
                design.sources[name] = Said(table.line(at), quote, guess=False)
    return design


def _weight_target(cell: str) -> str | None:
    """The target a weight column is for: "$w_{logg}$" → log_g, "weight Teff" → T_eff."""
    plain = re.sub(r"[$\\{}_`*]", "", cell).strip()
    for prefix in ("weight", "权重", "w"):
        if plain.lower().startswith(prefix) and target_of(plain[len(prefix) :].strip()):
            return target_of(plain[len(prefix) :].strip())
    return None


def _wide_weights(table: Table, targets: Sequence[str]) -> tuple[dict[str, tuple[dict, Said]], list[str]] | None:
    """A table of weight settings, one row each, a column per target's weight: one trial a row."""
    rows = table.rows
    columns = {i: t for i, cell in enumerate(rows[0]) if i and (t := _weight_target(cell))}
    if len(columns) < 2:
        return None
    trials: dict[str, tuple[dict[str, Any], Said]] = {}
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
        said = Said(table.line(index), label, guess=False, why="its loss weights")
        trials[name] = ({"train.loss_weights": {t: float(w) for t, w in weights.items() if w is not None}}, said)
    return trials, unread
