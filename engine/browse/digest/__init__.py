"""`research digest TOPIC`: where a topic stands, on one page, as the user writes it for a discussion.

Built from committed inputs only — the reports' front matter and run records, and the hub,
roadmap and kanban pages they link — and rendered by `templates/digest.md.j2` with its fixed
words in the notebook's language (`words`):

1. findings by theme (`findings`): per experiment a sentence, its key numbers, its design implication;
2. one performance matrix per noise level, the input and N_train as columns (`matrix`);
3. verified / refuted / inconclusive / open, per question, from each report's own answer (`questions`);
4. the hubs' open questions and decision gaps, with priority (`questions`);
5. planned experiments: the kanban's, and the roadmap's MVPs without a report (`plans`);
6. questions for discussion (`discussion`);

and an index of the experiments. Drafts are left out, as on every page. `--since` keeps the
experiments run on or after a date; what is planned and open is shown whatever its date.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.errors import ResearchError, did_you_mean
from engine.notebook import drafts
from engine.notebook.config import notebook_config
from engine.notebook.experiments import scan
from engine.notebook.paths import STATE_DIR
from engine.notebook.store import RunStore
from engine.render.templates import render
from engine.text import textfile

from . import discussion, findings, matrix, plans, questions
from .words import PRIORITY_MARKS, WORDS

#: The statuses the kanban shows as work to come.
PLANNED = ("planned", "running")


def build(root: Path, topic: str, *, since: str | None = None, base: Path | None = None) -> dict[str, Any]:
    """The digest's content; links are relative to `base` (the output file's folder)."""
    base = (base or root).resolve()
    language = notebook_config(root).language
    w = WORDS[language]

    def link(path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), base)).as_posix()

    found = scan(root)
    topics = sorted({str(e.meta["topic"]) for e in found if e.meta.get("topic") is not None})
    if topic not in topics:
        raise ResearchError(
            f"no report has `topic: {topic}`",
            path=root,
            hint=did_you_mean(topic, topics) or f"the topics are: {', '.join(topics) or 'none yet'}",
        )
    every = [e for e in found if not drafts.is_draft(e.status)]
    mine = sorted((e for e in every if str(e.meta.get("topic")) == topic), key=lambda e: (e.run_date or "", e.id))
    ran = [e for e in mine if (e.record or e.status == "failed") and (since is None or (e.run_date or "") >= since)]
    hubs = {}
    for e in mine:
        page = e.page("hub")
        if page is not None and page not in hubs and page.is_file():
            hubs[page] = questions.Hub(page, textfile.read_text(page))

    entries = [findings.entry(e, w, link) for e in ran]
    answered = questions.hypotheses(ran, hubs, w, link)
    still_open = questions.open_questions(hubs, every, w)
    planned = plans.planned(mine, every, hubs, still_open, w, link)
    dates = [e.run_date for e in ran if e.run_date]
    return {
        "w": w,
        "topic": topic,
        "since": since,
        "first": min(dates, default=None),
        "last": max(dates, default=None),
        "ran": len(ran),
        "planned_count": len(planned),
        "hubs": [f"[{page.name}]({link(page)})" for page in hubs],
        "themes": findings.themes(entries, hubs, w),
        "matrices": matrix.matrices(ran, RunStore(root / STATE_DIR / "runs"), w, link),
        "hypotheses": answered,
        "open": [{**row, "priority": PRIORITY_MARKS[row["level"]]} for row in still_open],
        "planned": [{**row, "priority": PRIORITY_MARKS[row["level"]]} for row in planned],
        "discussion": discussion.questions(topic, ran, answered, still_open, w),
        "index": entries + [findings.entry(e, w, link) for e in mine if e not in ran and e.status in PLANNED],
    }


def digest(root: Path, topic: str, *, since: str | None = None, out: Path | None = None) -> str:
    """The digest's markdown: what `research digest` prints, or writes to `out`."""
    content = build(root, topic, since=since, base=out.parent if out else None)
    return render("digest.md.j2", root, **content)
