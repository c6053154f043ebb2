"""What the engine remembers or skips to start fast must not change what it says.

Each shortcut of `bench/bench_overhead.py`'s figures is held against the long way here: the spec
and expressions remembered per process, libyaml before the Python parser, compiled templates in
jinja2's bytecode cache, the report's git history without gitpython, inline markdown parsed only
where an image can be, and typer's coercion of a parameter left out.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import git

from engine.errors import ExpressionError, SpecError
from engine.spec import load_spec
from engine.spec.expressions import compile_expression
from engine.text import document, safe_yaml

SPEC = """\
id: EXP-1
title: t
data: {source: synthetic, n_train: 300, n_test: 100, targets: [log_g]}
model: {type: ridge, alpha: 100}
trials:
  a: {}
  b: {model.alpha: 1.0e+3}
metrics: [r2.log_g]
decision:
  baseline: a
  rules:
    - when: best.r2.log_g > baseline.r2.log_g
      verdict: pass
      says: better
    - otherwise: fail
      says: not better
"""


def test_a_front_matter_is_validated_once_and_an_edit_is_seen():
    first = load_spec(SPEC, path="exp.md", first_line=2)
    assert load_spec(SPEC, path="exp.md", first_line=2) is first
    edited = load_spec(SPEC.replace("alpha: 100", "alpha: 200"), path="exp.md", first_line=2)
    assert edited is not first and edited.model.model_dump()["alpha"] == 200
    moved = load_spec(SPEC, path="exp.md", first_line=5)  # the same text further down: its own lines
    assert moved.line_of("model") == first.line_of("model") + 3


def test_an_invalid_front_matter_raises_every_time():
    bad = SPEC.replace("type: ridge", "type: Ridge!")
    for _ in range(2):
        with pytest.raises(SpecError):
            load_spec(bad, path="exp.md", first_line=2)


def test_a_remembered_expression_is_still_checked_against_the_trials_it_is_given():
    source = "trials.base.mae.log_g * 2"
    assert compile_expression(source, names=["base"]).trials == {"base"}
    with pytest.raises(ExpressionError, match="no trial named 'base'"):
        compile_expression(source, names=["other"])
    assert compile_expression("trials.single-task.mae.log_g", names=["single-task"]).trials == {"single-task"}
    with pytest.raises(ExpressionError, match="unknown name 'worst'"):
        compile_expression("worst.r2.log_g", allowed=["trials", "best"])
    with pytest.raises(ExpressionError, match="cannot parse"):
        compile_expression("best.r2.log_g <=")


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\nb: 3\n",  # an unclosed flow sequence
        "a: 1\na: 2\n",  # a duplicate key (found on the nodes)
        "a: b: c\n",  # mapping values where none may be
        "- a\nb: 1\n",  # a mapping after a sequence
        "a: &x [1]\nb: *y\n",  # an unknown alias
        "a: !!python/object:os.system x\n",  # a tag that is refused
        "\t- a\n",  # a tab as indentation
        "a: '\n",  # an unclosed quote
        "[" * 2000 + "]" * 2000,  # deeper than libyaml goes
        "a:\n  b: 1\n ---\n",
    ],
)
def test_libyaml_then_python_says_what_the_python_parser_alone_says(text, monkeypatch):
    def outcome():
        try:
            return safe_yaml.read_yaml(text, path="exp.md", first_line=2, what="front matter")
        except SpecError as error:
            return ("error", str(error), error.line)

    fast = outcome()
    monkeypatch.setattr(safe_yaml, "_CLoader", None)
    assert fast == outcome()


def test_libyaml_reads_every_example_spec_as_the_python_parser_does(monkeypatch):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    texts = [
        document.front_matter(p.read_text(encoding="utf-8")).text for p in sorted(root.glob("research/*/exp/*.md"))
    ]
    assert texts
    fast = [safe_yaml.read_yaml(t, path="x", first_line=2, what="front matter") for t in texts]
    monkeypatch.setattr(safe_yaml, "_CLoader", None)
    assert fast == [safe_yaml.read_yaml(t, path="x", first_line=2, what="front matter") for t in texts]


TRICKY = """\
# images everywhere

| a | b |
|---|---|
| ![x](img/a.png) | ![y][ref] |

