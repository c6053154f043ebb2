"""`research status`: one row per experiment, from the catalog's fields of each report (a few
front matter keys and the run record, `engine.notebook.report`) only.

No spec validation and no ML library: the stale check compares the hashes the run recorded
(the spec keys that decide the numbers, the numeric engine code) with today's. Data changes are
not seen here (that needs the data files); `research check` sees them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.notebook.experiments import scan, under
from engine.render.templates import fmt_metric

FIELDS = ("id", "mvp", "status", "verdict", "metric", "value", "last_run", "stale", "why", "path")


def rows(root: Path, paths: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """Every experiment under `root` (or under `paths`), as plain JSON-ready rows."""
    out = []
    for report in under(scan(root), paths):
        rec = report.record or {}
        why = report.stale_reasons()
        value = report.primary_value()
        out.append(
            {
                "id": report.id,
                "mvp": report.meta.get("mvp"),
                "status": report.status,
                "verdict": rec.get("verdict"),
                "metric": rec.get("primary"),
                "value": value,
                "value_text": fmt_metric(rec.get("primary"), value) if value is not None else None,
                "last_run": report.last_run,
                "stale": bool(why),
                "why": why,
                "path": _relative(report.path, root),
            }
        )
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
