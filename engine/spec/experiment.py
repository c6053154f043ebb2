"""The spec: an experiment report's YAML front matter, as one typed, frozen object.

    spec = load_spec(front_matter_text, path="exp.md", first_line=2)
    for trial in spec.resolve_trials():
        trial.name, trial.config          # "single-task", {"data": {...}, "noise": ..., ...}

Everything a user can get wrong is a `SpecError` located at the real line of the markdown file,
naming the dotted key, what was expected and, for a misspelled key, what they probably meant.
The YAML is read by `engine.text.safe_yaml` (safe tags only, alias bombs refused, a line for every
key), then validated by the models of `run_config` and `report_config`; the checks across
sections (a metric no trial predicts, a figure of a binned table that does not exist, the names
an expression reads) run here, before anything trains.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Literal, Optional

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from engine.data.inputs import Inputs
from engine.errors import ExpressionError, ResearchError, SpecError, did_you_mean
from engine.models.base import TrainConfig
from engine.spec.expressions import EXPRESSION_NAMES, Expression, compile_expression, placeholders
from engine.text.safe_yaml import Loc, read_yaml

from . import sweep
from .explain import Invalid, dotted, explain, kind_of, line_at, show, valid_keys
from .report_config import (
    Binned,
    Bootstrap,
    Comparison,
    Decision,
    Figure,
    KeyNumber,
    Reproduce,
    implication_text,
    info_key,
)
from .run_config import DataSpec, ModelSpec, NoiseSpec, model_schema, weights_by_target
from .sweep import Trial
from .vocabulary import (
    ID_PATTERN,
    TRAINING_SECTIONS,
    TRIAL_NAME,
    Frozen,
    as_list,
    each_item,
    flatten,
    is_info,
    metric_key,
    position,
    relative_path,
    split_test,
    unique,
)

__all__ = ["Spec", "load_spec", "spec_line", "spec_schema"]


def _repeat_keys(repeats: Any, seeds: Any, loc: Loc | None, both: bool = False) -> None:
    """`repeats: n` (n ≥ 1) and `seeds: [distinct integers, at least two]`, on a trial (at `loc`)
    or on the spec (`loc` None: pydantic knows the field)."""
    at = (lambda key: (*loc, key)) if loc is not None else (lambda key: ())
    if both:
        raise Invalid("set repeats: or seeds:, not both", loc=at("seeds"))
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1):
        raise Invalid(f"expected a whole number of runs (1 or more), got {show(repeats)}", loc=at("repeats"))
    if seeds is None:
        return
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise Invalid(f"expected a list of integer seeds like [1, 2, 3], got {show(seeds)}", loc=at("seeds"))
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise Invalid(
            f"expected at least two different seeds, got {show(seeds)}",
            loc=at("seeds"),
            hint="one seed is train.seed; repeats need two or more",
        )


class Spec(Frozen):
    """An experiment: what it is, the training run and its sweep, and how results are reported."""

    id: str = Field(description="Unique experiment id, e.g. 'VIT-20251222-logg_1m-multitask'.")
    title: str = Field(min_length=1, description="Human title of the experiment.")
    topic: Optional[str] = Field(None, description="Topic the experiment belongs to, e.g. 'logg_1m'.")
    mvp: Optional[str] = Field(None, description="Roadmap MVP this experiment delivers, e.g. 'MVP-1.5'.")
    author: Optional[str] = Field(None, description="Who planned it.")
    date: Optional[str] = Field(None, description="Planned date, ISO 'YYYY-MM-DD'.")
    status: Literal["planned", "running", "done", "failed", "draft"] = Field(
        "planned",
        description="Engine-maintained: planned, running, done or failed; or draft (set by you): its runs "
        "write the report but never the hub, roadmap or kanban, and it stays draft until promoted (`research promote`).",
    )
    last_run: Optional[str] = Field(None, description="Engine-maintained: when it last ran (ISO).")
    hub: Optional[str] = Field(None, description="Hub page, relative to this file.")
    roadmap: Optional[str] = Field(None, description="Roadmap page, relative to this file.")
    kanban: Optional[str] = Field(None, description="Kanban page, relative to this file.")
    answers: list[str] = Field(
        default_factory=list, description="Ids in the hub's hypothesis tree this experiment answers, e.g. [Q3.1]."
    )
    gate: Optional[str] = Field(None, description="The roadmap's decision gate this experiment closes, e.g. 'Gate-2'.")
    prerequisite: list[str] = Field(
        default_factory=list,
        description="Reports this one builds on, relative to this file, e.g. [../exp/exp_moe_regression_gate.md]: "
        "before anything runs each must exist, be `status: done` and not be stale.",
    )
    implication: Optional[str] = Field(
        None,
        description="The design implication of the finding, in one line: what the pipeline or the next experiment "
        "does because of it, e.g. 'train every gate on the final MSE'. `research digest` shows it under the "
        "experiment, and the hub's 'so what' column of each question the report answers takes it; a deciding "
        "rule's own `implication:` comes first. Prose: editing it never makes the numbers stale.",
    )

    data: DataSpec = Field(default_factory=DataSpec, description="The spectra and labels.")
    noise: NoiseSpec = Field(default_factory=NoiseSpec, description="Noise added to the spectra.")
    inputs: Inputs = Field(
        default_factory=Inputs,
        description="What the model sees: flux (the default: the noisy flux, every pixel); "
        "{flux: {wave: [[8450, 8700], …]}} (wavelength windows, Å); {flux: {top_k: 256, by: log_g}} (the K "
        "pixels most correlated with a label on the training split; by: the first target when absent); error "
        "(the per-pixel error array; wave and top_k select from it too); quality (10 statistics of the error "
        "vector); lines (9 Ca II / Na I depths and equivalent widths); global (128 features: mean and spread of "
        "40 bands of the normalised flux, 39 colours, the 9 line features); {labels: [T_eff, Fe_H]} (labels as "
        "inputs, never a target); or a list of these, side by side. A trial overrides it like any section "
        "(`inputs: error`), and a sweep can vary it. CNN and ViT read one spectral input; Ridge, LightGBM "
        "and MLP read any.",
    )
    model: ModelSpec = Field(description="The model and its parameters.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="The training loop.")
    trials: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="The sweep: trial name → dotted-key overrides of data/noise/model/train, "
        "e.g. {single-task: {data.targets: [log_g]}}. Empty: one trial named 'main'.",
    )
    sweep: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="A grid over the base spec: {model.alpha: [1e2, 1e3], data.n_train: [2000, 6000]} gives one trial "
        "per combination, named alpha-100.n_train-2k, beside the hand-written `trials:`.",
    )
    repeats: Optional[int] = Field(
        None,
        ge=1,
        description="Run every trial this many times, seeds counting up from train.seed: every metric becomes the mean "
        "± std over the seeds, `best` is chosen by the mean, rules read `best.r2.log_g.mean` / `.std`. A trial may "
        "set its own `repeats:` (1: once) or `seeds:`.",
    )
    seeds: Optional[list[int]] = Field(
        None,
        description="The seeds (train.seed) to repeat every trial over, e.g. [1, 2, 3]; instead of `repeats:`.",
    )

    metrics: list[str] = Field(
        default_factory=lambda: ["r2.log_g", "mae.log_g"],
        min_length=1,
        description="'<metric>.<target>' with metric r2, mae, rmse or bias; the first is the primary metric. "
        "After it, info.<key> adds a column of a number each trial's model reported, e.g. info.receptive_field "
        "(no interval, never ranked; '–' for a trial whose model reported none).",
    )
    binned: list[Binned] = Field(default_factory=list, description="Binned tables.")
    comparisons: list[Comparison] = Field(
        default_factory=list,
        description="Pairs of trials compared with a paired bootstrap: [[regress-mlp, classify], [regress-linear, classify]], "
        "or {a, b, metrics}; each row a − b with its 95 % interval (region `comparisons`; rules: compare('a', 'b')).",
    )
    figures: list[Figure] = Field(default_factory=list, description="Figures to draw.")
    decision: Decision = Field(default_factory=Decision, description="Rules that give the verdict.")
    key_numbers: list[KeyNumber] = Field(default_factory=list, description="The key-numbers table.")
    bootstrap: Bootstrap = Field(default_factory=Bootstrap, description="Bootstrap confidence intervals.")
    reproduce: Reproduce = Field(
        default_factory=Reproduce, description="When a re-run reproduces the recorded numbers."
    )
    language: Literal["en", "zh"] = Field(
        "en",
        description="The language of the sentences the engine writes under figures "
        "and tables (observations): en or zh.",
    )

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)
    _dotted_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _path: Optional[str] = PrivateAttr(None)
    _trials: list[Trial] = PrivateAttr(default_factory=list)
    _cli_sweep: dict[str, list[Any]] = PrivateAttr(default_factory=dict)
    _expressions: dict[str, Expression] = PrivateAttr(default_factory=dict)

    # -- field checks --------------------------------------------------------------------------

    @field_validator("train", mode="before")
    @classmethod
    def _train(cls, value: Any) -> Any:
        return weights_by_target(value)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise Invalid(f"expected letters, digits and _ . + - (no spaces), got {show(value)}")
        return value

    @field_validator("date", "last_run", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        if isinstance(value, (_dt.date, _dt.datetime)):
            return value.isoformat()
        return value

    @field_validator("hub", "roadmap", "kanban", mode="before")
    @classmethod
    def _link(cls, value: Any, info: ValidationInfo) -> Any:
        return relative_path(value, f"{info.field_name} page")

    @field_validator("implication", mode="before")
    @classmethod
    def _implication(cls, value: Any) -> Any:
        return implication_text(value)

    @field_validator("prerequisite", mode="before")
    @classmethod
    def _prerequisite(cls, value: Any) -> Any:
        value = as_list(value)
        if isinstance(value, list):
            for i, item in enumerate(value):
                try:
                    relative_path(item, "report it builds on")
                except Invalid as error:
                    raise Invalid(error.message, loc=(i,), hint=error.hint) from None
            value = unique(value, "report")
        return value

    @field_validator("answers", mode="before")
    @classmethod
    def _answers(cls, value: Any) -> Any:
        value = as_list(value)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str) and (not item or re.search(r"\s", item)):
                    raise Invalid(f"expected a hypothesis id like Q3.1, got {show(item)}", loc=(i,))
        return value

    @field_validator("trials", mode="before")
    @classmethod
    def _trials_shape(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            return value
        out = {}
        for name, overrides in value.items():
            if isinstance(name, str) and not TRIAL_NAME.fullmatch(name):
                raise Invalid(
                    f"trial name {show(name)} must start with a letter or digit and use only "
                    "letters, digits and _ . + -",
                    loc=(name,),
                )
            if overrides is None:
                overrides = {}
            if isinstance(overrides, Mapping):
                for key in overrides:
                    if not isinstance(key, str) or not all(key.split(".")):
                        raise Invalid(f"expected a dotted key like train.lr, got {show(key)}", loc=(name, key))
                _repeat_keys(
                    overrides.get("repeats"),
                    overrides.get("seeds"),
                    (name,),
                    both="repeats" in overrides and "seeds" in overrides,
                )
            out[name] = overrides
        return out

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, value: Any) -> Any:
        _repeat_keys(None, value, None)
        return value

    @model_validator(mode="after")
    def _one_repeat_key(self) -> "Spec":
        if self.repeats is not None and self.seeds is not None:
            raise Invalid(
                "set repeats: or seeds:, not both",
                loc=("seeds",),
                hint="seeds: [42, 43, 44] is repeats: 3 from train.seed 42",
            )
        return self

    @field_validator("sweep", mode="before")
    @classmethod
    def _grid(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, values in value.items():
            if not isinstance(key, str) or not all(key.split(".")) or key.split(".")[0] not in TRAINING_SECTIONS:
                raise Invalid(
                    f"expected a dotted key of {', '.join(TRAINING_SECTIONS)} like model.alpha, got {show(key)}",
                    loc=(key,),
                )
            values = values if isinstance(values, list) else [values]
            if not values:
                raise Invalid("expected at least one value", loc=(key,))
            for i, item in enumerate(values):
                if any(item == other and type(item) is type(other) for other in values[:i]):
                    raise Invalid(
                        f"{show(item)} is swept twice: the two trials would be one",
                        loc=(key, i),
                        hint="list each value once",
                    )
            out[key] = values
        return out

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        """Metrics, and after the first an `info.` path as a column: the first is what `best`,
        the decision and the leaderboard rank by, and a model's own number ranks nothing."""
        if value and is_info(value[0]):
            raise Invalid(
                f"the first metric is the primary one, which picks `best` and decides; {show(value[0])} is a number "
                "a model reported, which ranks nothing",
                loc=(0,),
                hint="put a metric such as r2.log_g first, and the info column after it",
            )
        return unique(each_item(value, lambda m: info_key(m) if is_info(m) else metric_key(m)), "metric")

    @field_validator("comparisons", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for i, item in enumerate(value):
            if isinstance(item, list):
                if len(item) != 2:
                    raise Invalid(f"a comparison is a pair [a, b], got {len(item)} items", loc=(i,))
                item = {"a": item[0], "b": item[1]}
            out.append(item)
        return out

    # -- checks across fields, trials, expressions ---------------------------------------------

    @model_validator(mode="wrap")
    @classmethod
    def _whole(cls, data: Any, handler: Callable[[Any], "Spec"], info: ValidationInfo) -> "Spec":
        spec = handler(data)
        if isinstance(data, Spec):
            return spec
        context = info.context or {}
        spec._raw = copy.deepcopy(dict(data))
        spec._lines = dict(context.get("lines") or {})
        spec._dotted_lines = {dotted(loc): line for loc, line in spec._lines.items() if loc}
        spec._path = context.get("path")
        spec._trials = sweep.resolve(spec, {})
        spec._check()
        return spec

    def _error(self, message: str, loc: Loc, hint: str | None = None, cls: type[SpecError] = SpecError) -> SpecError:
        return cls(message, path=self._path, line=line_at(self._lines, loc), key=dotted(loc), hint=hint)

    def _check(self) -> None:
        names = self.trial_names
        predicted = {t for trial in self._trials for t in trial.data.targets}
        tests = self.test_sets

        def check_predicted(metric: str, loc: Loc) -> None:
            base, test = split_test(metric)
            if test is not None and test not in tests:
                raise self._error(
                    f"'{metric}': no test set named '{test}'" + (f" (data.tests: {', '.join(tests)})" if tests else ""),
                    loc,
                    hint=did_you_mean(test, tests)
                    or "name test sets in data.tests, e.g. {low_noise: {select: {snr_top_frac: 0.2}}}",
                )
            if base.startswith("extra."):
                return  # a model's own per-spectrum value: known only when it runs
            target = base.split(".", 1)[1]
            if target not in predicted:
                raise self._error(
                    f"'{metric}': no trial predicts {target} (targets: {', '.join(sorted(predicted))})",
                    loc,
                    hint=f"add {target} to data.targets",
                )

        def check_trial(name: str, loc: Loc) -> None:
            if name not in names:
                raise self._error(
                    f"no trial named '{name}'", loc, hint=did_you_mean(name, names) or f"trials: {', '.join(names)}"
                )

        for i, metric in enumerate(self.metrics):
            if not is_info(metric):  # a model's info is known after training
                check_predicted(metric, ("metrics", i))
        table_names = {}
        for i, table in enumerate(self.binned):
            check_predicted(table.metric, ("binned", i, "metric"))
            for j, name in enumerate(table.trials or ()):
                check_trial(name, ("binned", i, "trials", j))
            if table.delta == "baseline" and self.decision.baseline is None:
                raise self._error(
                    "`delta: baseline` needs decision.baseline",
                    ("binned", i, "delta"),
                    hint="set decision.baseline, or name the trial: delta: <trial>",
                )
            if table.delta not in (None, "baseline"):
                check_trial(table.delta, ("binned", i, "delta"))
            if table.name is not None:
                if table.name in table_names:
                    raise self._error(f"two binned tables are named '{table.name}'", ("binned", i, "name"))
                table_names[table.name] = i
        for i, pair in enumerate(self.comparisons):
            check_trial(pair.a, ("comparisons", i, "a"))
            check_trial(pair.b, ("comparisons", i, "b"))
            if pair.a == pair.b:
                raise self._error(f"'{pair.a}' is compared with itself", ("comparisons", i))
            for j, metric in enumerate(pair.metrics or ()):
                check_predicted(metric, ("comparisons", i, "metrics", j))
        if self.decision.baseline is not None:
            check_trial(self.decision.baseline, ("decision", "baseline"))
        for i, name in enumerate(self.decision.references):
            check_trial(name, ("decision", "references", i))
        for i, figure in enumerate(self.figures):
            for j, metric in enumerate(figure.metrics or ()):
                check_predicted(metric, ("figures", i, "metrics", j))
            if figure.trial is not None:
                check_trial(figure.trial, ("figures", i, "trial"))
            if isinstance(figure.binned, int) and figure.binned >= len(self.binned):
                raise self._error(
                    f"there is no binned table {figure.binned} (binned has {len(self.binned)}, counted from 0)",
                    ("figures", i, "binned"),
                )
            if isinstance(figure.binned, str) and figure.binned not in table_names:
                raise self._error(
                    f"no binned table is named '{figure.binned}'",
                    ("figures", i, "binned"),
                    hint=did_you_mean(figure.binned, list(table_names)) or f"names: {', '.join(table_names) or 'none'}",
                )
            if figure.kind == "binned_delta":
                assert figure.binned is not None  # Figure's own check: a binned_delta figure names its table
                table = self.binned[
                    figure.binned if isinstance(figure.binned, int) else table_names.get(figure.binned, 0)
                ]
                if table.delta is None:
                    raise self._error(
                        "a binned_delta figure needs a binned table with `delta:`", ("figures", i, "binned")
                    )
            for j, name in enumerate(figure.trials or ()):
                check_trial(name, ("figures", i, "trials", j))
            if figure.against is not None:
                check_trial(figure.against, ("figures", i, "against"))
            elif figure.kind in ("bootstrap", "ablation") and self.decision.baseline is None:
                raise self._error(
                    f"a {figure.kind} figure needs `against: <trial>` (or decision.baseline)", ("figures", i, "kind")
                )
            if figure.metric is not None:
                check_predicted(figure.metric, ("figures", i, "metric"))
            if figure.y is not None and not figure.y.startswith("info."):  # a model's info is known after training
                check_predicted(figure.y, ("figures", i, "y"))
            if figure.series is not None and figure.series.startswith("val_r2."):
                check_predicted(figure.series, ("figures", i, "series"))
            for field_name in ("param", "x", "group"):
                chosen = getattr(figure, field_name)
                if chosen is None:
                    continue
                keys = sorted({k for trial in self._trials for k in flatten(trial.config)})
                if chosen not in keys:
                    raise self._error(
                        f"'{chosen}' is not a key of the trials' config",
                        ("figures", i, field_name),
                        hint=did_you_mean(chosen, keys),
                    )

        sources: list[tuple[Loc, Optional[str]]] = [
            (("decision", "rules", i, "when"), rule.when) for i, rule in enumerate(self.decision.rules)
        ]
        sources += [(("key_numbers", i, "value"), row.value) for i, row in enumerate(self.key_numbers)]
        for i, rule in enumerate(self.decision.rules):  # the {{ … }} inside says and answers
            texts: list[tuple[Loc, str]] = [(("decision", "rules", i, "says"), rule.says)]
            texts += [(("decision", "rules", i, "answers", q), rule.answer_text(q)) for q in rule.answers]
            for loc, text in texts:
                sources += [((*loc, j), inner) for j, inner in enumerate(placeholders(text))]
            for q in rule.answers:
                if q not in self.answers:
                    raise self._error(
                        f"'{q}' is not one of this experiment's answers: {self.answers}",
                        ("decision", "rules", i, "answers", q),
                        hint=did_you_mean(q, self.answers),
                    )
        expressions = {}
        for loc, source in sources:
            if source is None:
                continue
            key = dotted(loc)
            expression = compile_expression(
                source,
                names=names,
                path=self._path,
                line=line_at(self._lines, loc),
                key=key,
                allowed=EXPRESSION_NAMES,
            )
            if "baseline" in expression.names and self.decision.baseline is None:
                raise self._error(
                    f"`{source}` uses baseline, but decision.baseline is not set",
                    loc,
                    hint="set decision.baseline to a trial name",
                    cls=ExpressionError,
                )
            expressions[key] = expression
        self._expressions = expressions

    # -- trials --------------------------------------------------------------------------------

    @property
    def trial_names(self) -> list[str]:
        """The trials in the file's order, then the grid's; `['main']` when the spec has neither."""
        return [*self.trials, *self.grid] or ["main"]

    @property
    def grid(self) -> dict[str, dict[str, Any]]:
        """The trials of `sweep:`, name → its overrides, one per combination, in the product's order."""
        return sweep.grid_trials(self.sweep)

    def with_sweep(self, extra: Mapping[str, list[Any]]) -> "Spec":
        """This spec with `research run --sweep` keys added to its grid (a key the file sweeps
        takes the command line's values), resolved and checked like the file's own."""
        if not extra:
            return self
        merged = {**self.sweep, **{key: list(values) for key, values in extra.items()}}
        spec = self.model_copy(update={"sweep": merged})
        spec._cli_sweep = {**self._cli_sweep, **dict(extra)}
        spec._trials = sweep.resolve(spec, {})
        spec._check()
        return spec

    @property
    def groups(self) -> dict[str, list[str]]:
        """Each trial as the report shows it → the runs it is made of: its seeds when it is
        repeated (`equal` → [equal.seed-42, equal.seed-43]), else itself."""
        out: dict[str, list[str]] = {}
        for trial in self._trials:
            out.setdefault(trial.shown_name, []).append(trial.name)
        return out

    @property
    def primary_metric(self) -> str:
        """The first of `metrics`, e.g. 'r2.log_g': what 'best' means."""
        return self.metrics[0]

    @property
    def test_sets(self) -> list[str]:
        """The named test sets (`data.tests`) of the trials, in the spec's order (none: [])."""
        return list(dict.fromkeys(name for trial in self._trials for name in trial.data.tests))

    @property
    def primary_test(self) -> Optional[str]:
        """The test set the bare metrics read (`r2.log_g`), when the spec names test sets."""
        return next((trial.data.primary for trial in self._trials if trial.data.tests), None)

    @property
    def scored_metrics(self) -> list[str]:
        """`metrics` without its info columns: what the test set scores, so what is resampled,
        ranked, recorded and drawn by default; a model's own number is none of these."""
        return [m for m in self.metrics if not is_info(m)]

    @property
    def info_columns(self) -> list[str]:
        """The `info.<key>` paths of `metrics`: results-table columns of what each model reported."""
        return [m for m in self.metrics if is_info(m)]

    @property
    def shown_metrics(self) -> list[str]:
        """The metrics the intervals and the run record carry, and the results table's scores:
        `metrics` on each named test set in turn (`r2.log_g@low_noise`, `r2.log_g@full`, …), or
        `metrics` as they are when the spec names none. The primary set's columns come first."""
        tests = self.test_sets
        scored = self.scored_metrics
        if not tests:
            return scored
        order = [self.primary_test, *(t for t in tests if t != self.primary_test)]
        plain = [m for m in scored if "@" not in m]
        return list(dict.fromkeys([f"{m}@{t}" for t in order for m in plain] + [m for m in scored if "@" in m]))

    @property
    def result_columns(self) -> list[str]:
        """The results table's columns: `metrics` in the order written, info columns where they
        stand; with named test sets, each set's group of scores, then the info columns (a model
        reports its info once, not per test set)."""
        if not self.test_sets:
            return list(self.metrics)
        return [*self.shown_metrics, *self.info_columns]

    @property
    def interval_metrics(self) -> list[str]:
        """Every metric reference a run gives bootstrap intervals for (`ci`, `delta`, `compare`):
        the shown metrics and the bare ones (`r2.log_g`, the primary test set's)."""
        return list(dict.fromkeys([*self.scored_metrics, *self.shown_metrics]))

    def resolve_trials(self, overrides: Mapping[str, Any] | None = None) -> list[Trial]:
        """Every trial: the base training sections, the trial's overrides, then `overrides`.

        `overrides` are `--set` style dotted keys (`{"train.epochs": 1}`), applied to every
        trial; a key `trials.<name>.<dotted key>` applies to that trial only.
        """
        if not overrides:
            return list(self._trials)
        return sweep.resolve(self, dict(overrides))

    # -- locations, expressions, schema --------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        """The file the spec was read from, when known."""
        return self._path

    @property
    def lines(self) -> dict[str, int]:
        """Dotted key (`train.lr`, `decision.rules[0].when`) → line in the file."""
        return dict(self._dotted_lines)

    def line_of(self, key: str | Loc) -> Optional[int]:
        """The file line of a dotted key (or of its nearest parent present in the file)."""
        return spec_line(self, key)

    def override_at(self, trial: Trial, key: str, *, value: bool = True) -> Loc | str | None:
        """Where the file sets the dotted config `key` of `trial`, when an override does: the
        trial's `("trials", name, "model.alpha")`, a key inside an override of a whole mapping
        `("trials", name, "model", "alpah")`, or the grid's swept value `("sweep", key, i)` —
        the value itself when the problem is the value (`value`), else the swept key. A `--set`
        or `--sweep` option: its words; None: the base spec sets it."""
        origin = trial.origin_of(key)
        if origin is None or isinstance(origin, str):
            return origin
        parts = key.split(".")
        own = max(
            (k for k, o in trial.origins.items() if o == origin and parts[: len(k.split("."))] == k.split(".")),
            key=len,
            default=key,
        )
        rest = tuple(parts[len(own.split(".")) :])
        if origin[0] == "sweep" and (value or rest) and own in self.sweep:
            at = position(self.sweep[own], trial.overrides.get(own))
            return (*origin, *(() if at is None else (at,)), *rest)
        return (*origin, *rest)

    def expressions(self) -> dict[str, Expression]:
        """Every `when:` and `value:`, compiled and located, by dotted key."""
        return dict(self._expressions)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of a spec (`research spec --schema`)."""
        return spec_schema()


def spec_schema() -> dict[str, Any]:
    """The JSON schema of a spec (`research spec --schema`). `model:` is one branch per model
    type with its own parameters: pydantic sees only `type` there (the parameters are checked
    against each model's config dataclass), so they come from those dataclasses."""
    schema = Spec.model_json_schema()
    schema["title"] = "research experiment spec"
    schema["$defs"]["ModelSpec"] = model_schema()
    return schema


@lru_cache(maxsize=1)
def _owners() -> dict[str, dict[str, list[str]]]:
    """Key → the sections that have it, read from the spec's schema (the models, and each model
    type's parameters): {"targets": {"mapping": ["data"]}, "edges": {"item": ["binned"]}}."""
    schema = spec_schema()
    defs = schema.get("$defs", {})

    def objects(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return objects(defs[node["$ref"].rsplit("/", 1)[-1]])
        found = [node] if "properties" in node else []
        for member in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
            found += objects(member)
        return found

    out: dict[str, dict[str, list[str]]] = {}
    for section, node in schema["properties"].items():
        for kind, inner in (("mapping", node), ("item", node.get("items", {}))):
            for obj in objects(inner) if inner else []:
                for key in obj["properties"]:
                    places = out.setdefault(key, {}).setdefault(kind, [])
                    if section not in places:
                        places.append(section)
    return out


def _misplaced(loc: Loc, message: str, hint: Optional[str]) -> tuple[Loc, str, Optional[str]]:
    """An unknown key that is a key of another section: most often a line indented too little
    (a dedented `targets:` is read as a top-level key), so say where it belongs rather than
    which top-level name it looks like (`targets` is not a misspelled `status`)."""
    names = [part for part in loc if isinstance(part, str)]
    if len(loc) not in (1, 2) or len(names) != len(loc):
        return loc, message, hint
    key, here = names[-1], (names[0] if len(names) == 2 else None)
    owners = _owners()
    sections = [s for s in owners.get(key, {}).get("mapping", []) if s != here]
    close = _close(key, valid_keys(Spec, loc[:-1]))
    if here is not None:  # in a section, a near name there is the likelier slip
        if sections and close is None:
            return loc, f"not a key of `{here}:`: it belongs under {_either(sections)}", f"move it under {sections[0]}:"
        return loc, message, hint
    near = f"; or did you mean '{close}'?" if close is not None and _similar(key, close) else ""
    if sections:
        where = f"under {sections[0]}:" if len(sections) == 1 else "under the section it belongs to"
        return (
            loc,
            f"not a top-level key: it belongs under {_either(sections)}",
            f"indent it {where}, as the keys there are{near}",
        )
    items = owners.get(key, {}).get("item", [])
    if items and not near:
        return (
            loc,
            f"not a top-level key: it belongs in an item of {_either(items)}",
            "indent it into the item, as the keys beside it are",
        )
    nested = _close(key, list(owners))
    if not near and nested is not None and _similar(key, nested):
        homes = owners[nested].get("mapping") or owners[nested].get("item", [])
        return loc, f"not a top-level key; did you mean '{nested}' (a key of {_either(homes)})?", "indent it there"
    return loc, message, hint


def _close(word: str, choices: list[str]) -> Optional[str]:
    said = did_you_mean(word, choices)
    return said.split("'")[1] if said else None


def _similar(word: str, other: str) -> bool:
    """Close enough that a typo is likelier than a misplaced key (`metric` → `metrics`)."""
    return difflib.SequenceMatcher(None, word, other).ratio() >= 0.85


def _either(sections: list[str]) -> str:
    names = [f"`{s}:`" for s in sections]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def spec_line(spec: Spec, key: str | Loc) -> Optional[int]:
    """The file line of a dotted key of a loaded spec (or of its nearest parent in the file)."""
    if isinstance(key, tuple):
        return line_at(spec._lines, key)
    lines = spec._dotted_lines
    while key:
        if key in lines:
            return lines[key]
        cut = max(key.rfind("."), key.rfind("["))
        if cut <= 0:
            break
        key = key[:cut]
    return None


def load_spec(yaml_text: str, *, path: str | None = None, first_line: int = 1) -> Spec:
    """Parse and validate a front matter (the text between the `---` fences).

    `first_line` is the file line of the first YAML line, so errors name real lines.

    Remembered per (text, path, line) within a process: a check, a plan and the plans of the
    reports it reads load the same front matter several times, and the spec is frozen and read
    from its text alone (nothing on disk, no registry), so the same text gives the same spec.
    An invalid text raises every time (an error is not remembered).
    """
    return _load_spec(yaml_text, path, first_line)


@lru_cache(maxsize=64)
def _load_spec(yaml_text: str, path: str | None, first_line: int) -> Spec:
    data, lines = read_yaml(yaml_text, path=path, first_line=first_line, what="front matter")
    if data is None:
        raise SpecError(
            "the front matter is empty", path=path, line=first_line, hint="a spec needs at least id, title and model"
        )
    if not isinstance(data, dict):
        raise SpecError(f"the front matter must be a mapping of keys, got {kind_of(data)}", path=path, line=first_line)
    try:
        return Spec.model_validate(data, context={"lines": lines, "path": path})
    except ValidationError as exc:
        # The first problem in the file, but a missing key last: a misspelled key often is why
        # a required one is missing, and `titel: unknown key. did you mean 'title'?` says both.
        errors = exc.errors()
        problems = [
            _misplaced(*explain(e, Spec)) if e["type"] == "extra_forbidden" else explain(e, Spec) for e in errors
        ]
        ranked = [problem + (e["type"] == "missing",) for problem, e in zip(problems, errors)]
        ranked.sort(key=lambda p: (p[3], line_at(lines, p[0]) or 0))
        found: list[ResearchError] = [
            SpecError(message, path=path, line=line_at(lines, loc), key=dotted(loc), hint=hint)
            for loc, message, hint, _ in ranked
        ]
        found[0].also = found[1:]
        raise found[0] from None
