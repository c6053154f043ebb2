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
import math
import re
from collections.abc import Mapping
from typing import Any

from engine.notebook.store import digest
from engine.text import document

REGION = "record"
# the spec keys that decide the numbers, the tables and the verdict (not the prose keys)
RUN_KEYS = (
    "data",
    "noise",
    "model",
    "train",
    "trials",
    "metrics",
    "binned",
    "comparisons",
    "figures",
    "decision",
    "key_numbers",
    "bootstrap",
)
_JSON = re.compile(r"```json\s*\n(.*?)\n\s*```", re.S)


_COMMENT = re.compile(r"(^|\s)#.*$")


OPTIONAL_RUN_KEYS = (
    "sweep",
    "repeats",
    "seeds",
    "inputs",
)  # in the digest only when present: older reports keep theirs


def spec_digest(front_text: str, sets=(), sweeps=()) -> str:
    """A hash of the spec keys that decide the numbers (their text, comments and blank lines
    dropped), plus the run's --set overrides. Text, not parsed YAML, so `research status` can
    tell a changed spec without a YAML parse of every report; a reformatted key counts as a
    change, an edited comment or prose key does not."""
    blocks = document.key_blocks(front_text.replace("\r\n", "\n"))
    parts = []
    keys = [*RUN_KEYS, *(k for k in OPTIONAL_RUN_KEYS if k in blocks)]
    for key in keys:
        lines = []
        for line in blocks.get(key, "").split("\n"):
            if "'" not in line and '"' not in line:
                line = _COMMENT.sub("", line)
            if line.strip():
                lines.append(line.rstrip())
        parts.append(lines)
    return digest(parts, list(sets), list(sweeps)) if sweeps else digest(parts, list(sets))


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


def shown_trials(rec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record's trials as the report shows them: a repeated trial once (the mean over its
    seeds), not each seed's run (`of:` its trial) — the rows a leaderboard may rank, so that
    the luckiest seed never passes for the result."""
    return [t for t in rec.get("trials", []) if not t.get("of")]


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


def trial_conditions(config: Mapping[str, Any], split: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The conditions a trial's numbers hold under: where the spectra came from, how many trained
    it, their pixels, the noise, and which test set scored it. Numbers compare only under the
    same test conditions (`test_condition`); `split` is what the run measured (`info["split"]`)."""
    data, noise = dict(config.get("data") or {}), dict(config.get("noise") or {})
    split = dict(split or {})
    level = noise.get("level", 0.0)
    applies = noise.get("apply") or ["train", "test"]
    out = {
        "source": str(data.get("source", "synthetic")),
        "test_source": data.get("test_source"),
        "n_train": split.get("n_train", data.get("n_train")),
        "n_test": split.get("n_test", data.get("n_test")),
        "n_pixels": split.get("n_pixels"),
        "noise": level,
        "test_noise": level if "test" in applies else 0.0,
        "test_select": _selection_text(data.get("test_select")),
    }
    tests = data.get("tests") or {}
    if tests:  # the bare metrics are the primary named set's: its conditions are the trial's
        primary = data.get("primary_test") or next(iter(tests))
        base = dict(out)
        out.update(_test_set(base, tests.get(primary) or {}))
        out["test_set"] = primary
        sizes = split.get("tests") or {}
        # the others', for a number read on one of them (`r2.log_g@noisy`): what sets it apart
        others = {
            name: {**_test_set(base, chosen or {}), **({"n_test": sizes[name]} if name in sizes else {})}
            for name, chosen in tests.items()
            if name != primary
        }
        if others:
            out["tests"] = others
    return out


def _test_set(conditions: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    """The test conditions a named test set (`data.tests.<name>`) changes from the trial's own."""
    out: dict[str, Any] = {}
    if chosen.get("source") is not None:
        out["test_source"], out["test_select"] = chosen["source"], None
    if chosen.get("select"):
        shown = _selection_text(chosen["select"])
        before = out.get("test_select", conditions.get("test_select"))
        out["test_select"] = f"{before}; {shown}" if before else shown
    if chosen.get("noise") is not None:
        out["test_noise"] = chosen["noise"]
    return out


def _selection_text(selection: Mapping[str, Any] | None) -> str | None:
    if not selection:
        return None
    parts = []
    for name, (lo, hi) in sorted((selection.get("ranges") or {}).items()):
        parts.append(f"{name} {_short(lo)}–{_short(hi)}")
    if selection.get("snr_top_frac") is not None:
        parts.append(f"top {_short(selection['snr_top_frac'] * 100)} % SNR")
    if selection.get("first"):
        parts.append(f"first {selection['first']}")
    if selection.get("random"):
        parts.append(f"{selection['random']} at random")
    return ", ".join(parts) or None


def test_condition(conditions: Mapping[str, Any], *, noise: bool = True, test: str | None = None) -> str:
    """The test set a number was measured on, in words: numbers compare only when this matches.
    `test`: a named test set other than the primary, which the number was read on instead."""
    c = conditions or {}
    if test is not None and test != c.get("test_set"):  # the primary's are the trial's own
        if test not in (c.get("tests") or {}):  # a record from before the sets' conditions were kept
            return f"test set {test}"
        c = {**c, "n_test": None, **c["tests"][test]}
    source = c.get("test_source") or c.get("source") or "?"
    parts = [
        f"{source} test",
        f"{c['n_test']} spectra" if c.get("n_test") else None,
        c.get("test_select"),
        f"noise {_short(c.get('test_noise', 0.0))}" if noise else None,
        f"{c['n_pixels']} px" if c.get("n_pixels") else None,
    ]
    return " · ".join(p for p in parts if p)


def conditions_text(conditions: Mapping[str, Any], *, noise: bool = True, test: str | None = None) -> str:
    """`N_train 20000 · synthetic test · 2000 spectra · noise 1 · 4096 px`: what a number holds
    under (on the named test set `test`, when it was read there)."""
    c = conditions or {}
    moved = (c.get("tests") or {}).get(test) or {} if test is not None else {}
    head = [
        f"N_train {c['n_train']}" if c.get("n_train") else None,
        f"train {c['source']}" if moved.get("test_source", c.get("test_source")) else None,
    ]
    return " · ".join([p for p in head if p] + [test_condition(c, noise=noise, test=test)])


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_short(v) for v in value) + "]"
    return str(value)


#: Significant digits a run record keeps of a number (its last bits are the hardware's, not the model's).
KEPT_DIGITS = 6


def kept(value: float) -> float:
    """A finite number as the run record keeps it. Every shown number is formatted from this
    (`render.fmt_metric`), so one printed from the record and one printed the day it was
    computed round from the same float: 0.67514996 kept is 0.67515, and both say 0.6752."""
    return float(f"{value:.{KEPT_DIGITS}g}") if math.isfinite(value) else value


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return kept(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value
