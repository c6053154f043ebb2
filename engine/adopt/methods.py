"""The trials a finished report compared: its methods' names made trials, models and a baseline.

A finished report names what it compared in its results table (one row per method: "Classify
(baseline)", "MLP gate", "Linear gate") and describes each in a design table (gate, loss,
training). Those names are all a spec's `trials` need, once each is mapped to a model: in a
mixture-of-experts report to a gate (`model.gate`: a classifier → logistic, an MLP trained on the
MSE → mlp_regression, …), else to a model type (Ridge, LightGBM, MLP, CNN, ViT, the Fisher
ceiling). The bootstrap table's rows ("MLP − classify") are the comparisons, and name the
baseline when the rows do not. Every mapping is a guess from words, and says which.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.adopt.design_tables import numbers, target_of
from engine.adopt.headings import fold
from engine.adopt.outline import Table
from engine.adopt.said import Said, Unread

#: Words that make a method a mixture's gate (`model.gate`), tried in this order on the folded
#: label, then on its design row: the first gate whose words appear is the guess.
GATE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("oracle", ("oracle", "truebin", "真值", "真实分箱")),
    ("dual_tower", ("dualtower", "dual", "双塔")),
    ("quality_only", ("qualityonly", "quality", "质量")),
    ("logistic", ("classif", "logistic", "分类", "crossentropy", "交叉熵")),
    ("linear_regression", ("linear", "线性")),
    ("mlp_regression", ("mlp", "regression", "回归", "mse")),
)
#: Words that name a model type, tried in this order.
MODEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fisher_ceiling", ("fisher", "cramer", "crlb", "理论上限")),
    ("lightgbm", ("lightgbm", "lgbm", "gbdt", "boosting")),
    ("vit", ("vit", "transformer")),
    ("cnn", ("cnn", "conv", "卷积")),
    ("mlp", ("mlp", "全连接")),
    ("ridge", ("ridge", "岭回归", "linearregression")),
)
#: A label (or remark) that marks the baseline, or a yardstick that is never a candidate.
BASELINE_WORDS = ("baseline", "基线", "对照", "reference")
#: The first header cell of a table that lists methods, one a row.
METHOD_HEADERS = ("method", "methods", "方法", "model", "模型", "gate", "门控", "version", "版本", "配置", "variant")
_REMARK_RE = re.compile(r"\s*[(（][^()（）]*[)）]\s*")
_SPLIT_RE = re.compile(r"\s+(?:−|-|–|vs\.?|对比|对)\s+|\s*−\s*", re.IGNORECASE)
_EMPHASIS_RE = re.compile(r"[*`]|🥇|🥈|🥉|⭐")


@dataclass
class Method:
    """One compared method: its words, the trial made of it, and why."""

    label: str  # as the report writes it, emphasis dropped
    name: str  # the trial's name
    overrides: dict[str, Any]  # the trial's overrides of the base spec
    said: Said
    kind: str  # the gate (a mixture) or the model type
    baseline: bool = False  # the report calls it the baseline
    reference: bool = False  # a yardstick: a global model beside the experts, a ceiling


@dataclass
class Methods:
    """What the report's method names give a spec."""

    mixture: bool = False
    methods: list[Method] = field(default_factory=list)
    baseline: str | None = None
    baseline_said: Said | None = None
    comparisons: list[list[str]] = field(default_factory=list)
    comparisons_said: Said | None = None
    unread: list[Unread] = field(default_factory=list)

    def by_words(self, text: str) -> Method | None:
        """The method a table cell or a phrase names ("MLP", "classify", "R² (MLP gate)")."""
        return match(text, self.methods, mixture=self.mixture)


def plain(text: str) -> str:
    """A cell's text without emphasis, medals or surrounding spaces."""
    return " ".join(_EMPHASIS_RE.sub("", text).split())


def without_remarks(text: str) -> str:
    """ "Classify (baseline)" → "Classify"."""
    return _REMARK_RE.sub(" ", plain(text)).strip()


def kind_of(words: str, *, mixture: bool) -> str | None:
    """The gate (in a mixture) or model type some words name, or None."""
    folded = fold(words)
    if mixture:
        if ("global" in folded or "全局" in folded) and "ridge" in folded:
            return "ridge"
        for gate, names in GATE_WORDS:
            if any(fold(n) in folded for n in names):
                return gate
        return None
    for model, names in MODEL_WORDS:
        if any(fold(n) in folded for n in names):
            return model
    return None


def match(text: str, methods: Sequence[Method], *, mixture: bool) -> Method | None:
    """The method `text` names: by its label (equal, or one the start of the other), else by the
    gate or model its words name."""
    inner = re.findall(r"[(（]([^()（）]*)[)）]", text)
    for words in [without_remarks(text), *inner]:
        folded = fold(words)
        if not folded:
            continue
        named = [m for m in methods if fold(without_remarks(m.label)) == folded]
        named = named or [
            m
            for m in methods
            if fold(without_remarks(m.label)).startswith(folded) or folded.startswith(fold(without_remarks(m.label)))
        ]
        if len(named) == 1:
            return named[0]
        kind = kind_of(words, mixture=mixture)
        by_kind = [m for m in methods if m.kind == kind]
        if kind and len(by_kind) == 1:
            return by_kind[0]
    return None


