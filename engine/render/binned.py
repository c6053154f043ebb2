"""Binned tables: a metric in the bins of one parameter, or the cells of two, from predictions.

    table = binned_table(spec.binned[0], preds, baseline="classify", bootstrap=(1000, 0))
    table["rows"]            # one per bin or cell: its label/name, n, each trial's value, Δs
    table["series"]          # trial → value per bin (NaN where a bin has too few spectra): binned[i]
    table["by_name"]         # cell name → {trial: value, "n": n, "delta": {trial: interval}}
    bin_intervals(table, runs, bootstrap=(1000, 0))  # a trial's interval of each bin's value (its figure)

A bin with fewer than `min_n` spectra is kept in the table (in parentheses) but left out of the
spread, of what rules read and of a figure's line. With `delta:`, each shown trial's difference
from the reference trial is given in every bin with a paired bootstrap 95 % interval, computed on
the rows of that bin both trials scored (the same test rows, or the difference is not defined).
Pure: numbers in, numbers out; the report's templates format them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import product
from typing import TYPE_CHECKING, Any, cast

from engine.render.predictions import metric_fn, target_column, view
from engine.spec.vocabulary import split_test

if TYPE_CHECKING:  # numpy is imported where arrays are made: naming a table's cells needs none
    import numpy as np


def _values(p: Mapping[str, Any], metric: str, target: str):
    """(truth, prediction) of a target, or the per-spectrum values of an extra."""
    import numpy as np

    if metric == "extra":
        return None, np.asarray(p[f"extra.{target}"], dtype=np.float64)
    col = target_column(p, target)
    return p["y_true"][:, col], p["y_pred"][:, col]


def _usable(table, p: Mapping[str, Any]) -> bool:
    metric, target = split_test(table.metric)[0].split(".", 1)
    has = f"extra.{target}" in p if metric == "extra" else target_column(p, target) is not None
    return has and all(f"param.{axis.by}" in p for axis in table.axes)


def _edges(axis, preds) -> np.ndarray:
    import numpy as np

    from engine import metrics

    if axis.edges is not None:
        return np.asarray(axis.edges, dtype=float)
    values = np.concatenate([np.asarray(p[f"param.{axis.by}"], dtype=float) for p in preds.values()])
    return metrics.bin_edges(values, axis.width)


def _which(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value ([lo, hi), the last bin closed); -1 outside the edges."""
    import numpy as np

    which = np.searchsorted(edges, values, side="right") - 1
    which[values == edges[-1]] = len(edges) - 2
    which[~np.isfinite(values) | (values < edges[0]) | (values > edges[-1])] = -1
    return which


def row_cells(p: Mapping[str, Any], axes: Sequence[str], edges) -> np.ndarray:
    """The flat bin (cell) of each test row of a table binned by the parameters `axes` with
    `edges` (one list per parameter; -1 outside them): the one rule every table, interval and
    resample bins by."""
    import numpy as np

    flat = np.zeros(len(p["index"]), dtype=np.int64)
    outside = np.zeros(len(flat), dtype=bool)
    for by, e in zip(axes, edges):
        e = np.asarray(e, dtype=float)
        which = _which(np.asarray(p[f"param.{by}"], dtype=float), e)
        flat = flat * (len(e) - 1) + np.maximum(which, 0)
        outside |= which < 0
    flat[outside] = -1
    return flat


def _statistic(metric: str, truth, pred) -> float:
    import numpy as np

    if metric == "extra":
        return float(np.mean(pred)) if len(pred) else math.nan
    if not len(pred) or (metric == "r2" and len(pred) < 2):
        return math.nan
    return float(metric_fn(metric)(truth, pred))


def fmt_edge(value: float) -> str:
    return f"{value:g}"


def cell_label(edges, cell) -> str:
    """`3750–4500 · -1–-0.67`: a bin (or cell) by its edges; what rules call it."""
    return " · ".join(f"{fmt_edge(e[i])}–{fmt_edge(e[i + 1])}" for e, i in zip(edges, cell))


#: An outer edge farther out than this many times the other bins' whole span is no edge anyone
#: means, only "and beyond": `edges: [0, 2, 4, 7, 1e9]` is SNR above 7, not SNR up to 1e9.
OPEN_END = 1000.0


