"""One validation, before anything runs or changes: `spec`, `check`, `run --dry-run` and `run`.

A mistake found after training started is a bug, so everything a run will meet is looked at
first, against the plan (the resolved trials, which of them run, which will have results):

    models        every trial's model type and parameters, against the model's own config
                  (no torch, no lightgbm imported); a plugin factory must be a function or
                  class taking (params, train, targets) — and, before a run, must build a model
    expressions   every `when`, `says`/`answers` placeholder and key number is evaluated over
                  a context shaped like the results (`decision.shape_context`): each trial,
                  metric, interval field and bin it reads must exist
    paths         the report, hub, roadmap, kanban and figures resolve (symlinks followed)
                  inside the notebook; the pages exist
    pages         the hub has every id of `answers:`; no region the run rewrites (the report's,
                  the pages') was edited by hand
    data          files open with the datasets, labels, shapes and dtypes a trial reads, the
                  selections leave n_train + n_val + n_test spectra, and (before a run) every
                  row a trial reads is finite
    sources       a model that reads a stored trial (`from`, a probe's `of`, `experts_from`, a
                  latent input's `of`):
                  the trial exists, will be stored before it is read (or is), kept its model,
                  is of a kind that fits and predicts the same targets; another report's trial
                  is recorded there, with today's key, and stored here (`engine.run.sources`)
    prerequisite  every report this one builds on exists, is done and is not stale

Every problem is a `ResearchError` located at the report's file and line — of the trial's
override when one set the value, else of the base key — naming the trial when the spec has
several. `problems` lists them all (for `research check`); `validate` raises the first, the
others with it.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import (
    DataError,
    DocumentError,
    ExpressionError,
    RegionEditedError,
    ResearchError,
    SpecError,
)
from engine.notebook import paths
from engine.notebook.report import PAGE_KEYS
from engine.run.plan import Reason
from engine.text import document, textfile


def validate(
    plan,
    *,
    data: bool = True,
    scan: bool = True,
    build: bool = True,
    force: bool = False,
    all_trials: bool = True,
    pages: bool = True,
    say=None,
) -> None:
    """Raise the first problem of `plan` (carrying the others, `also`), or return. `say` hears
    of the one slow check, the first scan of a file set's values."""
    found = problems(plan, data=data, scan=scan, build=build, force=force, all_trials=all_trials, pages=pages, say=say)
    if found:
        first = found[0]
        first.also = found[1:]  # printed with it, one a line: `check` may look at less than a run does
        raise first


def problems(
    plan,
    *,
    data: bool = True,
    scan: bool = False,
    build: bool = False,
    force: bool = False,
    all_trials: bool = True,
    pages: bool = True,
    say=None,
) -> list[ResearchError]:
    """Every problem found, in the order a reader fixes them: paths, pages, models, expressions, data.

    `all_trials`: check the model and data of every trial, not only of those that will run
    (a cached trial's config passed when it ran, under the same code). `pages=False`: the run
    writes no page (a draft, `--no-propagate`), so a hand edit in one does not stop it."""
    found: list[ResearchError] = []
    found += _paths(plan)
    found += _pages(plan, force=force, written=pages)
    found += _regions(plan)
    chosen = [t for t in plan.trials if all_trials or t.runs]
    found += _models(plan, chosen, build=build)
    found += _sources(plan, chosen, build=build)
    found += _prerequisites(plan)
    found += _expressions(plan)
    if data:
        found += _data(plan, chosen, scan=scan, say=say)
    return _unique(found)


# ---------------------------------------------------------------------------------------------
# Locating a problem at the line that caused it


