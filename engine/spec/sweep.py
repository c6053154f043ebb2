"""The sweep: a spec's trials resolved into validated training configs.

Each trial overrides the base spec's `data`, `noise`, `model` and `train` by dotted keys. An
override *replaces* the value at its key (a mapping value replaces the whole mapping there);
missing mappings on the way are created. `--set` options are applied last, to every trial, or
to one (`trials.<name>.<dotted key>`). An invalid result is a `SpecError` at the line of the
override that caused it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from engine.data.inputs import Inputs
from engine.errors import SpecError, did_you_mean
from engine.models.base import TrainConfig
from engine.text.safe_yaml import Loc, read_yaml

from .explain import dotted, explain, kind_of
from .run_config import DataSpec, ModelSpec, NoiseSpec, TrialConfig
from .vocabulary import TRAINING_SECTIONS, position

__all__ = [
    "REPEAT_KEYS",
    "Trial",
    "grid_trials",
    "member_name",
    "value_name",
    "parse_set_option",
    "parse_sweep_option",
    "resolve",
]

#: The keys of a trial (or of the spec) that repeat it over seeds rather than override its config.
REPEAT_KEYS = ("repeats", "seeds")


@dataclass(frozen=True)
class Trial:
    """One resolved trial: its name, overrides, a JSON-able config and the validated sections.

    `origins` says where each override came from: the spec location `("trials", name, key)`
    of the file, or the `--set …` option, so a later check can name the line that set a value."""

    name: str
    overrides: dict[str, Any]
    config: dict[str, Any]
    data: DataSpec
    noise: NoiseSpec
    inputs: Inputs
    model: ModelSpec
    train: TrainConfig
    origins: dict[str, Any] = field(default_factory=dict)
    group: str | None = None  # the repeated trial this run is one seed of (`repeats:`); None: a trial of its own

    @property
    def shown_name(self) -> str:
        """The name the report shows it under: its repeat group's, or its own."""
        return self.group or self.name

    def origin_of(self, key: str) -> Any:
        """The origin of the most specific override at or above the dotted `key`; None: the base spec."""
        best, best_len = None, -1
        parts = key.split(".")
        for dotted_key, origin in self.origins.items():
            own = dotted_key.split(".")
            if parts[: len(own)] == own and len(own) >= best_len:
                best, best_len = origin, len(own)
        return best


def resolve(spec, extra: Mapping[str, Any]) -> list[Trial]:
    """Every trial of `spec` with its overrides, then the `--set` style `extra` keys, validated."""
    names = spec.trial_names
    grid = spec.grid
    clash = sorted(set(grid) & set(spec.trials))
    if clash:
        raise spec._error(
            f"the sweep makes a trial named '{clash[0]}', and trials: has one",
            ("sweep",),
            hint="rename the hand-written trial",
        )
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
                    path=spec._path,
                    key=f"--set {key}",
                    hint=did_you_mean(wanted, names) or f"trials: {', '.join(names)}",
                )
        for name in names if target is None else [target]:
            per_trial[name].append((f"--set {key}", dotted, value))

    base = {k: copy.deepcopy(spec._raw[k]) for k in TRAINING_SECTIONS if k in spec._raw}
    resolved = []
    for name in names:
        if name in grid:  # a trial of `sweep:` (or of --sweep): located at the swept key
            own = [(_grid_origin(spec, key), key, value) for key, value in grid[name].items()]
        else:
            own = [
                (("trials", name, key), key, value)
                for key, value in (spec.trials.get(name) or {}).items()
                if key not in REPEAT_KEYS
            ]
        applied: list[tuple[Any, str, Any]] = own + per_trial[name]  # (origin, dotted key, value)
        config = copy.deepcopy(base)
        for origin, key, value in applied:
            _set(spec, config, key, value, origin, name)
        try:
            validated = TrialConfig.model_validate(config)
        except ValidationError as exc:
            raise _trial_error(spec, name, exc, applied) from None
        trial = Trial(
            name=name,
            overrides={key: copy.deepcopy(value) for _, key, value in applied},
            config=validated.model_dump(mode="json"),
            data=validated.data,
            noise=validated.noise,
            inputs=validated.inputs,
            model=validated.model,
            train=validated.train,
            origins={key: origin for origin, key, _ in applied},
        )
        seeds, origin = _seeds(spec, name, trial.train.seed, trial.config.get("model") or {})
        resolved += [_member(trial, seed, origin) for seed in seeds] if seeds else [trial]
    return resolved


def member_name(group: str, seed: int) -> str:
    """The run of a repeated trial with one seed: `equal.seed-43`."""
    return f"{group}.seed-{seed}"


