"""A report's design implication: what the pipeline or the next experiment does because of its finding.

The spec says it in two places (`engine.spec`): the report's own `implication:` — written by hand,
often after reading the results — and a decision rule's `implication:`, written before the run
for each outcome ("make multi-task the default" on the pass rule, "keep single-task" on the fail
rule). The deciding rule's comes first, since it is the one the results chose; the report's is the
fallback.

The run record keeps the deciding rule's words (`says`) and verdict, not its index, so the rule is
found again from them: among the rules giving the record's verdict (for an inconclusive verdict,
the point estimates' — `confidence.point`), the one whose `says`, each `{{ … }}` read as any text,
gives the record's `says` (an inconclusive verdict appends " — but only as a point estimate…").
That implication is *tentative*: the resamples did not confirm its rule, so the digest says "if
the result holds" and the hub keeps the user's own "so what".

Read from the front matter's YAML as the catalog reads it (no pydantic): `research sync` and
`research digest` read it of every report, and a report whose spec no longer validates still
shows what it implied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from engine.notebook.report import Report
from engine.spec.expressions import fill, placeholders

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HOLE = "\x00"  # stands for a filled `{{ … }}` while a says template becomes a pattern


@dataclass(frozen=True)
class Implication:
    text: str
    tentative: bool  # the point estimates' rule, which the resamples did not confirm


def implication(report: Report) -> Implication | None:
    """The design implication of the report's last run; None when it has no record or says none."""
    rec = report.record
    if not rec or "implication" not in report.front_text:
        return None
    try:
        front = yaml.load(report.front_text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    if not isinstance(front, Mapping):
        return None
    decision = front.get("decision")
    rules = decision.get("rules") if isinstance(decision, Mapping) else None
    rule = deciding_rule(rules if isinstance(rules, list) else [], rec)
    tentative = rec.get("verdict") == "inconclusive" and bool((rec.get("confidence") or {}).get("point"))
    if rule is not None and _text(rule.get("implication")):
        return Implication(_text(rule.get("implication")), tentative)
    own = _text(front.get("implication"))
    return Implication(own, False) if own else None


def deciding_rule(rules: Sequence[Any], rec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The rule (as YAML gives it) whose verdict and words the record holds; None when none does."""
    verdict = (rec.get("confidence") or {}).get("point") or rec.get("verdict")
    if verdict is None:
        return None
    says = str(rec.get("says") or "")
    candidates = [r for r in rules if isinstance(r, Mapping) and _outcome(r) == str(verdict)]
    matching = [r for r in candidates if _says_gives(str(r.get("says") or ""), says)]
    if matching:  # a placeholder can stand for another rule's words too: the most literal text decides
        return max(matching, key=lambda r: len("".join(_literal(str(r.get("says") or "")))))
    return candidates[0] if len(candidates) == 1 else None


def _outcome(rule: Mapping[str, Any]) -> str:
    return str(rule.get("otherwise") if rule.get("otherwise") is not None else rule.get("verdict"))


def _literal(template: str) -> list[str]:
    """A `says` template's fixed words, split where its `{{ … }}` are."""
    return fill(template, [_HOLE] * len(placeholders(template))).split(_HOLE)


def _says_gives(template: str, says: str) -> bool:
    """Whether a rule's `says` template, its placeholders filled with anything, reads `says`."""
    pattern = ".*?".join(re.escape(piece) for piece in _literal(template)) + r"(?: — .*)?"
    return re.fullmatch(pattern, says, re.S) is not None


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
