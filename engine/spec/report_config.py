"""How a report shows a run: binned tables, figures, decision rules, key numbers, bootstrap.

These sections decide what is rendered from the trials' results, never the results themselves:
they are not in a trial's cache key.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any, Literal, Optional

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from engine.errors import did_you_mean

from .explain import Invalid, show
from .vocabulary import BIN_PARAMS, Frozen, Param, metric_key, metric_list, param_name, relative_path

class Binned(Frozen):
    """A table of one metric binned by a parameter: fixed `edges`, or bins of `width`."""

    metric: str = Field(
        description="'<metric>.<target>', e.g. 'bias.log_g'; or 'extra.<name>', the mean per bin of a "
        "per-spectrum value a model reports, e.g. 'extra.gate_entropy' of a moe."
    )
    by: Param = Field(description="The parameter to bin by: log_g, T_eff, Fe_H, mag or snr (M_H reads as Fe_H).")
    edges: Optional[list[float]] = Field(None, min_length=2, description="Bin edges, strictly increasing.")
    width: Optional[PositiveFloat] = Field(None, description="Bin width, from the data's range.")
    min_n: PositiveInt = Field(
        30, description="Bins with fewer spectra are shown in parentheses but left out of the spread, of what "
        "rules read (NaN there) and of the figure's line (drawn hollow)."
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
        value = param_name(value)
        if isinstance(value, str) and value not in BIN_PARAMS:
            raise Invalid(
                f"expected one of {', '.join(BIN_PARAMS)}, got {show(value)}", hint=did_you_mean(value, BIN_PARAMS)
            )
        return value

    @field_validator("edges")
    @classmethod
    def _increasing(cls, value: Optional[list[float]]) -> Optional[list[float]]:
        if value is not None:
            for i in range(1, len(value)):
                if not value[i] > value[i - 1]:
                    raise Invalid(
                        f"edges must be strictly increasing, but {value[i]} follows {value[i - 1]}", loc=(i,)
                    )
        return value

    @model_validator(mode="after")
    def _edges_or_width(self) -> "Binned":
        if (self.edges is None) == (self.width is None):
            raise Invalid("give exactly one of edges or width")
        return self


class Figure(Frozen):
    """A figure the run draws and links from the report."""

    kind: Literal["bar", "binned", "pred_vs_true", "sweep"] = Field(
        description="bar: metrics per trial; binned: a binned table as a plot; pred_vs_true: a scatter "
        "of one trial; sweep: the primary metric against a swept parameter."
    )
    file: str = Field(description="Output path relative to the report, ending in .png or .svg.")
    metrics: Optional[list[str]] = Field(None, description="For bar: the metrics to show (default: all).")
    binned: Optional[NonNegativeInt] = Field(None, description="For binned: index into `binned`.")
    trial: Optional[str] = Field(None, description="For pred_vs_true: the trial (default: the best).")
    param: Optional[str] = Field(None, description="For sweep: the dotted key on the x axis, e.g. 'train.lr'.")
    caption: Optional[str] = Field(None, description="Caption under the image.")

    @field_validator("file")
    @classmethod
    def _file(cls, value: str) -> str:
        relative_path(value, "image")
        if PurePosixPath(value.lower()).suffix not in (".png", ".svg"):
            raise Invalid(f"expected a .png or .svg file, got '{value}'")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return None if value is None else metric_list(value)

    @model_validator(mode="after")
    def _needs(self) -> "Figure":
        if self.kind == "binned" and self.binned is None:
            raise Invalid("a binned figure needs `binned: <index into binned>`", loc=("kind",))
        if self.kind == "sweep" and not self.param:
            raise Invalid("a sweep figure needs `param: <dotted key>`, e.g. train.lr", loc=("kind",))
        return self


class Rule(Frozen):
    """A decision rule: `{when, verdict, says}`, or the fallback `{otherwise: <verdict>, says}`."""

    when: Optional[str] = Field(None, description="Sandboxed expression over trials, best, baseline and ci.")
    verdict: Optional[str] = Field(None, min_length=1, description="The verdict when `when` holds, e.g. pass.")
    otherwise: Optional[str] = Field(None, min_length=1, description="The verdict when no rule above holds.")
    says: str = Field(
        description="One line for the report's summary and the hub; `{{ expression }}` inserts a number, "
        "e.g. 'MAE down {{ (1 - best.mae.log_g / baseline.mae.log_g) * 100 | round(1) }} %'."
    )
    answers: dict[str, str] = Field(
        default_factory=dict,
        description="Per hub question (an id of `answers:`), the one-line answer this verdict gives, "
        "with `{{ expression }}` as in says; a question not listed gets `says`.",
    )

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
        return self.verdict if self.otherwise is None else self.otherwise  # type: ignore[return-value]


class Decision(Frozen):
    """How the run's results become a verdict: the first rule that holds."""

    baseline: Optional[str] = Field(None, description="The trial that `baseline` refers to in expressions.")
    references: list[str] = Field(
        default_factory=list,
        description="Trials that are yardsticks, not candidates (a Fisher ceiling, an oracle): never `best`.",
    )
    rules: list[Rule] = Field(default_factory=list, description="Tried in order; `otherwise` goes last.")

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

    n: PositiveInt = Field(1000, description="Resamples.")
    seed: int = Field(0, description="Seed of the resampling.")


class Reproduce(Frozen):
    """When a trial that ran before runs again (a fresh clone, --force, another machine), how far
    its metrics may move from the report's record and still count as the same result."""

    tolerance: PositiveFloat = Field(
        0.25,
        description="The largest change of a metric, in bootstrap standard errors of the recorded value, "
        "that reproduces it (floating-point differences between machines move numbers by ~0.01–0.1).",
    )
    metrics: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="A tolerance per metric, e.g. {mae.log_g: 0.5}, instead of `tolerance`."
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