def _seeds(spec, name: str, base_seed: int, model: dict) -> tuple[list[int], Any]:
    """The seeds a trial is repeated over (none: it runs once) and where that was said: the
    trial's own `repeats:`/`seeds:`, else the spec's — which leaves out the models whose numbers
    no seed changes (`engine.models.training_noise`: a Ridge run three times is the same Ridge).
    `repeats: n` counts up from `train.seed`."""
    from engine.models import training_noise

    own = spec.trials.get(name) or {} if name not in spec.grid else {}
    wide = spec.repeats is not None or spec.seeds is not None
    spec_wide = {"repeats": spec.repeats, "seeds": spec.seeds} if wide and training_noise(model).stochastic else {}
    for where, source in ((("trials", name), own), ((), spec_wide)):
        if "seeds" in source and source["seeds"] is not None:
            return list(source["seeds"]), (*where, "seeds")
        if "repeats" in source and source["repeats"] is not None:
            count = source["repeats"]
            return ([base_seed + i for i in range(count)] if count > 1 else []), (*where, "repeats")
    return [], None


def _member(trial: Trial, seed: int, origin: Any) -> Trial:
    """One seed of a repeated trial: the same config but `train.seed` (so the same cache key but
    the seed: the first seed's run is the trial's own when it starts from its `train.seed`)."""
    config = copy.deepcopy(trial.config)
    config["train"]["seed"] = seed
    return Trial(
        name=member_name(trial.name, seed),
        overrides={**trial.overrides, "train.seed": seed},
        config=config,
        data=trial.data,
        noise=trial.noise,
        inputs=trial.inputs,
        model=trial.model,
        train=trial.train.model_copy(update={"seed": seed}),
        origins={**trial.origins, "train.seed": origin},
        group=trial.name,
    )


def _origin_error(spec, origin: Any, message: str, hint: str | None = None, rest: Loc = ()) -> SpecError:
    if isinstance(origin, str):  # a --set option: not in the file
        key = origin + "".join(f"[{r}]" if isinstance(r, int) else f".{r}" for r in rest)
        return SpecError(message, path=spec._path, key=key, hint=hint)
    return spec._error(message, tuple(origin) + tuple(rest), hint)


