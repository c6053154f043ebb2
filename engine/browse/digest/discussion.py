"""The digest's closing section: questions for a discussion, each raised by something in it.

A digest is written to be discussed, and what deserves discussion can be read from the results:
a question left inconclusive, two reports that answer one question differently, a verdict on one
seed, a reference that beats every candidate, a candidate better than a ceiling, no candidate
better than its baseline, a gap to the ceiling, a finding whose design implication nobody wrote,
a decision gap these results may close, and the most urgent open question. Each is asked once,
in that order (validate, risk, design, decide, next), so the same digest asks the same questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.notebook.record import shown_trials
from engine.notebook.report import Report
from engine.pages.implication import implication
from engine.render.decision import CEILING_MODEL, badness
from engine.render.repeats import seeds_of
from engine.render.templates import fmt_metric

from .questions import answered


def questions(
    topic: str,
    reports: Sequence[Report],
    hypotheses: Sequence[Mapping[str, Any]],
    open_rows: Sequence[Mapping[str, Any]],
    w: Mapping[str, str],
) -> list[dict[str, str]]:
    """[{kind, text}]: what the results, the hypotheses and the open questions leave to discuss."""
    out: list[dict[str, str]] = []

    def ask(kind: str, key: str, **facts: Any) -> None:
        out.append({"kind": w[kind], "text": w[key].format(**facts)})

    for row in hypotheses:
        if row["verdict"] == "inconclusive":
            ask("validate", "q_inconclusive", qid=row["id"], question=row["text"] or "-", id=row["report"])
    by_question: dict[str, list[Mapping[str, Any]]] = {}
    for row in hypotheses:
        by_question.setdefault(row["id"], []).append(row)
    for qid, rows in by_question.items():
        settled = [r for r in rows if r["verdict"] in ("verified", "refuted")]
        if len({r["verdict"] for r in settled}) > 1:
            a, b = settled[0], next(r for r in settled if r["verdict"] != settled[0]["verdict"])
            ask(
                "validate",
                "q_conflict",
                qid=qid,
                a=w[a["verdict"]],
                id_a=a["report"],
                b=w[b["verdict"]],
                id_b=b["report"],
            )
    done = [r for r in reports if answered(r)]
    for report in done:
        rec = report.record or {}
        decisive = [t for t in shown_trials(rec) if t.get("name") in (rec.get("best"), rec.get("baseline"))]
        lone = [str(t["name"]) for t in decisive if seeds_of([t]).startswith("1 seed")]
        if lone:
            ask("validate", "q_one_seed", id=report.id, trials=", ".join(lone))
    for report in done:
        rec = report.record or {}
        standing, primary = rec.get("standing") or {}, rec.get("primary")
        for name, value in standing.get("references_beating") or []:
            ask("risk", "q_reference", id=report.id, reference=name, value=fmt_metric(primary, value))
        for ceiling in standing.get("ceilings_beaten") or []:
            name = ceiling[0] if isinstance(ceiling, (list, tuple)) else ceiling
            ask("risk", "q_ceiling_beaten", id=report.id, best=standing.get("best"), ceiling=name)
        if standing.get("beats_baseline") is False:
            ask(
                "risk",
                "q_no_gain",
                id=report.id,
                baseline=standing.get("baseline"),
                value=fmt_metric(primary, standing.get("baseline_value")),
            )
    for gap in _ceiling_gaps(done):
        ask("next", "q_gap", **gap)
    for report in done:
        if implication(report) is None:
            ask("design", "q_no_implication", id=report.id)
    for row in open_rows:
        if row["gap"]:
            ask("decide", "q_gap_closed", dg=row["id"], gap=row["text"], rule=row["next"])
    first = [r for r in open_rows if not r["gap"]]
    urgent = [r for r in first if r["level"] == 0] or first[:1]
    for row in urgent:
        ask("next", "q_first", qid=row["id"], question=row["text"])
    if not out:
        ask("next", "q_default", topic=topic)
    order = [w[k] for k in ("validate", "risk", "design", "decide", "next")]
    return sorted(out, key=lambda q: order.index(q["kind"]))


def _ceiling_gaps(reports: Sequence[Report]) -> list[dict[str, str]]:
    """Per report with a ceiling trial: its best candidate against the ceiling on its primary
    metric (the report scored both on the same test rows)."""
    gaps = []
    for report in reports:
        rec = report.record or {}
        primary = rec.get("primary")
        trials = shown_trials(rec)
        ceiling = next((t for t in trials if t.get("model") == CEILING_MODEL), None)
        best = next((t for t in trials if t.get("name") == rec.get("best")), None)
        if not primary or ceiling is None or best is None:
            continue
        top, bound = (best.get("metrics") or {}).get(primary), (ceiling.get("metrics") or {}).get(primary)
        if top is None or bound is None or badness(primary, top) <= badness(primary, bound):
            continue
        noise = (best.get("conditions") or {}).get("noise", best.get("noise"))
        gaps.append(
            {
                "id": report.id,
                "noise": f"{float(noise or 0.0):g}",
                "metric": primary,
                "best": f"{fmt_metric(primary, top)} ({best.get('model')})",
                "ceiling": fmt_metric(primary, bound),
            }
        )
    return gaps
