"""The vocabulary of a spec: targets, parameters, metrics, sections, and the small checks on them.

Every other part of the spec speaks these names: a metric is `'<metric>.<target>'`
(`mae.log_g`), a parameter is one of `BIN_PARAMS` (`M_H` is read as `Fe_H`), trials override
only `TRAINING_SECTIONS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from engine.errors import did_you_mean

from .explain import Invalid, show

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
TRAINING_SECTIONS: tuple[str, ...] = ("data", "noise", "inputs", "model", "train")


TRIAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")
REGISTRY_NAME = re.compile(r"[a-z][a-z0-9_]*")
PLUGIN = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]*")


def param_name(value: Any) -> Any:
    return PARAM_ALIASES.get(value, value) if isinstance(value, str) else value


def known_param(key: Any, choices: tuple[str, ...] = BIN_PARAMS, what: str = "parameter") -> str:
    """A parameter name used as a mapping key (`M_H` read as `Fe_H`), or a located complaint."""
    name = param_name(key)
    if name not in choices:
        raise Invalid(
            f"unknown {what} '{key}'; {what}s are {', '.join(choices)}",
            loc=(key,),
            hint=did_you_mean(str(key), choices),
        )
    return name


#: A named test set (`data.tests`): an identifier, so `r2.log_g@low_noise` reads unambiguously.
TEST_SET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split_test(dotted: str) -> tuple[str, str | None]:
    """`'r2.log_g@low_noise'` → `('r2.log_g', 'low_noise')`; no `@`: the primary test set (None)."""
    base, at, test = dotted.partition("@")
    return base, (test if at else None)


def metric_parts(dotted: str) -> tuple[str, str]:
    """`'r2.log_g@low_noise'` → `('r2@low_noise', 'log_g')`: the keys of a trial's metrics mapping,
    where a named test set's scores sit beside the primary's under `<metric>@<test set>`."""
    base, test = split_test(dotted)
    metric, _, target = base.partition(".")
    return (f"{metric}@{test}" if test else metric), target


def base_metric(name: str) -> str:
    """The metric function's name in `'mae@low_noise'`, `'mae.log_g'` or `'mae.log_g@low_noise'`."""
    return name.split("@", 1)[0].split(".", 1)[0]


def is_info(value: Any) -> bool:
    """Whether `value` is meant as an `info.` path, a number a trained model reported (a malformed
    one too, so it gets the info complaint rather than the metric one)."""
    return isinstance(value, str) and (value == "info" or value.startswith("info."))


def parse_metric(text: str) -> tuple[str, str]:
    """`'mae.log_g'` → `('mae', 'log_g')`; `M_H` is read as `Fe_H`; a test-set suffix
    (`'mae.log_g@low_noise'`) is checked for form and dropped (see `metric_key`). Raises Invalid."""
    if not isinstance(text, str):
        raise Invalid(f"expected '<metric>.<target>' like 'mae.log_g', got {show(text)}")
    if is_info(text):  # what a model reported: no test rows to score or resample
        raise Invalid(
            f"{show(text)} is a number a model reported, not a metric scored on the test set: it has no "
            "interval or Δ to draw or compare",
            hint="show it as a results-table column (`metrics:`, after the primary metric), or draw it with a "
            "sweep or line figure's `y:`",
        )
    text, test = split_test(text)
    if test is not None and not TEST_SET_NAME.fullmatch(test):
        raise Invalid(f"expected a test set name after '@' (letters, digits, _), got {show(test)}")
    metric, dot, target = text.partition(".")
    if not dot or not metric or not target:
        raise Invalid(f"expected '<metric>.<target>' like 'mae.log_g', got {show(text)}")
    if metric not in METRICS:
        raise Invalid(
            f"unknown metric '{metric}' in '{text}'; metrics are {', '.join(METRICS)}",
            hint=did_you_mean(metric, METRICS),
        )
    target = param_name(target)
    if target not in TARGETS:
        raise Invalid(
            f"unknown target '{target}' in '{text}'; targets are {', '.join(TARGETS)}",
            hint=did_you_mean(target, TARGETS),
        )
    return metric, target


def metric_key(value: Any) -> str:
    """The canonical form of a metric reference: `'mae.M_H@low_noise'` → `'mae.Fe_H@low_noise'`."""
    metric, target = parse_metric(value)
    test = split_test(value)[1]
    return f"{metric}.{target}" + (f"@{test}" if test else "")


def each_item(values: list[Any], check: Callable[[Any], Any]) -> list[Any]:
    """`check` of each item, a complaint located at the item's index (and within it)."""
    out = []
    for i, item in enumerate(values):
        try:
            out.append(check(item))
        except Invalid as exc:
            raise Invalid(exc.message, loc=(i, *exc.loc), hint=exc.hint) from None
    return out


def metric_list(values: list[Any]) -> list[str]:
    """Each item a metric key (`mae.log_g`), or a complaint located at its index."""
    return each_item(values, metric_key)


def as_list(value: Any) -> Any:
    """Let a single item stand for a one-item list (`apply: train`)."""
    return [value] if isinstance(value, str) else value


def unique(values: list[Any], what: str) -> list[Any]:
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise Invalid(f"{what} '{value}' is listed twice", loc=(i,))
        seen.add(value)
    return values


def position(values: list[Any], value: Any) -> int | None:
    """Where `value` is in `values` (a swept list), telling 1 from 1.0 and true (the sweep keeps
    each once by value and type): the index that locates it in the file."""
    return next((i for i, v in enumerate(values) if v == value and type(v) is type(value)), None)


def relative_path(value: Any, what: str) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise Invalid(f"expected a relative path to the {what}, got an empty string")
        if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
            raise Invalid(f"expected a path relative to this file, got the absolute path '{value}'")
    return value


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def flatten(config: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        yield dotted
        if isinstance(value, Mapping):
            yield from flatten(value, dotted + ".")
