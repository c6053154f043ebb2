"""The structure the design promises: imports flow one way, nothing imports the CLI, one table
of exit codes (the README's), and a code hash that cannot silently shrink."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import engine.notebook.store
from engine import errors

ENGINE = Path(__file__).resolve().parents[1] / "engine"
README = Path(__file__).resolve().parents[1] / "README.md"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Module → the engine modules it imports, at the top or inside functions."""
    modules = {_module_name(p): p for p in ENGINE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [stem] + [f"{stem}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("engine"):
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_engine_has_no_import_cycle():
    graph = _imports()
    # a package's __init__ may hand on its own modules' names; its modules importing it is not a cycle of ours
    for name in graph:
        graph[name] = {
            t for t in graph[name] if not (name.startswith(t + ".") and (ENGINE.parent / Path(*t.split("."))).is_dir())
        }
    cycle = _cycle(graph)
    assert cycle is None, " → ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_nothing_imports_the_cli():
    graph = _imports()
    assert [
        name for name, targets in graph.items() if _stage(name) != "cli" and any(_stage(t) == "cli" for t in targets)
    ] == []


#: The stages in the order data flows, bottom to top; a stage imports only stages below it (the
#: modules at the top of `engine/`, rank 0, are below every stage; `runner` drives a run to its pages).
RANK = {
    "text": 1,
    "spec": 2,
    "notebook": 3,
    "render": 4,
    "run": 5,
    "pages": 6,
    "browse": 7,
    "adopt": 7,
    "runner": 8,
    "cli": 9,
}
#: The numeric code is in the cache key and stays where it is; it reads files and specs, never a stage above.
NUMERIC = {"models", "data", "metrics"}
TOP = {"errors", "metrics", "numerics", "progress", "runner"}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank(module: str) -> int:
    return RANK.get(_stage(module), 0)


def test_each_stage_imports_only_the_stages_below_it():
    wrong = []
    for name, targets in _imports().items():
        if name == "engine":  # the package hands on `Notebook` from browse, imported on first use
            continue
        for target in targets:
            if _stage(name) in NUMERIC or _stage(target) in NUMERIC or _stage(name) == _stage(target):
                continue
            if _rank(target) >= _rank(name) and target != "engine":
                wrong.append(f"{name} → {target}")
    assert wrong == []


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("render", "run"),
        ("notebook", "run"),
        ("notebook", "render"),
        ("run", "pages"),
        ("run", "cli"),
        ("models", "run"),
        ("data", "run"),
        ("models", "render"),
    ],
)
def test_a_stage_never_imports_what_it_feeds(low, high):
    assert [f"{n} → {t}" for n, ts in _imports().items() for t in ts if _stage(n) == low and _stage(t) == high] == []


def test_every_module_is_in_a_stage_and_the_top_holds_a_handful():
    top = {p.stem for p in ENGINE.glob("*.py") if p.stem != "__init__"}
    assert top == TOP
    folders = {p.name for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == (set(RANK) - {"runner"}) | NUMERIC - {"metrics"}


def test_every_error_class_has_an_exit_code_of_the_one_table():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.ResearchError)]
    assert len(classes) >= 8
    for cls in classes:
        assert cls.exit_code in set(errors.Exit), cls


def test_the_readme_documents_the_exit_codes():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Exit codes") :]
    for code in errors.Exit:
        assert re.search(rf"\|\s*`?{int(code)}`?\s*\|", section), code


def test_the_code_hash_fails_loudly_when_a_hashed_path_is_gone(monkeypatch):
    engine.notebook.store.engine_code_hash.cache_clear()
    monkeypatch.setattr(engine.notebook.store, "NUMERIC_CODE", ("models", "data", "no_such_module.py"))
    try:
        with pytest.raises(RuntimeError, match="no_such_module.py"):
            engine.notebook.store.engine_code_hash()
    finally:
        engine.notebook.store.engine_code_hash.cache_clear()


def test_the_interval_fields_rules_read_are_those_the_metrics_make():
    from engine import metrics
    from engine.render import decision

    assert decision.CI_FIELDS == metrics.CI._fields and decision.DELTA_FIELDS == metrics.Delta._fields


def test_the_metrics_the_spec_names_are_those_computed_and_each_has_one_direction():
    from engine import metrics
    from engine.render.quantities import QUANTITIES
    from engine.spec.vocabulary import METRICS

    assert tuple(metrics.METRICS) == METRICS
    assert all(QUANTITIES[name].better in ("higher", "lower", "zero") for name in METRICS)


def test_the_catalog_reads_the_metadata_the_spec_defines():
    from engine.notebook.report import META_KEYS
    from engine.spec import Spec

    assert set(META_KEYS) <= set(Spec.model_fields)


def test_every_engine_package_is_in_the_install_list():
    """A package left out of pyproject's list works in the editable install the Makefile makes
    and is missing from a wheel: `research` then fails on import wherever it was installed so."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "engine").rglob("__init__.py")}
    assert found - listed == set()