def _trial_name(label: str, kind: str, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9.+]+", "-", without_remarks(label).lower()).strip("-.+")
    name = slug if slug and slug[0].isalnum() else kind.replace("_", "-")
    base, n = name, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def method_table(tables: Sequence[Table], results: Table | None) -> Table | None:
    """The table whose rows are the methods: the results table, else a design table headed "Method"."""
    if results is not None and len(results.rows) > 1:
        return results
    return next(
        (t for t in tables if len(t.rows) > 1 and fold(plain(t.rows[0][0])) in {fold(w) for w in METHOD_HEADERS}),
        None,
    )


def read(
    tables: Sequence[Table],
    results: Table | None,
    comparisons: Table | None,
    *,
    mixture: bool,
) -> Methods:
    """The methods of the results table (or of a design table of methods) made trials, with the
    comparisons of the bootstrap table and the baseline."""
    found = Methods(mixture=mixture)
    table = method_table(tables, results)
    if table is None:
        return found
    rows_elsewhere: dict[str, tuple[Table, int]] = {}
    for other in tables:  # the first table that describes a method (the design, before the appendix)
        if other.begin == table.begin or (results is not None and other.begin == results.begin):
            continue
        for at, row in enumerate(other.rows[1:], start=1):
            if row and len(row) > 1:
                rows_elsewhere.setdefault(fold(without_remarks(row[0])), (other, at))
    taken: set[str] = set()
    for at, row in enumerate(table.rows[1:], start=1):
        label = plain(row[0]) if row else ""
        if not label or re.fullmatch(r"[\d.+\-−% ]*", label):
            continue
        design = rows_elsewhere.get(fold(without_remarks(label)))
        words = " | ".join(plain(c) for c in design[0].rows[design[1]]) if design else ""
        kind = kind_of(without_remarks(label), mixture=mixture) or (kind_of(words, mixture=mixture) if words else None)
        if kind is None:
            if not any(f'"{label}"' in item.text for item in found.unread):
                found.unread.append(Unread(f'method "{label}": no model or gate found for it', table.line(at)))
            continue
        where = (design[0].line(design[1]), words) if design else (table.line(at), label)
        name = _trial_name(label, kind, taken)
        taken.add(name)
        reference = kind in ("fisher_ceiling",) or (mixture and kind == "ridge")
        if mixture and kind != "ridge":
            overrides: dict[str, Any] = {"model.gate": kind}
            why = f"the gate {kind}"
        else:
            overrides = {"model": {"type": kind}}
            why = f"the model type {kind}" + (" (a yardstick beside the experts)" if mixture else "")
        found.methods.append(
            Method(
                label=label,
                name=name,
                overrides=overrides,
                said=Said(where[0], where[1], why=why),
                kind=kind,
                baseline=any(fold(w) in fold(label + " " + words) for w in BASELINE_WORDS[:3]),
                reference=reference,
            )
        )
    if comparisons is not None:
        _comparisons(found, comparisons)
    _baseline(found, table)
    return found


def _comparisons(found: Methods, table: Table) -> None:
    """The pairs of the bootstrap table's rows ("MLP − classify": a − b)."""
    for at, row in enumerate(table.rows[1:], start=1):
        sides = [s for s in _SPLIT_RE.split(plain(row[0])) if s.strip()] if row else []
        if len(sides) != 2:
            continue
        a, b = (found.by_words(side) for side in sides)
        if a is None or b is None or a is b:
            found.unread.append(Unread(f'comparison "{plain(row[0])}": its trials are not both found', table.line(at)))
            continue
        if [a.name, b.name] not in found.comparisons:
            found.comparisons.append([a.name, b.name])
    if found.comparisons:
        found.comparisons_said = Said(
            table.line(0), " | ".join(plain(c) for c in table.rows[0]), guess=True, why="each row a − b"
        )


def _baseline(found: Methods, table: Table) -> None:
    """The baseline: the method the report calls so, else the one every comparison is against."""
    called = [m for m in found.methods if m.baseline]
    if len(called) == 1:
        found.baseline = called[0].name
        found.baseline_said = Said(called[0].said.line, called[0].said.quote, guess=False, why="it says baseline")
        return
    against = {b for _, b in found.comparisons}
    if len(against) == 1:
        found.baseline = next(iter(against))
        found.baseline_said = found.comparisons_said and Said(
            found.comparisons_said.line, found.comparisons_said.quote, why="every comparison is against it"
        )
        return
    candidates = [m for m in found.methods if not m.reference]
    if candidates:
        found.baseline = candidates[0].name
        found.baseline_said = Said(table.line(1), candidates[0].label, why="the first method of the table")


def grid_edges(tables: Sequence[Table]) -> dict[str, tuple[list[float], Said]]:
    """The experts' grid as a table gives it: a row per axis (Teff, [M/H]) and its edges."""
    out: dict[str, tuple[list[float], Said]] = {}
    for table in tables:
        for at, row in enumerate(table.rows, start=0):
            if len(row) < 2:
                continue
            axis = target_of(re.sub(r"\s*[(（].*$", "", plain(row[0])).strip())
            values = numbers(plain(row[1]).replace("−", "-"))
            if axis in ("T_eff", "Fe_H") and axis not in out and len(values) >= 3:
                if all(b > a for a, b in zip(values, values[1:])):
                    said = Said(table.line(at), f"{plain(row[0])} | {plain(row[1])}", guess=False)
                    out[axis] = ([float(v) for v in values], said)
    return out
