"""Hub, roadmap and kanban pages rebuilt from the experiments' reports and run records.

One function per page turns (page text, the experiments) into the new page text; `sync` writes
the pages that changed, atomically and under their locks, re-reading each right before. Every
input is committed text (the reports' front matter and record regions), so the same reports
give the same page bytes on any clone, and a second sync changes nothing.

What a page gets:
  hub      the tree line and branch-answers row of every answered question (latest run wins),
           the row's "so what" cell the report's design implication when it states one;
           regions `authoritative`, `leaderboard`, `key-numbers`, `experiments`, and rows
           appended to `changelog` when an experiment's verdict is new or changed
  roadmap  the status and conclusion cells of the experiment's MVP row, the status of its gate
  kanban   region `board`: every experiment linked to it, by status

A draft (`status: draft`, see `engine.notebook.drafts`) is on no page: not in any of them, and its own
links are not followed. The owned regions' headers and words are in the page's own language
(its `<!-- research-language: … -->` line, which `research new` writes), else the notebook's
(`research.yaml`, `engine.notebook.config`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.notebook import drafts
from engine.notebook.config import DEFAULT_LANGUAGE, notebook_config, page_language
from engine.notebook.experiments import linked_to, scan
from engine.notebook.record import conditions_text, shown_trials, test_condition
from engine.notebook.report import Report
from engine.pages import hub as hub_lines
from engine.pages.implication import implication
from engine.render.decision import CEILING_MODEL, badness
from engine.render.repeats import seeds_of
from engine.render.templates import fmt_metric, render, table_cell
from engine.spec.vocabulary import split_test
from engine.text import document, tables, textfile
from engine.text.marks import STATUS_MARKS, STATUS_ORDER, question_mark, question_verdict, status_text, verdict_mark
from engine.text.questions import ROW_ID_RE


def link(page: Path, target: Path, text: str) -> str:
    rel = Path(os.path.relpath(target.resolve(), page.resolve().parent)).as_posix()
    return f"[{text}]({rel})"


def answered(experiment: Report) -> bool:
    return experiment.status == "done" and experiment.verdict is not None


def by_last_run(experiments: Iterable[Report]) -> list[Report]:
    return sorted(experiments, key=lambda e: (e.last_run or "", e.id))


# ---------------------------------------------------------------------------------------------
# Hub


def hub_text(
    text: str,
    page: Path,
    experiments: Sequence[Report],
    root: Path,
    *,
    force: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    mine = linked_to(experiments, "hub", page)
    for experiment in mine:  # an unknown id stops everything before anything is written
        hub_lines.check_ids(text, experiment.answers, path=f"{page} (answers of {experiment.path})")
    for experiment in by_last_run(e for e in mine if answered(e)):  # the latest answer wins
        rec = experiment.record
        assert rec is not None  # answered: it has a record with a verdict
        implied = implication(experiment)
        for qid in experiment.answers:
            text = hub_lines.answer_question(
                text,
                str(qid),
                mark=question_mark((rec.get("questions") or {}).get(str(qid)), rec["verdict"]),
                answer=(rec.get("answers") or {}).get(str(qid)) or rec.get("says") or rec["verdict"],
                mvp=experiment.meta.get("mvp"),
                evidence=link(page, experiment.path, experiment.id),
                path=str(page),
            )
            settled = (rec.get("questions") or {}).get(str(qid)) or question_verdict(rec["verdict"])
            if implied is not None and not implied.tentative and settled in ("verified", "refuted"):
                text = _so_what(text, str(qid), implied.text, path=str(page))
    present = document.regions(text, str(page))
    bodies = {
        "authoritative": render(
            "regions/hub-authoritative.md.j2", root, lines=_authoritative(page, mine), language=language
        ),
        "leaderboard": render(
            "regions/hub-leaderboard.md.j2", root, groups=_leaderboard(page, mine), language=language
        ),
        "key-numbers": render("regions/hub-key-numbers.md.j2", root, rows=_key_numbers(page, mine), language=language),
        "experiments": render("regions/hub-experiments.md.j2", root, rows=_index(page, mine), language=language),
    }
    if "changelog" in present:
        bodies["changelog"] = _changelog(present["changelog"].body, mine, root, language)
    return document.replace_regions(
        text, {k: v for k, v in bodies.items() if k in present}, path=str(page), force=force
    )


@dataclass(frozen=True)
class Row:
    """One scored trial of one experiment, as the hub compares it."""

    experiment: Report
    trial: dict
    metric: str
    value: float
    reference: bool  # a yardstick of its report (decision.references)

    @property
    def ceiling(self) -> bool:
        """A ceiling is a ceiling model (a Fisher bound), not any reference."""
        return self.trial.get("model") == CEILING_MODEL

    @property
    def test(self) -> str:
        """The test set the metric was measured on (`r2.log_g@noisy`: that set's, not the primary's)."""
        return test_condition(
            self.trial.get("conditions") or _old_conditions(self.trial), test=split_test(self.metric)[1]
        )


def _old_conditions(trial: dict) -> dict:
    """Conditions from the short config of a record written before they were recorded."""
    parts = dict(p.split("=", 1) for p in str(trial.get("config", "")).split("; ")[1:] if "=" in p)
    return {"n_train": parts.get("n_train"), "noise": parts.get("noise"), "test_noise": parts.get("noise")}


def _rows(page: Path, experiments: Sequence[Report]):
    """Every scored trial of every experiment with a record."""
    for experiment in experiments:
        rec = experiment.record or {}
        for trial in shown_trials(rec):
            value = (trial.get("metrics") or {}).get(rec.get("primary"))
            if value is not None:
                yield Row(experiment, trial, rec["primary"], value, trial.get("name") in (rec.get("references") or []))


def _groups(rows):
    """Rows of one metric on one test set: the only numbers that rank together."""
    out: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        out.setdefault((row.metric, row.test), []).append(row)
    return dict(sorted(out.items()))


def _leaderboard(page: Path, experiments: Sequence[Report]) -> list[dict]:
    """One table per metric and test set: the best trial of each model family there."""
    groups = []
    for (metric, test), rows in _groups(_rows(page, experiments)).items():
        best: dict[str, Row] = {}
        for row in rows:
            family = str(row.trial.get("model"))
            if family not in best or badness(metric, row.value) < badness(metric, best[family].value):
                best[family] = row
        ranked = sorted(best.values(), key=lambda r: (r.ceiling, badness(metric, r.value), r.experiment.id))
        groups.append(
            {
                "metric": metric,
                "test": test,
                "rows": [
                    {
                        "model": r.trial.get("model"),
                        "ceiling": r.ceiling,
                        "reference": r.reference and not r.ceiling,
                        "value": _with_seeds(fmt_metric(metric, r.value), r.trial),
                        "config": r.trial.get("config", ""),
                        "n_train": (r.trial.get("conditions") or _old_conditions(r.trial)).get("n_train") or "-",
                        "link": link(page, r.experiment.path, r.experiment.id),
                        "trial": r.trial.get("name"),
                    }
                    for r in ranked
                ],
            }
        )
    return groups


def _with_seeds(value: str, trial: dict) -> str:
    """`0.2254 dex (5 seeds)`, `0.9352 (1 seed ⚠)`: a number with what stands behind it."""
    seeds = seeds_of([trial])
    return f"{value} ({seeds})" if seeds else value


def _authoritative(page: Path, experiments: Sequence[Report]) -> list[dict]:
    """Per metric and test set: the best model, the ceiling and the gap between them."""
    lines = []
    for (metric, _test), rows in _groups(_rows(page, experiments)).items():
        models = [r for r in rows if not r.ceiling and not r.reference]
        ceilings = [r for r in rows if r.ceiling]
        if not models:
            continue
        top = min(models, key=lambda r: (badness(metric, r.value), r.experiment.id))
        line = {
            "metric": metric,
            "best_value": _with_seeds(fmt_metric(metric, top.value), top.trial),
            "best_model": _model_and_trial(top.trial),
            "best_link": link(page, top.experiment.path, top.experiment.id),
            "condition": conditions_text(
                top.trial.get("conditions") or _old_conditions(top.trial), test=split_test(metric)[1]
            ),
            "ceiling_value": None,
        }
        if ceilings:
            cap = min(ceilings, key=lambda r: (badness(metric, r.value), r.experiment.id))
            line.update(
                ceiling_value=fmt_metric(metric, cap.value),
                ceiling_model=cap.trial.get("model"),
                gap=fmt_metric(metric, abs(cap.value - top.value)),
            )
        lines.append(line)
    return lines


def _model_and_trial(trial: dict) -> str:
    model, name = str(trial.get("model")), str(trial.get("name"))
    return model if name == model else f"{model} · {name}"


def _key_numbers(page: Path, experiments: Sequence[Report]) -> list[dict]:
    """Every experiment's key numbers, each under the conditions of the trials it reads."""
    rows = []
    for experiment in experiments:
        rec = experiment.record or {}
        trials = {t.get("name"): t for t in rec.get("trials", [])}
        best = trials.get(rec.get("best"), {})
        where = link(page, experiment.path, experiment.id)
        for entry in rec.get("key_numbers", []):
            label, value = entry[0], entry[1]
            read = entry[2] if len(entry) > 2 and entry[2] else [rec.get("best")]
            sets = entry[3] if len(entry) > 3 else []  # named test sets it was read on (its label may say "noisy")
            rows.append(
                {
                    "label": label,
                    "value": value,
                    "link": where,
                    "condition": _conditions_of([trials.get(n, {}) for n in read], sets),
                }
            )
        place = rec.get("standing") or {}
        if place.get("beats_baseline") is False:  # a "best" that lost must not pass for a result
            metric = rec.get("primary")
            rows.append(
                {
                    "label": f"⚠ no candidate beats the baseline ({metric})",
                    "value": f"{place['best']} {fmt_metric(metric, place['best_value'])} vs baseline "
                    f"{place['baseline']} {fmt_metric(metric, place['baseline_value'])}",
                    "condition": _conditions_of([best, trials.get(place.get("baseline"), {})]),
                    "link": where,
                }
            )
    return rows


