"""What a finished report's result tables say a spec must compute: its metrics, its binned
tables and its key numbers.

The appendix of a finished report holds the tables the hand-coded run filled: the overall table
(a column per metric: "R²", "MAE", "logg RMSE"), the per-bin tables (a row per bin — a range
"3750-4250", or a cell name "Hot Metal-poor" of a Teff × [M/H] grid — and a column per method,
with a "ΔR²" column against the baseline), and the key-number table of the findings ("Baseline
R² (classify)", "ΔR² Hot Metal-poor"). Their columns and rows are what the spec's `metrics`,
`binned` and `key_numbers` must say for a run to fill the same tables again; this reads them
back, each with the table line it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.adopt.design_tables import TARGET_NAMES, target_of
from engine.adopt.headings import fold
from engine.adopt.methods import Method, Methods, plain, without_remarks
from engine.adopt.outline import Table
from engine.adopt.said import Said, Unread

#: A column's metric, by the words of its header (folded): R² before the rest, RMSE before MAE.
METRIC_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("r2", ("r2", "r^2", "决定系数")),
    ("rmse", ("rmse",)),
    ("mae", ("mae", "平均绝对误差")),
    ("bias", ("bias", "偏差", "误差", "error")),
)
_DELTA_RE = re.compile(r"^\s*(?:\$?\\?(?:Delta|delta)|Δ|δ)", re.IGNORECASE)
_RANGE_RE = re.compile(
    r"^\s*(?P<lo>[-+−]?\d[\d,]*(?:\.\d+)?)\s*(?:-|–|—|~|to|至)\s*(?P<hi>[-+−]?\d[\d,]*(?:\.\d+)?)\s*$"
)
#: The bin names of each axis of a Teff × [Fe/H] grid, lowest first: a cell is named by one of each.
TEFF_NAMES: tuple[tuple[str, ...], ...] = (("cool", "cold", "冷"), ("warm", "mild", "温", "暖"), ("hot", "热"))
FEH_NAMES: tuple[tuple[str, ...], ...] = (
    ("metalpoor", "poor", "贫金属", "贫"),
    ("intermediate", "solar", "mid", "中等", "中"),
    ("metalrich", "rich", "富金属", "富"),
)
_BY_WORDS = {"snr": ("snr", "s/n", "信噪比"), "mag": ("mag", "星等")}


@dataclass
class Column:
    """A result column: its metric and the method it is of (None: the table's only one)."""

    index: int
    metric: str  # "r2.log_g"
    method: Method | None
    delta: bool


def metric_of(header: str, targets: Sequence[str]) -> str | None:
    """The metric a column header names: "R² (classify)" → r2.log_g, "Teff MAE" → mae.T_eff."""
    words = without_remarks(header)
    folded = fold(words)
    name = next((m for m, names in METRIC_WORDS if any(fold(n) in folded for n in names)), None)
    if name is None:
        return None
    target = None
    for token in re.split(r"[\s(),/（）]+", words):
        target = target_of(token) or target
    for alias, words_of in TARGET_NAMES.items():
        if target is None and any(fold(w) in folded.replace(fold(name), "", 1) for w in words_of if len(fold(w)) > 3):
            target = alias
    target = target or (targets[0] if targets else "log_g")
    return f"{name}.{target}" if target in targets else None


def columns(table: Table, methods: Methods, targets: Sequence[str]) -> list[Column]:
    """The metric columns of a result table, each with its method when the header names one."""
    out = []
    for index, header in enumerate(table.rows[0]):
        metric = metric_of(header, targets) if index else None
        if metric is None:
            continue
        inside = re.findall(r"[(（]([^()（）]*)[)）]", header)
        method = next((m for text in inside if (m := methods.by_words(text))), None)
        out.append(Column(index, metric, method, bool(_DELTA_RE.match(plain(header)))))
    return out


def metrics(results: Table | None, methods: Methods, targets: Sequence[str]) -> tuple[list[str], Said] | None:
    """The metrics of the overall table's columns, in order (a Δ column is not a metric)."""
    if results is None:
        return None
    found = list(dict.fromkeys(c.metric for c in columns(results, methods, targets) if not c.delta))
    if not found:
        return None
    return found, Said(results.line(0), " | ".join(plain(c) for c in results.rows[0]), guess=False, why="its columns")


@dataclass
class BinnedTable:
    """One binned table of the spec, and where each part of it came from."""

    entry: dict[str, Any]
    said: dict[str, Said | str] = field(default_factory=dict)  # "metric", "by", "edges", "names", …


def binned(
    table: Table,
    methods: Methods,
    targets: Sequence[str],
    grid: dict[str, tuple[list[float], Said]],
    *,
    baseline: str | None,
) -> BinnedTable | None:
    """A per-bin table as a spec's binned table: by a range column (edges from the ranges) or by
    cell names of a Teff × [Fe/H] grid (names and edges from the experts' grid)."""
    cols = columns(table, methods, targets)
    values = [c for c in cols if not c.delta]
    head = " | ".join(plain(c) for c in table.rows[0])
    named = metric_of(table.heading, targets)  # "Binned bias": the heading names it
    if values:
        metric = values[0].metric
        said = Said(table.line(0), head, why=f"its columns are {metric} per bin")
    elif named is not None:
        metric = named
        said = Said(table.line(0), f"{table.heading}: {head}", why=f"the heading names {metric}")
        for index, header in enumerate(table.rows[0][1:], start=1):
            method = methods.by_words(header)
            if method is not None:
                values.append(Column(index, metric, method, False))
    else:
        return None
    out = BinnedTable({"metric": metric})
    out.said["metric"] = said
    body = [(at, row) for at, row in enumerate(table.rows[1:], start=1) if row]
    shaped = _by_ranges(table, body, out) or _by_cells(table, body, grid, out)
    if not shaped:
        return None
    shown = [c.method.name for c in values if c.method is not None and c.metric == metric]
    if shown and len(shown) < len(methods.methods):
        out.entry["trials"] = list(dict.fromkeys(shown))
        out.said["trials"] = Said(table.line(0), head, guess=False, why="the methods of its columns")
    if baseline is not None and any(c.delta for c in cols):
        out.entry["delta"] = "baseline"
        delta = next(c for c in cols if c.delta)
        out.said["delta"] = Said(table.line(0), table.rows[0][delta.index], why="each trial − the baseline, per bin")
    return out


def _by_ranges(table: Table, body, out: BinnedTable) -> bool:
    """Bins given as ranges ("3750-4250") in one column, named by its header ("Teff 范围 (K)")."""
    for index, header in enumerate(table.rows[0]):
        ranges = [(at, m) for at, row in body if index < len(row) and (m := _RANGE_RE.match(plain(row[index])))]
        if len(ranges) < 2:
            continue
        by = _axis(header)
        if by is None:
            return False
        edges = [_num(ranges[0][1]["lo"])]
        for (_, m), nxt in zip(ranges, [*ranges[1:], None]):
            hi = _num(m["hi"])
            if nxt is not None and abs(_num(nxt[1]["lo"]) - hi) > 1e-9:
                return False  # bins with gaps: not one edge list
            edges.append(hi)
        if any(b <= a for a, b in zip(edges, edges[1:])):
            return False
        out.entry.update(by=by, edges=edges)
        first, last = ranges[0][0], ranges[-1][0]
        quote = f"{plain(table.rows[first][index])} … {plain(table.rows[last][index])}"
        out.said["edges"] = Said(table.line(first), quote, guess=False, why=f"by {by}")
        return True
    return False


def _axis(header: str) -> str | None:
    folded = fold(without_remarks(header))
    for by, words in _BY_WORDS.items():
        if any(fold(w) in folded for w in words):
            return by
    for token in re.split(r"[\s(),/（）]+", without_remarks(header)):
        if target_of(token):
            return target_of(token)
    for alias, words in TARGET_NAMES.items():
        if any(fold(w) in folded for w in words if len(fold(w)) > 3):
            return alias
    return None


def _num(text: str) -> float:
    value = float(text.replace("−", "-").replace(",", ""))
    return int(value) if value.is_integer() else value


def _rank(word: str, names: tuple[tuple[str, ...], ...]) -> int | None:
    folded = fold(word)
    for rank, words in enumerate(names):
        if any(folded == fold(w) or folded.endswith(fold(w)) for w in words):
            return rank
    return None


def _lowest_first(words: list[str], names: tuple[tuple[str, ...], ...]) -> list[str]:
    """Bin names in the order of their values (cool before hot), known words first, else as written."""
    ranked = [(_rank(w, names), i, w) for i, w in enumerate(words)]
    return [w for _, _, w in sorted(ranked, key=lambda r: (r[0] is None, r[0] or 0, r[1]))]


def _by_cells(table: Table, body, grid: dict[str, tuple[list[float], Said]], out: BinnedTable) -> bool:
    """Bins named as Teff × [Fe/H] cells ("Hot Metal-poor"): names per axis, lowest first, and
    the edges of the experts' grid (or the engine's default grid)."""
    header = [fold(plain(c)) for c in table.rows[0]]
    name_at = next((i for i, h in enumerate(header) if h in ("name", "名称", "cell", "格子", "binname", "区间")), None)
    if name_at is None:
        return False
    cells = []
    for at, row in body:
        words = plain(row[name_at]).split() if name_at < len(row) else []
        if len(words) != 2:
            continue
        first, second = words
        if _rank(first, TEFF_NAMES) is None and _rank(second, TEFF_NAMES) is not None:
            first, second = second, first
        cells.append((at, first, second))
    teff = list(dict.fromkeys(c[1] for c in cells))
    feh = list(dict.fromkeys(c[2] for c in cells))
    if len(cells) < 4 or len(teff) * len(feh) != len(cells) or len(teff) < 2 or len(feh) < 2:
        return False
    teff = _lowest_first(teff, TEFF_NAMES)
    feh = _lowest_first(feh, FEH_NAMES)
    edges, edges_said = {}, []
    for axis, names in (("T_eff", teff), ("Fe_H", feh)):
        given = grid.get(axis)
        if given is not None and len(given[0]) == len(names) + 1:
            edges[axis] = given[0]
            edges_said.append(given[1])
    if len(edges) < 2:
        from engine.models.configs import MoEConfig

        default = {"T_eff": list(MoEConfig.teff_edges), "Fe_H": [round(e, 3) for e in MoEConfig.feh_edges]}
        if len(default["T_eff"]) != len(teff) + 1 or len(default["Fe_H"]) != len(feh) + 1:
            return False
        edges = {axis: edges.get(axis, default[axis]) for axis in ("T_eff", "Fe_H")}
        edges_said = [Said(None, "", why="the engine's 3 × 3 grid: the report gives no edges")]
    out.entry.update(by=["T_eff", "Fe_H"], name="cells", edges=edges, names={"T_eff": teff, "Fe_H": feh})
    first, last = cells[0][0], cells[-1][0]
    out.said["by"] = Said(
        table.line(first), plain(table.rows[first][name_at]), why="a cell name is a Teff and an [Fe/H] bin"
    )
    out.said["name"] = "the table's name in rules and key numbers: binned['cells']['Hot Metal-poor']"
    out.said["names"] = Said(
        table.line(first),
        f"{plain(table.rows[first][name_at])} … {plain(table.rows[last][name_at])}",
        why="the cell names, split into a Teff and an [Fe/H] part, each lowest first",
    )
    out.said["edges"] = (
        edges_said[0]
        if len(edges_said) == 1
        else Said(
            edges_said[0].line, f"{edges_said[0].quote}; {edges_said[1].quote}", guess=False, why="the experts' grid"
        )
    )
    return True


# ---------------------------------------------------------------------------------------------
# Key numbers


@dataclass
class KeyNumber:
    entry: dict[str, Any]
    said: Said


def key_numbers(
    table: Table | None,
    methods: Methods,
    primary: str,
    targets: Sequence[str],
    *,
    focus: str | None,
    cells: dict[str, Any] | None,
) -> tuple[list[KeyNumber], list[Unread]]:
    """The key-number table's rows as expressions: a baseline or a method's score, the Δ of the
    focus trial (the one the report is about) against the baseline, its interval, a cell's Δ."""
    if table is None:
        return [], []
    found: list[KeyNumber] = []
    unread: list[Unread] = []
    baseline = methods.baseline
    cell_names = (
        {f"{t} {f}": f"{t} {f}" for t in cells["names"]["T_eff"] for f in cells["names"]["Fe_H"]} if cells else {}
    )
    for at, row in enumerate(table.rows[1:], start=1):
        label = plain(row[0]) if row else ""
        if not label:
            continue
        about_delta = bool(_DELTA_RE.match(label)) or _interval(label)
        metric = metric_of(label, targets) or (primary if about_delta else None)
        said = Said(table.line(at), f"{label} | {plain(row[1]) if len(row) > 1 else ''}")
        entries = _key_expression(label, metric, methods, baseline, focus, cell_names)
        if not entries:
            unread.append(Unread(f'key number "{label}": no expression found for it', table.line(at)))
        found += [KeyNumber(entry, said) for entry in entries]
    return found, unread


def _key_expression(label, metric, methods: Methods, baseline, focus, cell_names) -> list[dict[str, Any]]:
    if metric is None:
        return []
    folded = fold(label)
    named = methods.by_words(label)
    interval = _interval(label)
    if _DELTA_RE.match(label) or interval:
        if baseline is None or focus == baseline:
            return []
        cell = next((name for name in cell_names if fold(name) in folded), None)
        if cell is not None:
            if focus is None:
                return []  # a cell's Δ is of one trial: which one, the report does not say
            return [{"label": label, "value": f"binned['cells']['{cell}']['delta']['{focus}'].value", "format": "+.4f"}]
        pair = f"compare('{focus}', '{baseline}').{metric}" if focus else f"best.delta.{metric}"
        if interval:
            return [
                {"label": f"{label} low", "value": f"{pair}.lo", "format": "+.4f"},
                {"label": f"{label} high", "value": f"{pair}.hi", "format": "+.4f"},
            ]
        return [{"label": label, "value": f"{pair}.value", "format": "+.4f"}]
    if any(fold(w) in folded for w in ("baseline", "基线", "对照")) and baseline is not None:
        return [{"label": label, "value": f"trials['{baseline}'].{metric}"}]
    if named is not None:
        return [{"label": label, "value": f"trials['{named.name}'].{metric}"}]
    if any(w in folded for w in ("new", "best", "新", "最佳", "最好")):
        return [{"label": label, "value": f"trials['{focus}'].{metric}" if focus else f"best.{metric}"}]
    return []


def _interval(label: str) -> bool:
    """A label of an interval ("95% CI", "置信区间")."""
    return bool(re.search(r"\bci\b|interval|区间|置信", label, re.IGNORECASE))
