"""A report's run record: what propagation needs, kept inside the report itself.

The run store (`.research/`) is git-ignored, so a fresh clone has none; yet `research sync`
and `research status` must see every experiment's verdict and numbers. So each run writes a
small JSON record into the report's owned `record` region (a collapsed `<details>` block):
verdict, primary metric, best and baseline trial, each trial's model family, short config and
metrics, the key numbers, and the hashes that say whether the numbers are stale. Pages are
rebuilt from these records alone, so the same reports always give the same hub bytes.

Reading one is cheap: no pydantic, no ML library — `research status` reads a thousand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from . import document
from .store import digest

REGION = "record"
# the spec keys that decide the numbers, the tables and the verdict (not the prose keys)
RUN_KEYS = ("data", "noise", "model", "train", "trials", "metrics", "binned", "figures", "decision", "key_numbers", "bootstrap")
_JSON = re.compile(r"```json\s*\n(.*?)\n\s*```", re.S)


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.M)
_COMMENT = re.compile(r"(^|\s)#.*$")


def key_blocks(front_text: str) -> dict[str, str]:
    """The front matter's text split by top-level key (each block: its line and the indented ones)."""
    starts = [(m.start(), m.group(1)) for m in _TOP_KEY.finditer(front_text)]
    blocks = {}
    for (start, key), (end, _) in zip(starts, starts[1:] + [(len(front_text), "")]):
        blocks[key] = front_text[start:end]
    return blocks


def spec_digest(front_text: str, sets=()) -> str:
    """A hash of the spec keys that decide the numbers (their text, comments and blank lines
    dropped), plus the run's --set overrides. Text, not parsed YAML, so `research status` can
    tell a changed spec without a YAML parse of every report; a reformatted key counts as a
    change, an edited comment or prose key does not."""
    blocks = key_blocks(front_text.replace("\r\n", "\n"))
    parts = []
    for key in RUN_KEYS:
        lines = []
        for line in blocks.get(key, "").split("\n"):
            if "'" not in line and '"' not in line:
                line = _COMMENT.sub("", line)
            if line.strip():
                lines.append(line.rstrip())
        parts.append(lines)
    return digest(parts, list(sets))


def render(record: Mapping[str, Any]) -> str:
    """The region body: deterministic JSON (sorted keys, rounded floats) in a collapsed block."""
    text = _dumps(rounded(record))
    return (
        "<details><summary>Run record (read by <code>research sync</code> and <code>research status</code>)</summary>\n\n"
        f"```json\n{text}\n```\n\n</details>\n"
    )


def _dumps(record: Mapping[str, Any]) -> str:
    """JSON with one top-level key per line and one trial per line: short, and diffs read well."""

    def one(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))

    lines = []
    for key in sorted(record):
        value = record[key]
        if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
            inner = ",\n".join(f"  {one(v)}" for v in value)
            lines.append(f" {one(key)}: [\n{inner}\n ]")
        else:
            lines.append(f" {one(key)}: {one(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def parse(text: str, path: str | None = None) -> dict[str, Any] | None:
    """The record in a report's text, or None when it has none (never run, or an older report)."""
    start, end = f"<!-- research:{REGION} -->", f"<!-- /research:{REGION}"
    if text.count(start) == 1 and text.count(end) == 1 and text.index(start) < text.index(end):
        body = text[text.index(start) : text.index(end)]  # the usual case: no markdown parse needed
    elif f"research:{REGION}" in text:
        region = document.regions(text, path).get(REGION)
        if region is None:
            return None
        body = region.body
    else:
        return None
    match = _JSON.search(body)
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def trial_summary(config: Mapping[str, Any]) -> str:
    """A short config line for tables: the model and its parameters, the data size and noise."""
    model = dict(config.get("model") or {})
    kind = model.pop("type", "?")
    params = ", ".join(f"{k}={_short(v)}" for k, v in sorted(model.items()) if v is not None)
    data, noise = config.get("data") or {}, config.get("noise") or {}
    parts = [f"{kind}({params})" if params else str(kind)]
    if data.get("n_train") is not None:
        parts.append(f"n_train={data['n_train']}")
    parts.append(f"noise={_short(noise.get('level', 0.0))}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_short(v) for v in value) + "]"
    return str(value)


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}") if value == value and abs(value) != float("inf") else None
    if isinstance(value, Mapping):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value