def _conditions_of(trials: Sequence[dict], sets: Sequence[str] = ()) -> str:
    """The conditions shared by the trials a number comes from (each trial's when they differ),
    on the named test set it was read on when that is not the primary (`sets`: each, for a
    number read on several), and the seeds behind it."""
    texts = [
        "; ".join(f"{name}: {conditions_text(t.get('conditions') or _old_conditions(t), test=name)}" for name in sets)
        if len(sets) > 1
        else conditions_text(t.get("conditions") or _old_conditions(t), test=sets[0] if sets else None)
        for t in trials
        if t
    ]
    unique = list(dict.fromkeys(texts))
    seeds = seeds_of([t for t in trials if t])
    if len(unique) <= 1:
        text = unique[0] if unique else "-"
    else:
        text = "; ".join(f"{t.get('name')}: {text}" for t, text in zip([t for t in trials if t], texts))
    return f"{text} · {seeds}" if seeds and text != "-" else text


def _index(page: Path, experiments: Sequence[Report]) -> list[dict]:
    rows = []
    for experiment in experiments:
        rec = experiment.record or {}
        verdict = f"{verdict_mark(rec.get('verdict'))} {rec['verdict']}" if rec.get("verdict") else "-"
        rows.append(
            {
                "id": experiment.id,
                "date": experiment.run_date or "-",
                "status": status_text(experiment.status),
                "verdict": verdict,
                "link": link(page, experiment.path, experiment.path.name),
                "builds_on": [
                    link(page, Path(os.path.normpath(experiment.path.parent / p)), Path(p).name)
                    for p in rec.get("prerequisite") or []
                ],
            }
        )
    return rows


