"""`research check`: is every document of the notebook still sound? (like `cog --check`)

Reads only text: no ML library, nothing written. One located problem per line, so an editor or
CI log can jump to it. What it looks at: the encoding, the front matter spec, the region
markers and their checksums, the links to hub / roadmap / kanban, the hypothesis ids a report
says it answers, and relative image links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import document, textfile
from .errors import ResearchError, did_you_mean

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".research", ".pytest_cache", ".hypothesis"}
HYPOTHESIS_ID_RE = re.compile(r"\b(Q\d+(?:\.\d+)*)\s*[:：]")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def markdown_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The .md files named, and those under the folders named, in a stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*.md")):
                if not SKIP_DIRS.intersection(part for part in found.relative_to(path).parts[:-1]):
                    yield found
        else:
            yield path


def check_paths(paths: Iterable[str | Path]) -> tuple[list[Problem], int]:
    """(problems, number of files checked)."""
    problems: list[Problem] = []
    count = 0
    for path in markdown_files(paths):
        count += 1
        problems.extend(check_file(path))
    return problems, count


def _problem(error: ResearchError, path: Path) -> Problem:
    message = str(error.__class__(error.message, key=error.key, hint=error.hint))
    return Problem(str(path), error.line, message)


def check_file(path: Path) -> list[Problem]:
    try:
        text = textfile.read_text(path)
    except ResearchError as error:
        return [_problem(error, path)]
    problems: list[Problem] = []
    try:
        found = document.regions(text, str(path))
    except ResearchError as error:
        problems.append(_problem(error, path))
        found = {}
    for region in found.values():
        if region.edited:
            problems.append(
                Problem(
                    str(path),
                    region.start_line,
                    f"region '{region.name}' was edited by hand since the engine wrote it "
                    "(the next run stops there; move the words outside the markers)",
                )
            )
    fm = document.front_matter(text)
    if fm is not None:
        problems.extend(_check_spec(path, fm))
    problems.extend(_check_images(path, text))
    return problems


def _key_lines(fm: document.FrontMatter) -> dict[str, int]:
    """File line of each top-level key of the front matter."""
    import yaml

    try:
        root = yaml.compose(fm.text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {key.value: fm.first_line + key.start_mark.line for key, _ in root.value if isinstance(key, yaml.ScalarNode)}


def _check_spec(path: Path, fm: document.FrontMatter) -> list[Problem]:
    from .spec import load_spec

    try:
        spec = load_spec(fm.text, path=str(path), first_line=fm.first_line)
    except ResearchError as error:
        return [_problem(error, path)]
    problems = []
    lines = _key_lines(fm)
    for key in ("hub", "roadmap", "kanban"):
        target = getattr(spec, key, None)
        if target and not (path.parent / target).is_file():
            problems.append(Problem(str(path), lines.get(key), f"{key}: links to '{target}', which does not exist"))
    problems.extend(_check_stale(path, spec, lines))
    if spec.answers:
        if not spec.hub:
            problems.append(Problem(str(path), lines.get("answers"), "answers: names hypothesis ids but no hub: is given"))
        elif (path.parent / spec.hub).is_file():
            known = hypothesis_ids(textfile.read_text(path.parent / spec.hub))
            for qid in spec.answers:
                if qid not in known:
                    hint = did_you_mean(qid, known) or f"the hub's ids are {', '.join(sorted(known)) or 'none'}"
                    problems.append(
                        Problem(str(path), lines.get("answers"), f"answers: '{qid}' is not in the hypothesis tree of {spec.hub}; {hint}")
                    )
    return problems


def _check_stale(path: Path, spec, lines: dict[str, int]) -> list[Problem]:
    """A report whose numbers were written by a run is stale when a trial would run again."""
    from .runner import make_plan, read_index

    try:
        plan = make_plan(path)
    except ResearchError as error:  # e.g. data files that are gone: say so, keep checking
        return [_problem(error, path)]
    if not read_index(plan.root, spec.id).get("rendered"):
        return []  # never run here: nothing written that could be stale
    stale = [f"{t.name} ({t.reason})" for t in plan.trials if not t.cached]
    if not stale:
        return []
    return [Problem(str(path), lines.get("trials") or lines.get("model"),
                    f"stale: the numbers no longer match the spec, code or data: {', '.join(stale)}; run `research run {path}`")]


def hypothesis_ids(hub_text: str) -> list[str]:
    """Ids like Q3.1 that a hub's hypothesis tree or tables define (`Q3.1: question`)."""
    seen: dict[str, None] = {}
    for match in HYPOTHESIS_ID_RE.finditer(hub_text):
        seen.setdefault(match.group(1), None)
    return list(seen)


QUESTION_RE = re.compile(r"\b(Q\d+(?:\.\d+)*)\s*[:：]\s*(.+?)\s*(?:→|->|$)")


def hypothesis_questions(hub_text: str) -> dict[str, str]:
    """Id → question, from the first line that defines each id (the hypothesis tree)."""
    questions: dict[str, str] = {}
    for line in hub_text.splitlines():
        match = QUESTION_RE.search(line)
        if match and match.group(1) not in questions:
            questions[match.group(1)] = match.group(2).strip()
    return questions


def _check_images(path: Path, text: str) -> list[Problem]:
    body, skip = document.body_of(text)
    problems = []
    for token in document.markdown_tokens(body):
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type != "image":
                continue
            src = str(child.attrGet("src") or "")
            if not src or re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith(("#", "/")):
                continue
            target = path.parent / src.split("#")[0].split("?")[0]
            if not target.is_file():
                line = token.map[0] + skip + 1 if token.map else None
                problems.append(Problem(str(path), line, f"image '{src}' does not exist"))
    return problems
