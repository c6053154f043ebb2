"""From stored trial records to what the report shows: tables, figures, verdict, record, log row.

Pure: everything is recomputed from the run store and returned — region bodies, figure bytes,
the run record, the log row — and nothing is written here (the end of a run writes it all, or
nothing: `engine.runner`). So a fully cached `research run` and a fresh one give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import __version__
from engine.errors import ExpressionError
from engine.notebook import paths, record
from engine.notebook.store import digest, engine_code_hash
from engine.render.binned import binned_table, cell_texts, row_cells, series_for, signed
from engine.render.decision import (
    CEILING_MODEL,
    Verdict,
    build_context,
    ceiling_trial,
    compare_names,
    decide,
    held_words,
    key_numbers,
    metric_value,
    no_value,
    standing,
)
from engine.render.predictions import columns, has_metric, metric_fn, stacked
from engine.render.templates import fmt_metric, fmt_number, packaged_templates, render
from engine.spec.expressions import NoValue
from engine.spec.vocabulary import metric_parts
from engine.text.marks import question_mark, verdict_mark

REPORTING_KEYS = (
    "metrics",
    "binned",
    "comparisons",
    "figures",
    "decision",
    "key_numbers",
    "bootstrap",
    "answers",
    "hub",
    "language",
    "repeats",
    "seeds",
)


@dataclass
class Tables:
    """What the report shows, computed once from the records and predictions."""

    results: dict[str, dict[str, Any]]
    best: str | None
    baseline: str | None
    context: dict[str, Any]
    verdict: Any
    numbers: list[tuple[str, str]]
    binned: list[dict[str, Any]] = field(default_factory=list)
    n_test: int = 0
    standing: Any = None  # decision.Standing: the best candidate against baseline, references, ceilings
    comparisons: list[dict[str, Any]] = field(default_factory=list)  # rows of the comparisons region
    ceilings: list[str] = field(default_factory=list)  # the fisher_ceiling trials
    observed: list[list[str]] | None = None  # each binned table's observations, once worked out
    spreads: dict[str, Any] = field(
        default_factory=dict
    )  # repeated trial → its seeds' spread (`engine.render.repeats.fold`)
    evidence: Any = None  # confidence.Evidence: each trial's seeds, and whether its numbers move with them
    run_ci: dict[str, Any] = field(default_factory=dict)  # each seed's own intervals (`equal.seed-43`)


@dataclass
class Rendered:
    """Everything the end of a run writes into the report and beside it."""

    bodies: dict[str, str]  # region name → body
    figures: dict[Path, bytes]  # image path → its bytes
    record: dict[str, Any]  # the run record (also the index's copy for reports without the region)
    tables: Tables
    values: dict[str, str] = field(default_factory=dict)  # live numbers in prose: expression → shown text


RENDER_CODE = ("render", "spec/expressions.py", "notebook/record.py", "text/marks.py")  # under engine/


def _render_code_hash() -> str:
    """The code that turns records into regions: a change to it re-renders, re-running nothing."""
    engine = Path(__file__).resolve().parents[1]
    files = [
        p
        for name in RENDER_CODE
        for p in (sorted((engine / name).rglob("*.py")) if (engine / name).is_dir() else [engine / name])
    ]
    return digest([(p.relative_to(engine).as_posix(), p.read_bytes().hex()) for p in files])


def _template_hash(root: Path) -> str:
    files = []
    for folder in (root / "templates", packaged_templates()):
        if folder.is_dir():
            files += [(p.relative_to(folder).as_posix(), p.read_bytes().hex()) for p in sorted(folder.rglob("*.j2"))]
    return digest(files)


def render_key(plan) -> str:
    """What the rendered regions depend on: trial keys, reporting spec, templates, render code."""
    spec = plan.report.spec
    raw = {key: spec._raw.get(key) for key in REPORTING_KEYS}
    return digest(
        [(t.name, t.key if t.record is not None else None, t.error) for t in plan.trials],
        raw,
        engine_code_hash(),
        __version__,
        _template_hash(plan.root),
        _render_code_hash(),
        plan.sets,
        *([plan.sweeps] if plan.sweeps else []),
    )


def render_report(plan, present: Mapping[str, Any], text: str | None = None) -> Rendered:
    """Compute the tables and render every region body and figure of the report, and the live
    numbers of its prose when `text` is given (nothing written)."""
    from engine.render import live

    spec = plan.report.spec
    tables = compute_tables(plan, spec)
    bodies, figures = render_bodies(plan, spec, tables, present)
    run_record = _record(plan, spec, tables)  # once: it hashes the render code and templates
    bodies[record.REGION] = record.render(run_record)
    failed = any(t.record is None for t in plan.trials)
    shown = live.values(spec, text, tables.context, str(plan.report.path), failed=failed) if text is not None else {}
    return Rendered(bodies, figures, record.rounded(run_record), tables, shown)


def append_row(body: str, row: str) -> str:
    """A log body with `row` added, unless its last row already is `row` (a finished end replayed)."""
    body = body.replace("\r\n", "\n")
    if body.rstrip("\n").endswith(row.rstrip("\n")):
        return body
    if body and not body.endswith("\n"):
        body += "\n"
    return body + row.rstrip("\n") + "\n"


def log_row(
    plan, failed, tables: Tables | None, status: str | None, code_state: Mapping[str, Any], note: str | None = None
) -> str:
    """The report's log row of this run: what ran, what was cached, what failed, the verdict, the commit."""
    ran = [t for t in plan.trials if t.runs]
    parts = []
    ok = [t.name for t in ran if t.record is not None]
    if ok:
        parts.append(f"ran {', '.join(ok)}")
    cached = [t.name for t in plan.trials if t.cached]
    if cached:
        parts.append(f"{len(cached)} cached")
    for t in failed:
        parts.append(f"{t.name} failed: {t.error}")
    if tables is not None and tables.verdict is not None:
        parts.append(f"verdict {tables.verdict.verdict}")
    if note:
        parts.append(note)
    recorded = [t.record.provenance.get("git") for t in ran if t.record is not None and t.record.provenance.get("git")]
    state = recorded[0] if recorded else code_state
    commit = _commit_text(state.get("short"), bool(state.get("dirty")))
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return render(
        "regions/log-row.md.j2", plan.root, date=now, event="; ".join(parts) or status or "run", commit=commit
    )


# ---------------------------------------------------------------------------------------------
# Numbers


def shown_trials(plan) -> dict[str, list[Any]]:
    """The trials the report shows → their runs with a result: a repeated trial's seeds (all of
    them, or it has no result yet), or the trial itself."""
    return {name: runs for name, runs in plan.groups.items() if all(t.record is not None for t in runs)}