def _changelog(body: str, experiments: Sequence[Report], root: Path, language: str = DEFAULT_LANGUAGE) -> str:
    """The user's rows as they are, plus one row per experiment whose verdict is new or changed."""
    lines = body.replace("\r\n", "\n").splitlines()
    added: list[str] = []
    for experiment in by_last_run(e for e in experiments if answered(e)):
        rec = experiment.record
        assert rec is not None  # answered: it has a record with a verdict
        mark, verdict = verdict_mark(rec["verdict"]), rec["verdict"]
        mine = [line for line in lines + added if f"{experiment.id}：" in line or f"{experiment.id}:" in line]
        says = rec.get("says") or ""
        if mine and f"{mark} {verdict} " in mine[-1] and table_cell(says) in mine[-1]:
            continue  # the same verdict and the same answer: nothing new to log
        answers = experiment.answers
        added.append(
            render(
                "regions/hub-changelog-row.md.j2",
                root,
                date=experiment.run_date,
                id=experiment.id,
                mark=mark,
                verdict=verdict,
                says=says,
                where=", ".join(map(str, answers)) or "-",
                language=language,
            ).rstrip("\n")
        )
    if not added:
        return body
    return "\n".join(lines + added) + "\n"


#: The branch-answers column a report's design implication goes to: the user's "决策含义（So what）".
SO_WHAT_COLUMN = ("so what", "决策含义", "implication")