def _open_ends(e: Sequence[float]) -> tuple[bool, bool]:
    """Whether an axis's first and last bins are open-ended: an infinite edge, or one OPEN_END
    times farther out than the other bins span."""
    first, last = not math.isfinite(e[0]), not math.isfinite(e[-1])
    if len(e) >= 3 and not first and not last:
        last = e[-1] - e[-2] > OPEN_END * (e[-2] - e[0]) > 0
        first = e[1] - e[0] > OPEN_END * (e[-1] - e[1]) > 0
    return first, last


def cell_words(edges, cell) -> str:
    """A bin (or cell) as its table, figure and sentences show it: `3750–4500 · -1–-0.67`, with an
    open end in words (`≥ 7`, `< 2`), never as the stand-in edge (`7–1e+09`)."""
    parts = []
    for e, i in zip(edges, cell):
        first, last = _open_ends(e)
        lo_open, hi_open = first and i == 0, last and i == len(e) - 2
        if lo_open and hi_open:
            parts.append("all")
        elif hi_open:
            parts.append(f"≥ {fmt_edge(e[i])}")
        elif lo_open:
            parts.append(f"< {fmt_edge(e[i + 1])}")
        else:
            parts.append(f"{fmt_edge(e[i])}–{fmt_edge(e[i + 1])}")
    return " · ".join(parts)


def cell_name(axes, cell) -> str | None:
    """`Hot Metal-poor`: a cell by its bins' names, when every parameter names its bins."""
    return " ".join(axis.names[i] for axis, i in zip(axes, cell)) if all(a.names for a in axes) else None


def cell_keys(table) -> list[str] | None:
    """What rules call the bins of a table, known from the spec alone (None with `width:` bins)."""
    axes = table.axes
    if any(axis.edges is None for axis in axes):
        return None
    cells = list(product(*(range(len(axis.edges) - 1) for axis in axes)))
    names = [cell_name(axes, c) for c in cells]
    return cast("list[str]", names) if all(names) else [cell_label([a.edges for a in axes], c) for c in cells]


def empty_for_sure(table, data: Mapping[str, Any]) -> dict[int, str]:
    """The bins (cells, flat) of a table with `edges:` that no test spectrum can fill, known
    before anything runs from a trial's resolved `data`: outside the synthetic generator's range
    or the test selection's `ranges`, or every bin when the test set is smaller than `min_n`.
    Bin → why. A rule that needs one is refused by validation (`decision.shape_context`)."""
    from engine.data.synth_space import RANGES

    axes = table.axes
    if any(axis.edges is None for axis in axes) or split_test(table.metric)[1] is not None or data.get("tests"):
        return {}  # bins known only from the data, or another test set: nothing is certain here
    chosen = (data.get("test_select") or {}).get("ranges") or {}
    synthetic = (data.get("test_source") or data.get("source") or "synthetic") == "synthetic"

    def bounds(by: str) -> tuple[float, float] | None:
        lo, hi = RANGES[by] if synthetic and by in RANGES else (-math.inf, math.inf)
        if by in chosen:
            lo, hi = max(lo, float(chosen[by][0])), min(hi, float(chosen[by][1]))
        return None if (lo, hi) == (-math.inf, math.inf) else (lo, hi)

    edges = [list(axis.edges) for axis in axes]
    n_test = data.get("n_test")
    out: dict[int, str] = {}
    for c, cell in enumerate(product(*(range(len(e) - 1) for e in edges))):
        for axis, e, i in zip(axes, edges, cell):
            bound = bounds(axis.by)
            lo, hi, last = e[i], e[i + 1], i == len(e) - 2
            if bound is not None and (hi < bound[0] or lo > bound[1] or (hi == bound[0] and not last)):
                out[c] = (
                    f"bin {cell_label(edges, cell)} lies outside the test set's {axis.by} range "
                    f"{fmt_edge(bound[0])}–{fmt_edge(bound[1])}: no test spectrum can fall in it"
                )
                break
        else:
            if n_test is not None and n_test < table.min_n:
                out[c] = f"the test set has {n_test} spectra, fewer than min_n = {table.min_n} in any bin"
    return out