def locate(plan, trial, error: ResearchError, *, several: bool | None = None) -> ResearchError:
    """Point `error` (raised with a dotted key such as `model.alpah`) at the report's line: the
    override of `trial` that set the key, else the base spec's key; name the trial."""
    spec = plan.report.spec
    key = error.key or ""
    # the key's own words say whether the key or its value is wrong: `unknown parameter` is the key's
    origin = (
        spec.override_at(trial.trial, key, value=not error.message.startswith("unknown"))
        if trial is not None and trial.trial is not None and key
        else None
    )
    if isinstance(origin, str):  # a --set option
        error.key = f"{origin} ({key})" if origin != f"--set {key}" else origin
        line = None
    elif origin is not None:  # named as the file says it: trials.cand.model.alpha, sweep.model.alpha[1]
        from engine.spec import dotted

        error.key = dotted(origin)
        line = spec.line_of(tuple(origin))
    else:
        line = spec.line_of(key) if key else None
    error.path = str(plan.report.path)
    error.line = line
    several = (len(plan.trials) > 1 and origin is not None) if several is None else several
    if trial is not None and several and "(trial" not in error.message:
        error.message = f"{error.message} (trial '{trial.name}')"
    return error


def _unique(found: Iterable[ResearchError]) -> list[ResearchError]:
    """One problem per place and message: a base key wrong in every trial is said once."""
    seen, out = set(), []
    for error in found:
        message = error.message.split(" (trial '")[0]
        mark = (error.path, error.line, error.key, message)
        if mark in seen:
            continue
        seen.add(mark)
        out.append(error)
    return out


# ---------------------------------------------------------------------------------------------
# Paths


def _paths(plan) -> list[ResearchError]:
    report = plan.report
    spec = report.spec
    root = plan.root
    found: list[ResearchError] = []
    if not paths.inside(root, report.path):
        found.append(
            DocumentError(
                f"resolves to {Path(report.path).resolve()}, outside the notebook {root}",
                path=report.path,
                hint="a report that is a link is written through to its target, which must lie inside the notebook",
            )
        )
    folder = report.path.parent
    for key in PAGE_KEYS:
        target = getattr(spec, key)
        if not target:
            continue
        page = folder / target
        if not paths.inside(root, page):
            found.append(
                DocumentError(
                    f"'{target}' resolves outside the notebook ({os.path.normpath(page.resolve())})",
                    path=report.path,
                    line=spec.line_of(key),
                    key=key,
                    hint="a run writes its pages, so they must lie inside the notebook (the folder with .git or .research)",
                )
            )
        elif not page.is_file():
            found.append(
                DocumentError(
                    f"the {key} page '{target}' does not exist",
                    path=report.path,
                    line=spec.line_of(key),
                    key=key,
                    hint=f"paths are relative to the report's folder; create it with `research new {key}` or fix the link",
                )
            )
    for i, figure in enumerate(spec.figures):
        target = folder / figure.file
        if not paths.inside(root, target):
            found.append(
                DocumentError(
                    f"figure file '{figure.file}' resolves outside the notebook",
                    path=report.path,
                    line=spec.line_of(f"figures[{i}].file"),
                    key=f"figures[{i}].file",
                    hint="give a path inside the notebook, e.g. img/x.png",
                )
            )
    return found


# ---------------------------------------------------------------------------------------------
# Pages: question ids, hand edits


def page_paths(report) -> dict[str, Path]:
    """The hub, roadmap and kanban the report links to, as normalised paths."""
    out = {}
    for key in PAGE_KEYS:
        target = getattr(report.spec, key)
        if target:
            out[key] = Path(os.path.normpath(report.path.parent / target))
    return out


