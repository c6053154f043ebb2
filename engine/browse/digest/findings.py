"""The digest's findings: per experiment one sentence, its key numbers and its design implication,
grouped by theme.

A theme is an MVP phase of the topic (`MVP-3.1` and `MVP-3.2` are phase `MVP-3`: the user numbers
an MVP by the phase of the roadmap it belongs to), named with the hub's parent questions its
experiments answer (`Q5: 门控怎么训练…`), so a reader sees what each group of experiments was
about. The sentence is the verdict and the deciding rule's words, as the report's summary says
them; the key numbers are the record's; the implication is the report's (`engine.pages.implication`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.notebook.report import Report
from engine.pages.implication import implication
from engine.text.marks import status_text, verdict_mark

from .questions import Hub

_PHASE = re.compile(r"^(MVP-[^.\s]+)")


def entry(report: Report, w: Mapping[str, str], link: Callable[[Path], str]) -> dict[str, Any]:
    """One experiment as the findings and the index show it."""
    rec = report.record or {}
    verdict = rec.get("verdict")
    if verdict:
        says = " ".join(str(rec.get("says") or "").split())
        sentence = f"{verdict_mark(verdict)} **{verdict}**" + (f" — {says}" if says else "")
    elif report.status == "failed":
        sentence = w["failed"]
    else:  # it ran, and has no decision rules: its numbers are its finding
        sentence = w["no_rules"].format(status=status_text(report.status))
    implied = implication(report)
    if implied is None:
        shown = w["implication_none"] if verdict else ""
    else:
        shown = w["implication_tentative" if implied.tentative else "implication"].format(text=implied.text)
    return {
        "id": report.id,
        "title": str(report.meta.get("title") or report.id),
        "link": link(report.path),
        "mvp": str(report.meta.get("mvp") or ""),
        "date": report.run_date or "-",
        "status": status_text(report.status),
        "verdict": f"{verdict_mark(verdict)} {verdict}" if verdict else "-",
        "sentence": sentence,
        "numbers": [(str(row[0]), str(row[1])) for row in rec.get("key_numbers") or [] if len(row) >= 2],
        "implication": shown,
        "answers": report.answers,
        "hub": report.page("hub"),
    }


def themes(entries: Sequence[dict[str, Any]], hubs: Mapping[Path, Hub], w: Mapping[str, str]) -> list[dict[str, Any]]:
    """The entries grouped by MVP phase (in the roadmap's order; those without an MVP last), each
    group named by its phase and the hub's parent questions of what its experiments answer."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in entries:
        found = _PHASE.match(item["mvp"])
        groups.setdefault(found.group(1) if found else "", []).append(item)
    out = []
    for phase in sorted(groups, key=_phase_order):
        parents: dict[str, None] = {}
        for item in groups[phase]:
            hub = hubs.get(item["hub"]) if item["hub"] is not None else None
            for qid in item["answers"]:
                parent = qid.rsplit(".", 1)[0]
                question = hub.questions.get(parent) if hub is not None else None
                parents.setdefault(f"{parent}: {question}" if question else qid, None)
        out.append({"title": " · ".join([phase or w["no_mvp"], *parents]), "experiments": groups[phase]})
    return out


def _phase_order(phase: str) -> tuple[int, list[Any]]:
    """`MVP-2` before `MVP-10`; a phase of letters after the numbered ones; none last."""
    if not phase:
        return 2, []
    parts = re.split(r"(\d+)", phase)
    return 0 if any(p.isdigit() for p in parts) else 1, [int(p) if p.isdigit() else p for p in parts]
