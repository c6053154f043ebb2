"""Stale prose: a number the user's words still quote after the results it came from changed.

A run rewrites the regions, never the prose around them, so a sentence that copied "0.9213"
from the key numbers keeps saying it after the next run says 0.3363. `research check` finds
such a sentence: a number in the prose that an earlier version of the report's results held
(its result regions and run record at each commit of the file's git history) and that the
current results no longer hold.

Kept quiet on purpose: only numbers with at least three significant digits (not "3 bins",
"1.4 %", a year split from a date), only results (not the log, the reproduce command, the
front matter), and a prose number counts as a result's when it equals it to the digits the
prose shows ("0.921" quotes 0.9213). Regions, code and live numbers (`engine.render.live`) are not
prose. Positions come from the region parser and the code-block map; one regex reads one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ResearchError
from engine.notebook import record
from engine.text import document

NOT_RESULTS = ("log", "reproduce", record.REGION)
MAX_COMMITS = 50  # how far back the file's history is read
MIN_DIGITS = 3

_NUMBER_RE = re.compile(r"(?<![\w.\-+\u2212])[+\-\u2212]?\d+(?:\.\d+)?(?![\w]|\.\d|-\d)")
_CODE_SPAN_RE = re.compile(r"(`+).*?\1")
_DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}")


@dataclass(frozen=True)
class Number:
    text: str  # as written
    value: float
    decimals: int

    def quotes(self, value: float) -> bool:
        """Whether this number, with the digits it shows, is `value`."""
        return abs(value - self.value) <= 0.5 * 10**-self.decimals + 1e-12


@dataclass(frozen=True)
class Stale:
    line: int
    quoted: str
    commit: str
    now: str | None  # what the results say in the same place now, when they have that place

    def message(self) -> str:
        said = f"stale prose: still says {self.quoted}, a result of an earlier run ({self.commit[:7]})"
        if self.now is not None:
            return f"{said}; the results now say {self.now}"
        return f"{said} that the results no longer contain"


def significant(text: str) -> int:
    digits = text.lstrip("+-\u2212")
    whole, _, fraction = digits.partition(".")
    return len((whole + fraction).lstrip("0")) if fraction else len(whole.lstrip("0").rstrip("0"))


def numbers(line: str) -> list[Number]:
    """The numbers of one line of text with at least MIN_DIGITS significant digits."""
    line = _DATE_RE.sub(" ", _CODE_SPAN_RE.sub(" ", line))
    out = []
    for match in _NUMBER_RE.finditer(line):
        text = match.group(0)
        if significant(text) < MIN_DIGITS:
            continue
        plain = text.replace("\u2212", "-").lstrip("+")
        out.append(Number(text, float(plain), len(plain.partition(".")[2])))
    return out


def results(text: str, path: str | None = None) -> dict[tuple[str, int], Number]:
    """The numbers of a report's results by (where, ordinal): each result region's numbers in
    order, then the run record's trial metrics and key numbers."""
    out: dict[tuple[str, int], Number] = {}
    for name, region in document.regions(text, path).items():
        if name in NOT_RESULTS or name.startswith("figure-"):
            continue
        found = [n for line in region.body.splitlines() for n in numbers(line)]
        out.update({(name, i): n for i, n in enumerate(found)})
    rec = record.parse(text, path) or {}
    values: list[tuple[str, str]] = []
    for trial in rec.get("trials") or []:
        for metric, value in sorted((trial.get("metrics") or {}).items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.append((f"record:{trial.get('name')}:{metric}", repr(float(value))))
    for row in rec.get("key_numbers") or []:
        if isinstance(row, list) and len(row) > 1:
            values.append((f"record:key:{row[0]}", str(row[1])))
    for where, shown in values:
        for i, n in enumerate(numbers(shown)):
            out[(where, i)] = n
    return out


def prose_numbers(text: str, path: str | None = None) -> list[tuple[int, Number]]:
    """(1-based line, number) of the prose: outside the front matter, regions, code and live numbers."""
    _, front_lines = document.body_of(text, path)
    code = document.code_lines(text)
    owned: set[int] = set()
    for region in document.regions(text, path).values():
        owned.update(range(region.start_line - 1, region.end_line))
    out = []
    for index, line in enumerate(document.split_lines(text)):
        if index < front_lines or index in code or index in owned:
            continue
        line = document.VALUE_RE.sub(" ", line)
        out += [(index + 1, n) for n in numbers(line)]
    return out


def _history(path: Path) -> list[tuple[str, str]]:
    """(commit, the file's text) for the last MAX_COMMITS commits that changed it."""
    from engine.run.provenance import file_history

    return [(sha, data.decode("utf-8", errors="replace")) for sha, data in file_history(path, MAX_COMMITS)]


def stale_prose(path: Path, text: str) -> list[Stale]:
    """The prose numbers of `text` that an earlier committed run's results held and the current
    results do not."""
    if "research:" not in text:
        return []
    try:
        quoted = prose_numbers(text, str(path))
        now = results(text, str(path))
    except ResearchError:  # broken markers: `check` reports them on their own
        return []
    quoted = [(line, n) for line, n in quoted if not any(n.quotes(v.value) for v in now.values())]
    if not quoted:
        return []
    found: list[Stale] = []
    left = list(quoted)
    for commit, old_text in _history(path):  # newest first: the place a number held last
        try:
            before = results(old_text, str(path))
        except ResearchError:
            continue
        for line, n in list(left):
            place = next((where for where, v in before.items() if n.quotes(v.value)), None)
            if place is None:
                continue
            left.remove((line, n))
            found.append(Stale(line, n.text, commit, now[place].text if place in now else None))
        if not left:
            break
    return sorted(found, key=lambda s: s.line)