def _pages(plan, *, force: bool, written: bool = True) -> list[ResearchError]:
    from engine.text.questions import hypothesis_ids

    report = plan.report
    spec = report.spec
    found: list[ResearchError] = []
    targets = [(report.path, report.text)]
    for key, page in page_paths(report).items():
        if not (page.is_file() and paths.inside(plan.root, page)):
            continue
        try:
            text = textfile.read_text(page)
        except ResearchError as error:
            found.append(error)
            continue
        if written:
            targets.append((page, text))
        if key == "hub" and spec.answers:
            known = hypothesis_ids(text)
            for qid in spec.answers:
                if qid not in known:
                    close = difflib.get_close_matches(qid, known, n=3, cutoff=0.5)
                    found.append(
                        DocumentError(
                            f"'{qid}' is not in the hypothesis tree of {spec.hub}",
                            path=report.path,
                            line=spec.line_of("answers"),
                            key="answers",
                            hint=(
                                f"closest ids: {', '.join(close)}"
                                if close
                                else f"the hub's ids are {', '.join(known) or 'none'}"
                            )
                            + "; fix `answers:` or add the question to the hub's tree",
                        )
                    )
    if force:
        return found
    for path, text in targets:
        try:
            edited = document.edited_regions(text, str(path))
        except ResearchError as error:
            found.append(error)
            continue
        for region in edited:
            found.append(
                RegionEditedError(
                    f"region '{region.name}' was edited by hand since the engine wrote it",
                    path=path,
                    line=region.start_line,
                    hint="move your words outside the markers (the run would overwrite them), or pass --force to discard the edit",
                )
            )
    return found


def _regions(plan) -> list[ResearchError]:
    """Every output the spec declares has a region to go in (`report.needed_regions`), said at
    the key that declares it, with the markers to paste."""
    from engine.notebook.report import missing_regions

    report = plan.report
    try:
        missing = missing_regions(report)
    except ResearchError:  # broken markers: `_pages` says so
        return []
    found: list[ResearchError] = []
    for need in missing:
        name = need.regions[0]
        alone = "".join(
            f" (or `<!-- research:{other} -->` and `<!-- /research:{other} -->` for this one alone)"
            for other in need.regions[1:]
        )
        found.append(
            DocumentError(
                f"the report has no '{name}' region for {need.what}: the run would write it nowhere",
                path=report.path,
                line=report.spec.line_of(need.key) or report.front.first_line,
                key=need.key,
                hint=f"paste `<!-- research:{name} -->` and `<!-- /research:{name} -->`, each on a line of its own, "
                f"where it should appear in the report{alone}",
            )
        )
    return found


# ---------------------------------------------------------------------------------------------
# Models


def _models(plan, trials, *, build: bool) -> list[ResearchError]:
    from engine import models
    from engine.models.configs import inputs_problem

    found: list[ResearchError] = []
    for trial in trials:
        model = dict(trial.config.get("model") or {})
        try:
            trial.model_config = models.validate(model)  # what the trial's model is built from
            if trial.trial is not None and (problem := inputs_problem(str(model.get("type")), trial.trial.inputs)):
                raise SpecError(problem, key="inputs")
            if build and trial.runs and ":" in str(model.get("type", "")):
                train = dict(trial.config.get("train") or {})
                models.build(model, train, list(trial.config.get("data", {}).get("targets") or ["log_g"]))
        except SpecError as error:
            found.append(locate(plan, trial, error))
        except Exception as error:  # the user's factory raised while building: say where
            found.append(
                locate(
                    plan,
                    trial,
                    SpecError(
                        f"the plugin factory '{model.get('type')}' raised {type(error).__name__}: {error}",
                        key="model.type",
                        hint="fix the plugin; a factory should only build the model, not train it",
                    ),
                )
            )
    return found


# ---------------------------------------------------------------------------------------------
# Expressions


