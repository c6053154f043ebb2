"""The model registry: `model.type` → a model.

    model = build({"type": "ridge", "alphas": [0.1, 1, 10]}, train={"seed": 1}, targets=["log_g"])
    model = build({"type": "mypkg.models:make"}, train, targets)   # a plugin from the user's repo
    model = load("runs/…/model.npz")                                 # any built-in model's checkpoint
    model = load_stored(".research/runs/ab/ab12…")                   # what a stored trial kept (plugins too)

Built-in entries are "module:Class" strings, imported only when used, so `import engine.models`
loads neither torch nor lightgbm. `register(name, "module:Class")` adds one (the lead's
`fisher_ceiling`, `moe`). A plugin `package.module:factory` is imported from the user's
repository (the working directory is put on `sys.path`); `factory(model_params, train_params,
targets)` returns an object with `fit(train, val, *, log, progress)` and `predict(split)`; with
`save(path)` (and `load(path)`) its fitted model is kept in the run store like a built-in one.

Two built-in types read a stored trial rather than training from spectra alone: `stored`
(`model: {from: cand}`, the fitted model of trial `cand`) and `probe` (a ridge or MLP on the
embeddings of a stored net). `engine.run.trial.run_trial` hands them, as every built-in model, a
`Workspace` (the run store's folder, the stored trials they read); `moe` keeps its experts there.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.errors import Invalid, SpecError, did_you_mean

from .base import Model, TrainConfig, Workspace, config_from, load_checkpoint, train_config

__all__ = [
    "Model",
    "TrainConfig",
    "Workspace",
    "build",
    "load",
    "load_stored",
    "names",
    "register",
    "resolve",
    "training_noise",
    "validate",
]

_BUILT_IN: dict[str, str] = {
    "ridge": "engine.models.ridge:Ridge",
    "lightgbm": "engine.models.lgbm:LightGBM",
    "mlp": "engine.models.mlp:MLPModel",
    "cnn": "engine.models.cnn:CNNModel",
    "vit": "engine.models.vit:ViTModel",
    "fisher_ceiling": "engine.models.fisher_ceiling:FisherCeiling",
    "moe": "engine.models.moe:MoE",
    "stored": "engine.models.stored:StoredModel",
    "probe": "engine.models.probe:Probe",
}
_REGISTRY: dict[str, Any] = dict(_BUILT_IN)


def register(name: str, target: str | type[Model], *, replace: bool = False) -> None:
    """Make `model.type: name` build `target` (a `Model` subclass or its "module:Class" path)."""
    if name in _REGISTRY and not replace:
        raise ValueError(f"model type '{name}' is already registered")
    _REGISTRY[name] = target


def names() -> tuple[str, ...]:
    """The registered model types."""
    return tuple(sorted(_REGISTRY))


def resolve(type_name: str) -> Any:
    """The class (registry name) or factory (plugin `module:attr`) behind a `model.type`."""
    if type_name in _REGISTRY:
        target = _REGISTRY[type_name]
        return _import(target) if isinstance(target, str) else target
    if ":" in type_name:
        return _import_plugin(type_name)
    raise SpecError(
        f"unknown model type '{type_name}'; registered types are {', '.join(names())}, "
        "or write a plugin as 'package.module:factory'",
        key="model.type",
        hint=did_you_mean(type_name, names()),
    )


def validate(model: Mapping[str, Any]) -> Any:
    """Check a spec's `model:` mapping before anything trains; the model's config (None for a plugin).

    A built-in model is checked against its config in `configs` (no torch, no lightgbm is
    imported); a plugin's module is imported and its factory must be a function or class that
    takes `(params, train, targets)` — anything else is a located `SpecError`."""
    from .configs import CONFIGS

    params = dict(model)
    type_name = params.pop("type", None)
    if not isinstance(type_name, str):
        raise SpecError("required key is missing", key="model.type")
    if type_name == "stored" and _REGISTRY.get(type_name) == _BUILT_IN[type_name]:
        try:
            return stored_config(params)
        except Invalid as exc:
            raise SpecError(exc.message, key=".".join(["model", *map(str, exc.loc)]), hint=exc.hint) from None
    if type_name in CONFIGS and _REGISTRY.get(type_name) == _BUILT_IN.get(type_name):
        return config_from(CONFIGS[type_name], params, f"the '{type_name}' model", prefix="model")
    target = resolve(type_name)
    if isinstance(target, type) and issubclass(target, Model):
        return config_from(target.Config, params, f"the '{type_name}' model", prefix="model")
    _check_factory(type_name, target)
    return None


def resolved_config(config: Mapping[str, Any], checked: Any = None) -> dict[str, Any]:
    """A trial's config with its model's every parameter, defaults included (`dilation: 2` where
    the spec said nothing): what a rule reads as `trials.x.config.model.<name>`. A plugin's
    parameters are as written, and a model the registry cannot check is left as it is.
    `checked`: the model config validation already made of it (a plan's trials carry theirs), so
    it is not validated twice."""
    import dataclasses

    from .configs import SPEC_NAMES

    model = dict(config.get("model") or {})
    if checked is None:
        try:
            checked = validate(model)
        except SpecError:
            return dict(config)
    if checked is None or not dataclasses.is_dataclass(checked) or isinstance(checked, type):
        return dict(config)
    spelled = {field: key for key, field in SPEC_NAMES.get(str(model.get("type")), {}).items()}

    def plain(value: Any) -> Any:
        return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value

    filled = {spelled.get(k, k): plain(v) for k, v in dataclasses.asdict(checked).items()}
    return {**config, "model": {"type": model.get("type"), **filled}}


def training_noise(model: Mapping[str, Any]) -> Any:
    """Whether a `model:` mapping's numbers move with its seed (`configs.TrainingNoise`). A
    plugin is taken to, unless its factory says `deterministic = True` (a closed form of the
    user's own): then a spec-wide `repeats:` runs it once and its numbers carry no seed spread."""
    from .configs import CONFIGS, TrainingNoise
    from .configs import training_noise as built_in

    type_name = str(model.get("type"))
    if type_name in CONFIGS or ":" not in type_name:
        return built_in(dict(model))
    try:
        factory = resolve(type_name)
    except SpecError:
        return built_in(dict(model))
    if getattr(factory, "deterministic", False) is True:
        return TrainingNoise(False, f"the plugin {type_name} says it is deterministic")
    return built_in(dict(model))


def stored_config(params: Mapping[str, Any]) -> Any:
    """The config of `model: {from: cand}` (the spec's `from` is the config's `source`), and
    the one statement of what such a model may say: `from` alone. The spec reads `{from: …}`
    through it too (`engine.spec.run_config.ModelSpec`), so a pydantic-style `Invalid` (located
    below `model`) is what it raises."""
    from .configs import StoredConfig

    extra = sorted(str(k) for k in params if k != "from")
    if extra:
        raise Invalid(
            f"a stored model takes only `from`, not {', '.join(extra)}",
            loc=(extra[0],),
            hint="a model read from a stored trial is used as it was fitted",
        )
    ref = params.get("from")
    if not isinstance(ref, str) or not ref.strip():
        raise Invalid(f"expected a trial name or 'path/to/report.md#trial', got {ref!r}", loc=("from",))
    return StoredConfig(source=ref.strip())


def load_stored(folder: str | Path) -> Any:
    """The fitted model a stored trial kept, from its record folder in the run store: a built-in
    model's checkpoint (`model.npz`), or a plugin's own file (`model.bin`), which the plugin
    loads — its factory builds the model from the stored config, then `load(path)` either
    returns the loaded model or loads it in place."""
    import json

    from engine.notebook.store import MODEL, PLUGIN_MODEL, RECORD

    folder = Path(folder)
    if (folder / MODEL).is_file():
        return load(folder / MODEL)
    if (folder / PLUGIN_MODEL).is_file():
        config = json.loads((folder / RECORD).read_text(encoding="utf-8"))["config"]
        built = build(
            config["model"], config.get("train") or {}, (config.get("data") or {}).get("targets") or ["log_g"]
        )
        loader = getattr(built, "load", None)
        if not callable(loader):
            raise ValueError(
                f"the plugin model '{config['model'].get('type')}' has no load(path): its stored file cannot be read"
            )
        loaded = loader(folder / PLUGIN_MODEL)
        return loaded if loaded is not None else built
    raise ValueError(f"the stored trial {folder.name} kept no model (run before models were kept, or it has no save())")


def _check_factory(type_name: str, factory: Any) -> None:
    """A plugin factory is a Python function or class taking (params, train, targets)."""
    import inspect

    if not (inspect.isfunction(factory) or inspect.isclass(factory) or inspect.ismethod(factory)):
        raise SpecError(
            f"'{type_name}' is a {type(factory).__name__}, not a model factory",
            key="model.type",
            hint="a plugin is a function or class of your own, called as factory(params, train, targets), "
            "that returns an object with fit() and predict()",
        )
    try:
        inspect.signature(factory).bind(None, None, None)
    except TypeError:
        raise SpecError(
            f"the plugin factory '{type_name}' does not take (params, train, targets)",
            key="model.type",
            hint="define it as `def factory(params, train, targets): ...`",
        ) from None
    except ValueError:  # no signature to read: let the call tell
        pass


def build(
    model: Mapping[str, Any],
    train: Mapping[str, Any] | TrainConfig | None,
    targets: Sequence[str],
    *,
    config: Any = None,
) -> Any:
    """A fresh, unfitted model for a spec's `model:` mapping, its `train:` settings and the targets.

    `config`: the model's config as `validate` returned it for this very mapping. A run passes
    it so that the parameters checked before anything trained are the object the model gets,
    not a dict read a second time; without it (Python, tests) the mapping is checked here."""
    type_name, params, target = _split(model)
    if isinstance(target, type) and issubclass(target, Model):
        if config is not None:
            if not isinstance(config, target.Config):
                raise TypeError(f"a {type(config).__name__} is not the config of the '{type_name}' model")
            return target(config, train_config(train), targets)
        return target.from_spec(params, train_config(train), targets)
    _check_factory(type_name, target)
    train_params = train_config(train).model_dump()
    built = target(params, train_params, tuple(targets))
    missing = [m for m in ("fit", "predict") if not callable(getattr(built, m, None))]
    if missing:
        raise SpecError(
            f"the plugin '{type_name}' returned {type(built).__name__}, which has no {' or '.join(missing)} method",
            key="model.type",
            hint="a plugin factory returns an object with fit(train, val, *, log, progress) and predict(split)",
        )
    return built


def _split(model: Mapping[str, Any]) -> tuple[str, dict[str, Any], Any]:
    """(type, the other parameters, the class or factory behind the type) of a `model:` mapping."""
    params = dict(model)
    type_name = params.pop("type", None)
    if not isinstance(type_name, str):
        raise SpecError("required key is missing", key="model.type")
    return type_name, params, resolve(type_name)


def load(path: str | Path) -> Model:
    """A fitted built-in model from its checkpoint (the type is read from the file)."""
    meta, _ = load_checkpoint(path)
    target = resolve(meta["type"])
    if not (isinstance(target, type) and issubclass(target, Model)):
        raise ValueError(f"{path}: '{meta['type']}' is not a built-in model; load it with the plugin's own code")
    return target.load(path)


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _import_plugin(type_name: str) -> Any:
    module_name, _, attr = type_name.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(
            f"cannot import the plugin module '{module_name}' ({exc})",
            key="model.type",
            hint="the module must be importable from the repository root (a package folder or a .py file there)",
        ) from None
    factory = getattr(module, attr, None)
    if not callable(factory):
        public = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise SpecError(
            f"the plugin module '{module_name}' has no callable '{attr}'",
            key="model.type",
            hint=did_you_mean(attr, public),
        )
    return factory
