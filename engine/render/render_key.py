"""The render key: one digest of everything a report's regions are rendered from.

A run whose trials are all cached still has to know whether the report on disk is what this code
would write; the key answers that without rendering. It is recorded in the run record and the
report index, and the runner compares it before doing anything, so it lives apart from the
rendering it summarises: the record and the runner must read the same definition.
"""

from __future__ import annotations

from pathlib import Path

from engine import __version__
from engine.notebook.store import digest, engine_code_hash
from engine.render.templates import packaged_templates

#: The spec's keys that change what is shown but not what is trained.
REPORTING_KEYS = (
    "metrics",
    "binned",
    "comparisons",
    "figures",
    "decision",
    "key_numbers",
    "bootstrap",
    "answers",
    "hub",
    "language",
    "repeats",
    "seeds",
)

RENDER_CODE = ("render", "spec/expressions.py", "notebook/record.py", "text/marks.py")  # under engine/


def _render_code_hash() -> str:
    """The code that turns records into regions: a change to it re-renders, re-running nothing."""
    engine = Path(__file__).resolve().parents[1]
    files = [
        p
        for name in RENDER_CODE
        for p in (sorted((engine / name).rglob("*.py")) if (engine / name).is_dir() else [engine / name])
    ]
    return digest([(p.relative_to(engine).as_posix(), p.read_bytes().hex()) for p in files])


def _template_hash(root: Path) -> str:
    files = []
    for folder in (root / "templates", packaged_templates()):
        if folder.is_dir():
            files += [(p.relative_to(folder).as_posix(), p.read_bytes().hex()) for p in sorted(folder.rglob("*.j2"))]
    return digest(files)


def render_key(plan) -> str:
    """What the rendered regions depend on: trial keys, reporting spec, templates, render code."""
    spec = plan.report.spec
    raw = {key: spec._raw.get(key) for key in REPORTING_KEYS}
    return digest(
        [(t.name, t.key if t.record is not None else None, t.error) for t in plan.trials],
        raw,
        engine_code_hash(),
        __version__,
        _template_hash(plan.root),
        _render_code_hash(),
        plan.sets,
        *([plan.sweeps] if plan.sweeps else []),
    )
