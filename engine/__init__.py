"""research: a markdown-driven research notebook engine.

The package is laid out by stage, in the order data flows: `text` (files, documents, YAML),
`spec` (what a report asks for), `notebook` (where things are, what is stored), `run` (plan →
validate → execute → the end of a run), `render` (numbers → words, tables, figures), `pages`
(hub, roadmap, kanban), `browse` (the Python API, views, status, digest, check), `adopt`, and
`cli` on top. `models`, `data` and `metrics` are the numeric code that the cache key hashes.

The public Python API is one class: `from engine import Notebook` (imported on first use, so
that `import engine` stays as light as every command needs it to be).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from engine.browse.api import Notebook

__all__ = ["Notebook", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Notebook":
        from engine.browse.api import Notebook

        return Notebook
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
