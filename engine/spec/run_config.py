"""The training run of one trial: data, noise, model and train, as typed, frozen objects.

`TrialConfig` is what a worker validates before it trains (`engine.run.trial.run_trial`): the base
spec's training sections with one trial's overrides applied. Nothing here knows about reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Optional

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    field_validator,
    model_serializer,
    model_validator,
)

from engine.data.inputs import Inputs
from engine.errors import did_you_mean
from engine.models.base import TrainConfig

from .explain import Invalid, is_number, show
from .vocabulary import (
    BIN_PARAMS,
    PARAM_ALIASES,
    PLUGIN,
    REGISTRY_NAME,
    TARGETS,
    TEST_SET_NAME,
    Frozen,
    Param,
    Target,
    as_list,
    known_param,
    param_name,
    unique,
)


class Selection(Frozen):
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
            name = known_param(key)
            if not (isinstance(bounds, list) and len(bounds) == 2):
                raise Invalid(f"expected [lo, hi], got {show(bounds)}", loc=(key,))
            lo, hi = bounds
            if all(is_number(b) for b in bounds) and not lo < hi:
                raise Invalid(f"expected lo < hi, got [{lo}, {hi}]", loc=(key,))
            out[name] = bounds
        return out

    @model_validator(mode="after")
    def _one_count(self) -> "Selection":
        if self.first is not None and self.random is not None:
            raise Invalid("give either first or random, not both", loc=("random",))
        return self


class DataKeys(Frozen):
    """Where the arrays and labels sit inside the HDF5 shards, when the reader's own search (each
    role's name, then other tools' names: teff, logg, [Fe/H] …) does not find them.

    A key is a path inside the file; its last part may name a field of a compound dataset or a
    column of a pandas table (`params/logg`; `params.logg` reads the same), so one notation
    reads every layout `engine.data.shards` documents. `files` gives the files a glob matches
    keys of their own: a test file written by another tool need not be rewritten."""

    class FileKeys(Frozen):
        """The keys of the files one `files` glob matches; what it leaves out is the set's own."""

        flux: Optional[str] = Field(None, min_length=1, description="Dataset of the fluxes in these files.")
        error: Optional[str] = Field(None, min_length=1, description="Dataset of the errors in these files.")
        wave: Optional[str] = Field(None, min_length=1, description="Dataset of the wavelengths in these files.")
        params: dict[Param, str] = Field(
            default_factory=dict, description="Parameter → dataset, compound field or pandas column in these files."
        )

        @field_validator("params", mode="before")
        @classmethod
        def _params(cls, value: Any) -> Any:
            return {known_param(k): v for k, v in value.items()} if isinstance(value, Mapping) else value

    flux: str = Field(default="flux", description="Dataset of the fluxes, N x pixels, e.g. spectra/flux.")
    error: str = Field(default="error", description="Dataset of the per-pixel errors, N x pixels.")
    wave: str = Field(default="wave", description="Dataset of the wavelength grid, pixels.")
    params: dict[Param, str] = Field(
        default_factory=dict,
        description="Parameter → dataset, compound field or pandas column, e.g. {Fe_H: M_H, log_g: params/logg}; "
        "a parameter not listed is searched for under its usual names (teff, logg, feh, [M/H] …).",
    )
    files: dict[str, FileKeys] = Field(
        default_factory=dict,
        description="Keys for the files a glob matches (path relative to this report, or file name), over the keys "
        "above; later globs over earlier ones, e.g. {'test_10k*': {params: {log_g: logg}}}.",
    )

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, name in value.items():
            out[known_param(key)] = name
        return out

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """No `files` when there are none: a spec written before they existed keeps its cache key."""
        out = handler(self)
        if not self.files and isinstance(out, dict):
            out.pop("files", None)
        return out


class TestSet(Frozen):
    """One named test set of `data.tests`: a subset of the report's test set, or another source."""

    source: Optional[str] = Field(
        None,
        min_length=1,
        description="HDF5 path, glob or brace pattern of its own (or 'synthetic'); when absent the set is "
        "drawn from the report's test set (data.test_source, or the rows held out of data.source).",
    )
    select: Optional[Selection] = Field(None, description="Which of those spectra, e.g. {snr_top_frac: 0.2}.")
    n: Optional[PositiveInt] = Field(None, description="Keep the first n spectra that pass the selection.")
    noise: Optional[float] = Field(
        None,
        ge=0,
        description="Noise level of this set; when absent the report's (noise.level where noise.apply has test).",
    )