def _expressions(plan) -> list[ResearchError]:
    from engine import models
    from engine.render.binned import empty_for_sure
    from engine.render.decision import ceiling_trial, shape_context

    spec = plan.report.spec
    from engine.models.configs import CONFIGS

    # A trial as rules read it: a repeated trial is its seeds together, with a result once they all have one.
    having = {name: runs[0] for name, runs in plan.groups.items() if all(t.reason is not Reason.SKIPPED for t in runs)}
    context = shape_context(
        spec,
        {name: list(t.config.get("data", {}).get("targets") or []) for name, t in having.items()},
        tests={name: list((t.config.get("data") or {}).get("tests") or {}) for name, t in having.items()},
        own_scores={
            name: getattr(CONFIGS.get(str((t.config.get("model") or {}).get("type"))), "SCORES", ())
            for name, t in having.items()
        },
        ceiling=ceiling_trial([t for t in plan.trials if t.shown_name in having]),
        repeated={name for name, runs in plan.groups.items() if runs[0].trial is not None and runs[0].trial.group},
        configs={name: models.resolved_config(t.config, t.model_config) for name, t in having.items()},
        empty={
            i: {name: gone for name, t in having.items() if (gone := empty_for_sure(table, t.config.get("data") or {}))}
            for i, table in enumerate(spec.binned)
        },
    )
    names = set(having)
    skipped = [name for name in plan.groups if name not in names]
    found: list[ResearchError] = []
    expressions = dict(spec.expressions())
    from engine.render import live

    try:  # the live numbers in the report's prose: checked like key_numbers, before anything trains
        for span, expression in live.compiled(spec, plan.report.text, str(plan.report.path)):
            expressions[span.key] = expression
    except ResearchError as error:
        found.append(error)
    for key, expression in expressions.items():
        missing = sorted(expression.trials - names)
        if "baseline" in expression.names and spec.decision.baseline in skipped:
            missing.append(spec.decision.baseline)
        if missing:
            found.append(
                ExpressionError(
                    f"`{expression.source}` reads trial '{missing[0]}', which will have no result: --trial leaves it out "
                    "and it has not run before",
                    path=expression.path,
                    line=expression.line,
                    key=key,
                    hint=f"add --trial {missing[0]}, or run every trial once",
                )
            )
            continue
        try:
            expression.evaluate(context)
        except ExpressionError as error:
            found.append(error)
    return found


# ---------------------------------------------------------------------------------------------
# Data


def _data(plan, trials, *, scan: bool, say=None) -> list[ResearchError]:
    """Each distinct data setting once: a problem of the base spec's data is said once."""
    from engine.data.load import check_data
    from engine.run.plan import locate_data_error

    found: list[ResearchError] = []
    seen: set[str] = set()
    base_dir = plan.report.path.parent
    cache_dir = paths.cache_dir(plan.root)
    for trial in trials:
        config = trial.trial
        if config is None:
            continue
        mark = repr((config.data.model_dump(), config.noise.model_dump(), config.train.val_frac, config.inputs))
        if mark in seen:
            continue
        seen.add(mark)
        try:
            check_data(
                config.data,
                config.noise,
                base_dir=base_dir,
                cache_dir=cache_dir,
                val_frac=config.train.val_frac,
                scan=scan,
                say=say,
                inputs=config.inputs,
            )
        except DataError as error:
            if error.key and error.key.startswith(("data.", "inputs.")) and error.key != "data.source":
                data_path = error.path
                located = locate(plan, trial, error)
                if data_path and data_path != str(plan.report.path):
                    located.message = f"{located.message} ({data_path})"
                found.append(located)
            else:
                found.append(locate_data_error(plan.report.spec, config, error, plan.report.path))
    return found


# ---------------------------------------------------------------------------------------------
# Stored trials a model reads; reports this one builds on