def _so_what(text: str, qid: str, implied: str, *, path: str) -> str:
    """The hub with a report's design implication (`engine.pages.implication`) in the "so what"
    cell of question `qid`'s branch-answers row — the row `hub.answer_question` gives the answer.
    The user's cell there says what an answer would imply before the run; a question the report
    settled (verified or refuted) gets what the report concluded instead. Only for a report that
    states an implication, so a hub whose reports state none is written as it always was."""
    lines = document.split_lines(text)
    for table in tables.tables(text, skip=tables.region_spans(text, path)):
        column = tables.column(table.header, *SO_WHAT_COLUMN)
        if column is None or tables.column(table.header, "答案", "answer") is None:
            continue
        for row in table.rows:
            cells = tables.cells(lines[row])
            first = ROW_ID_RE.match(cells[0]) if cells else None
            if first is not None and first.group(1) == qid:
                lines[row] = tables.set_cells(lines[row], {column: implied})
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# Roadmap and kanban


def roadmap_text(text: str, page: Path, experiments: Sequence[Report]) -> str:
    mine = linked_to(experiments, "roadmap", page)
    lines = document.split_lines(text)
    owned = tables.region_spans(text, str(page))
    for experiment in by_last_run(e for e in mine if e.status in ("running", "done")):
        rec = experiment.record or {}
        if experiment.status == "running":
            mark, conclusion = STATUS_MARKS["running"], None
        elif rec.get("verdict") is None:
            continue
        else:
            mark, conclusion = verdict_mark(rec["verdict"]), rec.get("says") or rec["verdict"]
        for key, first_header in (("mvp", "mvp"), ("gate", "gate")):
            wanted = experiment.meta.get(key)
            if not wanted:
                continue
            for table in tables.tables(text, skip=owned):
                if not table.header or first_header not in table.header[0].lower():
                    continue
                status_col = tables.column(table.header, "状态", "status")
                result_col = tables.column(table.header, "结论", "conclusion", "result", "verdict")
                for row in table.rows:
                    cells = tables.cells(lines[row])
                    if not cells or _plain(cells[0]) != str(wanted):
                        continue
                    new = {}
                    if status_col is not None:
                        new[status_col] = mark if key == "mvp" or conclusion is None else f"{mark} {rec['verdict']}"
                    if result_col is not None and conclusion is not None:
                        new[result_col] = conclusion
                    lines[row] = tables.set_cells(lines[row], new)
    return "".join(lines)


