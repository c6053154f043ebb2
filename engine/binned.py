"""Binned tables: a metric in the bins of one parameter, or the cells of two, from predictions.

    table = binned_table(spec.binned[0], preds, baseline="classify", bootstrap=(1000, 0))
    table["rows"]            # one per bin or cell: its label/name, n, each trial's value, Δs
    table["series"]          # trial → value per bin (NaN where a bin has too few spectra): binned[i]
    table["by_name"]         # cell name → {trial: value, "n": n, "delta": {trial: interval}}

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
from typing import TYPE_CHECKING, Any

from .predictions import metric_fn, target_column, view
from .spec.vocabulary import split_test

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

    from . import metrics

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
    """`3750–4500 · -1–-0.67`: a bin (or cell) by its edges."""
    return " · ".join(f"{fmt_edge(e[i])}–{fmt_edge(e[i + 1])}" for e, i in zip(edges, cell))


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
    return names if all(names) else [cell_label([a.edges for a in axes], c) for c in cells]


def binned_table(table, preds: Mapping[str, Any], *, baseline: str | None = None,
                 bootstrap: tuple[int, int] = (1000, 0)) -> dict[str, Any]:
    """The table's rows and what rules and figures read (see the module docstring). `preds`:
    trial → its prediction arrays, or the list of its seeds' (a repeated trial: each bin's value
    is the mean over the seeds, each Δ interval resamples them too)."""
    import numpy as np

    base, test = split_test(table.metric)  # `mae.log_g@low_noise`: the table of a named test set
    runs = {name: list(p) if isinstance(p, (list, tuple)) else [p] for name, p in preds.items()}
    if test is not None:
        runs = {name: [view(p, test) for p in ps] for name, ps in runs.items() if view(ps[0], test) is not None}
    preds = {name: ps[0] for name, ps in runs.items()}  # the rows, bins and parameters: the same for every seed
    metric, target = base.split(".", 1)
    shown = [n for n in (table.trials or list(preds)) if n in preds and _usable(table, preds[n])]
    axes = table.axes
    if not shown:
        return _empty(table)
    used = {n: preds[n] for n in shown}
    edges = [_edges(axis, used) for axis in axes]
    shape = [len(e) - 1 for e in edges]
    cells = list(product(*(range(k) for k in shape)))
    labels = [cell_label(edges, cell) for cell in cells]
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
    spread = {}
    for name in shown:
        kept = [v for v, s in zip(values[name], small) if not s and v == v]
        spread[name] = float(np.std(kept)) if kept else math.nan
    rows = []
    for c in range(len(cells)):
        rows.append({"label": labels[c], "name": names[c], "n": n[c], "small": small[c],
                     "values": [values[name][c] for name in shown],
                     "deltas": [deltas[name][c] for name in deltas]})  # fmt: skip
    series = {name: [math.nan if small[c] else values[name][c] for c in range(len(cells))] for name in shown}
    by_name = {}
    for c, key in enumerate(names if all(names) else labels):
        entry: dict[str, Any] = {name: series[name][c] for name in shown}
        entry["n"] = n[c]
        entry["delta"] = {name: (deltas[name][c] or _nan_delta()) for name in deltas}
        by_name[key] = entry
    centres = _positions(edges[0], used, axes[0].by) if len(axes) == 1 else list(range(len(cells)))
    return {
        "metric": table.metric, "by": " × ".join(a.by for a in axes), "axes": [a.by for a in axes], "trials": shown,
        "reference": reference if deltas else None, "delta_trials": list(deltas), "rows": rows,
        "min_n": table.min_n, "small": small, "n": n, "labels": labels, "names": names,
        "spread_values": spread, "values": {name: values[name] for name in shown}, "series": series,
        "by_name": by_name, "centers": centres, "edges": [[float(v) for v in e] for e in edges],
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

    from . import metrics

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
        cells = []
        for c in range(n_cells):
            sel = index_of[name] == c
            if small[c] or sel.sum() < 2:
                cells.append(None)
                continue
            cells.append(metrics.paired_bootstrap_delta(fn, truth[sel], pred[..., sel], pred_ref[..., sel], B=B,
                                                        seed=seed).as_dict())
        out[name] = cells
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
    return {"metric": table.metric, "by": " × ".join(table.parameters), "axes": table.parameters, "trials": [],
            "reference": None, "delta_trials": [], "rows": [], "min_n": table.min_n, "small": [], "n": [],
            "labels": [], "names": [], "spread_values": {}, "values": {}, "series": {}, "by_name": {},
            "centers": [], "edges": [], "delta_values": {}}


def cell_texts(table: Mapping[str, Any], fmt) -> list[dict[str, Any]]:
    """The table's rows as the template shows them: values formatted, small bins in parentheses,
    each Δ with its interval."""
    rows = []
    for row in table["rows"]:
        cells = [fmt(v) for v in row["values"]]
        if row["small"]:
            cells = [f"({c})" for c in cells]
        deltas = []
        for d in row["deltas"]:
            deltas.append("-" if d is None else f"{signed(fmt(d['value']))} [{signed(fmt(d['lo']))}, {signed(fmt(d['hi']))}]")
        rows.append({**row, "cells": cells, "delta_cells": deltas})
    return rows


def signed(text: str) -> str:
    return text if text.startswith(("-", "−", "n")) else "+" + text


__all__ = ["binned_table", "cell_keys", "cell_texts", "fmt_edge", "row_cells", "series_for", "signed"]


def series_for(tables: Sequence[Mapping[str, Any]], specs) -> dict[Any, Any]:
    """What rules read as `binned`: by index, `binned[i][trial][j]`; by name, when the table has
    one, `binned['<name>']['<bin name>']['<trial>']` (and `['n']`, `['delta'][trial].lo`)."""
    out: dict[Any, Any] = {}
    for i, (table, spec) in enumerate(zip(tables, specs)):
        out[i] = table["series"]
        if spec.name:
            out[spec.name] = table["by_name"]
    return out
