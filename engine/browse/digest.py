"""`research digest TOPIC`: what a topic's experiments found, on one page.

Built from the same committed inputs as the hub (front matter and run records), rendered by
`templates/digest.md.j2`: per experiment one sentence and its key numbers, a method × noise
matrix of each primary metric, the hub questions verified / refuted / still open, and an index.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.notebook.experiments import Experiment, scan
from engine.notebook.record import conditions_text, shown_trials
from engine.pages.sync import CEILING_MODEL
from engine.render.decision import badness
from engine.render.templates import fmt_metric, render
from engine.text import textfile
from engine.text.marks import VERDICT_MARKS, status_text, verdict_mark
from engine.text.questions import ANSWERED_RE

VERIFIED, REFUTED = VERDICT_MARKS["pass"], VERDICT_MARKS["fail"]


def build(root: Path, topic: str, *, since: str | None = None, base: Path | None = None) -> dict[str, Any]:
    """The digest's content; links are relative to `base` (the output file's folder)."""
    base = (base or root).resolve()
    chosen = [
        e for e in scan(root) if str(e.front.get("topic")) == topic and (since is None or (e.run_date or "") >= since)
    ]
    chosen.sort(key=lambda e: (e.run_date or "", e.id))

    def link(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), base)).as_posix()

    experiments = []
    for e in chosen:
        rec = e.record or {}
        if rec.get("verdict"):
            sentence = f"{verdict_mark(rec['verdict'])} {rec['verdict']}: {rec.get('says') or ''}".strip()
        elif e.status == "failed":
            sentence = "🔴 failed: see the report's log"
        elif rec:  # it ran, and has no decision rules: its numbers are its finding
            sentence = f"{status_text(e.status)}: no decision rules; its key numbers are below"
        else:
            sentence = f"⏳ {e.status}: not run yet"
        experiments.append(
            {
                "id": e.id,
                "title": e.front.get("title") or e.id,
                "link": link(e.path),
                "sentence": sentence,
                "numbers": [tuple(n[:2]) for n in rec.get("key_numbers", [])],
                "date": e.run_date or "-",
                "status": e.status,
            }
        )
    hubs: dict[Path, None] = {}
    for e in chosen:
        page = e.page("hub")
        if page is not None and page.is_file():
            hubs.setdefault(page, None)
    questions: dict[str, list[Any]] = {"verified": [], "refuted": [], "open": []}
    for page in hubs:
        for line in textfile.read_text(page).splitlines():
            if line.lstrip().startswith("|"):
                continue
            m = ANSWERED_RE.search(line)
            if not m:
                continue
            qid, question, mark, rest = m.groups()
            kind = "verified" if mark == VERIFIED else "refuted" if mark == REFUTED else "open"
            questions[kind].append(
                {"id": qid, "question": question, "answer": f"{mark} {rest}".strip(), "hub": link(page)}
            )
    return {
        "topic": topic,
        "since": since,
        "experiments": experiments,
        "matrices": _matrices(chosen),
        "questions": questions,
    }


def _matrices(experiments: list[Experiment]) -> list[dict[str, Any]]:
    """Per primary metric and conditions other than noise (data, N_train, pixels, test set): the
    best value of each method (model family) at each noise level. Cells of different conditions
    are never in one matrix."""
    cells: dict[tuple[str, str], dict[tuple[str, float], float]] = {}
    for e in experiments:
        rec = e.record or {}
        metric = rec.get("primary")
        for trial in shown_trials(rec):
            value = (trial.get("metrics") or {}).get(metric)
            if metric is None or value is None:
                continue
            method = str(trial.get("model"))
            if method == CEILING_MODEL:
                method += " (ceiling)"
            elif trial.get("name") in (rec.get("references") or []):
                method += " (reference)"
            conditions = trial.get("conditions") or {}
            noise = float(conditions.get("noise") or trial.get("noise") or 0.0)
            where = conditions_text(conditions, noise=False) if conditions else "conditions not recorded"
            key = (method, noise)
            table = cells.setdefault((metric, where), {})
            if key not in table or badness(metric, value) < badness(metric, table[key]):
                table[key] = value
    out = []
    for (metric, where), table in sorted(cells.items()):
        noises = sorted({n for _, n in table})
        methods = sorted(
            {m for m, _ in table},
            key=lambda m: (m.endswith(")"), min(badness(metric, v) for (mm, _), v in table.items() if mm == m)),
        )
        rows = [
            {"method": m, "cells": [fmt_metric(metric, table[(m, n)]) if (m, n) in table else "-" for n in noises]}
            for m in methods
        ]
        out.append({"metric": metric, "conditions": where, "noises": [f"{n:g}" for n in noises], "rows": rows})
    return out


def digest(root: Path, topic: str, *, since: str | None = None, out: Path | None = None) -> str:
    content = build(root, topic, since=since, base=out.parent if out else None)
    return render("digest.md.j2", root, **content)