def _plain(cell: str) -> str:
    return cell.strip().strip("*").strip()


def kanban_text(
    text: str,
    page: Path,
    experiments: Sequence[Report],
    root: Path,
    *,
    force: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    present = document.regions(text, str(page))
    if "board" not in present:
        return text
    mine = sorted(linked_to(experiments, "kanban", page), key=lambda e: (STATUS_ORDER.get(e.status, 9), e.id))
    rows = []
    for experiment in mine:
        rec = experiment.record or {}
        verdict = (
            f"{verdict_mark(rec.get('verdict'))} {rec.get('says') or rec['verdict']}"
            if rec.get("verdict") and experiment.status == "done"
            else "-"
        )
        rows.append(
            {
                "status": status_text(experiment.status),
                "title_link": link(
                    page, experiment.path, str(experiment.meta.get("title") or experiment.id).replace("|", "\\|")
                ),
                "mvp": experiment.meta.get("mvp") or "-",
                "verdict": verdict,
                "file": experiment.path.name,
            }
        )
    return document.replace_regions(
        text,
        {"board": render("regions/kanban-board.md.j2", root, rows=rows, language=language)},
        path=str(page),
        force=force,
    )


# ---------------------------------------------------------------------------------------------
# Writing


def pages_of(experiments: Sequence[Report]) -> dict[Path, str]:
    """Every page the experiments link to, with its kind (hub, roadmap, kanban)."""
    found: dict[Path, str] = {}
    for experiment in experiments:
        for key, page in experiment.pages.items():
            if page.is_file():
                found.setdefault(page, key)
    return dict(sorted(found.items()))


def new_text(
    kind: str,
    text: str,
    page: Path,
    experiments: Sequence[Report],
    root: Path,
    *,
    force: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The page's text brought up to date with the experiments (a pure text → text function)."""
    if kind == "hub":
        return hub_text(text, page, experiments, root, force=force, language=language)
    if kind == "roadmap":
        return roadmap_text(text, page, experiments)
    return kanban_text(text, page, experiments, root, force=force, language=language)


def page_edits(
    root: Path, *, only: Iterable[Path] | None = None, texts: Mapping[Path, str] | None = None, force: bool = False
) -> dict[Path, Callable[[str], str]]:
    """The pages that would change (all, or those linked from the reports in `only`) and, for
    each, its edit: a text → text function, to be applied to the page's latest text when it is
    written. `texts` are reports about to be written, read from there instead of the disk.

    Every page's new text is computed here, so a bad id or a hand-edited region in one page
    raises before any page is written."""
    experiments = [e for e in scan(root, texts=texts) if not drafts.is_draft(e.status)]
    if only is not None:
        wanted = {os.path.normpath(Path(p).resolve()) for p in only}
        pages = pages_of([e for e in experiments if os.path.normpath(e.path.resolve()) in wanted])
    else:
        pages = pages_of(experiments)
    edits: dict[Path, Callable[[str], str]] = {}
    language = notebook_config(root).language if pages else DEFAULT_LANGUAGE
    for page, kind in pages.items():

        def edit(text: str, kind: str = kind, page: Path = page) -> str:
            return new_text(kind, text, page, experiments, root, force=force, language=page_language(text) or language)

        current = textfile.read_text(page)
        if edit(current) != current:
            edits[page] = edit
    return edits


def sync(root: Path, *, only: Iterable[Path] | None = None, dry_run: bool = False) -> list[Path]:
    """Rebuild the pages (all, or those linked from the reports in `only`); the pages written
    (or, with `dry_run`, that would be)."""
    edits = page_edits(root, only=only)
    if dry_run:
        return list(edits)
    return [page for page, edit in edits.items() if textfile.update(page, edit)]
