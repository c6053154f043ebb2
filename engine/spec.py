"""The spec: an experiment report's YAML front matter, as typed, frozen objects.

    spec = load_spec(front_matter_text, path="exp.md", first_line=2)
    for trial in spec.resolve_trials():
        trial.name, trial.config          # "single-task", {"data": {...}, "noise": ..., ...}

Everything a user can get wrong is a `SpecError` located at the real line of the markdown file,
naming the dotted key, what was expected and, for a misspelled key, what they probably meant::

    exp.md:14: train.lrr: unknown key. did you mean 'lr'?

The YAML is read by `engine.safe_yaml` (safe tags only, alias bombs refused, a line for every
key), then validated by the pydantic models below.

Trials are the sweep: each trial overrides the base spec's `data`, `noise`, `model` and
`train` by dotted keys. An override *replaces* the value at its key (a mapping value replaces
the whole mapping there); missing mappings on the way are created.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from types import UnionType
from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.errors import ExpressionError, SpecError, did_you_mean
from engine.expressions import EXPRESSION_NAMES, Expression, compile_expression, placeholders
from engine.safe_yaml import Loc, read_yaml

__all__ = [
    "BIN_PARAMS",
    "METRICS",
    "TARGETS",
    "TRAINING_SECTIONS",
    "Spec",
    "Trial",
    "load_spec",
    "parse_metric",
    "parse_set_option",
    "spec_line",
    "spec_schema",
]

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

Target = Literal["log_g", "T_eff", "Fe_H"]
Param = Literal["log_g", "T_eff", "Fe_H", "mag", "snr"]
MetricName = Literal["r2", "mae", "rmse", "bias"]

TARGETS: tuple[str, ...] = get_args(Target)
#: Parameters a selection or a binned table can use (the targets, magnitude and SNR).
BIN_PARAMS: tuple[str, ...] = get_args(Param)
METRICS: tuple[str, ...] = get_args(MetricName)
#: Other names the user's data uses for a parameter.
PARAM_ALIASES = {"M_H": "Fe_H"}
#: The sections of a spec that define a training run; trials override only these.
TRAINING_SECTIONS: tuple[str, ...] = ("data", "noise", "model", "train")
#: Top-level keys that describe the document, not a run.
METADATA_KEYS: tuple[str, ...] = (
    "id", "title", "topic", "mvp", "author", "date", "status", "last_run",
    "hub", "roadmap", "kanban", "answers",
)  # fmt: skip


_TRIAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")
_REGISTRY_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PLUGIN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")



class _Invalid(ValueError):
    """A validator's complaint, with the part of the location pydantic cannot know (`loc`)."""

    def __init__(self, message: str, *, loc: Loc = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = tuple(loc)
        self.hint = hint


def _param(value: Any) -> Any:
    return PARAM_ALIASES.get(value, value) if isinstance(value, str) else value


def _known_param(key: Any, choices: tuple[str, ...] = BIN_PARAMS, what: str = "parameter") -> str:
    """A parameter name used as a mapping key (`M_H` read as `Fe_H`), or a located complaint."""
    name = _param(key)
    if name not in choices:
        raise _Invalid(
            f"unknown {what} '{key}'; {what}s are {', '.join(choices)}",
            loc=(key,),
            hint=did_you_mean(str(key), choices),
        )
    return name


def parse_metric(text: str) -> tuple[str, str]:
    """`'mae.log_g'` → `('mae', 'log_g')`; `M_H` is read as `Fe_H`. Raises ValueError."""
    if not isinstance(text, str):
        raise _Invalid(f"expected '<metric>.<target>' like 'mae.log_g', got {_show(text)}")
    metric, dot, target = text.partition(".")
    if not dot or not metric or not target:
        raise _Invalid(f"expected '<metric>.<target>' like 'mae.log_g', got {_show(text)}")
    if metric not in METRICS:
        raise _Invalid(
            f"unknown metric '{metric}' in '{text}'; metrics are {', '.join(METRICS)}",
            hint=did_you_mean(metric, METRICS),
        )
    target = _param(target)
    if target not in TARGETS:
        raise _Invalid(
            f"unknown target '{target}' in '{text}'; targets are {', '.join(TARGETS)}",
            hint=did_you_mean(target, TARGETS),
        )
    return metric, target


def _metric(value: Any) -> str:
    metric, target = parse_metric(value)
    return f"{metric}.{target}"


def _as_list(value: Any) -> Any:
    """Let a single item stand for a one-item list (`apply: train`)."""
    return [value] if isinstance(value, str) else value


def _unique(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise _Invalid(f"{what} '{value}' is listed twice", loc=(i,))
        seen.add(value)
    return values


def _relative_path(value: Any, what: str) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise _Invalid(f"expected a relative path to the {what}, got an empty string")
        if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
            raise _Invalid(f"expected a path relative to this file, got the absolute path '{value}'")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# ---------------------------------------------------------------------------------------------
# The training run: data, noise, model, train
# ---------------------------------------------------------------------------------------------


class Selection(_Frozen):
    """Which spectra of a source to use. Filters apply in order: ranges, SNR, then first/random."""

    first: Optional[PositiveInt] = Field(None, description="Keep the first N spectra.")
    random: Optional[PositiveInt] = Field(None, description="Keep N spectra drawn at random (seeded).")
    seed: Optional[int] = Field(None, description="Seed of `random`; defaults to `data.seed`.")
    snr_top_frac: Optional[float] = Field(
        None, gt=0, le=1, description="Keep the fraction of spectra with the highest SNR, in (0, 1]."
    )
    ranges: dict[Param, list[float]] = Field(
        default_factory=dict,
        description="Keep spectra whose parameter lies in [lo, hi], e.g. {T_eff: [3750, 6000]}.",
    )

    @field_validator("ranges", mode="before")
    @classmethod
    def _ranges(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, bounds in value.items():
            name = _known_param(key)
            if not (isinstance(bounds, list) and len(bounds) == 2):
                raise _Invalid(f"expected [lo, hi], got {_show(bounds)}", loc=(key,))
            lo, hi = bounds
            if all(_is_number(b) for b in bounds) and not lo < hi:
                raise _Invalid(f"expected lo < hi, got [{lo}, {hi}]", loc=(key,))
            out[name] = bounds
        return out

    @model_validator(mode="after")
    def _one_count(self) -> "Selection":
        if self.first is not None and self.random is not None:
            raise _Invalid("give either first or random, not both", loc=("random",))
        return self


class DataKeys(_Frozen):
    """Dataset names inside the HDF5 shards, when they differ from the defaults."""

    flux: str = Field("flux", description="Dataset of the fluxes, N x pixels.")
    error: str = Field("error", description="Dataset of the per-pixel errors, N x pixels.")
    wave: str = Field("wave", description="Dataset of the wavelength grid, pixels.")
    params: dict[Param, str] = Field(
        default_factory=dict,
        description="Parameter → dataset name, e.g. {Fe_H: M_H}; a parameter not listed is read from its own name.",
    )

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, name in value.items():
            out[_known_param(key)] = name
        return out


class DataSpec(_Frozen):
    """Where the spectra come from and which labels are predicted."""

    source: str = Field(
        "synthetic",
        min_length=1,
        description="'synthetic' (the embedded generator, cached on first use), or an HDF5 path, "
        "glob or brace pattern such as 'train_200k_{0..4}/dataset.h5'.",
    )
    test_source: Optional[str] = Field(
        None, min_length=1, description="Separate test shards; when absent the test set is split from `source`."
    )
    n_train: Optional[PositiveInt] = Field(None, description="Number of training spectra (all when absent).")
    n_val: Optional[NonNegativeInt] = Field(
        None, description="Number of validation spectra; when absent `train.val_frac` of the training set."
    )
    n_test: Optional[PositiveInt] = Field(None, description="Number of test spectra.")
    targets: list[Target] = Field(
        default_factory=lambda: ["log_g"],
        min_length=1,
        description="Labels to predict, in order; M_H is read as Fe_H.",
    )
    select: Optional[Selection] = Field(None, description="Which training spectra to use.")
    test_select: Optional[Selection] = Field(None, description="Which test spectra to use, e.g. {snr_top_frac: 0.2}.")
    keys: DataKeys = Field(default_factory=DataKeys, description="Dataset names inside the HDF5 shards.")
    seed: int = Field(0, description="Seed of the synthetic generator and of the splits.")

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        value = _as_list(value)
        if isinstance(value, list):
            value = _unique([_param(v) for v in value], "target")
        return value


class NoiseSpec(_Frozen):
    """Noise added to the fluxes: flux + level · error · N(0, 1)."""

    level: float = Field(0.0, ge=0, description="Noise level; 0 adds no noise.")
    apply: list[Literal["train", "test"]] = Field(
        default_factory=lambda: ["train", "test"], description="Which splits get noise."
    )
    seed: int = Field(42, description="Seed of the noise draw.")
    redraw: bool = Field(False, description="Draw fresh training noise every epoch.")

    @field_validator("apply", mode="before")
    @classmethod
    def _apply(cls, value: Any) -> Any:
        value = _as_list(value)
        return _unique(value, "split") if isinstance(value, list) else value


class ModelSpec(BaseModel):
    """The model: `type` picks it from the registry; the other keys are its parameters."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    type: str = Field(
        description="A registry name such as 'ridge', 'lightgbm', 'mlp', 'cnn', 'vit', 'moe', "
        "or a plugin 'package.module:factory'. Other keys are the model's own parameters."
    )

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if _REGISTRY_NAME.fullmatch(value) or _PLUGIN.fullmatch(value):
            return value
        hint = None
        lowered = re.sub(r"[^a-z0-9_]", "_", value.strip().lower())
        if lowered != value and _REGISTRY_NAME.fullmatch(lowered):
            hint = f"did you mean '{lowered}'?"
        raise _Invalid(
            f"expected a registry name like 'mlp' or a plugin 'package.module:factory', got {_show(value)}",
            hint=hint,
        )

    @property
    def params(self) -> dict[str, Any]:
        """The model-specific parameters (every key but `type`)."""
        return dict(self.model_extra or {})


LossWeighting = Literal["equal", "inverse_variance", "uncertainty"]


class TrainSpec(_Frozen):
    """How to train (ignored by closed-form models where it does not apply)."""

    epochs: PositiveInt = Field(10, description="Training epochs.")
    batch_size: PositiveInt = Field(256, description="Mini-batch size.")
    lr: PositiveFloat = Field(1e-3, description="Learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    schedule: Literal["cosine", "plateau", "none"] = Field("cosine", description="Learning-rate schedule.")
    patience: Optional[PositiveInt] = Field(None, description="Early-stopping patience in epochs; none when absent.")
    val_frac: float = Field(0.1, gt=0, lt=1, description="Fraction of the training set held out for validation.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="'auto' uses a GPU when there is one.")
    seed: int = Field(42, description="Seed of initialisation and batching.")
    amp: bool = Field(True, description="Mixed precision on GPU.")
    stream_rows: Optional[PositiveInt] = Field(
        None,
        description="Nets: train from chunks of this many spectra, one in memory at a time (a training set larger "
        "than memory); absent: in memory when the flux fits in 4 GiB, else 65,536-row chunks.",
    )
    loss_weights: Union[LossWeighting, dict[Target, PositiveFloat]] = Field(
        "equal",
        description="Multi-task loss weighting: 'equal', 'inverse_variance', 'uncertainty' (learned), "
        "or a weight per target such as {log_g: 2, T_eff: 1, Fe_H: 1}.",
    )

    @field_validator("loss_weights", mode="before")
    @classmethod
    def _loss_weights(cls, value: Any) -> Any:
        choices = get_args(LossWeighting)
        if isinstance(value, str):
            if value not in choices:
                raise _Invalid(
                    f"expected one of {', '.join(repr(c) for c in choices)} or a weight per target, got {_show(value)}",
                    hint=did_you_mean(value, choices),
                )
            return value
        if not isinstance(value, Mapping):
            raise _Invalid(
                f"expected one of {', '.join(repr(c) for c in choices)} or a mapping of target to weight, got {_show(value)}"
            )
        out = {}
        for key, weight in value.items():
            target = _known_param(key, TARGETS, "target")
            if not _is_number(weight) or not weight > 0:
                raise _Invalid(f"expected a positive number, got {_show(weight)}", loc=(key,))
            out[target] = float(weight)
        return out


class TrialConfig(_Frozen):
    """One training run: the base spec's training sections with a trial's overrides applied."""

    data: DataSpec = Field(default_factory=DataSpec)
    noise: NoiseSpec = Field(default_factory=NoiseSpec)
    model: ModelSpec
    train: TrainSpec = Field(default_factory=TrainSpec)

    @model_validator(mode="after")
    def _weights_cover_targets(self) -> "TrialConfig":
        weights = self.train.loss_weights
        if isinstance(weights, dict):
            missing = [t for t in self.data.targets if t not in weights]
            if missing:
                raise _Invalid(
                    f"no weight for {', '.join(missing)} (data.targets is {', '.join(self.data.targets)})",
                    loc=("train", "loss_weights"),
                )
        return self


# ---------------------------------------------------------------------------------------------
# The report: metrics, tables, figures, decision
# ---------------------------------------------------------------------------------------------


class Binned(_Frozen):
    """A table of one metric binned by a parameter: fixed `edges`, or bins of `width`."""

    metric: str = Field(
        description="'<metric>.<target>', e.g. 'bias.log_g'; or 'extra.<name>', the mean per bin of a "
        "per-spectrum value a model reports, e.g. 'extra.gate_entropy' of a moe."
    )
    by: Param = Field(description="The parameter to bin by: log_g, T_eff, Fe_H, mag or snr (M_H reads as Fe_H).")
    edges: Optional[list[float]] = Field(None, min_length=2, description="Bin edges, strictly increasing.")
    width: Optional[PositiveFloat] = Field(None, description="Bin width, from the data's range.")

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, value: str) -> str:
        if isinstance(value, str) and re.fullmatch(r"extra\.[A-Za-z_]\w*", value):
            return value
        return _metric(value)

    @field_validator("by", mode="before")
    @classmethod
    def _by(cls, value: Any) -> Any:
        value = _param(value)
        if isinstance(value, str) and value not in BIN_PARAMS:
            raise _Invalid(
                f"expected one of {', '.join(BIN_PARAMS)}, got {_show(value)}", hint=did_you_mean(value, BIN_PARAMS)
            )
        return value

    @field_validator("edges")
    @classmethod
    def _increasing(cls, value: Optional[list[float]]) -> Optional[list[float]]:
        if value is not None:
            for i in range(1, len(value)):
                if not value[i] > value[i - 1]:
                    raise _Invalid(
                        f"edges must be strictly increasing, but {value[i]} follows {value[i - 1]}", loc=(i,)
                    )
        return value

    @model_validator(mode="after")
    def _edges_or_width(self) -> "Binned":
        if (self.edges is None) == (self.width is None):
            raise _Invalid("give exactly one of edges or width")
        return self


class Figure(_Frozen):
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
        _relative_path(value, "image")
        if PurePosixPath(value.lower()).suffix not in (".png", ".svg"):
            raise _Invalid(f"expected a .png or .svg file, got '{value}'")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return None
        out = []
        for i, item in enumerate(value):
            try:
                out.append(_metric(item))
            except _Invalid as exc:
                raise _Invalid(exc.message, loc=(i,), hint=exc.hint) from None
        return out

    @model_validator(mode="after")
    def _needs(self) -> "Figure":
        if self.kind == "binned" and self.binned is None:
            raise _Invalid("a binned figure needs `binned: <index into binned>`", loc=("kind",))
        if self.kind == "sweep" and not self.param:
            raise _Invalid("a sweep figure needs `param: <dotted key>`, e.g. train.lr", loc=("kind",))
        return self


class Rule(_Frozen):
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
            raise _Invalid("a rule needs `when:` and `verdict:`, or `otherwise: <verdict>`")
        if self.when is not None and self.otherwise is not None:
            raise _Invalid("a rule has either `when:` or `otherwise:`, not both", loc=("otherwise",))
        if self.when is not None and self.verdict is None:
            raise _Invalid("a `when:` rule needs a `verdict:`", loc=("when",))
        if self.otherwise is not None and self.verdict is not None:
            raise _Invalid("write the verdict as `otherwise: <verdict>`, without `verdict:`", loc=("verdict",))
        return self

    @property
    def outcome(self) -> str:
        """The verdict this rule gives."""
        return self.verdict if self.otherwise is None else self.otherwise  # type: ignore[return-value]


class Decision(_Frozen):
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
                raise _Invalid("`otherwise` must be the last rule", loc=(i, "otherwise"))
        return rules


class KeyNumber(_Frozen):
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
                raise _Invalid(f"not a number format ({exc}); use e.g. '.4f' or '.1%'") from None
        return value


class Bootstrap(_Frozen):
    """Bootstrap confidence intervals of the metrics."""

    n: PositiveInt = Field(1000, description="Resamples.")
    seed: int = Field(0, description="Seed of the resampling.")


# ---------------------------------------------------------------------------------------------
# The spec
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """One resolved trial: its name, overrides, a JSON-able config and the validated sections."""

    name: str
    overrides: dict[str, Any]
    config: dict[str, Any]
    data: DataSpec
    noise: NoiseSpec
    model: ModelSpec
    train: TrainSpec


class Spec(_Frozen):
    """An experiment: what it is, the training run and its sweep, and how results are reported."""

    id: str = Field(description="Unique experiment id, e.g. 'VIT-20251222-logg_1m-multitask'.")
    title: str = Field(min_length=1, description="Human title of the experiment.")
    topic: Optional[str] = Field(None, description="Topic the experiment belongs to, e.g. 'logg_1m'.")
    mvp: Optional[str] = Field(None, description="Roadmap MVP this experiment delivers, e.g. 'MVP-1.5'.")
    author: Optional[str] = Field(None, description="Who planned it.")
    date: Optional[str] = Field(None, description="Planned date, ISO 'YYYY-MM-DD'.")
    status: Literal["planned", "running", "done", "failed"] = Field(
        "planned", description="Engine-maintained: planned, running, done or failed."
    )
    last_run: Optional[str] = Field(None, description="Engine-maintained: when it last ran (ISO).")
    hub: Optional[str] = Field(None, description="Hub page, relative to this file.")
    roadmap: Optional[str] = Field(None, description="Roadmap page, relative to this file.")
    kanban: Optional[str] = Field(None, description="Kanban page, relative to this file.")
    answers: list[str] = Field(
        default_factory=list, description="Ids in the hub's hypothesis tree this experiment answers, e.g. [Q3.1]."
    )
    gate: Optional[str] = Field(None, description="The roadmap's decision gate this experiment closes, e.g. 'Gate-2'.")

    data: DataSpec = Field(default_factory=DataSpec, description="The spectra and labels.")
    noise: NoiseSpec = Field(default_factory=NoiseSpec, description="Noise added to the spectra.")
    model: ModelSpec = Field(description="The model and its parameters.")
    train: TrainSpec = Field(default_factory=TrainSpec, description="The training loop.")
    trials: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="The sweep: trial name → dotted-key overrides of data/noise/model/train, "
        "e.g. {single-task: {data.targets: [log_g]}}. Empty: one trial named 'main'.",
    )

    metrics: list[str] = Field(
        default_factory=lambda: ["r2.log_g", "mae.log_g"],
        min_length=1,
        description="'<metric>.<target>' with metric r2, mae, rmse or bias; the first is the primary metric.",
    )
    binned: list[Binned] = Field(default_factory=list, description="Binned tables.")
    figures: list[Figure] = Field(default_factory=list, description="Figures to draw.")
    decision: Decision = Field(default_factory=Decision, description="Rules that give the verdict.")
    key_numbers: list[KeyNumber] = Field(default_factory=list, description="The key-numbers table.")
    bootstrap: Bootstrap = Field(default_factory=Bootstrap, description="Bootstrap confidence intervals.")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)
    _dotted_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _path: Optional[str] = PrivateAttr(None)
    _trials: list[Trial] = PrivateAttr(default_factory=list)
    _expressions: dict[str, Expression] = PrivateAttr(default_factory=dict)

    # -- field checks --------------------------------------------------------------------------

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise _Invalid(f"expected letters, digits and _ . + - (no spaces), got {_show(value)}")
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
        return _relative_path(value, f"{info.field_name} page")

    @field_validator("answers", mode="before")
    @classmethod
    def _answers(cls, value: Any) -> Any:
        value = _as_list(value)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str) and (not item or re.search(r"\s", item)):
                    raise _Invalid(f"expected a hypothesis id like Q3.1, got {_show(item)}", loc=(i,))
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
            if isinstance(name, str) and not _TRIAL_NAME.fullmatch(name):
                raise _Invalid(
                    f"trial name {_show(name)} must start with a letter or digit and use only "
                    "letters, digits and _ . + -",
                    loc=(name,),
                )
            if overrides is None:
                overrides = {}
            if isinstance(overrides, Mapping):
                for key in overrides:
                    if not isinstance(key, str) or not all(key.split(".")):
                        raise _Invalid(
                            f"expected a dotted key like train.lr, got {_show(key)}", loc=(name, key)
                        )
            out[name] = overrides
        return out

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        out = []
        for i, item in enumerate(value):
            try:
                out.append(_metric(item))
            except _Invalid as exc:
                raise _Invalid(exc.message, loc=(i,), hint=exc.hint) from None
        return _unique(out, "metric")

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
        spec._dotted_lines = {_dotted(loc): line for loc, line in spec._lines.items() if loc}
        spec._path = context.get("path")
        spec._trials = spec._resolve({})
        spec._check()
        return spec

    def _error(self, message: str, loc: Loc, hint: str | None = None, cls: type[SpecError] = SpecError) -> SpecError:
        return cls(message, path=self._path, line=_line_at(self._lines, loc), key=_dotted(loc), hint=hint)

    def _check(self) -> None:
        names = self.trial_names
        predicted = {t for trial in self._trials for t in trial.data.targets}

        def check_predicted(metric: str, loc: Loc) -> None:
            if metric.startswith("extra."):
                return  # a model's own per-spectrum value: known only when it runs
            target = metric.split(".", 1)[1]
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
            check_predicted(metric, ("metrics", i))
        for i, table in enumerate(self.binned):
            check_predicted(table.metric, ("binned", i, "metric"))
        if self.decision.baseline is not None:
            check_trial(self.decision.baseline, ("decision", "baseline"))
        for i, name in enumerate(self.decision.references):
            check_trial(name, ("decision", "references", i))
        for i, figure in enumerate(self.figures):
            for j, metric in enumerate(figure.metrics or ()):
                check_predicted(metric, ("figures", i, "metrics", j))
            if figure.trial is not None:
                check_trial(figure.trial, ("figures", i, "trial"))
            if figure.binned is not None and figure.binned >= len(self.binned):
                raise self._error(
                    f"there is no binned table {figure.binned} (binned has {len(self.binned)}, counted from 0)",
                    ("figures", i, "binned"),
                )
            if figure.param is not None:
                keys = sorted({k for trial in self._trials for k in _flatten(trial.config)})
                if figure.param not in keys:
                    raise self._error(
                        f"'{figure.param}' is not a key of the trials' config",
                        ("figures", i, "param"),
                        hint=did_you_mean(figure.param, keys),
                    )

        sources = [(("decision", "rules", i, "when"), rule.when) for i, rule in enumerate(self.decision.rules)]
        sources += [(("key_numbers", i, "value"), row.value) for i, row in enumerate(self.key_numbers)]
        for i, rule in enumerate(self.decision.rules):  # the {{ … }} inside says and answers
            texts = [(("decision", "rules", i, "says"), rule.says)]
            texts += [(("decision", "rules", i, "answers", q), text) for q, text in rule.answers.items()]
            for loc, text in texts:
                sources += [((*loc, j), inner) for j, inner in enumerate(placeholders(text))]
            for q in rule.answers:
                if q not in self.answers:
                    raise self._error(f"'{q}' is not one of this experiment's answers: {self.answers}",
                                      ("decision", "rules", i, "answers", q), hint=did_you_mean(q, self.answers))
        expressions = {}
        for loc, source in sources:
            if source is None:
                continue
            key = _dotted(loc)
            expression = compile_expression(
                source, names=names, path=self._path, line=_line_at(self._lines, loc), key=key,
                allowed=EXPRESSION_NAMES,
            )  # fmt: skip
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
        """The trials in the file's order; `['main']` when the spec has no sweep."""
        return list(self.trials) or ["main"]

    @property
    def primary_metric(self) -> str:
        """The first of `metrics`, e.g. 'r2.log_g': what 'best' means."""
        return self.metrics[0]

    def resolve_trials(self, overrides: Mapping[str, Any] | None = None) -> list[Trial]:
        """Every trial: the base training sections, the trial's overrides, then `overrides`.

        `overrides` are `--set` style dotted keys (`{"train.epochs": 1}`), applied to every
        trial; a key `trials.<name>.<dotted key>` applies to that trial only.
        """
        if not overrides:
            return list(self._trials)
        return self._resolve(dict(overrides))

    def _resolve(self, extra: dict[str, Any]) -> list[Trial]:
        names = self.trial_names
        per_trial: dict[str, list[tuple[str, str, Any]]] = {name: [] for name in names}
        for key, value in extra.items():
            target, dotted = None, key
            if key.startswith("trials."):
                rest = key[len("trials.") :]
                for name in sorted(names, key=len, reverse=True):
                    if rest.startswith(name + "."):
                        target, dotted = name, rest[len(name) + 1 :]
                        break
                else:
                    wanted = rest.split(".", 1)[0]
                    raise SpecError(
                        f"no trial named '{wanted}'",
                        path=self._path,
                        key=f"--set {key}",
                        hint=did_you_mean(wanted, names) or f"trials: {', '.join(names)}",
                    )
            for name in names if target is None else [target]:
                per_trial[name].append((f"--set {key}", dotted, value))

        base = {k: copy.deepcopy(self._raw[k]) for k in TRAINING_SECTIONS if k in self._raw}
        resolved = []
        for name in names:
            own = [(("trials", name, key), key, value) for key, value in (self.trials.get(name) or {}).items()]
            applied: list[tuple[Any, str, Any]] = own + per_trial[name]  # (origin, dotted key, value)
            config = copy.deepcopy(base)
            for origin, key, value in applied:
                self._set(config, key, value, origin, name)
            try:
                validated = TrialConfig.model_validate(config)
            except ValidationError as exc:
                raise self._trial_error(name, exc, applied) from None
            resolved.append(
                Trial(
                    name=name,
                    overrides={key: copy.deepcopy(value) for _, key, value in applied},
                    config=validated.model_dump(mode="json"),
                    data=validated.data,
                    noise=validated.noise,
                    model=validated.model,
                    train=validated.train,
                )
            )
        return resolved

    def _origin_error(self, origin: Any, message: str, hint: str | None = None, rest: Loc = ()) -> SpecError:
        if isinstance(origin, str):  # a --set option: not in the file
            key = origin + "".join(f"[{r}]" if isinstance(r, int) else f".{r}" for r in rest)
            return SpecError(message, path=self._path, key=key, hint=hint)
        return self._error(message, tuple(origin) + tuple(rest), hint)

    def _set(self, config: dict[str, Any], key: str, value: Any, origin: Any, trial: str) -> None:
        parts = key.split(".")
        if not all(parts):
            raise self._origin_error(origin, f"expected a dotted key like train.lr, got '{key}'")
        if parts[0] not in TRAINING_SECTIONS:
            if parts[0] in Spec.model_fields:
                raise self._origin_error(
                    origin, f"a trial can only override {', '.join(TRAINING_SECTIONS)}, not {parts[0]}"
                )
            raise self._origin_error(
                origin,
                f"unknown section '{parts[0]}' in trial '{trial}'",
                hint=did_you_mean(parts[0], TRAINING_SECTIONS) or f"sections: {', '.join(TRAINING_SECTIONS)}",
            )
        node = config
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise self._origin_error(
                    origin, f"cannot set {key}: {where} is {_kind(child)}, not a mapping, in trial '{trial}'"
                )
            node = child
        node[parts[-1]] = copy.deepcopy(value)

    def _trial_error(self, name: str, exc: ValidationError, applied: list[tuple[Any, str, Any]]) -> SpecError:
        problems = [_explain(e, TrialConfig) for e in exc.errors()]
        loc, message, hint = problems[0]
        best = None
        for origin, key, _ in applied:  # the most specific override wins; a later one on a tie
            parts = tuple(key.split("."))
            n = min(len(parts), len(loc))
            if n and tuple(map(str, loc[:n])) == parts[:n] and (best is None or len(parts) >= len(best[1])):
                best = (origin, parts)
        if best is not None:
            origin, parts = best
            return self._origin_error(origin, message, hint, rest=loc[len(parts) :])
        if name in self.trials:
            return self._error(f"{_dotted(loc)}: {message}", ("trials", name), hint)
        return self._error(message, loc, hint)

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

    def expressions(self) -> dict[str, Expression]:
        """Every `when:` and `value:`, compiled and located, by dotted key."""
        return dict(self._expressions)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of a spec (`research spec --schema`)."""
        return spec_schema()


def spec_schema() -> dict[str, Any]:
    """The JSON schema of a spec (`research spec --schema`)."""
    schema = Spec.model_json_schema()
    schema["title"] = "research experiment spec"
    return schema


def spec_line(spec: Spec, key: str | Loc) -> Optional[int]:
    """The file line of a dotted key of a loaded spec (or of its nearest parent in the file)."""
    if isinstance(key, tuple):
        return _line_at(spec._lines, key)
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
    """
    data, lines = read_yaml(yaml_text, path=path, first_line=first_line, what="front matter")
    if data is None:
        raise SpecError(
            "the front matter is empty", path=path, line=first_line, hint="a spec needs at least id, title and model"
        )
    if not isinstance(data, dict):
        raise SpecError(
            f"the front matter must be a mapping of keys, got {_kind(data)}", path=path, line=first_line
        )
    try:
        return Spec.model_validate(data, context={"lines": lines, "path": path})
    except ValidationError as exc:
        # The first problem in the file, but a missing key last: a misspelled key often is why
        # a required one is missing, and `titel: unknown key. did you mean 'title'?` says both.
        errors = exc.errors()
        problems = [_explain(e, Spec) + (e["type"] == "missing",) for e in errors]
        problems.sort(key=lambda p: (p[3], _line_at(lines, p[0]) or 0))
        loc, message, hint, _ = problems[0]
        if len(problems) > 1:
            more = len(problems) - 1
            more_text = f"({more} more problem{'s' if more > 1 else ''})"
            hint = f"{hint} {more_text}" if hint else more_text
        raise SpecError(message, path=path, line=_line_at(lines, loc), key=_dotted(loc), hint=hint) from None


def parse_set_option(text: str) -> tuple[str, Any]:
    """`"train.lr=3e-4"` → `("train.lr", 0.0003)`; the value is read as YAML (`[64, 32]`, `{log_g: 2}`)."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise SpecError(f"expected --set KEY=VALUE, got '{text}'", hint="for example --set train.epochs=1")
    if not re.fullmatch(r"[^\s=]+", key) or not all(key.split(".")):
        raise SpecError(f"expected a dotted key like train.lr, got '{key}'", key="--set")
    parsed, _ = read_yaml(value, path=None, first_line=None, what="value", key=f"--set {key}")
    return key, parsed


# ---------------------------------------------------------------------------------------------
# pydantic errors → one located sentence
# ---------------------------------------------------------------------------------------------


def _line_at(lines: Mapping[Loc, int], loc: Loc) -> Optional[int]:
    """The line of `loc`, or of its nearest ancestor in the file."""
    loc = tuple(loc)
    while True:
        for candidate in (loc, tuple(str(p) if isinstance(p, int) else p for p in loc)):
            if candidate in lines:
                return lines[candidate]
        if not loc:
            return None
        loc = loc[:-1]


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


def _show(value: Any) -> str:
    """A value as the user wrote it, roughly: 'ten', 1.5, true, null, [1, 2]."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
}

_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "of at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "of at most"),
}


def _explain(error: Mapping[str, Any], root: type[BaseModel]) -> tuple[Loc, str, Optional[str]]:
    """(location in the YAML, message, hint) for one pydantic error."""
    loc: Loc = tuple(p for p in error["loc"] if p != "[key]")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, _Invalid):
        return loc + cause.loc, cause.message, cause.hint
    if kind == "missing":
        return loc, "required key is missing", None
    if kind == "extra_forbidden":
        valid = _valid_keys(root, loc[:-1])
        hint = did_you_mean(str(loc[-1]), valid) or (f"valid keys here: {', '.join(valid)}" if valid else None)
        return loc, "unknown key", hint
    if kind in _EXPECTED:
        hint = None
        if kind == "string_type" and value is not None and not isinstance(value, (list, dict)):
            hint = "put quotes around it to make it a string"
        return loc, f"expected {_EXPECTED[kind]}, got {_show(value)}", hint
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return (
            loc,
            f"expected one of {', '.join(repr(c) for c in choices)}, got {_show(value)}",
            did_you_mean(str(value), choices) if isinstance(value, str) else None,
        )
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        bound = ctx.get(name)
        bound = f"{bound:g}" if _is_number(bound) else bound
        return loc, f"expected a value {words} {bound}, got {_show(value)}", None
    if kind == "too_short":
        if ctx.get("min_length") == 1:
            return loc, "must not be empty", None
        return loc, f"needs at least {ctx.get('min_length')} items, got {ctx.get('actual_length')}", None
    if kind == "string_too_short":
        return loc, "must not be empty", None
    message = str(error.get("msg", kind))
    message = re.sub(r"^(Value|Assertion) error, ", "", message)
    return loc, message[:1].lower() + message[1:], None


def _unwrap_annotation(annotation: Any) -> Any:
    """`Optional[X]` → X; a union → its model or container member; `Annotated[X, ...]` → X."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            structured = [a for a in members if _is_model(a) or get_origin(a) in (list, dict)]
            if len(members) == 1 or structured:
                annotation = (structured or members)[0]
                continue
        return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _valid_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a mapping at `loc` may have (empty when it is not a model)."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap_annotation(annotation)
        if _is_model(annotation):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
            continue
        origin = get_origin(annotation)
        if origin in (list, tuple) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap_annotation(annotation)
    if _is_model(annotation):
        return list(annotation.model_fields)
    return []


def _flatten(config: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        yield dotted
        if isinstance(value, Mapping):
            yield from _flatten(value, dotted + ".")
