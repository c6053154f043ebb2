"""`research status`: one row per experiment, from front matter and run records only.

No spec validation and no ML library: the stale check compares the hashes the run recorded
(the spec keys that decide the numbers, the numeric engine code) with today's. Data changes are
not seen here (that needs the data files); `research check` sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.notebook.experiments import Experiment, scan, under
from engine.notebook.staleness import stale_reasons as _stale_reasons
from engine.render.templates import fmt_metric

FIELDS = ("id", "mvp", "status", "verdict", "metric", "value", "last_run", "stale", "why", "path")


def stale_reasons(experiment: Experiment) -> list[str]:
    if experiment.error:
        return [experiment.error]
    return _stale_reasons(experiment.record, status=experiment.status, spec_now=experiment.spec_now())


def rows(root: Path, paths: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """Every experiment under `root` (or under `paths`), as plain JSON-ready rows."""
    out = []
    for experiment in under(scan(root), paths):
        rec = experiment.record or {}
        why = stale_reasons(experiment)
        value = experiment.primary_value()
        out.append(
            {
                "id": experiment.id,
                "mvp": experiment.front.get("mvp"),
                "status": experiment.status,
                "verdict": rec.get("verdict"),
                "metric": rec.get("primary"),
                "value": value,
                "value_text": fmt_metric(rec.get("primary"), value) if value is not None else None,
                "last_run": experiment.last_run,
                "stale": bool(why),
                "why": why,
                "path": _relative(experiment.path, root),
            }
        )
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
