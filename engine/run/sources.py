"""Trials that read another trial's stored result, and the reports a report builds on.

A model parameter may name a stored trial:

    model: {from: cand}                                 # the fitted model of trial `cand`, not retrained
    model: {from: "../other/exp_x.md#cand"}             # … of trial `cand` of another report
    model: {type: probe, of: cnn, layer: 2}             # a probe on the embeddings of a stored net
    model: {type: moe, gate: dual_tower, experts_from: "../moe/exp_a.md#phys-gate"}   # its experts

and so may a trial's `inputs:` (`engine.data.inputs`), for a stored net's embeddings as a block:

    inputs: [{latent: {of: cnn, layer: 2}}, quality]    # read as a probe's `of`, by the same code

A name without `#` is a trial of the same report; `path#trial` is a trial of another report,
the path relative to this report. The reading trial's cache key holds the source trial's key
(`engine.run.plan`), so it runs again when its source changed, and the plan runs a source first.

A trial of another report is read from this notebook's run store at the key that report's run
record names, and only when that key is still the one the report's spec gives today: the
report exists, is `status: done`, its record names the trial, the trial's key is the recorded
one, and the stored result (with its model) is here. Each problem is a located error at the
line of the parameter, found before anything trains.

`prerequisite: [paths]` lists the reports this one builds on: each must exist, be done and not
be stale (`engine.notebook.staleness`, as `research check` says it).

No ML library here: planning a cached re-run stays fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ResearchError, SpecError, did_you_mean
from engine.models.configs import NETS
from engine.notebook import paths
from engine.notebook.report import Report, read_report

#: model type → its parameters that name a stored trial
REFERENCES: dict[str, tuple[str, ...]] = {"stored": ("from",), "probe": ("of",), "moe": ("experts_from",)}
#: what a source is read for (a parameter's name; a latent input reads a net as a probe's `of`)
#: → the model types its source may have (None: any model that was kept)
SOURCE_TYPES: dict[str, tuple[str, ...] | None] = {"from": None, "of": NETS, "experts_from": ("moe",)}
#: parameters whose source must predict the reading trial's targets
SAME_TARGETS = ("from", "experts_from")


@dataclass
class Source:
    """One parameter of a trial's model, or one latent input, that names a stored trial."""

    param: str  # "from", "of", "experts_from", or a latent input's name (`inputs.latent`, `inputs[1].latent`)
    ref: str  # as written
    trial: str  # the source trial's name
    report: Path | None = None  # the other report; None: this one
    key: str | None = None  # the source trial's key (None until resolved, or when it cannot be)
    problem: ResearchError | None = None  # why it cannot be read (not yet located)
    model_type: str | None = None  # the stored model's type, when known
    targets: list[str] | None = None  # what the stored model predicts, when known
    model_config: dict[str, Any] | None = None  # the stored model's parameters, when known
    inputs: Any = None  # the stored trial's `inputs:` as its record wrote them, when known (None: the flux)
    reads: str = ""  # what it is read for (SOURCE_TYPES); "": the parameter itself
    layer: Any = None  # the layer of a net read for its latent (a probe's, a latent input's)
    at: str = ""  # the spec key a problem is said at; "": model.<param>

    def __post_init__(self) -> None:
        self.reads = self.reads or self.param

    @property
    def field(self) -> str:
        return self.at or f"model.{self.param}"

    @property
    def layer_field(self) -> str:
        """The spec key of the layer it reads (a probe's `model.layer`, a latent's `inputs.latent.layer`)."""
        if self.param == "of":
            return "model.layer"
        return "inputs.latent.layer" if self.field == "inputs.latent.of" else self.field

    def fail(self, message: str, hint: str | None = None) -> None:
        if self.problem is None:
            self.problem = SpecError(message, key=self.field, hint=hint)


def references(model: Mapping[str, Any], base: Path, inputs: Any = None) -> list[Source]:
    """The stored trials a model mapping names (`from`, `of`, `experts_from`) and those a trial's
    `inputs` (`engine.data.inputs.Inputs`) read the latent of, parsed."""
    found = []
    for param in REFERENCES.get(str(model.get("type")), ()):
        ref = model.get(param)
        if ref is None:
            continue
        found.append(
            _parsed(Source(param, str(ref), "", layer=model.get("layer") if param == "of" else None), ref, base)
        )
    for name, part in (inputs.latents if inputs is not None else {}).items():
        # said at `inputs.latent.of` for one input; in a list, at `inputs` (a list's items have no key of their own)
        at = "inputs.latent.of" if name == "inputs.latent" else "inputs"
        found.append(_parsed(Source(name, str(part.of), "", reads="of", layer=part.layer, at=at), part.of, base))
    return found