def binned_table(
    table,
    preds: Mapping[str, Any],
    *,
    baseline: str | None = None,
    bootstrap: tuple[int, int] = (1000, 0),
    twins: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """The table's rows and what rules and figures read (see the module docstring). `preds`:
    trial → its prediction arrays, or the list of its seeds' (a repeated trial: each bin's value
    is the mean over the seeds, each Δ interval resamples them too). `twins` (a trial → the later
    trials with its key, `Plan.twins`): one model is one row, under its first name, as in the
    results table, unless the table lists a later name itself."""
    import numpy as np

    base, test = split_test(table.metric)  # `mae.log_g@low_noise`: the table of a named test set
    runs = {name: list(p) if isinstance(p, (list, tuple)) else [p] for name, p in preds.items()}
    if test is not None:
        runs = {name: [view(p, test) for p in ps] for name, ps in runs.items() if view(ps[0], test) is not None}
    preds = {name: ps[0] for name, ps in runs.items()}  # the rows, bins and parameters: the same for every seed
    metric, target = base.split(".", 1)
    later = {name for names in (twins or {}).values() for name in names}
    shown = [
        n for n in (table.trials or [p for p in preds if p not in later]) if n in preds and _usable(table, preds[n])
    ]
    axes = table.axes
    if not shown:
        return _empty(table)
    used = {n: preds[n] for n in shown}
    edges = [_edges(axis, used) for axis in axes]
    shape = [len(e) - 1 for e in edges]
    cells = list(product(*(range(k) for k in shape)))
    labels = [cell_label(edges, cell) for cell in cells]
    words = [cell_words([[float(v) for v in e] for e in edges], cell) for cell in cells]
    names = [cell_name(axes, cell) for cell in cells]
    reference = baseline if table.delta == "baseline" else table.delta
    if reference is not None and reference not in used and reference in preds and _usable(table, preds[reference]):
        used[reference] = preds[reference]
    index_of = {name: row_cells(p, [a.by for a in axes], edges) for name, p in used.items()}  # -1: outside
    values: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    for name in used:
        seeds = [_values(p, metric, target) for p in runs[name]]
        values[name], counts[name] = [], []
        for c in range(len(cells)):
            sel = index_of[name] == c
            found = [_statistic(metric, truth[sel] if truth is not None else None, pred[sel]) for truth, pred in seeds]
            values[name].append(found[0] if len(found) == 1 else float(np.mean(found)))
            counts[name].append(int(sel.sum()))
    n = [max(counts[name][c] for name in shown) for c in range(len(cells))]
    small = [count < table.min_n for count in n]
    deltas: dict[str, list[dict[str, float] | None]] = {}
    if reference is not None and reference in used and metric != "extra":
        deltas = _deltas(used, runs, shown, reference, index_of, len(cells), small, metric, target, bootstrap)
    spread = {name: spread_of([v for v, s in zip(values[name], small) if not s and v == v]) for name in shown}
    rows = []
    for c in range(len(cells)):
        rows.append(
            {
                "label": labels[c],
                "words": words[c],
                "name": names[c],
                "n": n[c],
                "small": small[c],
                "values": [values[name][c] for name in shown],
                "deltas": [deltas[name][c] for name in deltas],
            }
        )
    series = {name: [math.nan if small[c] else values[name][c] for c in range(len(cells))] for name in shown}
    by_name = {}
    for c, key in enumerate(names if all(names) else labels):
        entry: dict[str, Any] = {name: series[name][c] for name in shown}
        entry["n"] = n[c]
        entry["delta"] = {name: (deltas[name][c] or _nan_delta()) for name in deltas}
        by_name[key] = entry
    centres = _positions(edges[0], used, axes[0].by) if len(axes) == 1 else list(range(len(cells)))
    return {
        "metric": table.metric,
        "by": " × ".join(a.by for a in axes),
        "axes": [a.by for a in axes],
        "trials": shown,
        "shown_names": [
            f"{n} (= {', '.join(twins[n])})" if twins and n in twins and not table.trials else n for n in shown
        ],
        "reference": reference if deltas else None,
        "delta_trials": list(deltas),
        "rows": rows,
        "min_n": table.min_n,
        "small": small,
        "n": n,
        "labels": labels,
        "words": words,
        "names": names,
        "spread_values": spread,
        "values": {name: values[name] for name in shown},
        "series": series,
        "by_name": by_name,
        "centers": centres,
        "edges": [[float(v) for v in e] for e in edges],
        "delta_values": deltas,
    }


def _nan_delta() -> dict[str, float]:
    return {"value": math.nan, "lo": math.nan, "hi": math.nan, "p_positive": math.nan}


def _stacked(runs, metric: str, target: str):
    """(truth, predictions): (n,) for one run, (k, n) for a repeated trial's seeds."""
    import numpy as np

    truth, pred = _values(runs[0], metric, target)
    return truth, pred if len(runs) == 1 else np.stack([pred, *(_values(p, metric, target)[1] for p in runs[1:])])


def _deltas(used, runs, shown, reference, index_of, n_cells, small, metric, target, bootstrap):
    """trial → per cell: the paired bootstrap interval of trial − reference (None when it has none)."""
    import numpy as np

    from engine import metrics

    fn = metric_fn(metric)
    B, seed = bootstrap
    ref = used[reference]
    out: dict[str, list[dict[str, float] | None]] = {}
    for name in shown:
        if name == reference:
            continue
        p = used[name]
        if len(p["index"]) != len(ref["index"]) or not np.array_equal(p["index"], ref["index"]):
            continue  # not scored on the same test rows: no paired difference
        truth, pred = _stacked(runs[name], metric, target)
        _, pred_ref = _stacked(runs[reference], metric, target)
        cells: list[dict[str, float] | None] = []
        for c in range(n_cells):
            sel = index_of[name] == c
            if _no_interval(small[c], sel):
                cells.append(None)
                continue
            cells.append(
                metrics.paired_bootstrap_delta(
                    fn, truth[sel], pred[..., sel], pred_ref[..., sel], B=B, seed=seed
                ).as_dict()
            )
        out[name] = cells
    return out


def _no_interval(small: bool, sel) -> bool:
    """Whether a bin gets no interval: one the table leaves out (too few spectra), or with fewer
    than two of the rows selected (`sel`) to resample."""
    return small or sel.sum() < 2


def _mean_of_values(_truth, values) -> float:
    """An extra's value in a bin: the mean of its per-spectrum values (there is no truth)."""
    import numpy as np

    return float(np.mean(values))


def bin_intervals(
    table: Mapping[str, Any], runs: Sequence[Mapping[str, Any]], *, bootstrap: tuple[int, int] = (1000, 0)
) -> list[dict[str, float] | None] | None:
    """One trial's 95 % bootstrap interval ({lo, hi}) of its value in each bin of a table
    `binned_table` made, from the trial's runs (one, or a repeated trial's seeds), seeded as the
    report's other intervals are: the table gives the values and the Δ intervals but not the
    values' own, and a bin mean without one claims more than 40 spectra can say. The bins, the
    value of a bin and the bins too small for an interval are the table's own (`row_cells`,
    `_values`, `_no_interval`). None when the trial cannot be put in the table's bins: a run not
    scored on its test set, or without the parameter binned by or the quantity (an extra with one
    value per spectrum)."""
    import numpy as np

    from engine import metrics

    if not table["edges"]:
        return None
    base, test = split_test(table["metric"])
    metric, target = base.split(".", 1)
    views = [view(p, test) for p in runs]
    arrays = [v for v in views if v is not None]
    if len(arrays) < len(views) or not all(f"param.{by}" in arrays[0] for by in table["axes"]):
        return None
    p = arrays[0]
    if metric == "extra":
        if f"extra.{target}" not in p or np.asarray(p[f"extra.{target}"]).ndim != 1:
            return None
        fn = _mean_of_values
    elif target_column(p, target) is None:
        return None
    else:
        fn = metric_fn(metric)  # the metric itself, so `engine.metrics` resamples it by its sums
    truth, pred = _stacked(arrays, metric, target)
    if truth is None:  # an extra has no truth; the rows resampled are the same with its values in its place
        truth = pred if pred.ndim == 1 else pred[0]
    cells = row_cells(p, table["axes"], table["edges"])
    B, seed = bootstrap
    out: list[dict[str, float] | None] = []
    for c in range(len(table["labels"])):
        sel = cells == c
        if _no_interval(table["small"][c], sel):
            out.append(None)
            continue
        found = metrics.bootstrap_ci(fn, truth[sel], pred[..., sel], B=B, seed=seed)
        out.append({"lo": found.lo, "hi": found.hi})
    return out


def _positions(edges: np.ndarray, preds, by: str) -> list[float]:
    """Where each bin is drawn: its centre, but an open last bin (wider than the others put
    together, like SNR > 7 up to 1e9) at the median of the values that fall in it."""
    import numpy as np

    widths = np.diff(edges)
    out = [float((edges[i] + edges[i + 1]) / 2) for i in range(len(edges) - 1)]
    if len(widths) > 1 and widths[-1] > widths[:-1].sum():
        values = np.concatenate([np.asarray(p[f"param.{by}"], dtype=float) for p in preds.values()])
        inside = values[(values >= edges[-2]) & (values <= edges[-1])]
        out[-1] = float(np.median(inside)) if len(inside) else float(edges[-2])
    return out


def _empty(table) -> dict[str, Any]:
    return {
        "metric": table.metric,
        "by": " × ".join(table.parameters),
        "axes": table.parameters,
        "trials": [],
        "reference": None,
        "delta_trials": [],
        "rows": [],
        "min_n": table.min_n,
        "small": [],
        "n": [],
        "labels": [],
        "words": [],
        "names": [],
        "shown_names": [],
        "spread_values": {},
        "values": {},
        "series": {},
        "by_name": {},
        "centers": [],
        "edges": [],
        "delta_values": {},
    }


def cell_texts(table: Mapping[str, Any], fmt) -> list[dict[str, Any]]:
    """The table's rows as the template shows them: each bin in words (`cell_words`), values
    formatted, small bins in parentheses, each Δ with its interval. A value that does not exist
    (R² of one spectrum) is '-' as any missing number is, never 'nan'; an empty bin is '-'
    throughout and not marked small, since nothing of it is in parentheses."""
    rows = []
    for row in table["rows"]:
        cells = [fmt(v) if _number(v) else "-" for v in row["values"]]
        small = bool(row["small"] and row["n"])
        if small:
            cells = [f"({c})" for c in cells]
        deltas = []
        for d in row["deltas"]:
            deltas.append(
                "-"
                if d is None or not _number(d.get("value"))
                else f"{signed(fmt(d['value']))} [{signed(fmt(d['lo']))}, {signed(fmt(d['hi']))}]"
            )
        rows.append(
            {**row, "label": row.get("words") or row["label"], "small": small, "cells": cells, "delta_cells": deltas}
        )
    return rows


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def signed(text: str) -> str:
    return text if text.startswith(("-", "−", "n")) else "+" + text


__all__ = [
    "bin_intervals",
    "binned_table",
    "cell_keys",
    "cell_texts",
    "cell_words",
    "fmt_edge",
    "row_cells",
    "series_for",
    "signed",
]


def spread_of(kept: Sequence[float]) -> float | None:
    """The table's spread row: `metrics.sample_std` of the bins it counts, the number a
    rule's `std(binned[i][trial])` gives; None (shown `-`) with fewer than two such bins."""
    from engine.metrics import sample_std

    return sample_std(kept) if len(kept) > 1 else None


def rule_bins(table: Mapping[str, Any], values: Sequence[float], path: str = "binned") -> Any:
    """One trial's values in a table's bins as rules read them (`expressions.Bins`): each bin
    the table leaves out (too few spectra) said so, with its size."""
    from engine.spec.expressions import Bins

    shown = table.get("words") or table["labels"]  # as the table shows it
    absent = {
        c: f"bin {shown[c]} has {table['n'][c]} spectra, fewer than min_n = {table['min_n']}"
        for c, small in enumerate(table.get("small") or [])
        if small
    }
    return Bins(values, absent, path)


def series_for(tables: Sequence[Mapping[str, Any]], specs) -> dict[Any, Any]:
    """What rules read as `binned`: by index, `binned[i][trial][j]` (`rule_bins`); by name, when
    the table has one, `binned['<name>']['<bin name>']['<trial>']` (and `['n']`, `['delta'][trial].lo`)."""
    out: dict[Any, Any] = {}
    for i, (table, spec) in enumerate(zip(tables, specs)):
        out[i] = {name: rule_bins(table, values, f"binned[{i}].{name}") for name, values in table["series"].items()}
        if spec.name:
            out[spec.name] = table["by_name"]
    return out