para ![z](img/b.png "t") and `![not](code.png)` and \\![escaped](e.png)

    ![indented code](d.png)

> ![quote](q.png)

- ![list](l.png)

<img src="html.png">

[ref]: img/ref.png
"""


def _images(tokens):
    return [
        (t.map[0] if t.map else None, c.attrGet("src"))
        for t in tokens
        if t.type == "inline" and t.children
        for c in t.children
        if c.type == "image"
    ]


def test_parsing_inline_only_where_an_image_can_be_finds_what_a_full_parse_finds():
    full = _images(document.markdown_tokens(TRICKY))
    assert full == _images(document.markdown_tokens(TRICKY, inline_with="!["))
    assert [src for _, src in full] == ["img/a.png", "img/ref.png", "img/b.png", "q.png", "l.png"]


def test_the_history_from_git_is_gitpythons(tmp_path):
    gitpython = pytest.importorskip("git")
    from engine.run.provenance import file_history

    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    report = tmp_path / "exp dir" / "r é.md"
    report.parent.mkdir()
    for n, text in enumerate(["one\n", "two\n", None, "four\n"]):  # None: the file deleted in that commit
        (tmp_path / "other.md").write_text(f"{n}\n")
        if text is None:
            report.unlink()
        else:
            report.write_bytes(text.encode())
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-qm", f"c{n}")
    repo = gitpython.Repo(tmp_path)
    rel = "exp dir/r é.md"
    expected = []
    for commit in repo.iter_commits(paths=rel, max_count=50):
        try:
            expected.append((commit.hexsha, (commit.tree / rel).data_stream.read()))
        except KeyError:
            continue
    assert file_history(report, 50) == expected and [d for _, d in expected] == [b"four\n", b"two\n", b"one\n"]
    assert file_history(report, 1) == expected[:1]
    assert file_history(tmp_path / "never.md", 50) == []


def test_no_history_outside_git_or_before_the_first_commit(tmp_path):
    from engine.run.provenance import file_history

    (tmp_path / "r.md").write_text("x\n")
    assert file_history(tmp_path / "r.md", 50) == []
    git(tmp_path, "init", "-q")
    assert file_history(tmp_path / "r.md", 50) == []


RENDER = textwrap.dedent("""\
    import sys
    from engine.render.templates import render
    print(render("regions/summary.md.j2", sys.argv[1], mark="M", says="S", verdict="V", lines=[]), end="")
""")


def test_an_edited_template_renders_anew_whatever_its_size_and_time(tmp_path):
    """The bytecode cache keys a compiled template by its source's checksum: an edit that keeps
    the file's size and modification time still shows."""
    folder = tmp_path / "templates" / "regions"
    folder.mkdir(parents=True)
    template = folder / "summary.md.j2"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def render() -> str:
        return subprocess.run(
            [sys.executable, "-c", RENDER, str(tmp_path)], env=env, check=True, capture_output=True, text=True
        ).stdout

    template.write_text("first {{ mark }}\n", encoding="utf-8")
    stamp = template.stat().st_mtime_ns
    assert render() == "first M\n"
    assert render() == "first M\n"  # compiled once, read from the cache
    template.write_text("other {{ mark }}\n", encoding="utf-8")
    os.utime(template, ns=(stamp, stamp))
    assert render() == "other M\n"


def test_a_parameter_left_out_coerces_as_typer_does():
    """For every parameter of every command: what typer's own coercion gives a value not given."""
    import typer
    from typer._coercion import build_runtime_param

    from engine.cli.patches import _LeftOutFirst, command

    ctx = typer.Context(command())
    seen = 0

    def walk(cmd):
        nonlocal seen
        params = list(cmd.params) + [cmd.get_help_option(ctx)]
        for param in params:
            if param is None or not hasattr(param, "type_descriptor"):
                continue
            assert isinstance(param._runtime_param, _LeftOutFirst), param.name
            typers = build_runtime_param(param.type_descriptor)
            assert param._runtime_param.coerce(None, param, ctx) == typers.coerce(None, param=param, ctx=ctx)
            seen += 1
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(command())
    assert seen > 50


def test_a_parameter_given_is_coerced_by_typer():
    from engine.cli import main

    assert main(["run", "--executor", "nowhere", "x.md"]) == 2  # typer's own message for a bad choice