def compute_tables(plan, spec) -> Tables:
    import numpy as np

    from engine import metrics
    from engine.render.repeats import fold

    done = shown_trials(plan)
    records = {name: [t.record for t in runs] for name, runs in done.items()}
    repeated = {name for name, runs in done.items() if runs[0].trial is not None and runs[0].trial.group}
    results, spreads = {}, {}
    for name, recs in records.items():
        if name in repeated:
            results[name], spreads[name] = fold([r.metrics for r in recs])
        else:
            results[name] = recs[0].metrics
    baseline = spec.decision.baseline if spec.decision.baseline in results else None
    preds = {name: [plan.store.predictions(r.key) for r in recs] for name, recs in records.items()}
    delta: dict[str, Any] = {}
    wanted = spec.interval_metrics

    def intervals(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The bootstrap interval of every wanted metric over `runs` (one run, or a trial's seeds)."""
        return _nested(
            (
                m,
                metrics.bootstrap_ci(
                    metric_fn(m), *stacked(runs, m), B=spec.bootstrap.n, seed=spec.bootstrap.seed
                ).as_dict(),
            )
            for m in wanted
            if has_metric(runs[0], m)
        )

    ci = {name: intervals(p) for name, p in preds.items()}
    # each seed of a repeated trial on its own: what a reproduction of that run is held to
    run_ci = {t.name: intervals([p]) for name in repeated for t, p in zip(done[name], preds[name])}
    pairs: dict[tuple[str, str, tuple[str, ...]], dict[str, Any]] = {}

    def compare(a: str, b: str, metrics_: Sequence[str] = wanted) -> dict[str, Any]:
        """a − b on the test rows both scored: paired bootstrap intervals, shaped like `delta`."""
        compare_names(a, b, preds)
        if not np.array_equal(preds[a][0]["index"], preds[b][0]["index"]):
            raise ExpressionError(f"compare(): '{a}' and '{b}' were scored on different test sets")
        key = (a, b, tuple(metrics_))
        if key not in pairs:
            rows = []
            for m in metrics_:
                if has_metric(preds[a][0], m) and has_metric(preds[b][0], m):
                    truth, pred = stacked(preds[a], m)
                    _, other = stacked(preds[b], m)
                    rows.append(
                        (
                            m,
                            metrics.paired_bootstrap_delta(
                                metric_fn(m), truth, pred, other, B=spec.bootstrap.n, seed=spec.bootstrap.seed
                            ).as_dict(),
                        )
                    )
            pairs[key] = _nested(rows)
        return pairs[key]

    if baseline is not None:
        for name, p in preds.items():
            if name != baseline and np.array_equal(p[0]["index"], preds[baseline][0]["index"]):
                delta[name] = compare(name, baseline)
    ceiling = ceiling_trial(plan.trials)
    context = build_context(
        results,
        primary=spec.primary_metric,
        baseline=baseline,
        references=spec.decision.references,
        ci=ci,
        delta=delta,
        info={name: recs[0].info or {} for name, recs in records.items()},
        compare=lambda a, b: compare(a, b),
        ceiling=ceiling if ceiling in results else None,
        spreads=spreads,
    )
    comparisons = []
    for pair in spec.comparisons:
        if pair.a not in preds or pair.b not in preds:
            continue
        chosen = pair.metrics or [spec.primary_metric]
        try:
            found = compare(pair.a, pair.b, tuple(chosen))
        except ExpressionError:
            continue
        for m in chosen:
            name, target = metric_parts(m)
            if target in found.get(name, {}):
                comparisons.append({"a": pair.a, "b": pair.b, "metric": m, **found[name][target]})
    binned_tables = [
        binned_table(b, preds, baseline=baseline, bootstrap=(spec.bootstrap.n, spec.bootstrap.seed), twins=plan.twins)
        for b in spec.binned
    ]
    context["binned"] = series_for(binned_tables, spec.binned)  # binned[i][trial][bin], binned['name'][bin][trial]
    failed = list(dict.fromkeys(t.shown_name for t in plan.trials if t.record is None and t.reason != "skipped"))
    evidence = training_evidence(plan, done)
    try:
        verdict = decide(spec, context)
    except ExpressionError:
        if not failed:
            raise  # a mistake in the rule itself
        verdict = Verdict("incomplete", f"cannot decide: {', '.join(failed)} failed", None, None)
    if verdict is not None and verdict.verdict != "incomplete" and not verdict.undecided and spec.decision.rules:
        verdict = _judged(
            spec,
            verdict,
            context,
            evidence,
            preds=preds,
            results=results,
            ci=ci,
            delta=delta,
            info={name: recs[0].info or {} for name, recs in records.items()},
            compare=compare,
            baseline=baseline,
            ceiling=ceiling if ceiling in results else None,
            spreads=spreads,
            binned=list(zip(spec.binned, binned_tables)),
        )
    numbers = []
    for index, row in enumerate(spec.key_numbers):
        try:
            label, value, metric = key_numbers(spec, context, only=index)[0]
            if row.format and isinstance(value, (int, float)) and not isinstance(value, bool):
                numbers.append((label, format(record.kept(value) if isinstance(value, float) else value, row.format)))
            else:
                numbers.append((label, fmt_metric(metric, value) if metric else fmt_number(value)))
        except NoValue as error:  # an empty bin: said in the table, the run goes on
            numbers.append((row.label, no_value(error)))
        except ExpressionError:
            if not failed:
                raise
            numbers.append((row.label, "-"))
    best = context["best"]["name"] if context.get("best") else None
    tables = Tables(
        results,
        best,
        baseline,
        context,
        verdict,
        numbers,
        n_test=max((len(p[0]["index"]) for p in preds.values()), default=0),
    )
    tables.evidence = evidence
    tables.spreads = spreads
    tables.run_ci = run_ci
    tables.binned = binned_tables
    tables.comparisons = comparisons
    tables.ceilings = ceilings = list(
        dict.fromkeys(t.shown_name for t in plan.trials if (t.config.get("model") or {}).get("type") == CEILING_MODEL)
    )
    tables.standing = standing(
        results, spec.primary_metric, baseline=baseline, references=spec.decision.references, ceilings=ceilings
    )
    return tables


def training_evidence(plan, done: Mapping[str, Sequence[Any]]):
    """Each shown trial's runs with a result and whether its numbers move with its seed
    (`engine.models.training_noise`; a stored model of this report's: as its source's)."""
    from engine.render.confidence import Evidence

    noise = {name: _training_noise(plan, runs[0]) for name, runs in plan.groups.items()}
    return Evidence(
        seeds={name: len(runs) for name, runs in done.items()},
        stochastic={name: n.stochastic for name, n in noise.items()},
        why={name: n.why for name, n in noise.items()},
    )


def _training_noise(plan, trial):
    from engine.models import training_noise

    model = trial.config.get("model") or {}
    if model.get("type") == "stored" and trial.sources:
        source = trial.sources[0]
        mine = next((t for t in plan.trials if source.report is None and t.name == source.trial), None)
        if mine is not None and mine is not trial:
            return _training_noise(plan, mine)
        if source.model_type:
            return training_noise({"type": source.model_type, **(source.model_config or {})})
    return training_noise(model)  # a plugin that cannot be imported here: taken to depend on its seed


def _judged(
    spec, point, context, evidence, *, preds, results, ci, delta, info, compare, baseline, ceiling, spreads, binned
) -> Verdict:
    """The point verdict held against the joint bootstrap of test rows and seeds (`engine.render.confidence`)."""
    from engine.render.confidence import Resampler, odds, point_margin, resampled_contexts, trials_read
    from engine.render.decision import judge

    best = context["best"]["name"] if context.get("best") else None

    def build(results_b, *, delta, compare):
        return build_context(
            results_b,
            primary=spec.primary_metric,
            baseline=baseline,
            references=spec.decision.references,
            ci=ci,
            delta=delta,
            info=info,
            compare=compare,
            ceiling=ceiling,
            spreads=spreads,
            best=best,
        )

    resampler = Resampler(preds, B=spec.bootstrap.n, seed=spec.bootstrap.seed)
    contexts = resampled_contexts(
        resampler, results=results, build=build, delta=delta, compare=compare, baseline=baseline, binned=binned
    )
    found = odds(spec, contexts, spec.bootstrap.n, point_rule=point.rule)
    margin, metric = point_margin(spec, point.rule, context)
    read = trials_read(spec, point.rule, best=best, baseline=baseline, ceiling=ceiling, trials=list(results))
    return judge(
        spec,
        point,
        found,
        context,
        evidence=evidence.words(read),
        unmeasured=evidence.unmeasured(read),
        margin=margin,
        margin_metric=metric or found.margin_metric,
    )


def _nested(pairs) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for dotted, value in pairs:
        metric, target = metric_parts(dotted)
        out.setdefault(metric, {})[target] = {k: float(v) for k, v in value.items()}
    return out


# ---------------------------------------------------------------------------------------------
# Region bodies


def render_bodies(plan, spec, tables: Tables, present: Mapping[str, Any]) -> tuple[dict[str, str], dict[Path, bytes]]:
    root = plan.root
    report_path = plan.report.path
    primary = spec.primary_metric
    bodies: dict[str, str] = {}
    best_value = metric_value(tables.results.get(tables.best, {}), primary) if tables.best else None
    base_value = metric_value(tables.results.get(tables.baseline, {}), primary) if tables.baseline else None
    place = tables.standing
    shown = {
        "best": tables.best,
        "primary": primary,
        "best_value": fmt_metric(primary, best_value),
        "baseline": tables.baseline,
        "baseline_value": fmt_metric(primary, base_value),
        "beats_baseline": place.beats_baseline,
        "references_beating": [(n, fmt_metric(primary, v)) for n, v in place.references_beating],
        "ceilings_beaten": [(n, fmt_metric(primary, v)) for n, v in place.ceilings_beaten],
    }
    if tables.verdict is not None:
        bodies["summary"] = render(
            "regions/summary.md.j2",
            root,
            mark=verdict_mark(tables.verdict.verdict),
            verdict=tables.verdict,
            held=held_words(tables.verdict),
            **shown,
        )
    bodies["hypotheses"] = render("regions/hypotheses.md.j2", root, rows=_hypothesis_rows(plan, spec, tables))
    bodies["key-numbers"] = render(
        "regions/key-numbers.md.j2",
        root,
        rows=[
            (label, value, tables.evidence.behind(sorted(_trials_read(spec, i, tables))))
            for i, (label, value) in enumerate(tables.numbers)
        ],
    )
    from engine.render.notes import model_notes
    from engine.render.repeats import spread_text

    rows, notes, warnings, seeded = [], [], [], []
    twins = plan.twins  # trials with the same key: one row, both names
    repeats_of = {later for names in twins.values() for later in names}
    for name, runs in plan.groups.items():
        if name in repeats_of:
            continue
        metrics_of = tables.results.get(name)
        spread = tables.spreads.get(name)
        if metrics_of is None:
            values = ["failed" if any(t.error for t in runs) else "-" for _ in spec.shown_metrics]
        elif spread:
            values = [
                spread_text(
                    fmt_metric(m, metric_value(metrics_of, m)),
                    fmt_metric(m, _seed_std(spread, m)),
                )
                if metric_value(spread, m)
                else fmt_metric(m, metric_value(metrics_of, m))
                for m in spec.shown_metrics
            ]
            seeded.append((name, [t.config["train"]["seed"] for t in runs]))
        else:
            values = [fmt_metric(m, metric_value(metrics_of, m)) for m in spec.shown_metrics]
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
            said, warned = model_notes(str((first.config.get("model") or {}).get("type")), first.record.info or {})
            label = f"{name} (seed {first.config['train']['seed']} of {len(runs)})" if spread else name
            notes += [(label, "; ".join(said))] if said else []
            warnings += [(label, w) for w in warned]
    bodies["results"] = render(
        "regions/results.md.j2",
        root,
        metrics=spec.shown_metrics,
        rows=rows,
        n_test=tables.n_test,
        test_sets=_test_set_sizes(plan, spec),
        seeded=seeded,
        **_noise_notes(plan, tables),
        notes=notes,
        warnings=warnings,
        **{k: v for k, v in shown.items() if k not in ("references_beating", "ceilings_beaten")},
    )
    bodies["comparisons"] = render(
        "regions/comparisons.md.j2",
        root,
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
    from engine.render.observations import heading
    from engine.render.observations import render as observation_list

    shown_tables = []
    for i, (table, said) in enumerate(zip(tables.binned, _binned_observations(spec, tables))):
        shown_tables.append({**_shown_binned(table), "observations": said})
        bodies[f"observations-binned-{i}"] = observation_list(said)
    said_heading = heading(spec.language)
    binned_bodies = [
        render("regions/binned.md.j2", root, tables=[t], observations_heading=said_heading) for t in shown_tables
    ]
    if "binned" in present or not any(f"binned-{i}" in present for i in range(len(binned_bodies))):
        bodies["binned"] = render("regions/binned.md.j2", root, tables=shown_tables, observations_heading=said_heading)
    for i, body in enumerate(binned_bodies):
        bodies[f"binned-{i}"] = body
    figure_entries, images = _draw_figures(plan, spec, tables)
    bodies["figures"] = render("regions/figures.md.j2", root, figures=figure_entries, observations_heading=said_heading)
    for i, entry in enumerate(figure_entries, start=1):
        bodies[f"figure-{i}"] = f"![{entry['alt']}]({entry['link']})\n"
        bodies[f"observations-figure-{i}"] = observation_list(entry.get("observations") or [])
    short, dirty = _numbers_code(plan)
    rel = (
        Path(report_path).resolve().relative_to(root.resolve()).as_posix()
        if paths.inside(root, report_path)
        else str(report_path)
    )
    data_parts = sorted({t.parts.data for t in plan.trials})
    prerequisites = [
        {"name": Path(p).name, "link": Path(p).as_posix()} for p in getattr(spec, "prerequisite", None) or []
    ]
    bodies["reproduce"] = render(
        "regions/reproduce.md.j2",
        root,
        path=rel,
        sets=plan.sets,
        sweeps=plan.sweeps,
        commit=short,
        prerequisites=prerequisites,
        dirty=dirty,
        version=__version__,
        data=", ".join(data_parts),
    )
    return bodies, images


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
    return {"one_seed": one, "exempt": list(exempt.items())}


def _test_set_sizes(plan, spec) -> list[tuple[str, int | None, bool]]:
    """(name, spectra, primary?) of each named test set, as the trials that ran recorded them."""
    sizes: dict[str, int] = {}
    for trial in plan.trials:
        split = ((trial.record.info or {}).get("split") or {}) if trial.record is not None else {}
        for name, count in (split.get("tests") or {}).items():
            sizes.setdefault(name, count)
    return [(name, sizes.get(name), name == spec.primary_test) for name in spec.test_sets]


def _shown_binned(table: Mapping[str, Any]) -> dict[str, Any]:
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


def _record(plan, spec, tables: Tables) -> dict[str, Any]:
    """What the hub, roadmap, kanban and `research status` need to know about this run."""
    from engine.render.confidence import standard_errors

    verdict = tables.verdict
    cis = tables.context.get("ci", {})
    trials = []
    for name, runs in plan.groups.items():
        metrics_of = tables.results.get(name)
        spread = tables.spreads.get(name)
        first = runs[0]
        if spread is not None:  # the repeated trial as the hub ranks it: the mean over its seeds
            assert metrics_of is not None  # `repeats.fold` gives a repeated trial its means and its spread
            trials.append(
                {
                    "se": standard_errors(cis.get(name, {}), spec.interval_metrics),
                    "name": name,
                    **_described(first),
                    "metrics": {m: metric_value(metrics_of, m) for m in spec.interval_metrics},
                    "std": {m: _seed_std(spread, m) for m in spec.interval_metrics},
                    "seeds": [t.config["train"]["seed"] for t in runs],
                    "stochastic": bool(tables.evidence.stochastic.get(name)),
                }
            )
        for trial in runs:
            own = trial.record.metrics if trial.record is not None else None
            repeated = trial.trial is not None and trial.trial.group is not None
            noisy = bool(tables.evidence.stochastic.get(name))
            trials.append(
                {
                    **({} if repeated else {"stochastic": noisy}),
                    **({"seeds": [trial.config["train"]["seed"]]} if noisy and not repeated else {}),
                    "se": standard_errors(
                        (tables.run_ci if repeated else cis).get(trial.name, {}), spec.interval_metrics
                    )
                    if own is not None
                    else None,
                    "name": trial.name,
                    **({"of": name} if repeated else {}),
                    "parts": trial.record.parts if trial.record is not None else None,
                    **_described(trial),
                    "metrics": {m: metric_value(own, m) for m in spec.interval_metrics} if own is not None else None,
                }
            )
    return {
        "id": spec.id,
        "verdict": verdict.verdict if verdict else None,
        "says": verdict.says if verdict else None,
        "answers": {qid: verdict.answer(qid) for qid in spec.answers} if verdict else {},
        "questions": {qid: verdict.question(qid) for qid in spec.answers} if verdict else {},
        **({"confidence": verdict.confidence()} if verdict and verdict.confidence() else {}),
        "primary": spec.primary_metric,
        "best": tables.best,
        "baseline": tables.baseline,
        "standing": tables.standing.as_dict(),
        "references": list(spec.decision.references),
        "trials": trials,
        "key_numbers": [
            [*row, sorted(_trials_read(spec, i, tables)), *([sets] if (sets := _test_sets_read(spec, i)) else [])]
            for i, row in enumerate(tables.numbers)
        ],
        "spec": record.spec_digest(plan.report.front.text, plan.sets, plan.sweeps),  # the spec the numbers came from
        "rendered": render_key(plan),  # what the regions were rendered from: a store that reproduces it changes nothing
        "code": engine_code_hash(),
        "commit": _numbers_commit(plan),
        "sets": list(plan.sets),
        **({"sweeps": list(plan.sweeps)} if plan.sweeps else {}),
        **({"prerequisite": list(spec.prerequisite)} if spec.prerequisite else {}),
    }


def _described(trial) -> dict[str, Any]:
    """A run's model, short config, conditions and noise, as the record's trial rows carry them."""
    split = (trial.record.info or {}).get("split") if trial.record is not None else None
    return {
        "model": str((trial.config.get("model") or {}).get("type", "?")),
        "config": record.trial_summary(trial.config),
        "conditions": record.trial_conditions(trial.config, split),
        "noise": (trial.config.get("noise") or {}).get("level"),
    }


def _trials_read(spec, index: int, tables: Tables) -> set[str]:
    """The trials a key number's expression reads (`decision.expression_trials`)."""
    from engine.render.decision import expression_trials

    expression = spec.expressions().get(f"key_numbers[{index}].value")
    if expression is None:
        return set()
    ceiling = tables.context.get("ceiling", {}) or {}
    return set(
        expression_trials(
            spec,
            expression,
            best=tables.best,
            baseline=tables.baseline,
            ceiling=ceiling.get("name"),
            trials=list(tables.results),
        )
    )


def _test_sets_read(spec, index: int) -> list[str]:
    """The named test sets other than the primary a key number reads (`r2.log_g@noisy`): the hub
    says the conditions of the set the number was measured on, not the primary's."""
    import re

    expression = spec.expressions().get(f"key_numbers[{index}].value")
    if expression is None:
        return []
    named = set(re.findall(r"@([A-Za-z_]\w*)", expression.source))
    return [name for name in spec.test_sets if name in named and name != spec.primary_test]


def _numbers_code(plan) -> tuple[str | None, bool]:
    """The code commit(s) the numbers came from, as recorded when the trials ran, and whether the
    tree was dirty then. Not today's HEAD: the run's own commit moves HEAD, and the report must not
    change because of it."""
    states = [t.record.provenance.get("git", {}) for t in plan.trials if t.record is not None]
    commits = sorted({s.get("short") for s in states if s.get("short")})
    return ", ".join(commits) or None, any(s.get("dirty") for s in states)


def _commit_text(short: str | None, dirty: bool) -> str | None:
    """A commit as the log and the record show it: `abc1234`, `abc1234+dirty`, or none."""
    return short + ("+dirty" if dirty else "") if short else None


def _numbers_commit(plan) -> str | None:
    return _commit_text(*_numbers_code(plan))


def _hypothesis_rows(plan, spec, tables: Tables) -> list[dict[str, str]]:
    from engine.text import textfile
    from engine.text.questions import hypothesis_questions

    questions = {}
    if spec.hub:
        hub = plan.report.path.parent / spec.hub
        if hub.is_file():
            questions = hypothesis_questions(textfile.read_text(hub))
    verdict = tables.verdict
    mark = verdict_mark(verdict.verdict if verdict else None)
    answer = verdict.says if verdict else "-"
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
    if not rows and tables.verdict is not None:
        rows.append({"question": spec.title, "mark": mark, "answer": answer})
    return rows


def _draw_figures(plan, spec, tables: Tables) -> tuple[list[dict[str, Any]], dict[Path, bytes]]:
    """The figures' entries for the figures region, and each image's bytes by its path (the
    path as linked: a link inside the notebook is written through by the writer)."""
    if not spec.figures:
        return [], {}
    folder = plan.report.path.parent
    entries: list[dict[str, Any]] = []
    images: dict[Path, bytes] = {}
    for fig in spec.figures:
        drawn = _figure(plan, spec, tables, fig, folder / fig.file)
        if drawn is None:
            why = (
                "none of the trials it shows recorded training curves; the nets do"
                if fig.kind == "curves"
                else "the trials it shows have no result"
            )
            entries.append(
                {"link": Path(fig.file).as_posix(), "alt": "no figure", "caption": f"(no {fig.kind} figure: {why})"}
            )
            continue
        image, caption, alt = drawn
        images[folder / fig.file] = image
        entries.append(
            {
                "link": Path(fig.file).as_posix(),
                "caption": fig.caption or caption,
                "alt": alt,
                "observations": _figure_observations(plan, spec, tables, fig),
            }
        )
    return entries, images


def _figure_observations(plan, spec, tables: Tables, fig) -> list[str]:
    """The key observations under a figure, from the numbers it draws (`engine.render.observations`):
    who leads and whether the intervals separate (bar), the bins (binned), which Δ intervals
    exclude 0 (bootstrap, ablation), the trend and the optimum (sweep), where each net's best
    epoch fell (curves). None for the kinds
    that show a distribution rather than a comparison (pred_vs_true, weights, heatmap)."""
    from engine.render import observations as obs

    said = _figure_said(plan, spec, tables, fig)
    caveat = (
        obs.one_seed(tables.evidence.unmeasured(_figure_trials(plan, tables, fig)), spec.language) if said else None
    )
    return [*said, caveat] if caveat else said


def _figure_trials(plan, tables: Tables, fig) -> list[str]:
    """The trials a figure draws."""
    having = [n for n in plan.groups if n in tables.results]
    if fig.kind == "pred_vs_true":
        trial = fig.trial or tables.best
        return [trial] if trial is not None and trial in tables.results else []
    shown = [n for n in (fig.trials or having) if n in tables.results]
    against = fig.against or tables.baseline
    return shown + (
        [against]
        if fig.kind in ("bootstrap", "ablation") and against in tables.results and against not in shown
        else []
    )


def _figure_said(plan, spec, tables: Tables, fig) -> list[str]:
    from engine.render import observations as obs

    lang = spec.language
    primary = fig.metric or spec.primary_metric
    having = [n for n in plan.groups if n in tables.results]
    shown = [n for n in (fig.trials or having) if n in tables.results]
    if fig.kind == "bar":
        intervals = {n: iv for n in shown if (iv := _interval_of(tables, n, primary)) is not None}
        deltas = {n: d for n in shown if (d := _delta_of(tables, n, primary)) is not None}
        ceilings = [n for n in tables.ceilings if n in spec.decision.references]
        return obs.observe_trials(
            {n: metric_value(tables.results[n], primary) for n in shown},
            intervals or None,
            metric=primary,
            best=tables.standing.honest_best,
            baseline=tables.baseline,
            references=[r for r in spec.decision.references if r not in ceilings],
            ceilings=ceilings,
            deltas=deltas or None,
            lang=lang,
        )
    if fig.kind in ("binned", "binned_delta"):  # the table's own observations, said under its figure too
        table = _table_of(spec, tables, fig.binned)
        return _binned_observations(spec, tables)[next(i for i, t in enumerate(tables.binned) if t is table)]
    if fig.kind in ("bootstrap", "ablation"):
        against = fig.against or tables.baseline
        if against not in tables.results:
            return []
        compare = tables.context["compare"]
        name, target = metric_parts(primary)
        found = {}
        for n in fig.trials or [n for n in having if n not in spec.decision.references]:
            if n != against and n in tables.results:
                try:
                    found[n] = compare(n, against)[name][target]
                except (ExpressionError, KeyError):
                    continue
        return obs.observe_deltas(found, metric=primary, reference=against, lang=lang) if found else []
    if fig.kind == "curves":
        lines, _ = _curve_lines(plan, shown, fig.series or "val_loss")
        return (
            obs.observe_curves(
                {
                    n: {"best": v["best"], "run": v["x"][-1], "stopped": v["stopped"], "monitored": v["monitored"]}
                    for n, v in lines.items()
                },
                lang=lang,
            )
            if lines
            else []
        )
    if fig.kind == "line":
        points = [
            (x, g, y, iv)
            for g, pts in _line_series(plan, tables, fig, shown, primary, named=False).items()
            for x, y, iv in pts
        ]
        return obs.observe_sweep(points, x_key=fig.x, group_key=fig.group, metric=primary, lang=lang) if points else []
    if fig.kind == "sweep":
        swept = [
            (
                x,
                None,
                metric_value(tables.results[name], spec.primary_metric),
                _interval_of(tables, name, spec.primary_metric),
            )
            for name, runs in plan.groups.items()
            if name in shown
            for x in [_dig(runs[0].config, fig.param)]
            if isinstance(x, (int, float)) and not isinstance(x, bool)
        ]
        return obs.observe_sweep(swept, x_key=fig.param, metric=spec.primary_metric, lang=lang) if swept else []
    return []


def _binned_observations(spec, tables: Tables) -> list[list[str]]:
    """Each binned table's observations, worked out once (a table's figure repeats them). They
    are of the table's own columns, all of them: a yardstick (reference) is never the trial they
    are about, but when it is best in a bin they say so, as the table shows it."""
    from engine.render.observations import observe_binned, one_seed

    if tables.observed is None:
        focus = tables.standing.honest_best or tables.best
        tables.observed = []
        for table in tables.binned:
            shown = list(table.get("trials", ()))
            said = (
                observe_binned(
                    table,
                    best=focus if focus in shown else None,
                    baseline=table.get("reference"),
                    references=spec.decision.references,
                    lang=spec.language,
                )
                if shown
                else []
            )
            caveat = (
                one_seed(tables.evidence.unmeasured(list(table.get("trials", ()))), spec.language) if said else None
            )
            tables.observed.append([*said, caveat] if caveat else said)
    return tables.observed


def _delta_of(tables: Tables, trial: str, metric: str) -> dict[str, float] | None:
    """The paired bootstrap interval of trial − baseline (what `compare` gives rules), if any."""
    if tables.baseline is None or trial == tables.baseline:
        return None
    name, target = metric_parts(metric)
    try:
        return (tables.context["compare"](trial, tables.baseline).get(name) or {}).get(target)
    except ExpressionError:
        return None


def _table_of(spec, tables: Tables, ref) -> dict[str, Any]:
    if isinstance(ref, int):
        return tables.binned[ref]
    return tables.binned[next(i for i, b in enumerate(spec.binned) if b.name == ref)]


def _roles(spec, tables: Tables):
    """Who the figures colour as best, baseline and references: the report's own standing (the
    best is crowned only when it beats the baseline, as the summary says)."""
    from engine.render.figures import Roles

    return Roles(
        best=tables.standing.honest_best,
        baseline=tables.baseline,
        references=tuple(spec.decision.references),
        primary=spec.primary_metric,
    )


def _top_delta(trial: str, deltas, labels: Sequence[str], metric: str) -> str | None:
    """`cand: largest gain in Hot Metal-poor`: the bin of a trial's best Δ by the metric's own
    direction (a lower MAE is a gain), or its smallest loss when it gains nowhere; for a metric
    with no better side (a bias), only where its Δ is largest."""
    from engine.render.quantities import direction

    found = [
        (float(d["value"]), i) for i, d in enumerate(deltas) if d and math.isfinite(float(d.get("value", math.nan)))
    ]
    if not found:
        return None
    way = direction(metric)
    if way not in ("higher", "lower"):
        return f"{trial}: largest Δ in {labels[-max((v, -i) for v, i in found)[1]]}"
    sign = 1 if way == "higher" else -1
    gain, i = max((sign * v, -i) for v, i in found)
    return f"{trial}: {'largest gain' if gain > 0 else 'smallest loss'} in {labels[-i]}"


def _standing_words(spec, tables: Tables) -> str:
    """A caption's word on who is best, from the report's standing (`decision.Standing`, as the
    summary and the results table read it): a best candidate that lost to the baseline is not
    called best, and a reference ahead of every candidate is named."""
    place = tables.standing
    if place is None or place.best is None:
        return ""
    primary = spec.primary_metric
    if place.beats_baseline is False:
        text = f"no candidate beats the baseline {place.baseline} by {primary}; the best candidate: {place.best}"
    else:
        text = f"best by {primary}: {place.best}"
    ahead = [name for name, _ in place.references_beating]
    if ahead:
        text += f"; the reference {', '.join(ahead)} {'is' if len(ahead) == 1 else 'are'} ahead of every candidate"
    return f" ({text})"


def _seed_std(spread: Mapping[str, Any], dotted: str) -> float | None:
    """A repeated trial's std over its seeds, or None. Read here, not through `metric_value`: a
    spread (`repeats.fold`) holds {mean, std, n, values} where the metrics hold a number."""
    name, target = metric_parts(dotted)
    return (spread.get(name, {}).get(target) or {}).get("std")


def _interval_of(tables: Tables, trial: str, metric: str) -> dict[str, float] | None:
    """The bootstrap interval the run computed for a trial's metric (`ci`), if it did."""
    name, target = metric_parts(metric)
    return ((tables.context.get("ci", {}).get(trial) or {}).get(name) or {}).get(target)


def _bin_intervals(
    plan, spec, table: Mapping[str, Any], trials: Sequence[str]
) -> dict[str, list[dict[str, float] | None]]:
    """Per trial, a 95 % bootstrap interval of each bin's value (seeded as the report's other
    intervals are): the table gives the values and the Δ intervals but not the values' own, and
    a bin mean without one claims more than 40 spectra can say. Small bins get none."""
    import numpy as np

    from engine import metrics as metric_lib
    from engine.render.predictions import target_column, view
    from engine.spec.vocabulary import split_test

    base, test = split_test(table["metric"])
    metric, target = base.split(".", 1)
    out: dict[str, list[dict[str, float] | None]] = {}
    if not table["edges"]:
        return out
    n_cells = len(table["labels"])
    for name in trials:
        views = [view(p, test) for p in _run_predictions(plan, name)]
        runs = [r for r in views if r is not None]
        if len(runs) < len(views) or not all(f"param.{by}" in runs[0] for by in table["axes"]):
            continue  # a seed not scored on the table's test set, or no parameter it bins by
        p = runs[0]
        if metric == "extra":
            if f"extra.{target}" not in p or np.asarray(p[f"extra.{target}"]).ndim != 1:
                continue
            truth = np.asarray(p[f"extra.{target}"], dtype=float)
            pred = np.stack([np.asarray(r[f"extra.{target}"], dtype=float) for r in runs]) if len(runs) > 1 else truth
            fn = lambda _y, v: float(np.mean(v))  # noqa: E731  (the bin's value is the extra's mean)
        else:
            if target_column(p, target) is None:
                continue
            truth, pred = stacked(_run_predictions(plan, name), table["metric"])  # (k, n) over a trial's seeds
            fn = metric_fn(metric)
        cells = row_cells(p, table["axes"], table["edges"])
        intervals: list[dict[str, float] | None] = []
        for c in range(n_cells):
            sel = cells == c
            if table["small"][c] or sel.sum() < 2:
                intervals.append(None)
                continue
            found = metric_lib.bootstrap_ci(
                fn, truth[sel], pred[..., sel], B=spec.bootstrap.n, seed=spec.bootstrap.seed
            )
            intervals.append({"lo": found.lo, "hi": found.hi})
        out[name] = intervals
    return out


def _figure(plan, spec, tables: Tables, fig, target: Path):
    """(image bytes, caption, alt text) of one figure, or None when what it shows did not run."""
    import numpy as np

    from engine import metrics as metric_lib
    from engine.render import figures
    from engine.render.quantities import number

    having = [n for n in plan.groups if n in tables.results]
    shown = [n for n in (fig.trials or having) if n in tables.results]
    primary = fig.metric or spec.primary_metric
    roles = _roles(spec, tables)
    style = {"axis_labels": fig.labels, "fmt": fig.image_format}
    if fig.kind == "bar":
        chosen = fig.metrics or spec.metrics
        values = {n: {m: metric_value(tables.results[n], m) for m in chosen} for n in shown}
        if not values:
            return None
        intervals = {n: {m: iv for m in chosen if (iv := _interval_of(tables, n, m))} for n in shown}
        image = figures.bar(
            target,
            values,
            chosen,
            best=roles.best,
            baseline=tables.baseline,
            references=roles.references,
            intervals=intervals,
            primary=spec.primary_metric,
            **style,
        )

        def fact(n: str, m: str) -> str:
            iv = intervals[n].get(m)
            span = f" [{fmt_metric(m, iv['lo'], unit=False)}, {fmt_metric(m, iv['hi'], unit=False)}]" if iv else ""
            return f"{n} {fmt_metric(m, values[n][m])}{span}"

        facts = "; ".join(f"{m}: " + ", ".join(fact(n, m) for n in values) for m in chosen)
        said = " with 95 % bootstrap intervals" if any(intervals.values()) else ""
        return (
            image,
            f"{', '.join(chosen)} per trial{_standing_words(spec, tables)}{said}. {facts}.",
            f"{', '.join(chosen)} per trial",
        )
    if fig.kind in ("binned", "binned_delta"):
        table = _table_of(spec, tables, fig.binned)
        labels = [n or w for n, w in zip(table["names"], table.get("words") or table["labels"])]
        counts = ", ".join(str(k) for k in table["n"])
        if fig.kind == "binned_delta":
            deltas = {
                n: table["delta_values"][n] for n in (fig.trials or table["delta_trials"]) if n in table["delta_values"]
            }
            if not deltas:
                return None
            image = figures.delta_bars(
                target,
                labels,
                deltas,
                ylabel=table["metric"],
                reference=table["reference"],
                n=table["n"],
                small=table["small"],
                min_n=table["min_n"],
                roles=roles,
                **style,
            )
            best_bins = ", ".join(top for n, v in deltas.items() if (top := _top_delta(n, v, labels, table["metric"])))
            return (
                image,
                (
                    f"Δ {table['metric']} per {table['by']} bin: each trial − {table['reference']}, with its paired "
                    f"bootstrap 95 % interval. {best_bins + '. ' if best_bins else ''}Spectra per bin: {counts}."
                ),
                f"Δ {table['metric']} by {table['by']}",
            )
        series = {n: table["values"][n] for n in (fig.trials or table["trials"]) if n in table["values"]}
        if not series:
            return None
        bin_intervals = _bin_intervals(plan, spec, table, list(series))
        common = {
            "small": table["small"],
            "intervals": bin_intervals,
            "n": table["n"],
            "min_n": table["min_n"],
            "roles": roles,
        }
        if fig.style == "bars" or len(table["axes"]) > 1:
            # cells of two parameters without `style: bars`: dots, as a line through unordered cells would mislead
            image = figures.binned_bars(
                target, labels, series, ylabel=table["metric"], dots=fig.style != "bars", **common, **style
            )
        else:
            image = figures.binned_lines(
                target, table["centers"], series, xlabel=table["by"], ylabel=table["metric"], **common, **style
            )
        spreads = ", ".join(f"{n} {fmt_metric(table['metric'], table['spread_values'][n])}" for n in series)
        drawn = [any(np.isfinite(float(v[i])) for v in series.values()) for i in range(len(labels))]
        few = sum(1 for s_, d in zip(table["small"], drawn) if s_ and d)
        hollow = f"; {few} with fewer than {table['min_n']} spectra drawn hollow" if few else ""
        blank = [labels[i] for i, d in enumerate(drawn) if not d]
        hollow += f"; no value in {table['by']} {', '.join(blank)}" if blank else ""
        bars = "Error bars: 95 % bootstrap intervals. " if any(iv for v in bin_intervals.values() for iv in v) else ""
        return (
            image,
            f"{table['metric']} in bins of {table['by']}; spread (std of bin means): {spreads}. "
            f"{bars}Spectra per bin: {counts}{hollow}.",
            f"{table['metric']} by {table['by']}",
        )
    if fig.kind == "pred_vs_true":
        name = fig.trial or tables.best
        if name not in tables.results:
            return None
        p = _predictions(plan, name)
        target_name = metric_parts(primary)[1]
        truth, pred = columns(p, f"r2.{target_name}")
        first = plan.groups[name][0]  # a repeated trial: the scatter and its R² are of its first seed
        r2 = metric_value(first.record.metrics, f"r2.{target_name}")
        who = f"{name}, seed {first.config['train']['seed']}" if name in tables.spreads else name
        image = figures.pred_vs_true(
            target,
            truth,
            pred,
            target=target_name,
            title=f"{who}: $R^2$ = {fmt_metric('r2.' + target_name, r2)}, n = {len(truth)}",
            **style,
        )
        return (
            image,
            f"Predicted vs true {target_name} for {who} (R² = {fmt_metric('r2.' + target_name, r2)}, n = {len(truth)}).",
            f"predicted vs true {target_name}",
        )
    if fig.kind == "weights":
        weights = {n: p["extra.gate_weights"] for n in shown if "extra.gate_weights" in (p := _predictions(plan, n))}
        if not weights:
            return None
        image = figures.weight_distribution(target, weights, **style)
        means = "; ".join(
            f"{n}: mean weight of the top expert {np.mean(np.max(w, axis=1)):.2f}" for n, w in weights.items()
        )
        return (
            image,
            f"Distribution of the gate's weight on each expert, per trial. {means}.",
            "gate weights per expert",
        )
    if fig.kind in ("bootstrap", "ablation"):
        against = fig.against or tables.baseline
        if against not in tables.results:
            return None
        candidates = fig.trials or [n for n in having if n not in spec.decision.references]
        chosen = [n for n in candidates if n != against and n in tables.results]
        compare = tables.context["compare"]
        name_, tgt = metric_parts(primary)
        found = {}
        for n in chosen:
            try:
                found[n] = compare(n, against)[name_][tgt]
            except (ExpressionError, KeyError):
                continue
        if not found:
            return None
        if fig.kind == "ablation":
            image = figures.ablation(target, found, ylabel=primary, reference=against, **style)
            facts = ", ".join(
                f"{n} {signed(fmt_metric(primary, d['value']))} [{signed(fmt_metric(primary, d['lo']))}, "
                f"{signed(fmt_metric(primary, d['hi']))}]"
                for n, d in found.items()
            )
            return (
                image,
                f"Δ {primary} of each trial from {against}, with its paired bootstrap 95 % interval: {facts}.",
                f"Δ {primary} vs {against}",
            )
        base = _run_predictions(plan, against)
        samples = {}
        for n in found:
            truth, pred = stacked(_run_predictions(plan, n), primary)
            _, other = stacked(base, primary)
            samples[n] = metric_lib.paired_bootstrap_samples(
                metric_fn(primary), truth, pred, other, B=spec.bootstrap.n, seed=spec.bootstrap.seed
            )
        image = figures.bootstrap_distribution(
            target, samples, found, xlabel=primary, reference=against, roles=roles, **style
        )
        facts = ", ".join(f"{n}: P(Δ > 0) = {d['p_positive']:.3f}" for n, d in found.items())
        return (
            image,
            f"Paired bootstrap distribution of Δ {primary} (trial − {against}, {spec.bootstrap.n} resamples; "
            f"the bar above each: its 95 % interval). {facts}.",
            f"bootstrap distribution of Δ {primary}",
        )
    if fig.kind == "heatmap":
        key, by = f"extra.{fig.extra}", f"param.{fig.by}"
        x_of, y_of = {}, {}
        for n in shown:
            p = _predictions(plan, n)
            if key in p and by in p and np.asarray(p[key]).ndim == 1:
                x_of[n], y_of[n] = p[by], p[key]
        if not x_of:
            return None
        image = figures.heatmap(target, x_of, y_of, xlabel=fig.by, ylabel=key, **style)
        return (
            image,
            f"{fig.extra} against {fig.by} per spectrum of the test set, per trial (colour: spectra per cell, "
            f"log scale; line: the median per {fig.by} bin).",
            f"{fig.extra} vs {fig.by}",
        )
    if fig.kind == "curves":
        logged = fig.series or "val_loss"
        lines, left = _curve_lines(plan, shown, logged)
        if not lines:
            return None
        image = figures.curves(target, lines, ylabel="loss" if logged == "val_loss" else logged, roles=roles, **style)
        keys = ["dot: the best epoch"] + (["×: stopped early"] if any(v["stopped"] for v in lines.values()) else [])
        keys += ["dashed: the training loss"] if logged == "val_loss" else []
        facts = "; ".join(
            f"{n}: best epoch {v['best']} of {v['x'][-1]}"
            + (f", stopped early at epoch {v['x'][-1]}" if v["stopped"] else "")
            for n, v in lines.items()
        )
        gone = f" Left out, with no {_curve_words(logged)} per epoch: {', '.join(left)}." if left else ""
        words = _curve_words(logged)
        return (
            image,
            f"{words[0].upper() + words[1:]} per epoch, one line per trial ({'; '.join(keys)}). {facts}.{gone}",
            f"{logged} per epoch",
        )
    if fig.kind == "line":
        series = _line_series(plan, tables, fig, shown, primary)
        if not series:
            return None
        image = figures.lines(target, series, xlabel=fig.x, ylabel=primary, group=fig.group, **style)
        facts = "; ".join(
            f"{fig.group} = {g}: "
            + ", ".join(f"{number(fig.x, x)} {fmt_metric(primary, y)}" for x, y, _ in sorted(pts))
            for g, pts in series.items()
        )
        return (
            image,
            f"{primary} against {fig.x}, one line per {fig.group} (error bars: 95 % bootstrap intervals): {facts}.",
            f"{primary} vs {fig.x} by {fig.group}",
        )
    # sweep
    xs, ys, labels, ivs = [], [], [], []
    for name, runs in plan.groups.items():
        if name in shown:
            xs.append(_dig(runs[0].config, fig.param))
            ys.append(metric_value(tables.results[name], spec.primary_metric))
            labels.append(name)
            ivs.append(_interval_of(tables, name, spec.primary_metric))
    numeric = [
        (x, y, label, iv)
        for x, y, label, iv in zip(xs, ys, labels, ivs)
        if isinstance(x, (int, float)) and not isinstance(x, bool)
    ]
    if not numeric:
        return None
    image = figures.sweep(
        target,
        [n[0] for n in numeric],
        [n[1] for n in numeric],
        [n[2] for n in numeric],
        xlabel=fig.param,
        ylabel=spec.primary_metric,
        intervals=[n[3] for n in numeric],
        roles=roles,
        **style,
    )
    return (
        image,
        f"{spec.primary_metric} against {fig.param}: "
        + ", ".join(f"{label} ({x:g}) {fmt_metric(spec.primary_metric, y)}" for x, y, label, _ in numeric)
        + ".",
        f"{spec.primary_metric} vs {fig.param}",
    )


_CURVE_WORDS = {"val_loss": "validation loss", "train_loss": "training loss", "lr": "learning rate"}


def _curve_words(series: str) -> str:
    """A curve's name in a sentence: 'validation loss', 'validation R² of log_g'."""
    if series.startswith("val_r2."):
        return f"validation R² of {series.split('.', 1)[1]}"
    return _CURVE_WORDS.get(series, series)


def _curve_lines(plan, shown, series: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """({trial: what `figures.curves` draws}, the shown trials left out): the trials whose model
    recorded `series` per epoch (`info.curves`, the nets'); a ridge, or a net without a
    validation split in a validation figure, has none and is left out."""
    lines, left = {}, []
    for t in plan.trials:  # a repeated trial: a line per seed (`net.seed-43`)
        if t.shown_name not in shown or t.record is None:
            continue
        info = t.record.info or {}
        curves = info.get("curves") or {}
        if series.startswith("val_r2."):
            ys = (curves.get("val_r2") or {}).get(series.split(".", 1)[1])
        else:
            ys = curves.get(series)
        xs = curves.get("epoch")
        if not ys or not xs or len(xs) != len(ys):
            left.append(t.name)
            continue
        lines[t.name] = {
            "x": list(xs),
            "y": list(ys),
            "best": info.get("best_epoch"),
            "stopped": bool(info.get("stopped_early")),
            "train": curves.get("train_loss") if series == "val_loss" else None,
            "monitored": "val" if curves.get("val_loss") else "train",
        }
    return lines, left


def _line_series(
    plan, tables: Tables, fig, shown, metric: str, named: bool = True
) -> dict[Any, list[tuple[float, float, Any]]]:
    """{value of `group` (as the trial names show it, or as it is): [(x, metric, interval)]} for a
    line figure; trials whose x is not a number are left out."""
    from engine.spec.sweep import value_name

    series: dict[str, list[tuple[float, float, Any]]] = {}
    for name, runs in plan.groups.items():
        if name not in shown:
            continue
        x, g = _dig(runs[0].config, fig.x), _dig(runs[0].config, fig.group)
        if isinstance(
            g, (list, dict)
        ):  # a swept list (`model.hidden: [[32], [64, 32]]`): a line per value, by its name
            g = value_name(g, 0)
        value = metric_value(tables.results[name], metric)
        if isinstance(x, (int, float)) and not isinstance(x, bool) and value is not None:
            series.setdefault(g, []).append((x, value, _interval_of(tables, name, metric)))
    if all(isinstance(g, (int, float)) and not isinstance(g, bool) for g in series):
        series = dict(sorted(series.items()))  # the legend in the swept order: α = 10, 1e3, 1e5
    return {(value_name(g, 0) if named else g): pts for g, pts in series.items()}


def _predictions(plan, name: str) -> dict[str, Any]:
    """A trial's prediction arrays: of its first seed when it is repeated (a scatter or a
    distribution shows one run; the numbers beside it are the seeds' mean)."""
    return _run_predictions(plan, name)[0]


def _run_predictions(plan, name: str) -> list[dict[str, Any]]:
    """The prediction arrays of each of a trial's runs (its seeds, or itself)."""
    return [plan.store.predictions(t.record.key) for t in plan.groups[name] if t.record is not None]


def _dig(config: Mapping[str, Any], dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


__all__ = [
    "Rendered",
    "Tables",
    "append_row",
    "compute_tables",
    "log_row",
    "render_bodies",
    "render_key",
    "render_report",
]