def _sources(plan, trials, *, build: bool) -> list[ResearchError]:
    """Each `from` / `of` / `experts_from` / latent input of a trial that is checked: what
    `engine.run.plan` found, and, for a trial of this report, whether it will be there (with its
    model) when read."""
    from engine.models.configs import NETS
    from engine.run.sources import check_kind

    by_name = {t.name: t for t in plan.trials}
    found: list[ResearchError] = []
    for trial in trials:
        own_targets = list(trial.config.get("data", {}).get("targets") or [])
        for source in trial.sources:
            if source.problem is None and source.report is None:
                kind, targets = _same_report_source(plan, trial, source, by_name, build=build)
                if source.problem is None:
                    check_kind(source, kind, targets, own_targets)
            elif source.problem is None:
                kind = source.model_type
                check_kind(source, kind, source.targets, own_targets)
            if source.problem is None and source.reads == "of":
                read = by_name[source.trial].config.get("inputs") if source.report is None else source.inputs
                if read not in (None, "flux"):  # the net's own standardisation is of those columns
                    source.fail(
                        f"'{source.ref}' was trained on the inputs {json.dumps(read, separators=(', ', ': '))}, "
                        "but its latent is read off the flux",
                        hint="read a net trained on the flux (no `inputs:`)",
                    )
            if source.problem is None and source.reads == "of" and build and trial.runs:
                params = source.model_config
                if params is None and source.report is None:
                    params = dict(by_name[source.trial].config.get("model") or {})
                if params is not None and kind in NETS and source.layer is not None:
                    from engine.models.latent import check_layer

                    try:
                        check_layer(kind, params, source.layer, key=source.layer_field)
                    except SpecError as error:
                        if error.key == source.layer_field:  # the net's own parameters are checked where it is defined
                            found.append(locate(plan, trial, error))
                    except Exception:
                        pass
            if source.problem is not None:
                problem = source.problem  # a copy: `locate` edits the error, the plan is checked again
                found.append(locate(plan, trial, type(problem)(problem.message, key=problem.key, hint=problem.hint)))
    return found


def _same_report_source(plan, trial, source, by_name, *, build: bool) -> tuple[str | None, list[str] | None]:
    """(the source's model type, its targets), or a problem on `source`."""
    from engine.run.sources import describe_stored

    origin = by_name[source.trial]
    again = f"research run {plan.report.path} --trial {origin.name} --retrain"
    if origin.record is not None and not (origin.runs and trial.runs):
        if describe_stored(source, plan.store, how=f"run it again to keep it: {again}"):
            return source.model_type, source.targets
        return None, None
    if origin.reason.value == "skipped":
        if trial.runs:
            source.fail(
                f"reads trial '{origin.name}', which --trial leaves out and which is not stored",
                hint=f"add --trial {origin.name} (it runs first), or run every trial once",
            )
        return None, None
    model = dict(origin.config.get("model") or {})
    kind = str(model.get("type") or "")
    targets = list(origin.config.get("data", {}).get("targets") or []) or None
    if kind == "stored":  # read through: the model its own source kept
        inner = next((s for s in origin.sources if s.param == "from"), None)
        if inner is None or inner.problem is not None:
            return None, targets
        if inner.report is not None:
            return inner.model_type, targets
        return _same_report_source(plan, origin, inner, by_name, build=build)[0], targets
    if ":" in kind and build:
        from engine import models

        try:
            built = models.build(model, dict(origin.config.get("train") or {}), targets or ["log_g"])
        except Exception:  # said by the model check of that trial
            return kind, targets
        if not callable(getattr(built, "save", None)):
            source.fail(
                f"the plugin model of trial '{origin.name}' has no save(path), so it is not kept and cannot be read",
                hint="give the plugin's model save(path) and load(path) methods",
            )
    return kind, targets


def _prerequisites(plan) -> list[ResearchError]:
    """`prerequisite:` — each report exists, is done, and its numbers are not stale."""
    from engine.run.plan import make_plan
    from engine.run.sources import other_report, stale

    report = plan.report
    spec = report.spec
    found: list[ResearchError] = []
    memo: dict = {}
    for i, item in enumerate(spec.prerequisite):
        path = Path(os.path.normpath(report.path.parent / item))
        line = spec.line_of(("prerequisite", i)) or spec.line_of("prerequisite")
        other = other_report(
            path, me=report.path, root=plan.root, make_plan=make_plan, visiting=frozenset({report.path}), memo=memo
        )
        if other.problem is not None:
            found.append(
                DocumentError(
                    f"prerequisite '{item}': {other.problem}",
                    path=report.path,
                    line=line,
                    key="prerequisite",
                    hint=other.hint,
                )
            )
            continue
        reasons = stale(other)
        if reasons:
            found.append(
                DocumentError(
                    f"prerequisite '{item}' is stale: {', '.join(reasons)}",
                    path=report.path,
                    line=line,
                    key="prerequisite",
                    hint=f"run it again first: research run {path}",
                )
            )
    return found