def _parsed(source: Source, ref: Any, base: Path) -> Source:
    """`source` with its trial (and report) read from `ref`: 'cand', or 'path/to/exp.md#cand'."""
    if not isinstance(ref, str) or not ref.strip():
        source.fail(f"expected a trial name or 'path/to/report.md#trial', got {ref!r}")
        return source
    text = ref.strip()
    if "#" in text:
        where, _, name = text.rpartition("#")
        source.trial = name
        if not where or not name:
            source.fail(
                f"expected 'path/to/report.md#trial', got '{text}'",
                hint="a trial of this report is named alone: from: cand",
            )
        else:
            source.report = Path(os.path.normpath(base / where))
    elif text.endswith(".md") or "/" in text:
        source.fail(f"'{text}' names a report but no trial", hint=f"name the trial: {text}#<trial>")
    else:
        source.trial = text
    return source


def describe(path: Path, report_path: Path) -> str:
    """A report's path as the user wrote it: relative to the report that names it."""
    try:
        return os.path.relpath(path, report_path.parent)
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Another report: is it there, done, not stale? (shared by cross-report sources and prerequisites)


@dataclass
class OtherReport:
    path: Path
    report: Report | None = None  # as the catalog reads it
    plan: Any = None  # its engine.run.plan.Plan (today's keys), when it could be made
    problem: str | None = None  # why it cannot be built on (a sentence), None when it can
    hint: str | None = None
    keys_now: dict[str, str] = field(default_factory=dict)  # trial → today's key

    @property
    def record(self) -> dict[str, Any]:
        return (self.report.record if self.report is not None else None) or {}

    def recorded_key(self, trial: str) -> str | None:
        from engine.notebook.store import KeyParts

        for row in self.record.get("trials", []):
            if row.get("name") == trial and row.get("parts"):
                try:
                    return KeyParts(**row["parts"]).key
                except TypeError:
                    return None
        return None

    def recorded_trials(self) -> list[str]:
        return [str(row.get("name")) for row in self.record.get("trials", []) if row.get("parts")]


def other_report(
    path: Path,
    *,
    me: Path,
    root: Path,
    make_plan: Callable[..., Any],
    visiting: frozenset[Path],
    memo: dict[Path, OtherReport] | None = None,
) -> OtherReport:
    """What a report that `me` builds on looks like now (`make_plan` is `engine.run.plan.make_plan`,
    passed in so this module does not import the planner that imports it)."""
    path = Path(os.path.normpath(path))
    if memo is not None and path in memo:
        return memo[path]
    out = OtherReport(path)
    shown = describe(path, me)
    if memo is not None:
        memo[path] = out
    if not path.is_file():
        out.problem = f"there is no report '{shown}' (looked for {path})"
        out.hint = "paths are relative to this report's folder"
        return out
    if not paths.inside(root, path):
        out.problem = f"'{shown}' lies outside this notebook ({root})"
        out.hint = "a report builds only on reports of its own notebook (its run store is here)"
        return out
    if os.path.normpath(path.resolve()) == os.path.normpath(Path(me).resolve()):
        out.problem = "a report cannot build on itself"
        return out
    try:
        out.report = read_report(path, root)
    except ResearchError as error:
        out.problem = f"cannot read '{shown}': {error.message}"
        return out
    if out.report is None:
        out.problem = f"'{shown}' is not an experiment report (its front matter has no id)"
        return out
    if out.report.problem:
        out.problem = f"cannot read '{shown}': {out.report.problem}"
        return out
    status = out.report.status
    if status != "done":
        out.problem = f"the report '{shown}' is {status}, not done"
        out.hint = f"run it first: research run {path}"
        return out
    if not out.report.record:
        out.problem = f"the report '{shown}' has no run record"
        out.hint = f"run it: research run {path}"
        return out
    resolved = os.path.normpath(path.resolve())
    if resolved in {os.path.normpath(p.resolve()) for p in visiting}:
        out.problem = f"'{shown}' builds on this report in turn: a cycle of reports"
        return out
    try:
        out.plan = make_plan(
            path,
            sets=out.record.get("sets") or [],
            sweeps=out.record.get("sweeps") or [],
            _visiting=visiting | {Path(me)},
        )
    except ResearchError as error:
        out.problem = f"cannot plan '{shown}': {error}"
        out.hint = f"`research check {path}` says what is wrong there"
        return out
    out.keys_now = {t.name: t.key for t in out.plan.trials}
    return out


