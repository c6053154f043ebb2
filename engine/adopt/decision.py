"""A decision rule made from a finished report's acceptance criterion.

The user states when an experiment succeeds in one sentence: "验收标准：ΔR² (MLP − classify) ≥
+0.005，且 95 % bootstrap 区间下界 > 0", "Success: log g MAE down ≥ 3 %". A spec says the same as
`decision.rules` (an expression per verdict), which the engine decides over the joint bootstrap.
This turns the conditions it recognises — a Δ of a metric against a threshold, an interval's
lower bound above zero, a relative change in %, a metric against a value — into one `pass` rule
and an `otherwise: fail`, over the pair the sentence names (or the best trial against the
baseline). It is always a guess: the sentence is quoted beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.adopt.methods import Methods, without_remarks

_METRIC = r"(?P<metric>R\s*²|R\s*\^?\s*\{?2\}?|R2|MAE|RMSE)"
_OP = r"(?P<op>≥|>=|>|≤|<=|<|大于等于|不小于|at\s+least)"
_VALUE = r"(?P<value>[+\-−]?\d+(?:\.\d+)?)\s*(?P<pct>%)?"
_DELTA_RE = re.compile(
    rf"(?:Δ|\\Delta|delta)\s*\$?\s*{_METRIC}\$?(?P<between>[^≥≤><。;；]{{0,60}}?){_OP}\s*{_VALUE}", re.I
)
_RELATIVE_RE = re.compile(
    rf"{_METRIC}\s*(?P<dir>下降|降低|减少|提升|提高|上升|decreases?|drops?|down|lower|reduced?|improves?|up|increases?|rises?)"
    rf"\s*(?:by\s*)?(?:≥|>=|>|at\s+least|至少)?\s*(?P<value>\d+(?:\.\d+)?)\s*%",
    re.I,
)
_ABSOLUTE_RE = re.compile(rf"(?<![Δ\\a-z]){_METRIC}\s*{_OP}\s*{_VALUE}", re.I)
_LOWER_RE = re.compile(
    r"(?:区间|interval|ci)[^。;；]{0,30}?(?:下界|下限|lower\s+(?:end|bound|limit)|\blow\b)[^。;；]{0,20}?(?:>|大于|above|高于|超过)\s*0(?![.\d])"
    r"|(?:excludes?|不含|不包含|不跨|不跨越|排除)\s*0(?![.\d])",
    re.I,
)
_PAIR_RE = re.compile(r"[(（]\s*(?P<a>[^()（）−\-]+?)\s*(?:−|-|–|vs\.?)\s*(?P<b>[^()（）]+?)\s*[)）]")
_OR_RE = re.compile(r"(?<![a-z])or(?![a-z])|或", re.I)
_LOWER_BETTER = ("mae", "rmse")
SHOWN = {"r2": "R²", "mae": "MAE", "rmse": "RMSE"}  # a metric as a sentence writes it


@dataclass
class Rules:
    """The rules drafted (none when no condition of the criterion is recognised)."""

    rules: list[dict[str, Any]] = field(default_factory=list)


def _metric(text: str) -> str:
    folded = re.sub(r"[\s^{}$]", "", text).upper().replace("²", "2")
    return {"R2": "r2", "MAE": "mae", "RMSE": "rmse"}[folded]


def _number(text: str) -> float:
    value = float(text.replace("−", "-"))
    return int(value) if value.is_integer() else value


def _op(text: str) -> str:
    return {"≥": ">=", "大于等于": ">=", "不小于": ">=", "≤": "<="}.get(text, ">=" if "least" in text else text)


def rules(criterion: str, methods: Methods, primary: str) -> Rules:
    """A pass rule (its conditions joined as the sentence joins them) and an otherwise-fail rule;
    no rules when no condition is recognised."""
    target = primary.split(".", 1)[1]
    baseline = methods.baseline
    subject = _subject(criterion, methods)
    conditions: list[str] = []
    shown: list[str] = []

    def pair_of(metric: str) -> str | None:
        if subject is not None and baseline is not None and subject != baseline:
            return f"compare('{subject}', '{baseline}').{metric}.{target}"
        return f"best.delta.{metric}.{target}" if baseline is not None else None

    delta_metrics = []
    for found in _DELTA_RE.finditer(criterion):
        metric = _metric(found["metric"])
        pair = pair_of(metric)
        if pair is None:
            continue
        value = _number(found["value"]) / (100 if found["pct"] else 1)
        conditions.append(f"{pair}.value {_op(found['op'])} {value}")
        delta_metrics.append(metric)
    for found in _RELATIVE_RE.finditer(criterion):
        metric = _metric(found["metric"])
        if baseline is None:
            continue
        share = _number(found["value"]) / 100
        down = re.match(r"下降|降低|减少|decreas|drop|down|lower|reduc", found["dir"], re.I) is not None
        who = f"trials['{subject}']" if subject and subject != baseline else "best"
        factor = round(1 - share if down else 1 + share, 6)
        op = "<=" if down else ">="
        conditions.append(f"{who}.{metric}.{target} {op} {factor} * baseline.{metric}.{target}")
        change = (
            f"(1 - {who}.{metric}.{target} / baseline.{metric}.{target})"
            if down
            else f"({who}.{metric}.{target} / baseline.{metric}.{target} - 1)"
        )
        side = "below" if down else "above"
        shown.append(f"{SHOWN[metric]} {{{{ ({change} * 100) | round(1) }}}} % {side} the baseline's")
    if _LOWER_RE.search(criterion):
        metric = delta_metrics[0] if delta_metrics else primary.split(".", 1)[0]
        pair = pair_of(metric)
        if pair is not None:
            conditions.append(f"{pair}.lo > 0" if metric not in _LOWER_BETTER else f"{pair}.hi < 0")
            delta_metrics.append(metric)
    if not conditions:
        for found in _ABSOLUTE_RE.finditer(criterion):
            metric = _metric(found["metric"])
            who = f"trials['{subject}']" if subject else "best"
            value = _number(found["value"]) / (100 if found["pct"] else 1)
            conditions.append(f"{who}.{metric}.{target} {_op(found['op'])} {value}")
            shown.append(f"{SHOWN[metric]} {{{{ {who}.{metric}.{target} }}}}")
    if not conditions:
        return Rules()
    for metric in dict.fromkeys(delta_metrics):
        pair = pair_of(metric)
        shown.insert(
            0,
            f"Δ{SHOWN[metric]} {{{{ {pair}.value }}}} (95 % interval {{{{ {pair}.lo }}}} to {{{{ {pair}.hi }}}})",
        )
    joined = (
        " or " if _OR_RE.search(criterion) and not re.search(r"且|并且|同时|\band\b|both", criterion, re.I) else " and "
    )
    what = (f"{subject} against {baseline}: " if subject and baseline and subject != baseline else "") + "; ".join(
        shown
    )
    return Rules(
        rules=[
            {"when": joined.join(conditions), "verdict": "pass", "says": f"{what}: meets the acceptance criterion"},
            {"otherwise": "fail", "says": f"{what}: misses the acceptance criterion"},
        ]
    )


def _subject(criterion: str, methods: Methods) -> str | None:
    """The trial the criterion is about: the first of a pair it names ("(MLP − classify)"), else
    the one method it names that is not the baseline."""
    pair = _PAIR_RE.search(criterion)
    if pair is not None:
        a = methods.by_words(pair["a"])
        if a is not None:
            return a.name
    named = {
        m.name
        for m in methods.methods
        if not m.reference
        and m.name != methods.baseline
        and re.search(re.escape(without_remarks(m.label)), criterion, re.I)
    }
    return next(iter(named)) if len(named) == 1 else None
