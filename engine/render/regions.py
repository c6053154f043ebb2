"""The report's region bodies, from `Tables`: summary, hypotheses, key numbers, results,
comparisons, binned tables, figures with their observations, and how to reproduce the run.

This is where numbers become the words and markdown of each region, through the templates; the
numbers themselves are settled before (`engine.render.statistics`) and the figures drawn by their
kinds (`engine.render.figure_kinds`), so each body here only arranges what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine import __version__
from engine.notebook import paths
from engine.render.binned import cell_texts, signed
from engine.render.decision import held_words, metric_value
from engine.render.figure_kinds import draw_figures
from engine.render.figure_scene import dig
from engine.render.phrasebook import regions
from engine.render.run_record import numbers_code
from engine.render.statistics import Tables, binned_observations, key_number_trials, seed_std
from engine.render.templates import fmt_metric, render, table_cell
from engine.text.marks import question_mark, verdict_mark


def render_bodies(plan, spec, tables: Tables, present: Mapping[str, Any]) -> tuple[dict[str, str], dict[Path, bytes]]:
    """Every region body but the run record (region name → body), and each figure's bytes by
    its path. `present`: the regions the report has, which decide whether the binned tables go
    into one region or one each."""
    root = plan.root
    say = regions(spec.language)
    bodies: dict[str, str] = {}
    shown = _headline(spec, tables)
    if tables.verdict is not None:
        bodies["summary"] = render(
            "regions/summary.md.j2",
            root,
            say=say,
            mark=verdict_mark(tables.verdict.verdict),
            verdict=tables.verdict,
            held=held_words(tables.verdict, say),
            **shown,
        )
    if spec.answers:  # a report that answers no hub question: its hypotheses region is the user's own text
        bodies["hypotheses"] = render(
            "regions/hypotheses.md.j2", root, say=say, rows=_hypothesis_rows(plan, spec, tables)
        )
    bodies["key-numbers"] = render(
        "regions/key-numbers.md.j2",
        root,
        say=say,
        rows=[
            (label, value, tables.evidence.behind(sorted(key_number_trials(spec, i, tables)), say))
            for i, (label, value) in enumerate(tables.numbers)
        ],
    )
    bodies["results"] = _results_body(plan, spec, tables, shown)
    bodies["comparisons"] = _comparisons_body(plan, spec, tables)
    bodies.update(_binned_bodies(plan, spec, tables, present))
    figure_bodies, images = _figure_bodies(plan, spec, tables)
    bodies.update(figure_bodies)
    bodies["reproduce"] = _reproduce_body(plan, spec)
    return bodies, images


def _headline(spec, tables: Tables) -> dict[str, Any]:
    """The best trial, the baseline and where the best stands, as the summary and the results
    table say them."""
    primary = spec.primary_metric
    best_value = metric_value(tables.results.get(tables.best, {}), primary) if tables.best else None
    base_value = metric_value(tables.results.get(tables.baseline, {}), primary) if tables.baseline else None
    place = tables.standing
    return {
        "best": tables.best,
        "primary": primary,
        "best_value": fmt_metric(primary, best_value),
        "baseline": tables.baseline,
        "baseline_value": fmt_metric(primary, base_value),
        "beats_baseline": place.beats_baseline,
        "references_beating": [(n, fmt_metric(primary, v)) for n, v in place.references_beating],
        "ceilings_beaten": [(n, fmt_metric(primary, v)) for n, v in place.ceilings_beaten],
    }


def _hypothesis_rows(plan, spec, tables: Tables) -> list[dict[str, str]]:
    """Each hub question the report answers, with the verdict's mark and answer for it."""
    from engine.text import textfile
    from engine.text.questions import hypothesis_questions

    questions = {}
    if spec.hub:
        hub = plan.report.path.parent / spec.hub
        if hub.is_file():
            questions = hypothesis_questions(textfile.read_text(hub))
    verdict = tables.verdict
    mark = verdict_mark(verdict.verdict if verdict else None)
    rows = []
    for qid in spec.answers:
        question = questions.get(qid)
        rows.append(
            {
                "question": f"{qid}: {question}" if question else qid,
                "mark": question_mark(verdict.question(qid), verdict.verdict) if verdict else mark,
                "answer": verdict.answer(qid) if verdict else "-",
            }
        )
    return rows