def stale(other: OtherReport) -> list[str]:
    """Why the numbers of a done report are stale today (`engine.notebook.staleness`, as `research check`)."""
    assert other.report is not None  # a report without a problem
    return other.report.stale_reasons({t.name: t.parts for t in other.plan.trials} if other.plan is not None else None)


def resolve_other(
    source: Source,
    *,
    me: Path,
    root: Path,
    store,
    make_plan: Callable[..., Any],
    visiting: frozenset[Path],
    memo: dict[Path, OtherReport],
) -> None:
    """Fill `source.key` (the key the other report's record names) or `source.problem`."""
    assert source.report is not None
    other = other_report(source.report, me=me, root=root, make_plan=make_plan, visiting=visiting, memo=memo)
    shown = describe(source.report, me)
    if other.problem is not None:
        source.fail(other.problem, other.hint)
        return
    key = other.recorded_key(source.trial)
    if key is None:
        names = other.recorded_trials()
        source.fail(
            f"the run record of '{shown}' names no trial '{source.trial}'",
            hint=did_you_mean(source.trial, names) or f"its trials: {', '.join(names) or 'none'}",
        )
        return
    source.key = key
    now = other.keys_now.get(source.trial)
    if now != key:
        why = "it is gone from the spec" if now is None else "its spec, data or code changed since the record"
        source.fail(
            f"trial '{source.trial}' of '{shown}' would not give the recorded result today ({why})",
            hint=f"run it again: research run {source.report}",
        )
        return
    describe_stored(
        source, store, how=f"run it: research run {source.report} (this reproduces its record and keeps the model)"
    )


def describe_stored(source: Source, store, *, how: str) -> bool:
    """Fill the stored model's type and targets from the run store; a problem when it is not there."""
    from engine.notebook.store import RECORD, model_file, model_meta

    folder = store.path(source.key)
    if not (folder / RECORD).is_file():
        source.fail(
            f"trial '{source.trial}' is not in this notebook's run store (a fresh clone, or run elsewhere)", hint=how
        )
        return False
    found = model_file(folder)
    if found is None:
        source.fail(
            f"trial '{source.trial}' is stored without its model (stored before models were kept, "
            "or its model has no save())",
            hint=how,
        )
        return False
    try:
        config = json.loads((folder / RECORD).read_text(encoding="utf-8")).get("config") or {}
    except (OSError, ValueError):
        config = {}
    meta = model_meta(found) if found.suffix == ".npz" else None
    source.model_type = (meta or {}).get("type") or str((config.get("model") or {}).get("type") or "")
    source.targets = list((meta or {}).get("targets") or (config.get("data") or {}).get("targets") or []) or None
    source.model_config = dict((meta or {}).get("config") or config.get("model") or {})
    source.inputs = config.get("inputs")
    return True


def check_kind(source: Source, model_type: str | None, targets: list[str] | None, own_targets: list[str]) -> None:
    """The source's model suits the parameter (a net for a probe, a mixture for its experts) and,
    for `from` and `experts_from`, predicts the reading trial's targets."""
    wanted = SOURCE_TYPES.get(source.reads)
    if wanted is not None and model_type and model_type not in wanted:
        what = "a latent input" if source.param != source.reads else ""
        source.fail(
            f"{what + ' ' if what else ''}needs a {' / '.join(wanted)} trial, but '{source.ref}' is a {model_type} model",
            hint="a latent is read off a stored net's layer" if what else None,
        )
    elif source.reads in SAME_TARGETS and targets and list(targets) != list(own_targets):
        source.fail(
            f"'{source.ref}' predicts {', '.join(targets)}, this trial {', '.join(own_targets)}",
            hint="set data.targets as the source's, or train a model for these targets",
        )
