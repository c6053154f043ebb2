"""What every model is: the interface the runner calls, its typed configs, its checkpoint file.

    model = engine.models.build({"type": "mlp", "hidden": [512, 256]}, train, targets=["log_g"])
    model.fit(train_split, val_split, log=print)
    pred = model.predict(test_split)          # (rows, targets) float64, in model.targets order
    model.save("model.npz"); engine.models.load("model.npz").predict(test_split)

A model's parameters are a frozen config dataclass (nanoGPT's `GPTConfig` style); the spec's
`model:` mapping is checked against it by `config_from` (unknown keys and wrong types are a
`SpecError` naming the key and the valid ones). A checkpoint is one `.npz` file read with
`allow_pickle=False`: a JSON `__meta__` entry (type, config, train config, targets, info) and
named arrays (weights, scalers). It loads without torch, and loading it runs no code.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import re
import sys
import types
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator

from engine.errors import Invalid, SpecError, did_you_mean

if TYPE_CHECKING:  # numpy is imported where arrays are made: checking a spec needs none
    import numpy as np

CHECKPOINT_FORMAT = 1
Log = Callable[[str], None]


def quiet(message: str) -> None:
    """The default `log`: say nothing."""


# ---------------------------------------------------------------------------------------------
# Training settings shared by every model (the spec's `train:` section)
# ---------------------------------------------------------------------------------------------


LossWeighting = Literal["equal", "inverse_variance", "uncertainty"]


class TrainConfig(BaseModel):
    """How to train: the spec's `train:` section, and the one definition of it. The spec
    validates a report's `train:` with this class and hands the object on to the model, and a
    checkpoint keeps it (`model_dump`), so a key, default or bound lives here alone. It is in
    the numeric code (its defaults change numbers); closed-form models ignore what does not
    apply to them. Whether training noise is drawn afresh every epoch is the training split's
    own property (`Split.noise_epoch`), not a setting here."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    epochs: PositiveInt = Field(default=10, description="Training epochs.")
    batch_size: PositiveInt = Field(default=256, description="Mini-batch size.")
    lr: PositiveFloat = Field(default=1e-3, description="Learning rate.")
    weight_decay: float = Field(default=0.0, ge=0, description="AdamW weight decay.")
    schedule: Literal["cosine", "plateau", "none"] = Field(default="cosine", description="Learning-rate schedule.")
    patience: Optional[PositiveInt] = Field(
        default=None, description="Early-stopping patience in epochs; none when absent."
    )
    val_frac: float = Field(
        default=0.1, gt=0, lt=1, description="Fraction of the training set held out for validation."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="'auto' uses a GPU when there is one.")
    seed: int = Field(default=42, description="Seed of initialisation and batching.")
    amp: bool = Field(default=True, description="Mixed precision on GPU.")
    stream_rows: Optional[PositiveInt] = Field(
        default=None,
        description="Nets: train from chunks of this many spectra, one in memory at a time (a training set larger "
        "than memory); absent: in memory when the flux fits in 4 GiB, else 65,536-row chunks.",
    )
    loss_weights: Union[LossWeighting, dict[str, PositiveFloat]] = Field(
        default="equal",
        description="Multi-task loss weighting: 'equal', 'inverse_variance', 'uncertainty' (learned), "
        "or a weight per target such as {log_g: 2, T_eff: 1, Fe_H: 1}.",
    )

    @field_validator("loss_weights", mode="before")
    @classmethod
    def _loss_weights(cls, value: Any) -> Any:
        """One sentence for a wrong weighting, where pydantic would list a failure per branch of
        the union. Which keys name targets is the spec's to say (it knows the targets' names
        and aliases): here a weight is a positive number."""
        choices = get_args(LossWeighting)
        if isinstance(value, str):
            if value not in choices:
                raise Invalid(
                    f"expected one of {', '.join(repr(c) for c in choices)} or a weight per target, got {value!r}",
                    hint=did_you_mean(value, choices),
                )
            return value
        if not isinstance(value, Mapping):
            raise Invalid(
                f"expected one of {', '.join(repr(c) for c in choices)} or a mapping of target to weight, got {value!r}"
            )
        out = {}
        for key, weight in value.items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
                raise Invalid(f"expected a positive number, got {weight!r}", loc=(key,))
            out[str(key)] = float(weight)
        return out


