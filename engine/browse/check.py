"""`research check`: is every document of the notebook still sound? (like `cog --check`)

No ML library, nothing written. One located problem per line, so an editor or CI log can jump
to it. What it looks at: the encoding, the region markers and their checksums, relative image
links, and for a report the spec and everything `engine.run.validate` checks before a run (models,
expressions, live numbers, paths, pages, hub ids, data files — all but reading every spectrum),
whether its numbers are stale (`engine.notebook.staleness`), whether its prose still quotes a number
an earlier run wrote and the results no longer hold (`engine.browse.quoted`), and whether it was left
`running` by a killed run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ResearchError
from engine.text import document, textfile

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".research", ".pytest_cache", ".hypothesis"}


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
    """(problems, number of files checked); a problem two files lead to (a hand edit in a hub
    two reports write, and the hub checked itself) is listed once, however each names the file."""
    import os

    problems: dict[tuple, Problem] = {}
    count = 0
    for path in markdown_files(paths):
        count += 1
        for problem in check_file(path):
            problems.setdefault((os.path.realpath(problem.path), problem.line, problem.message), problem)
    return list(problems.values()), count


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
    problems.extend(_edited(path, region) for region in found.values() if region.edited)
    problems.extend(_language_mark(path, text))
    fm = document.front_matter(text)
    if fm is not None:
        from engine.browse.quoted import stale_prose

        problems.extend(_check_spec(path, fm))
        problems.extend(Problem(str(path), stale.line, stale.message()) for stale in stale_prose(path, text))
    problems.extend(_check_images(path, text))
    return problems


def _edited(path: Path, region: document.Region) -> Problem:
    """The one problem a hand edit is, whichever file's check comes upon it: the file itself, or
    a report whose run writes it (its hub, roadmap, kanban) — so that `check_paths` lists it once."""
    from engine.errors import RegionEditedError

    return _problem(
        RegionEditedError(
            f"region '{region.name}' was edited by hand since the engine wrote it",
            line=region.start_line,
            hint="the next run stops there: move your words outside the markers, or run with --force to discard the edit",
        ),
        path,
    )


def _language_mark(path: Path, text: str) -> list[Problem]:
    """A page's language mark that names no language the engine writes: a run falls back to the
    notebook's language there rather than stop after training, so this is where it is said."""
    from engine.notebook.config import LANGS, page_language_line

    found = page_language_line(text)
    if found is None or found[0] in LANGS:
        return []
    value, line = found
    return [
        Problem(
            str(path),
            line,
            f"research-language: expected one of {', '.join(LANGS)}, got '{value}' "
            "(runs fill this page's regions in the notebook's language meanwhile). "
            "write <!-- research-language: en --> (or zh).",
        )
    ]


def _page_edits(plan) -> list[Problem]:
    """Hand edits in the pages the report's next run writes (a draft writes none)."""
    from engine.notebook import drafts
    from engine.notebook.paths import inside
    from engine.run.validate import page_paths

    if not drafts.propagates(plan.report.spec.status, True):
        return []
    found: list[Problem] = []
    for page in page_paths(plan.report).values():
        if not (page.is_file() and inside(plan.root, page)):
            continue
        try:
            text = textfile.read_text(page)
        except ResearchError:  # an unreadable page: validation says so
            continue
        try:
            edited = document.edited_regions(text, str(page))
        except ResearchError as error:  # bad markers: as the page's own check says it
            found.append(_problem(error, page))
            continue
        found.extend(_edited(page, region) for region in edited)
    return found


def _key_lines(fm: document.FrontMatter) -> dict[str, int]:
    """File line of each top-level key of the front matter."""
    import yaml

    from engine.text.safe_yaml import compose

    try:
        root = compose(fm.text)
    except (yaml.YAMLError, RecursionError):
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {key.value: fm.first_line + key.start_mark.line for key, _ in root.value if isinstance(key, yaml.ScalarNode)}


def _check_spec(path: Path, fm: document.FrontMatter) -> list[Problem]:
    """The spec, then the one validation a run makes (without reading every spectrum), then staleness."""
    from engine.notebook import locks
    from engine.notebook.paths import notebook_root
    from engine.notebook.record import spec_digest
    from engine.notebook.report import read_report
    from engine.notebook.staleness import STUCK, stale_reasons
    from engine.run.plan import make_plan
    from engine.run.validate import problems as validation_problems
    from engine.spec import load_spec

    try:
        spec = load_spec(fm.text, path=str(path), first_line=fm.first_line)
    except ResearchError as error:
        return [_problem(found, path) for found in (error, *error.also)]
    lines = _key_lines(fm)
    report = read_report(path, notebook_root(path))
    rec = report.record if report is not None else None
    sets = list((rec or {}).get("sets") or [])
    sweeps = list((rec or {}).get("sweeps") or [])
    try:
        plan = make_plan(path, sets=sets, sweeps=sweeps)
    except ResearchError as error:  # e.g. data files that are gone: say so, keep checking
        return [_problem(error, path)]
    # force=True: the hand edits are this module's to report (`_edited`), once each, not once per
    # report that writes the page as well as once for the page itself
    problems = [
        _problem(error, Path(error.path or path))
        for error in validation_problems(plan, data=True, scan=False, force=True)
    ]
    problems += _page_edits(plan)
    if spec.answers and not spec.hub:
        problems.append(Problem(str(path), lines.get("answers"), "answers: names hypothesis ids but no hub: is given"))
    if spec.status == "running" and not locks.is_running(plan.root, spec.id):
        problems.append(Problem(str(path), lines.get("status"), STUCK))
    reasons = stale_reasons(
        rec,
        status=spec.status,
        spec_now=spec_digest(fm.text, sets, sweeps),
        parts_now={t.name: t.parts for t in plan.trials},
    )
    if reasons:
        problems.append(
            Problem(
                str(path),
                lines.get("trials") or lines.get("model"),
                f"stale: the numbers no longer match the spec, code or data: {', '.join(reasons)}; "
                f"run `research run {path}`",
            )
        )
    return problems


def _check_images(path: Path, text: str) -> list[Problem]:
    body, skip = document.body_of(text)
    return [
        Problem(str(path), line + skip + 1 if line is not None else None, f"image '{src}' does not exist")
        for line, src, file, _ in document.local_images(body)
        if not (path.parent / file).is_file()
    ]
