"""How a report shows a run: binned tables, figures, decision rules, key numbers, bootstrap.

These sections decide what is rendered from the trials' results, never the results themselves:
they are not in a trial's cache key.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, Literal, NamedTuple, Optional, Union

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from engine.errors import did_you_mean
from engine.text.marks import question_verdict

from .explain import Invalid, show
from .vocabulary import (
    BIN_PARAMS,
    TARGETS,
    Frozen,
    Param,
    is_info,
    metric_key,
    metric_list,
    param_name,
    relative_path,
)


class Axis(NamedTuple):
    """One parameter a binned table bins by, with its edges (or width) and its bins' names."""

    by: str
    edges: Optional[list[float]]
    width: Optional[float]
    names: Optional[list[str]]


class Binned(Frozen):
    """A table of one metric in bins of one parameter, or in the cells of two (`by: [T_eff, Fe_H]`).

    One-way: `{metric: bias.log_g, by: T_eff, edges: [3750, 4500, 5250, 6000]}`. Two-way: edges,
    width and names are given per parameter, and each cell is named by its bins' names::

        {metric: r2.log_g, by: [T_eff, Fe_H], name: cells,
         edges: {T_eff: [3750, 4500, 5250, 6000], Fe_H: [-1, -0.67, -0.33, 0]},
         names: {T_eff: [Cool, Warm, Hot], Fe_H: [Metal-poor, Intermediate, Metal-rich]},
         delta: baseline}                     # → cells "Cool Metal-poor" … "Hot Metal-rich", Δ columns
    """

    metric: str = Field(
        description="'<metric>.<target>', e.g. 'bias.log_g'; or 'extra.<name>', the mean per bin of a "
        "per-spectrum value a model reports, e.g. 'extra.gate_entropy' of a moe."
    )
    by: Union[Param, list[Param]] = Field(
        description="The parameter to bin by (log_g, T_eff, Fe_H, mag or snr; M_H reads as Fe_H), or two of them "
        "for a table of cells."
    )
    edges: Optional[Union[list[float], dict[Param, list[float]]]] = Field(
        None, description="Bin edges, strictly increasing; for two parameters, edges per parameter."
    )
    width: Optional[Union[PositiveFloat, dict[Param, PositiveFloat]]] = Field(
        None, description="Bin width, from the data's range; for two parameters, per parameter."
    )
    names: Optional[Union[list[str], dict[Param, list[str]]]] = Field(
        None,
        description="A name per bin (per parameter for two): rows are named by them, a cell by its bins' "
        "names joined ('Hot Metal-poor'), and rules read `binned['<table name>']['<bin name>']['<trial>']`.",
    )
    name: Optional[str] = Field(None, min_length=1, description="The table's name in rules: `binned['cells']`.")
    delta: Optional[str] = Field(
        None,
        description="Show each trial's difference from this trial ('baseline' for decision.baseline) in "
        "every bin, with a paired bootstrap 95 % interval.",
    )
    trials: Optional[list[str]] = Field(
        None, min_length=1, description="The trials shown, in this order (default: all)."
    )
    min_n: PositiveInt = Field(
        30,
        description="Bins with fewer spectra are shown in parentheses but left out of the spread, of what "
        "rules read (NaN there) and of the figure's line (drawn hollow).",
    )

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, value: str) -> str:
        if isinstance(value, str) and re.fullmatch(r"extra\.[A-Za-z_]\w*", value):
            return value
        return metric_key(value)

    @field_validator("by", mode="before")
    @classmethod
    def _by(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            item = param_name(item)
            if isinstance(item, str) and item not in BIN_PARAMS:
                raise Invalid(
                    f"expected one of {', '.join(BIN_PARAMS)}, got {show(item)}",
                    loc=(i,) if isinstance(value, list) else (),
                    hint=did_you_mean(item, BIN_PARAMS),
                )
            out.append(item)
        if isinstance(value, list):
            if not 1 <= len(out) <= 2:
                raise Invalid(f"bin by one parameter or by two, got {len(out)}")
            if len(set(out)) != len(out):
                raise Invalid("the two parameters must differ")
            return out
        return out[0]

    @field_validator("edges", "width", "names", mode="before")
    @classmethod
    def _per_parameter(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {param_name(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _shape(self) -> "Binned":
        params = self.parameters
        for field in ("edges", "width", "names"):
            value = getattr(self, field)
            if isinstance(value, dict):
                extra = [k for k in value if k not in params]
                if extra:
                    raise Invalid(
                        f"{field} names '{extra[0]}', which this table does not bin by ({', '.join(params)})",
                        loc=(field, extra[0]),
                    )
            elif value is not None and len(params) == 2:
                raise Invalid(
                    f"a table of two parameters takes {field} per parameter, e.g. {{{params[0]}: …, {params[1]}: …}}",
                    loc=(field,),
                )
        for axis in self.axes:
            if (axis.edges is None) == (axis.width is None):
                raise Invalid(f"give exactly one of edges or width for {axis.by}", loc=("edges",))
            if axis.edges is not None:
                if len(axis.edges) < 2:
                    raise Invalid(f"{axis.by} needs at least two edges", loc=("edges",))
                for i in range(1, len(axis.edges)):
                    if not axis.edges[i] > axis.edges[i - 1]:
                        where = ("edges", axis.by, i) if isinstance(self.edges, dict) else ("edges", i)
                        raise Invalid(
                            f"edges must be strictly increasing, but {axis.edges[i]} follows {axis.edges[i - 1]}",
                            loc=where,
                        )
            if axis.names is not None:
                if axis.edges is None:
                    raise Invalid("names need edges (bins of a width are known only from the data)", loc=("names",))
                if len(axis.names) != len(axis.edges) - 1:
                    raise Invalid(
                        f"{len(axis.names)} names for {len(axis.edges) - 1} bins of {axis.by}", loc=("names",)
                    )
        return self

    @property
    def parameters(self) -> list[str]:
        return list(self.by) if isinstance(self.by, list) else [self.by]

    @property
    def axes(self) -> list[Axis]:
        def pick(value, param):
            return value.get(param) if isinstance(value, dict) else value

        return [Axis(p, pick(self.edges, p), pick(self.width, p), pick(self.names, p)) for p in self.parameters]

    @property
    def n_bins(self) -> Optional[int]:
        """The number of bins (cells), when the edges are given."""
        count = 1
        for axis in self.axes:
            if axis.edges is None:
                return None
            count *= len(axis.edges) - 1
        return count


#: The figure kinds a spec's `figures:` accepts, each with what it shows: the one list of their names.
#: What each draws, captions and says is registered under the same name in
#: `engine.render.figure_kinds.KINDS` (render ranks above spec, so it is never imported here);
#: tests/test_figure_kinds.py holds the two to the same kinds.
FIGURE_KINDS = {
    "bar": "metrics per trial",
    "binned": "a binned table as lines (style: bars for bars per bin)",
    "binned_delta": "each trial's Δ from the table's reference in every bin, with its interval",
    "pred_vs_true": "predicted against true values of one trial",
    "sweep": "the primary metric (or `y:`, a metric or an info value) against a swept parameter (`param:`)",
    "line": "a metric (or `y:`, a metric or an info value) against one swept key (`x:`), one line per value of "
    "another (`group:`): α × N",
    "weights": "the distribution of a MoE gate's weight on each expert (extra.gate_weights)",
    "bootstrap": "the paired bootstrap distribution of each trial's Δ from `against`, with its interval",
    "heatmap": "a per-spectrum extra (e.g. gate_entropy) against a parameter (e.g. snr), one panel per trial",
    "ablation": "each trial's Δ of a metric from `against`, with its paired bootstrap interval",
    "curves": "training curves of the nets: `series` (default val_loss) against epoch, one line per trial",
}

#: What a curves figure can draw from a trial's `info.curves`, besides `val_r2.<target>`.
CURVE_SERIES = ("val_loss", "train_loss", "lr")

#: A sweep or line figure's `y: info.<key>[.<key>…]`, or a results-table column of `metrics:`: a
#: path into what each trial's model reported.
INFO_PATH = re.compile(r"info(\.[A-Za-z_][A-Za-z0-9_\-]*)+")


def info_key(value: str) -> str:
    """An `info.` path, whose keys only a trained model knows — checked for its form alone, a
    target named by an alias read as the target (info.alpha.M_H → info.alpha.Fe_H, as the models
    key their per-target values). One check for a figure's `y:` and a column of `metrics:`."""
    if not INFO_PATH.fullmatch(value):
        raise Invalid(
            f"expected info.<key>, a value each trial's model reports, got {show(value)}",
            hint="e.g. info.best_epoch, info.n_params or info.alpha.log_g",
        )
    head, *rest = value.split(".")[1:]
    return ".".join(["info", head, *(str(param_name(part)) for part in rest)])


class Figure(Frozen):
    """A figure the run draws and links from the report; `trials:` chooses and orders what it shows."""

    kind: Literal[tuple(FIGURE_KINDS)] = Field(  # type: ignore[valid-type]  # the kinds' registry, read at runtime
        description="; ".join(f"{k}: {v}" for k, v in FIGURE_KINDS.items()) + "."
    )
    file: str = Field(description="Output path relative to the report, ending in .png, .svg or .pdf.")
    format: Optional[Literal["png", "svg", "pdf"]] = Field(
        None, description="The image format; the file's suffix must say the same (default: the suffix's)."
    )
    trials: Optional[list[str]] = Field(
        None, min_length=1, description="The trials shown, in this order (default: all)."
    )
    metrics: Optional[list[str]] = Field(
        None, description="For bar: the metrics to show (default: every metric of `metrics:`, its info columns aside)."
    )
    metric: Optional[str] = Field(
        None, description="For bootstrap, ablation and line: the metric (default: the primary)."
    )
    binned: Optional[Union[NonNegativeInt, str]] = Field(
        None, description="For binned and binned_delta: the binned table, by index or by its `name`."
    )
    style: Literal["lines", "bars"] = Field("lines", description="For binned: lines through the bins, or bars per bin.")
    trial: Optional[str] = Field(None, description="For pred_vs_true: the trial (default: the best).")
    against: Optional[str] = Field(
        None, description="For bootstrap and ablation: the trial Δ is taken from (default: the baseline)."
    )
    extra: Optional[str] = Field(
        None, description="For heatmap: the per-spectrum extra on the y axis, e.g. gate_entropy."
    )
    by: Optional[Param] = Field(None, description="For heatmap: the parameter on the x axis, e.g. snr.")
    param: Optional[str] = Field(None, description="For sweep: the dotted key on the x axis, e.g. 'train.lr'.")
    x: Optional[str] = Field(None, description="For line: the dotted key on the x axis, e.g. data.n_train.")
    group: Optional[str] = Field(
        None, description="For line: the dotted key with one line per value, e.g. model.alpha."
    )
    y: Optional[str] = Field(
        None,
        description="For sweep and line: what the y axis shows — a metric, e.g. mae.log_g (default: the primary "
        "metric; for line, `metric:` when given), or info.<key>, a number each trial's model reported, e.g. "
        "info.alpha.log_g (a ridge's chosen α for log g), info.best_epoch, info.n_params, info.receptive_field. "
        "A trial with no number there is left out and named in the caption.",
    )
    series: Optional[str] = Field(
        None,
        description="For curves: what is drawn against epoch, val_loss (default; the training loss dashed "
        "beside it), train_loss, lr or val_r2.<target> (R² on the validation split).",
    )
    caption: Optional[str] = Field(None, description="Caption under the image.")
    labels: Optional[dict[str, str]] = Field(
        None,
        description="Axis labels by quantity key, over the built-in ones, e.g. {mae.log_g: 'MAE of log g [dex]', "
        "snr: 'S/N per pixel'}.",
    )

    @field_validator("file")
    @classmethod
    def _file(cls, value: str) -> str:
        relative_path(value, "image")
        if PurePosixPath(value.lower()).suffix not in (".png", ".svg", ".pdf"):
            raise Invalid(f"expected a .png, .svg or .pdf file, got '{value}'")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return None if value is None else metric_list(value)

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else metric_key(value)

    @field_validator("by", mode="before")
    @classmethod
    def _by(cls, value: Any) -> Any:
        return param_name(value)

    @field_validator("y")
    @classmethod
    def _y(cls, value: Optional[str]) -> Optional[str]:
        """A metric, checked as every metric is; or an `info.` path (`info_key`)."""
        if value is None:
            return None
        if is_info(value):
            return info_key(value)
        try:
            return metric_key(value)
        except Invalid as exc:
            raise Invalid(
                exc.message, hint=exc.hint or "or info.<key>, a value each trial's model reports, e.g. info.best_epoch"
            ) from None

    @field_validator("series")
    @classmethod
    def _series(cls, value: Optional[str]) -> Optional[str]:
        if value is None or value in CURVE_SERIES:
            return value
        name, dot, target = value.partition(".")
        if name == "val_r2" and dot:
            target = param_name(target)
            if target not in TARGETS:
                raise Invalid(
                    f"unknown target '{target}' in '{value}'; targets are {', '.join(TARGETS)}",
                    hint=did_you_mean(target, TARGETS),
                )
            return f"val_r2.{target}"
        choices = [*CURVE_SERIES, *(f"val_r2.{t}" for t in TARGETS)]
        raise Invalid(
            f"expected one of {', '.join(CURVE_SERIES)} or val_r2.<target>, got {show(value)}",
            hint=did_you_mean(value, choices),
        )

    @model_validator(mode="after")
    def _needs(self) -> "Figure":
        if self.kind in ("binned", "binned_delta") and self.binned is None:
            raise Invalid(f"a {self.kind} figure needs `binned: <index or name of a binned table>`", loc=("kind",))
        if self.kind == "line" and not (self.x and self.group):
            raise Invalid(
                "a line figure needs `x: <dotted key>` and `group: <dotted key>`, e.g. x: data.n_train, "
                "group: model.alpha",
                loc=("kind",),
            )
        if self.kind == "sweep" and not self.param:
            raise Invalid("a sweep figure needs `param: <dotted key>`, e.g. train.lr", loc=("kind",))
        if self.y is not None and self.kind not in ("sweep", "line"):
            raise Invalid(
                f"`y:` is for sweep and line figures, not {self.kind}",
                loc=("y",),
                hint="a bar figure takes `metrics:`, bootstrap and ablation `metric:`",
            )
        if self.y is not None and self.metric is not None and self.kind == "line":
            raise Invalid(
                "give the line figure's y axis once: `y:` (a metric or info.<key>) or `metric:`, not both",
                loc=("metric",),
            )
        suffix = PurePosixPath(self.file.lower()).suffix.lstrip(".")
        if self.format is not None and self.format != suffix:
            raise Invalid(
                f"format {self.format} but the file '{self.file}' ends in .{suffix}; name it "
                f"'{PurePosixPath(self.file).with_suffix('.' + self.format)}' or drop `format:`",
                loc=("format",),
            )
        if self.kind == "heatmap" and not (self.extra and self.by):
            raise Invalid(
                "a heatmap needs `extra: <name>` and `by: <parameter>`, e.g. extra: gate_entropy, by: snr",
                loc=("kind",),
            )
        return self

    @property
    def image_format(self) -> str:
        """png, svg or pdf: what the file holds (the validator keeps `format` and the suffix one)."""
        return self.format or PurePosixPath(self.file.lower()).suffix.lstrip(".")


class Comparison(Frozen):
    """A pair of trials compared on the same test rows: `a` − `b`, with a paired bootstrap interval."""

    a: str = Field(description="The trial whose metric the other's is taken from.")
    b: str = Field(description="The trial it is compared with.")
    metrics: Optional[list[str]] = Field(None, description="The metrics compared (default: the primary).")

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return None if value is None else metric_list(value)


class Answer(Frozen):
    """A rule's answer to one hub question: `{verdict: refuted, says: "metadata alone: R² ≈ 0"}`.

    The question's own verdict, apart from the report's: an experiment can succeed (its rule
    holds) by showing that the answer to a question is no."""

    verdict: Literal["verified", "refuted", "inconclusive", "open"] = Field(
        description="verified ✅ (yes), refuted ❌ (no), inconclusive 🟡, or open 🔆 (not settled by this run)."
    )
    says: Optional[str] = Field(
        None, description="The one-line answer, with `{{ expression }}` as in says; default: the rule's says."
    )


def implication_text(value: Any) -> Any:
    """An `implication:` (the report's, or a rule's): one line of plain words. Nothing fills a
    `{{ … }}` in it — it is the design consequence a person draws, not a measurement — so one is
    refused here rather than shown raw on the hub."""
    if isinstance(value, str):
        if not value.strip():
            raise Invalid("expected the design implication in words, got an empty text")
        if "{{" in value:
            raise Invalid(
                f"an implication holds no `{{{{ … }}}}`, got {show(value)}",
                hint="say the numbers in `says:`; the implication is what to build because of them",
            )
        return " ".join(value.split())
    return value


class Rule(Frozen):
    """A decision rule: `{when, verdict, says}`, or the fallback `{otherwise: <verdict>, says}`."""

    when: Optional[str] = Field(None, description="Sandboxed expression over trials, best, baseline and ci.")
    verdict: Optional[str] = Field(None, min_length=1, description="The verdict when `when` holds, e.g. pass.")
    otherwise: Optional[str] = Field(None, min_length=1, description="The verdict when no rule above holds.")
    says: str = Field(
        description="One line for the report's summary and the hub; `{{ expression }}` inserts a number, "
        "e.g. 'MAE down {{ (1 - best.mae.log_g / baseline.mae.log_g) * 100 | round(1) }} %'."
    )
    answers: dict[str, Union[str, Answer]] = Field(
        default_factory=dict,
        description="Per hub question (an id of `answers:`), the one-line answer this verdict gives, "
        "with `{{ expression }}` as in says — or `{verdict: verified|refuted|inconclusive|open, says: …}` to give "
        "that question its own verdict. A question not listed gets `says`, and a question without its own verdict "
        "is verified when the rule's verdict is pass (or yes), refuted when it is fail (or no), else inconclusive.",
    )
    implication: Optional[str] = Field(
        None,
        description="The design implication when this rule decides, in words: 'make multi-task the default' on a "
        "pass rule, 'keep single-task' on the fail rule. It takes the place of the report's own `implication:` in "
        "`research digest` and in the hub's 'so what' column of the questions the report settles. Part of the "
        "decision, so editing it makes the report stale (a re-run with every trial cached).",
    )

    @field_validator("implication", mode="before")
    @classmethod
    def _implication(cls, value: Any) -> Any:
        return implication_text(value)

    @model_validator(mode="after")
    def _shape(self) -> "Rule":
        if self.when is None and self.otherwise is None:
            raise Invalid("a rule needs `when:` and `verdict:`, or `otherwise: <verdict>`")
        if self.when is not None and self.otherwise is not None:
            raise Invalid("a rule has either `when:` or `otherwise:`, not both", loc=("otherwise",))
        if self.when is not None and self.verdict is None:
            raise Invalid("a `when:` rule needs a `verdict:`", loc=("when",))
        if self.otherwise is not None and self.verdict is not None:
            raise Invalid("write the verdict as `otherwise: <verdict>`, without `verdict:`", loc=("verdict",))
        return self

    @property
    def outcome(self) -> str:
        """The verdict this rule gives."""
        outcome = self.verdict if self.otherwise is None else self.otherwise
        assert outcome is not None  # the validator above refuses a rule with neither
        return outcome

    def answer_text(self, qid: str) -> str:
        """The text (with its `{{ … }}`) this rule answers question `qid` with: its own, or says."""
        given = self.answers.get(qid)
        if isinstance(given, Answer):
            return given.says if given.says is not None else self.says
        return given if given is not None else self.says

    def answer_verdict(self, qid: str) -> str:
        """verified, refuted, inconclusive or open: what this rule says of question `qid`."""
        given = self.answers.get(qid)
        if isinstance(given, Answer):
            return given.verdict
        return question_verdict(self.outcome)


class Decision(Frozen):
    """How the run's results become a verdict: the first rule that holds."""

    baseline: Optional[str] = Field(default=None, description="The trial that `baseline` refers to in expressions.")
    references: list[str] = Field(
        default_factory=list,
        description="Trials that are yardsticks, not candidates (a Fisher ceiling, an oracle): never `best`.",
    )
    rules: list[Rule] = Field(default_factory=list, description="Tried in order; `otherwise` goes last.")
    confidence: float = Field(
        default=0.95,
        gt=0.5,
        lt=1.0,
        description="A rule decides when it is the first to hold in at least this share of the joint bootstrap "
        "resamples (test rows and seeds); when no rule does, the verdict is inconclusive.",
    )

    @field_validator("rules")
    @classmethod
    def _otherwise_last(cls, rules: list[Rule]) -> list[Rule]:
        for i, rule in enumerate(rules):
            if rule.otherwise is not None and i != len(rules) - 1:
                raise Invalid("`otherwise` must be the last rule", loc=(i, "otherwise"))
        return rules


class KeyNumber(Frozen):
    """A row of the report's key-numbers table."""

    label: str = Field(min_length=1, description="What the number is, as shown in the table.")
    value: str = Field(description="Sandboxed expression, e.g. 'trials.single-task.mae.log_g'.")
    format: Optional[str] = Field(None, description="Python format spec such as '.4f' or '.1%'.")

    @field_validator("format")
    @classmethod
    def _format(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            try:
                format(0.5, value)
            except (ValueError, TypeError) as exc:
                raise Invalid(f"not a number format ({exc}); use e.g. '.4f' or '.1%'") from None
        return value


class Bootstrap(Frozen):
    """Bootstrap confidence intervals of the metrics."""

    n: PositiveInt = Field(default=1000, description="Resamples.")
    seed: int = Field(default=0, description="Seed of the resampling.")


class Reproduce(Frozen):
    """When a trial that ran before runs again (a fresh clone, --retrain, another machine), how far
    its metrics may move from the report's record and still count as the same result — judged by
    the right yardstick: a repeated trial's by its training noise, a closed form's by the
    test-set error (see `engine.run.reproduce`)."""

    false_alarm: float = Field(
        default=0.01,
        gt=0,
        lt=0.5,
        description="Repeated trials of a seeded model: the chance that a correct re-run (another seed draw, another "
        "CPU) is called not reproduced, shared by every metric of every repeated trial of the report. Each metric's "
        "change is held to the spread of its seed mean (a t test over the recorded and the new seeds).",
    )
    unmeasured: PositiveFloat = Field(
        default=0.05,
        description="A seeded model run once (its training noise not measured): the largest change, as a fraction of "
        "the metric's error (the MAE or RMSE itself, 1 − R², the MAE for a bias), that reproduces it.",
    )
    tolerance: PositiveFloat = Field(
        default=0.25,
        description="Closed forms (Ridge, the Fisher ceiling, a model no seed changes): the largest change of a metric, "
        "in bootstrap standard errors of the recorded value, that reproduces it (floating-point differences between "
        "machines move them by ~0.01–0.1).",
    )
    metrics: dict[str, PositiveFloat] = Field(
        default_factory=dict,
        description="For closed forms: a tolerance per metric, e.g. {mae.log_g: 0.5}, instead of `tolerance`.",
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_keys(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, tolerance in value.items():
            try:
                out[metric_key(key)] = tolerance
            except Invalid as exc:
                raise Invalid(exc.message, loc=(key,), hint=exc.hint) from None
        return out