# ---------------------------------------------------------------------------------------------
# What a model may use besides its splits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """Handed to a model by `engine.run.trial.run_trial` (never a global): `artifacts`, the folder
    where fitted parts that several trials share are kept (the run store's, e.g. a mixture's
    experts under `experts/`), None when there is none (then nothing is shared); `sources`, for
    each parameter that names another trial (`from`, `of`, `experts_from`), the record folder of
    that stored trial; `code`, the hash of the code that produces numbers (part of an artifact's
    key)."""

    artifacts: Path | None = None
    sources: Mapping[str, Path] = field(default_factory=dict)
    code: str = ""

    def source(self, name: str) -> Path:
        if name not in self.sources:
            raise ValueError(
                f"model.{name} names a stored trial, but none was handed to the model "
                "(run it through `research run`, which finds the stored trial)"
            )
        return Path(self.sources[name])


NO_WORKSPACE = Workspace()


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


class Model(ABC):
    """A trained (or trainable) predictor of `targets` from spectra."""

    type: str = ""  # the registry name, set by each model class
    Config: builtins.type = object  # the model's frozen config dataclass (`type` here is the attribute above)
    workspace: Workspace = NO_WORKSPACE  # set by run_trial before fit

    def __init__(self, config: Any, train: TrainConfig, targets: Sequence[str]) -> None:
        self.config = config
        self.train = train
        self.targets = tuple(targets)
        self._info: dict[str, Any] = {}

    @classmethod
    def from_spec(
        cls, model: Mapping[str, Any], train: Mapping[str, Any] | TrainConfig, targets: Sequence[str]
    ) -> "Model":
        """Build from the spec's model parameters (without `type`) and `train` mapping."""
        return cls(
            config_from(cls.Config, model, f"the '{cls.type}' model", prefix="model"), train_config(train), targets
        )

    @abstractmethod
    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        """Learn from the `train` split; `val` (optional) picks α / the best epoch / early stopping."""

    @abstractmethod
    def predict(self, split) -> np.ndarray:
        """(rows, len(targets)) float64 predictions, columns in `self.targets` order."""

    def info(self) -> dict[str, Any]:
        """What the fit chose and measured (alpha, best epoch, n_params, device, seconds …); JSON-able."""
        return dict(self._info)

    # -- checkpoints ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        save_checkpoint(path, self._meta(), self._arrays())

    @classmethod
    def load(cls, path: str | Path) -> "Model":
        meta, arrays = load_checkpoint(path)
        if meta.get("type") != cls.type:
            raise ValueError(f"{path} holds a '{meta.get('type')}' model, not '{cls.type}'")
        return cls.from_parts(meta, arrays)

    @classmethod
    def from_parts(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> "Model":
        """The fitted model from a checkpoint's meta and arrays (a probe keeps its net this way)."""
        model = cls(
            config_from(cls.Config, meta["config"], f"the '{cls.type}' model"),
            train_config(
                {k: v for k, v in meta["train"].items() if k != "redraw"}
            ),  # `redraw`: checkpoints before 2026-12
            meta["targets"],
        )
        model._info = dict(meta.get("info", {}))
        model._restore(dict(meta.get("state", {})), dict(arrays))
        return model

    def _meta(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "type": self.type,
            "config": dataclasses.asdict(self.config),
            "train": self.train.model_dump(),
            "targets": list(self.targets),
            "info": self.info(),
            "state": self._state(),
        }

    def _state(self) -> dict[str, Any]:
        """Small JSON-able state the model needs back (besides its arrays)."""
        return {}

    def _arrays(self) -> dict[str, np.ndarray]:
        """The fitted arrays (weights, scalers) to store."""
        raise NotImplementedError

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _check_split(self, split) -> None:
        if tuple(split.targets) != self.targets:
            raise ValueError(f"the split's targets {tuple(split.targets)} are not the model's {self.targets}")


def save_checkpoint(path: str | Path, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    import numpy as np

    path = Path(path)
    # Any, not ndarray: numpy's savez stub would match **payload against its `allow_pickle: bool`
    payload: dict[str, Any] = {
        "__meta__": np.frombuffer(json.dumps(meta, default=_json_default).encode(), dtype=np.uint8)
    }
    for name, array in arrays.items():
        if name == "__meta__":
            raise ValueError("'__meta__' is reserved")
        payload[name] = np.asarray(array)
    import tempfile

    # a temp file of its own in the same folder (two workers may write one artifact at once), renamed in
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **payload)
        mask = os.umask(0o022)  # what open() would give a new file (mkstemp gives 0o600)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import numpy as np

    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop("__meta__").tobytes().decode())
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    return meta, arrays


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


