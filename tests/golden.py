"""Golden files, in the style of mdformat's fixtures: one markdown file holds many cases, each a
heading, its input in a ```yaml block and what the code makes of it in one block per language
(`~~~ en`, `~~~ zh`). A test reads the cases, runs the code and compares; the expected output is
what a reviewer reads in the diff of a change.

`RESEARCH_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` rewrites the expected blocks
from the code as it is (inputs and headings are kept as written); review the diff, then commit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

UPDATE = os.environ.get("RESEARCH_UPDATE_GOLDEN") == "1"


@dataclass
class Case:
    title: str
    input: str  # the yaml block as written
    expected: dict[str, str] = field(default_factory=dict)  # language → the block's text

    @property
    def args(self) -> dict:
        return yaml.safe_load(self.input) or {}


def read(path: Path) -> tuple[str, list[Case]]:
    """The file's preamble (everything before the first case) and its cases, in order."""
    text = path.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(text)
    lines = text.splitlines(keepends=True)
    cases: list[Case] = []
    preamble_end = len(lines)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            preamble_end = min(preamble_end, token.map[0])
            cases.append(Case(tokens[i + 1].content, ""))
        elif token.type == "fence" and cases:
            info = token.info.strip()
            if info == "yaml":
                cases[-1].input = token.content
            elif info:
                cases[-1].expected[info] = token.content
    return "".join(lines[:preamble_end]), cases


def write(path: Path, preamble: str, cases: list[Case]) -> None:
    parts = [preamble.rstrip("\n") + "\n"]
    for case in cases:
        parts.append(f"\n## {case.title}\n\n```yaml\n{case.input}```\n")
        for lang, out in case.expected.items():
            parts.append(f"\n~~~ {lang}\n{out}~~~\n")
    path.write_text("".join(parts), encoding="utf-8")


def check(path: Path, make: Callable[[Case, str], str], langs=("en", "zh")) -> list[str]:
    """Run every case of `path` in every language; the cases whose output differs (every case
    agrees, when updating: the file is rewritten instead)."""
    preamble, cases = read(path)
    wrong = []
    for case in cases:
        got = {lang: make(case, lang) for lang in langs}
        if UPDATE:
            case.expected = got
        else:
            wrong += [f"{case.title} [{lang}]" for lang in langs if got[lang] != case.expected.get(lang)]
    if UPDATE:
        write(path, preamble, cases)
    return wrong


def same_file(expected: Path, got: str) -> bool:
    """A whole-file golden: whether `got` is its text (when updating: written there, and true)."""
    if UPDATE:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_text(got, encoding="utf-8")
        return True
    return expected.is_file() and expected.read_text(encoding="utf-8") == got


def as_lines(sentences: Mapping | list) -> str:
    return "".join(f"{s}\n" for s in sentences)