def _results_body(plan, spec, tables: Tables, shown: Mapping[str, Any]) -> str:
    """The results table: a row per trial (twins on one row, a repeated trial as mean ± std over
    its seeds), what each model chose and warned of, and the notes on training noise."""
    from engine.render.notes import model_notes
    from engine.render.quantities import words
    from engine.render.repeats import info_text, spread_text

    say = regions(spec.language)
    place = tables.standing
    rows, notes, warnings, seeded = [], [], [], []
    columns = spec.result_columns
    infos: dict[str, list[str]] = {m: [] for m in spec.info_columns}  # info column → keys of a mapping found there
    twins = plan.twins  # trials with the same key: one row, both names
    repeats_of = {later for names in twins.values() for later in names}
    for name, runs in plan.groups.items():
        if name in repeats_of:
            continue
        metrics_of = tables.results.get(name)
        spread = tables.spreads.get(name)
        if metrics_of is None:
            values = [say.failed() if any(t.error for t in runs) else "-" for _ in columns]
        else:
            values = []
            for m in columns:
                if m in infos:
                    path = m.removeprefix("info.")
                    found = [dig((t.record.info if t.record is not None else None) or {}, path) for t in runs]
                    values.append(info_text(found) or "–")
                    for v in found:  # a per-target value (info.alpha): the note names the keys
                        if isinstance(v, Mapping):
                            infos[m] += [str(k) for k in v if str(k) not in infos[m]]
                elif spread and metric_value(spread, m):
                    values.append(
                        spread_text(fmt_metric(m, metric_value(metrics_of, m)), fmt_metric(m, seed_std(spread, m)))
                    )
                else:
                    values.append(fmt_metric(m, metric_value(metrics_of, m)))
            if spread:
                seeded.append((table_cell(name), ", ".join(str(t.config["train"]["seed"]) for t in runs)))
        rows.append(
            {
                "name": f"{name} (= {', '.join(twins[name])})" if name in twins else name,
                "best": name == place.honest_best,
                "baseline": name == spec.decision.baseline,
                "reference": name in spec.decision.references,
                "cells": values,
                "seeds": tables.evidence.cell(name),
            }
        )
        first = runs[0]
        if first.record is not None and metrics_of is not None:  # what the model chose: the first seed's, said once
            said, warned = model_notes(str((first.config.get("model") or {}).get("type")), first.record.info or {}, say)
            label = say.seed_of(name, first.config["train"]["seed"], len(runs)) if spread else name
            notes += [(label, say.clauses(said))] if said else []
            warnings += [(label, w) for w in warned]
    warnings += [(m, say.one_value_per_key(m, keys)) for m, keys in infos.items() if keys]
    return render(
        "regions/results.md.j2",
        plan.root,
        say=say,
        metrics=[words(m, say) for m in columns],
        rows=rows,
        n_test=tables.n_test,
        test_sets=[(name, "-" if n is None else str(n), primary) for name, n, primary in _test_set_sizes(plan, spec)],
        seeded=seeded,
        **_noise_notes(plan, tables),
        notes=notes,
        warnings=warnings,
        **{k: v for k, v in shown.items() if k not in ("references_beating", "ceilings_beaten")},
    )


def _noise_notes(plan, tables: Tables) -> dict[str, Any]:
    """Under the results table: the trials whose training noise nobody measured (one seed of a
    seeded model), and those that have none (closed forms), each with why."""
    evidence = tables.evidence
    shown = [n for n in plan.groups if n in tables.results]
    one = [n for n in shown if evidence.stochastic.get(n) and evidence.seeds.get(n, 1) < 2]
    exempt: dict[str, list[str]] = {}
    for name in shown:
        if not evidence.stochastic.get(name):
            exempt.setdefault(evidence.why.get(name, ""), []).append(name)
    return {
        "one_seed": [table_cell(n) for n in one],
        "exempt": [(why, [table_cell(n) for n in names]) for why, names in exempt.items()],
    }


