"""Reading a trial's stored prediction arrays: which column is a target, a metric's function.

A trial's `predictions.h5` holds `targets` (names), `y_true` and `y_pred` (rows × targets),
`index` (the test rows), `param.<name>` columns and `extra.<name>` values — of the primary test
set. A named test set other than the primary (`data.tests`) has the same arrays under
`@<name>:` (`@low_noise:y_true`), and `primary_test` names the primary. The reports' tables,
binned tables and figures all read it through these few functions; a metric reference with a
test set (`mae.log_g@low_noise`) reads that set's arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.spec.vocabulary import base_metric, metric_parts, split_test


def metric_fn(dotted: str):
    """The function of a metric, from 'r2.log_g', 'r2' or 'r2.log_g@low_noise'."""
    from engine import metrics

    return getattr(metrics, base_metric(dotted))


def primary_test(p: Mapping[str, Any]) -> str | None:
    value = p.get("primary_test")
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def view(p: Mapping[str, Any], test: str | None) -> Mapping[str, Any] | None:
    """The arrays of one test set (None: the primary), or None when the trial was not scored on it."""
    if test is None or test == primary_test(p):
        return p
    prefix = f"@{test}:"
    found = {key[len(prefix) :]: value for key, value in p.items() if key.startswith(prefix)}
    return found or None


def target_column(p: Mapping[str, Any], target: str) -> int | None:
    """The column of `target` in y_true / y_pred, or None when the trial does not predict it."""
    targets = [t.decode() if isinstance(t, bytes) else str(t) for t in p["targets"]]
    return targets.index(target) if target in targets else None


def has_metric(p: Mapping[str, Any], dotted: str) -> bool:
    arrays = view(p, split_test(dotted)[1])
    return arrays is not None and target_column(arrays, metric_parts(dotted)[1]) is not None


def columns(p: Mapping[str, Any], dotted: str):
    """(truth, prediction) of the target of a metric such as 'mae.log_g' (on its test set)."""
    arrays = view(p, split_test(dotted)[1])
    assert arrays is not None, f"not scored on the test set of {dotted}"  # callers check has_metric first
    col = target_column(arrays, metric_parts(dotted)[1])
    return arrays["y_true"][:, col], arrays["y_pred"][:, col]


def stacked(runs: Sequence[Mapping[str, Any]], dotted: str):
    """(truth, predictions) of a metric's target over a trial's runs: (n,) for one run, (k, n)
    for the k seeds of a repeated trial (`engine.metrics` averages over them). The seeds of one
    trial score the same test rows; a mismatch is a broken store, not a result."""
    import numpy as np

    truth, first = columns(runs[0], dotted)
    if len(runs) == 1:
        return truth, first
    test = split_test(dotted)[1]
    rows = view(runs[0], test)
    assert rows is not None  # `columns` read them above
    for other in runs[1:]:
        seed_rows = view(other, test)
        if seed_rows is None or not np.array_equal(seed_rows["index"], rows["index"]):
            raise ValueError("the seeds of a repeated trial were scored on different test rows")
    return truth, np.stack([first, *(columns(p, dotted)[1] for p in runs[1:])])