def _set(spec, config: dict[str, Any], key: str, value: Any, origin: Any, trial: str) -> None:
    parts = key.split(".")
    if not all(parts):
        raise _origin_error(spec, origin, f"expected a dotted key like train.lr, got '{key}'")
    if parts[0] not in TRAINING_SECTIONS:
        if parts[0] in type(spec).model_fields:
            raise _origin_error(
                spec, origin, f"a trial can only override {', '.join(TRAINING_SECTIONS)}, not {parts[0]}"
            )
        raise _origin_error(
            spec,
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
            raise _origin_error(
                spec, origin, f"cannot set {key}: {where} is {kind_of(child)}, not a mapping, in trial '{trial}'"
            )
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def _trial_error(spec, name: str, exc: ValidationError, applied: list[tuple[Any, str, Any]]) -> SpecError:
    problems = [explain(e, TrialConfig) for e in exc.errors()]
    loc, message, hint = problems[0]
    best = None
    for origin, key, _ in applied:  # the most specific override wins; a later one on a tie
        parts = tuple(key.split("."))
        n = min(len(parts), len(loc))
        if n and tuple(map(str, loc[:n])) == parts[:n] and (best is None or len(parts) >= len(best[1])):
            best = (origin, parts)
    if best is not None:
        origin, parts = best
        rest = loc[len(parts) :]
        if (
            isinstance(origin, tuple)
            and origin[0] == "sweep"
            and (rest or exc.errors()[0]["type"] != "extra_forbidden")
        ):
            value = next(v for o, _, v in applied if o == origin)  # a bad value: at its own line, sweep.<key>[i]
            at = position(spec.sweep.get(origin[1], []), value)
            origin = origin if at is None else (*origin, at)
        return _origin_error(spec, origin, message, hint, rest=rest)
    if name in spec.trials:
        return spec._error(f"{dotted(loc)}: {message}", ("trials", name), hint)
    if name in spec.grid:
        return spec._error(f"{dotted(loc)}: {message} (trial '{name}')", ("sweep",), hint)
    return spec._error(message, loc, hint)


def _grid_origin(spec, key: str) -> Any:
    """Where a grid trial's value was set: the spec's `sweep.<key>`, or the --sweep option."""
    return f"--sweep {key}" if key in spec._cli_sweep else ("sweep", key)


def grid_trials(grid: Mapping[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """The trials of a grid: every combination of the swept values, in the product's order (the
    first key slowest), named by its short keys and values: `alpha-100.n_train-2k`."""
    import itertools

    if not grid:
        return {}
    keys = list(grid)
    shorts = [key.rsplit(".", 1)[-1] for key in keys]
    labels = [short if shorts.count(short) == 1 else key.replace(".", "_") for key, short in zip(keys, shorts)]
    names = {key: value_names(list(grid[key])) for key in keys}
    out: dict[str, dict[str, Any]] = {}
    for positions in itertools.product(*(range(len(grid[key])) for key in keys)):
        name = ".".join(f"{label}-{names[key][i]}" for label, key, i in zip(labels, keys, positions))
        out[name] = {key: grid[key][i] for key, i in zip(keys, positions)}
    return out


def value_names(values: list[Any]) -> list[str]:
    """The names of one key's swept values, distinct by construction: `value_name`, and where two
    values would share a name (1234567.1 and 1234567.2 are both 1.23457e6), every digit of each."""
    short = [value_name(v, i) for i, v in enumerate(values)]
    names = [
        repr(v).replace("+", "") if short.count(name) > 1 and isinstance(v, float) else name
        for name, v in zip(short, values)
    ]
    for i, name in enumerate(names):
        if names.count(name) > 1:  # e.g. [32] and 32, both "32"; the fallback itself may be a value's name ("v1")
            fallback, extra = f"v{i}", 0
            while fallback in names:
                extra += 1
                fallback = f"v{i}-{extra}"
            names[i] = fallback
    return names


def value_name(value: Any, index: int) -> str:
    """A value as a trial name shows it: 100, 1e5, 0.001, 2k, 1M, true, cosine; a flat list by its
    items, 512x256 (a layer list reads as the shape it is); a mapping by its keys and values,
    flux-top_k-256; v<index> otherwise."""
    if isinstance(value, list) and value and all(not isinstance(v, list) for v in value):
        items = [value_name(v, index) for v in value]
        if not any(item == f"v{index}" for item in items):
            return "x".join(items)
        return f"v{index}"
    if isinstance(value, dict) and value:  # `{flux: {top_k: 64}}` → flux-top_k-64, `{labels: [T_eff]}` → labels-T_eff
        items = [str(k) if v in (None, {}) else f"{k}-{value_name(v, index)}" for k, v in value.items()]
        if all(re.fullmatch(r"[A-Za-z0-9_+\-]+", item) for item in items) and f"v{index}" not in items:
            return "-".join(items)
        return f"v{index}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        for size, suffix in ((1_000_000, "M"), (1000, "k")):
            if value and abs(value) >= size and value % size == 0:
                return f"{value // size}{suffix}"
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e3:
            return str(int(value))
        if value and (abs(value) >= 1e3 or abs(value) < 1e-3):
            mantissa, exponent = f"{value:.6e}".split("e")
            return f"{float(mantissa):g}e{int(exponent)}"
        return f"{value:g}"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.+\-]+", value):
        return value
    return f"v{index}"


def parse_sweep_option(text: str) -> tuple[str, list[Any]]:
    """`"model.alpha=1e2,1e3,1e4"` → `("model.alpha", [100.0, 1000.0, 10000.0])`; each value read
    as YAML. The values are split at the commas outside brackets and quotes, so a list is one value
    (`model.hidden=[64],[64,32]`); a single bracketed list is the list of values, as it always was
    (`model.hidden=[[64],[64,32]]`, `model.alpha=[1e2,1e3]`), so a recorded --sweep replays the same."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key or not value.strip():
        raise SpecError(
            f"expected --sweep KEY=V1,V2,…, got '{text}'", hint="for example --sweep model.alpha=1e2,1e3,1e4"
        )
    if not re.fullmatch(r"[^\s=]+", key) or not all(key.split(".")) or key.split(".")[0] not in TRAINING_SECTIONS:
        raise SpecError(
            f"expected a dotted key of {', '.join(TRAINING_SECTIONS)} like model.alpha, got '{key}'", key="--sweep"
        )
    parts = _top_level_parts(value.strip(), key)
    values = [read_yaml(part, path=None, first_line=None, what="value", key=f"--sweep {key}")[0] for part in parts]
    if len(parts) == 1 and parts[0].startswith("[") and isinstance(values[0], list):
        values = values[0]
    return key, values


def _top_level_parts(text: str, key: str) -> list[str]:
    """`[32,16],[64],'a,b'` → `["[32,16]", "[64]", "'a,b'"]`: the commas between values, not
    those inside a list, a mapping or a quoted string; unbalanced brackets are the user's typo."""
    closing = {"[": "]", "{": "}"}
    parts, stack, quote, start, before = [], [], None, 0, ","
    for i, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"" and before in ",[{:":  # a quoted scalar; an apostrophe inside a word (it's) is text
            quote = char
        elif char in closing:
            stack.append(closing[char])
        elif char in "]}":
            if not stack or stack.pop() != char:
                raise SpecError(
                    f"unbalanced '{char}' at character {i + 1} of the values '{text}'",
                    key=f"--sweep {key}",
                    hint="each list value needs its own brackets: --sweep model.hidden=[32],[64,32]",
                )
        elif char == "," and not stack:
            parts.append(text[start:i].strip())
            start = i + 1
        if not char.isspace():
            before = char
    if stack or quote:
        missing = quote or stack[-1]
        raise SpecError(
            f"the values '{text}' leave a {missing!r} unclosed",
            key=f"--sweep {key}",
            hint="each list value needs its own brackets: --sweep model.hidden=[32],[64,32]",
        )
    parts.append(text[start:].strip())
    if not all(parts):
        raise SpecError(
            f"an empty value in '{text}'",
            key=f"--sweep {key}",
            hint="separate values by single commas: --sweep model.alpha=1e2,1e3",
        )
    return parts


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