def _test_set_sizes(plan, spec) -> list[tuple[str, int | None, bool]]:
    """(name, spectra, primary?) of each named test set, as the trials that ran recorded them."""
    sizes: dict[str, int] = {}
    for trial in plan.trials:
        split = ((trial.record.info or {}).get("split") or {}) if trial.record is not None else {}
        for name, count in (split.get("tests") or {}).items():
            sizes.setdefault(name, count)
    return [(name, sizes.get(name), name == spec.primary_test) for name in spec.test_sets]


def _comparisons_body(plan, spec, tables: Tables) -> str:
    return render(
        "regions/comparisons.md.j2",
        plan.root,
        say=regions(spec.language),
        resamples=spec.bootstrap.n,
        declared=bool(spec.comparisons),
        rows=[
            {
                **row,
                "delta": signed(fmt_metric(row["metric"], row["value"])),
                "lo": signed(fmt_metric(row["metric"], row["lo"])),
                "hi": signed(fmt_metric(row["metric"], row["hi"])),
                "p": f"{row['p_positive']:.3f}",
            }
            for row in tables.comparisons
        ],
    )


def _binned_bodies(plan, spec, tables: Tables, present: Mapping[str, Any]) -> dict[str, str]:
    """Each binned table's observations, the tables in one region (`binned`, when the report has
    it or no `binned-i`) and each in its own (`binned-i`)."""
    from engine.render.observations import heading
    from engine.render.observations import render as observation_list

    root = plan.root
    bodies: dict[str, str] = {}
    shown_tables = []
    for i, (table, said) in enumerate(zip(tables.binned, binned_observations(spec, tables))):
        shown_tables.append({**shown_binned(table), "observations": said})
        bodies[f"observations-binned-{i}"] = observation_list(said)
    common = {"observations_heading": heading(spec.language), "say": regions(spec.language)}
    each = [render("regions/binned.md.j2", root, tables=[t], **common) for t in shown_tables]
    if "binned" in present or not any(f"binned-{i}" in present for i in range(len(each))):
        bodies["binned"] = render("regions/binned.md.j2", root, tables=shown_tables, **common)
    for i, body in enumerate(each):
        bodies[f"binned-{i}"] = body
    return bodies


def shown_binned(table: Mapping[str, Any]) -> dict[str, Any]:
    """A binned table with its numbers formatted for the template."""
    fmt = lambda v: fmt_metric(table["metric"], v)  # noqa: E731
    rows = cell_texts(table, fmt)
    return {
        **table,
        "rows": rows,
        "named": any(table["names"]),
        "small": [row["small"] for row in rows],
        "spread": [fmt(table["spread_values"][name]) for name in table["trials"]],
    }


def _figure_bodies(plan, spec, tables: Tables) -> tuple[dict[str, str], dict[Path, bytes]]:
    """The figures region, each figure's own region (`figure-i`) and its observations', and
    each image's bytes by its path."""
    from engine.render.observations import heading
    from engine.render.observations import render as observation_list

    entries, images = draw_figures(plan, spec, tables)
    bodies = {
        "figures": render(
            "regions/figures.md.j2",
            plan.root,
            figures=entries,
            observations_heading=heading(spec.language),
            say=regions(spec.language),
        )
    }
    for i, entry in enumerate(entries, start=1):
        bodies[f"figure-{i}"] = f"![{entry['alt']}]({entry['link']})\n"
        bodies[f"observations-figure-{i}"] = observation_list(entry.get("observations") or [])
    return bodies, images


def _reproduce_body(plan, spec) -> str:
    """How to run the report again: its path, the --set and --sweep it ran with, the code commit
    and the data the numbers came from, and the reports it builds on."""
    root, report_path = plan.root, plan.report.path
    short, dirty = numbers_code(plan)
    rel = (
        Path(report_path).resolve().relative_to(root.resolve()).as_posix()
        if paths.inside(root, report_path)
        else str(report_path)
    )
    data_parts = sorted({t.parts.data for t in plan.trials})
    prerequisites = [f"[{Path(p).name}]({Path(p).as_posix()})" for p in getattr(spec, "prerequisite", None) or []]
    return render(
        "regions/reproduce.md.j2",
        root,
        say=regions(spec.language),
        path=rel,
        sets=plan.sets,
        sweeps=plan.sweeps,
        commit=short,
        prerequisites=prerequisites,
        dirty=dirty,
        version=__version__,
        data=", ".join(data_parts),
    )