# ---------------------------------------------------------------------------------------------
# Spec mapping → config dataclass, with errors a user can act on
# ---------------------------------------------------------------------------------------------


def train_config(train: Mapping[str, Any] | TrainConfig | None) -> TrainConfig:
    """The `train:` settings of a model built from Python (a spec's come validated already):
    a mapping is checked by `TrainConfig` itself, its first problem a `SpecError` at `train.<key>`."""
    if isinstance(train, TrainConfig):
        return train
    from pydantic import ValidationError

    try:
        return TrainConfig.model_validate(dict(train or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = (first.get("ctx") or {}).get("error")
        loc = [*first["loc"], *(cause.loc if isinstance(cause, Invalid) else ())]
        hint = cause.hint if isinstance(cause, Invalid) else None
        if first["type"] == "extra_forbidden":
            hint = (
                did_you_mean(str(loc[-1]), TrainConfig.model_fields)
                or f"valid keys: {', '.join(TrainConfig.model_fields)}"
            )
        message = cause.message if isinstance(cause, Invalid) else first["msg"]
        raise SpecError(message, key=".".join(["train", *map(str, loc)]), hint=hint) from None


def config_from(cls: type, params: Mapping[str, Any], what: str, *, prefix: str | None = None) -> Any:
    """`cls(**params)` with lists read as tuples, ints as floats where a float is expected, and a
    `SpecError` (key `prefix.name`) for an unknown key, a wrong type or a bad value."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    values = {}
    for key, value in dict(params).items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            hint = did_you_mean(str(key), names) or f"valid parameters: {', '.join(names)}"
            if prefix == "model" and key in TrainConfig.model_fields and not did_you_mean(str(key), names):
                hint = f"`{key}` belongs under train:, not model: move it there"  # a train: line lost under model:
            raise SpecError(
                f"unknown parameter of {what}; valid parameters are {', '.join(names)}", key=dotted, hint=hint
            )
        try:
            values[key] = _coerce(value, hints[key])
        except _BadValue as exc:
            raise SpecError(f"expected {exc.expected}, got {value!r}", key=dotted, hint=exc.hint) from None
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        # a check across fields (`alpha must be >= 0`): put it at the first parameter it names, so
        # it is located at the line (or the trial's override) that set that parameter
        named = sorted((m.start(), name) for name in values if (m := re.search(rf"\b{re.escape(name)}\b", str(exc))))
        located = ".".join(p for p in (prefix, named[0][1] if named else None) if p) or None
        raise SpecError(str(exc), key=located, hint=None) from None


class _BadValue(Exception):
    def __init__(self, expected: str, hint: str | None = None) -> None:
        self.expected, self.hint = expected, hint


def _coerce(value: Any, annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = []
        for member in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, member)
            except _BadValue as exc:
                problems.append(exc.expected)
        raise _BadValue(" or ".join(problems) + (" or null" if type(None) in args else ""))
    if origin is Literal:
        if value in args and not isinstance(value, bool):
            return value
        choices = [str(a) for a in args]
        raise _BadValue(f"one of {', '.join(repr(a) for a in args)}", did_you_mean(str(value), choices))
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _BadValue(f"a list of {_describe(args[0])}")
        return tuple(_coerce(v, args[0]) for v in value)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _BadValue("a mapping")
        return {str(k): _coerce(v, args[1]) for k, v in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise _BadValue("true or false")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _BadValue("an integer")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _BadValue("a number")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise _BadValue("a string")
    return value


def _describe(annotation: Any) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(annotation, "values")


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------


def resolve_device(name: str) -> str:
    """'auto' → 'cuda' when a GPU is usable, else 'cpu'. Asks torch only when a GPU may exist, so
    a CPU-only run of a numpy model does not pay for importing torch."""
    if name != "auto":
        if name == "cuda" and not _cuda_available():
            raise SpecError(
                "train.device is 'cuda' but no CUDA GPU is available", key="train.device", hint="use 'auto' or 'cpu'"
            )
        return name
    return "cuda" if _cuda_available() else "cpu"


def _cuda_available() -> bool:
    if "torch" not in sys.modules and not (Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