# A model built by a `default_factory` (DataKeys, DataSpec, NoiseSpec, TrainConfig) gives its defaults
# as `default=` and its list factories as typed functions: mypy, without pydantic's plugin, reads
# only those, and so knows that the model can be built with no arguments.
def _default_targets() -> list[Target]:
    return ["log_g"]


class DataSpec(Frozen):
    """Where the spectra come from and which labels are predicted."""

    source: str = Field(
        default="synthetic",
        min_length=1,
        description="'synthetic' (the embedded generator, cached on first use), or an HDF5 path, "
        "glob or brace pattern such as 'train_200k_{0..4}/dataset.h5'.",
    )
    test_source: Optional[str] = Field(
        default=None, min_length=1, description="Separate test shards; when absent the test set is split from `source`."
    )
    n_train: Optional[PositiveInt] = Field(default=None, description="Number of training spectra (all when absent).")
    n_val: Optional[NonNegativeInt] = Field(
        default=None, description="Number of validation spectra; when absent `train.val_frac` of the training set."
    )
    n_test: Optional[PositiveInt] = Field(default=None, description="Number of test spectra.")
    targets: list[Target] = Field(
        default_factory=_default_targets,
        min_length=1,
        description="Labels to predict, in order; M_H is read as Fe_H.",
    )
    select: Optional[Selection] = Field(default=None, description="Which training spectra to use.")
    test_select: Optional[Selection] = Field(
        default=None, description="Which test spectra to use, e.g. {snr_top_frac: 0.2}."
    )
    keys: DataKeys = Field(default_factory=DataKeys, description="Dataset names inside the HDF5 shards.")
    seed: int = Field(default=0, description="Seed of the synthetic generator and of the splits.")
    tests: dict[str, TestSet] = Field(
        default_factory=dict,
        description="Named test sets, each scored by every trial: {low_noise: {select: {snr_top_frac: 0.2}}, "
        "full: {}, test_10k: {source: test_10k.h5}}. Metrics read them as 'r2.log_g@low_noise'.",
    )
    primary_test: Optional[str] = Field(
        default=None,
        description="The test set whose scores are the bare metrics ('r2.log_g'), pick `best` and decide; "
        "default: the first of data.tests.",
    )

    @field_validator("tests", mode="before")
    @classmethod
    def _test_names(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            for name in value:
                if not isinstance(name, str) or not TEST_SET_NAME.fullmatch(name):
                    raise Invalid(
                        f"a test set name is letters, digits and _ (it follows '@' in 'r2.log_g@name'), got {show(name)}",
                        loc=(name,),
                    )
            return {name: ({} if body is None else body) for name, body in value.items()}
        return value

    @model_validator(mode="after")
    def _primary(self) -> "DataSpec":
        if self.primary_test is not None and self.primary_test not in self.tests:
            names = list(self.tests)
            raise Invalid(
                f"no test set named '{self.primary_test}' in data.tests" + (f" ({', '.join(names)})" if names else ""),
                loc=("primary_test",),
                hint=did_you_mean(self.primary_test, names),
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler) -> dict[str, Any]:
        """No `tests` / `primary_test` when there are none: a spec written before named test sets
        keeps its trials' cache keys (a re-run says what changed, not "spec changed")."""
        out = handler(self)
        if isinstance(out, dict):
            if not self.tests:
                out.pop("tests", None)
            if self.primary_test is None:
                out.pop("primary_test", None)
        return out

    @property
    def primary(self) -> Optional[str]:
        """The name of the primary test set, or None when the report has no named test sets."""
        return self.primary_test or next(iter(self.tests), None)

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        value = as_list(value)
        if isinstance(value, list):
            value = unique([param_name(v) for v in value], "target")
        return value


def _default_apply() -> list[Literal["train", "test"]]:
    return ["train", "test"]


class NoiseSpec(Frozen):
    """Noise added to the fluxes: flux + level · error · N(0, 1)."""

    level: float = Field(default=0.0, ge=0, description="Noise level; 0 adds no noise.")
    apply: list[Literal["train", "test"]] = Field(default_factory=_default_apply, description="Which splits get noise.")
    seed: int = Field(default=42, description="Seed of the noise draw.")
    redraw: bool = Field(default=False, description="Draw fresh training noise every epoch.")

    @field_validator("apply", mode="before")
    @classmethod
    def _apply(cls, value: Any) -> Any:
        value = as_list(value)
        return unique(value, "split") if isinstance(value, list) else value


class ModelSpec(BaseModel):
    """The model: `type` picks it from the registry; the other keys are its parameters."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    type: str = Field(
        description="A registry name such as 'ridge', 'lightgbm', 'mlp', 'cnn', 'vit', 'moe', 'probe' "
        "(a ridge or MLP on the embeddings of a stored net: `of`, `layer`, `head`), "
        "or a plugin 'package.module:factory'. Other keys are the model's own parameters. "
        "`{from: <trial>}` alone (or `{from: 'path/to/exp.md#trial'}`, relative to this report) is the fitted "
        "model a stored trial kept, scored on this trial's test split without training (type 'stored'). "
        "A moe's regression gate stops early with `gate_patience` (on the val split, or `gate_val_frac` of its rows); "
        "`experts_from: <trial>` takes the experts of a stored moe trial."
    )

    @model_validator(mode="before")
    @classmethod
    def _stored(cls, value: Any) -> Any:
        """`{from: cand}` is the stored model of trial `cand`: type 'stored', nothing else to say."""
        if not isinstance(value, Mapping) or "from" not in value:
            return value
        from engine.models import stored_config

        kind = value.get("type", "stored")
        if kind != "stored":
            raise Invalid(
                f"`from` replaces the whole model, but this model is {show(kind)} too",
                loc=("from",),
                hint="write the model as `model: {from: " + str(value.get("from")) + "}` (in a trial: "
                "`{model: {from: …}}`, not `model.from`)",
            )
        stored_config({k: v for k, v in value.items() if k != "type"})  # what a stored model may say
        return {"type": "stored", **{k: v for k, v in value.items() if k != "type"}}

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if REGISTRY_NAME.fullmatch(value) or PLUGIN.fullmatch(value):
            return value
        hint = None
        lowered = re.sub(r"[^a-z0-9_]", "_", value.strip().lower())
        if lowered != value and REGISTRY_NAME.fullmatch(lowered):
            hint = f"did you mean '{lowered}'?"
        raise Invalid(
            f"expected a registry name like 'mlp' or a plugin 'package.module:factory', got {show(value)}",
            hint=hint,
        )

    @property
    def params(self) -> dict[str, Any]:
        """The model-specific parameters (every key but `type`)."""
        return dict(self.model_extra or {})


def model_schema() -> dict[str, Any]:
    """The JSON schema of `model:`: one branch per registered model type (`type` its const),
    its parameters with their types and defaults, then a plugin's `module:factory`.

    The parameters are read from each model's config dataclass (pydantic builds a schema from a
    stdlib dataclass), the same class `engine.models.validate` checks a spec against, so the
    schema cannot promise a parameter the model refuses, or leave out one it takes."""
    from pydantic import TypeAdapter

    from engine import models
    from engine.models.configs import CONFIGS, SPEC_NAMES

    branches = []
    for name in models.names():
        config = CONFIGS.get(name) or getattr(models.resolve(name), "Config", None)
        if config is None or config is object:  # a registered factory with no config: any keys
            branches.append(
                {
                    "title": f"{name} model",
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"const": name}},
                    "additionalProperties": True,
                }
            )
            continue
        try:
            derived = TypeAdapter(config).json_schema()
        except Exception:
            import dataclasses

            fields = dataclasses.fields(config) if dataclasses.is_dataclass(config) else ()
            derived = {"properties": {field.name: {} for field in fields}}
        spec_names = {field: key for key, field in SPEC_NAMES.get(name, {}).items()}  # `source` is written `from`
        comments = _field_comments(config)
        properties: dict[str, Any] = {"type": {"const": name, "description": "The model type."}}
        for field, schema in derived.get("properties", {}).items():
            schema.pop("title", None)
            if field in comments and "description" not in schema:
                schema["description"] = comments[field]
            properties[spec_names.get(field, field)] = schema
        required = [spec_names.get(field, field) for field in derived.get("required", [])]
        branch = {
            "title": f"{name} model",
            "type": "object",
            "properties": properties,
            "required": required if name == "stored" else ["type", *required],  # `{from: trial}` alone is stored
            "additionalProperties": False,
        }
        if derived.get("description"):
            branch["description"] = derived["description"]
        branches.append(branch)
    branches.append(
        {
            "title": "plugin model",
            "type": "object",
            "required": ["type"],
            "additionalProperties": True,
            "description": "A factory of your own, 'package.module:factory', called as factory(params, train, targets); "
            "the other keys are its params.",
            "properties": {"type": {"type": "string", "pattern": f"^{PLUGIN.pattern}$"}},
        }
    )
    return {"title": "ModelSpec", "description": ModelSpec.model_fields["type"].description, "oneOf": branches}


def _field_comments(config: type) -> dict[str, str]:
    """The comment beside each field of a config dataclass (`kernel: int = 7  # taps per
    layer`): its description, kept where the field is written."""
    import inspect

    try:
        source = inspect.getsource(config)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    last = None
    for row in source.splitlines():
        field = re.match(r"\s+(\w+)\s*:[^#]*#\s*", row)
        alone = re.match(r"\s*#\s*", row)
        if field and not alone:
            last = field.group(1)
            out[last] = row[field.end() :].strip()
        elif last and alone and row.lstrip().startswith("#  "):  # it goes on, lined up under its start
            out[last] += " " + row[alone.end() :].strip()
        else:  # a comment above the next field, or code: not this field's
            last = None
    return out


def weights_by_target(train: Any) -> Any:
    """`train.loss_weights` keyed by target names, aliases read (`M_H` is `Fe_H`): the names are
    the spec's vocabulary, the weights themselves `TrainConfig`'s to check."""
    if not isinstance(train, Mapping) or not isinstance(train.get("loss_weights"), Mapping):
        return train
    weights = {}
    for key, weight in train["loss_weights"].items():
        try:
            weights[known_param(key, TARGETS, "target")] = weight
        except Invalid as exc:
            raise Invalid(exc.message, loc=("loss_weights", *exc.loc), hint=exc.hint) from None
    return {**train, "loss_weights": weights}


def inputs_read_labels(inputs: Inputs, targets: Sequence[str]) -> None:
    """The label names an `inputs:` reads are the spec's vocabulary; a target is never its own
    input (the model would read its answer)."""
    for i, part in enumerate(inputs.parts):
        at = ("inputs", i) if len(inputs.parts) > 1 else ("inputs",)
        for name in (*part.labels, *([part.by] if part.by else [])):
            if name not in BIN_PARAMS:
                hint = f"write {PARAM_ALIASES[name]}" if name in PARAM_ALIASES else did_you_mean(name, BIN_PARAMS)
                raise Invalid(f"unknown label '{name}'; labels are {', '.join(BIN_PARAMS)}", loc=at, hint=hint)
        leaked = [name for name in part.labels if name in targets]
        if leaked:
            raise Invalid(
                f"{leaked[0]} is a target of this trial (data.targets), so it cannot be one of its inputs",
                loc=(*at, "labels"),
                hint="a metadata-only baseline reads the other labels: e.g. `{labels: [T_eff, Fe_H]}` for log_g",
            )


class TrialConfig(Frozen):
    """One training run: the base spec's training sections with a trial's overrides applied."""

    data: DataSpec = Field(default_factory=DataSpec)
    noise: NoiseSpec = Field(default_factory=NoiseSpec)
    inputs: Inputs = Field(default_factory=Inputs)
    model: ModelSpec
    train: TrainConfig = Field(default_factory=TrainConfig)

    @field_validator("train", mode="before")
    @classmethod
    def _train(cls, value: Any) -> Any:
        return weights_by_target(value)

    @model_validator(mode="after")
    def _inputs_read_labels(self) -> "TrialConfig":
        inputs_read_labels(self.inputs, self.data.targets)
        return self

    @model_validator(mode="after")
    def _weights_cover_targets(self) -> "TrialConfig":
        weights = self.train.loss_weights
        if isinstance(weights, dict):
            missing = [t for t in self.data.targets if t not in weights]
            if missing:
                raise Invalid(
                    f"no weight for {', '.join(missing)} (data.targets is {', '.join(self.data.targets)})",
                    loc=("train", "loss_weights"),
                )
        return self
