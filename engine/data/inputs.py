"""What a model sees: a trial's `inputs:`, the one definition the spec validates and the data
layer computes.

    inputs: flux                                   the noisy flux, every pixel (the default)
    inputs: {flux: {wave: [[8450, 8700]]}}         the pixels inside wavelength windows (Å)
    inputs: {flux: {top_k: 256}}                   the 256 pixels whose noisy flux correlates most
                                                   (|Pearson r|) with the first target, ranked on
                                                   the training split only; `by: T_eff` ranks by
                                                   another label
    inputs: error                                  the per-pixel error array the data holds
                                                   (`wave` and `top_k` select from it as well)
    inputs: quality                                10 statistics of the error vector (mean, std,
                                                   min, max, median, sum, q25, q75, skew, kurtosis)
    inputs: lines                                  9 depths and equivalent widths of the Ca II
                                                   triplet and the Na I doublet, of the noisy flux
    inputs: global                                 128 global features of the noisy flux: the mean
                                                   and spread of 40 bands of the brightness-
                                                   normalised flux, the 39 colours between adjacent
                                                   bands, and the 9 line features
    inputs: {labels: [T_eff, Fe_H]}                labels as inputs: a metadata-only baseline
    inputs: {latent: {of: cnn}}                    a stored net's embeddings of the noisy flux, as a
                                                   probe reads them (`engine.models.latent`): `of` a
                                                   mlp / cnn / vit trial of this report or
                                                   `path/to/exp.md#cnn`; `layer` and `pool` as a
                                                   probe's (default: the backbone's output, 16)
    inputs: [flux, error]                          several of these side by side, in that order

Features are computed from what the model would otherwise see (the noisy flux, after the
split's noise), so a feature model faces the same noise as a pixel model; a latent likewise: the
frozen net embeds each split's noisy flux, so a ridge on a latent reads what a ridge probe does,
and can read it beside other blocks. Its source trial runs first and is in the trial's key, as
a probe's (`engine.run.sources`). A top-K ranking is
fitted on the training split alone (never the test rows) and recorded in the trial's info.
Which label names exist, and that a target is not its own input, is the spec's to say. Here is
what `inputs:` says, read without numpy (a spec is checked before anything loads it); how the
input matrix is computed is `engine.data.input_matrix`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_serializer, model_validator

from engine.errors import Invalid

SPECTRAL = ("flux", "error")
#: A feature set and its width.
FEATURES = {"quality": 10, "lines": 9, "global": 128}
KINDS = (*SPECTRAL, *FEATURES, "labels", "latent")
LATENT_OPTIONS = ("of", "layer", "pool")
BANDS = 40  # the global features' bands of equal pixel count


class Part(BaseModel):
    """One block of a model's input: a spectral array (optionally windowed or top-K), a feature
    set, labels, or a stored net's latent."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    kind: Literal["flux", "error", "quality", "lines", "global", "labels", "latent"]
    wave: Optional[tuple[tuple[float, float], ...]] = None  # windows (Å) of a spectral part
    top_k: Optional[PositiveInt] = None  # the K pixels of a spectral part most correlated with `by`
    by: Optional[str] = None  # the label a top-K ranking follows; None: the first target
    labels: tuple[str, ...] = ()  # the labels of a `labels` part
    of: Optional[str] = None  # a latent's stored net: 'cnn' or 'path/to/exp.md#cnn'
    layer: Union[int, str, None] = None  # a latent's layer (a probe's `layer`); None: the backbone's output
    pool: Optional[PositiveInt] = None  # a latent's positions kept of a feature map; None: a probe's default

    @property
    def spectral(self) -> bool:
        return self.kind in SPECTRAL

    def shown(self) -> Any:
        """The part as a spec writes it: `flux`, `{flux: {top_k: 256}}`, `{labels: [T_eff]}`."""
        if self.kind == "labels":
            return {"labels": list(self.labels)}
        options: dict[str, Any] = {}
        if self.kind == "latent":
            options = {k: getattr(self, k) for k in LATENT_OPTIONS if getattr(self, k) is not None}
            return {"latent": options}
        if self.wave is not None:
            options["wave"] = [list(w) for w in self.wave]
        if self.top_k is not None:
            options["top_k"] = self.top_k
        if self.by is not None:
            options["by"] = self.by
        return {self.kind: options} if options else self.kind


def _part(value: Any, at: tuple) -> dict[str, Any]:
    """A spec item (`flux`, `{flux: {top_k: 256}}`, `{labels: [T_eff]}`) as Part's fields."""
    if isinstance(value, str):
        if value == "labels":
            raise Invalid("`labels` needs the labels to read", loc=at, hint="write `{labels: [T_eff, Fe_H]}`")
        if value == "latent":
            raise Invalid("`latent` needs the stored net to read", loc=at, hint="write `{latent: {of: cnn}}`")
        if value not in KINDS:
            raise Invalid(
                f"unknown input {value!r}; inputs are {', '.join(KINDS)}",
                loc=at,
                hint=_closest(value) or "e.g. `inputs: [flux, error]`",
            )
        return {"kind": value}
    if isinstance(value, Mapping) and len(value) == 1:
        ((kind, options),) = value.items()
        if kind not in KINDS:
            raise Invalid(f"unknown input {kind!r}; inputs are {', '.join(KINDS)}", loc=at, hint=_closest(str(kind)))
        if kind == "labels":
            names = [options] if isinstance(options, str) else options
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise Invalid(f"expected a list of label names, got {options!r}", loc=(*at, "labels"))
            if len(set(names)) != len(names):
                raise Invalid("a label is listed twice", loc=(*at, "labels"))
            return {"kind": "labels", "labels": tuple(names)}
        if kind == "latent":
            return _latent(options, (*at, "latent"))
        if kind in FEATURES:
            if options not in (None, {}):
                raise Invalid(
                    f"`{kind}` takes no options (it is a fixed set of {FEATURES[kind]} values)", loc=(*at, kind)
                )
            return {"kind": kind}
        if options is None:
            return {"kind": kind}
        if not isinstance(options, Mapping):
            raise Invalid(
                f"expected options like {{top_k: 256}} or {{wave: [[8450, 8700]]}}, got {options!r}", loc=(*at, kind)
            )
        unknown = sorted(str(k) for k in options if k not in ("wave", "top_k", "by"))
        if unknown:
            raise Invalid(
                f"unknown option {unknown[0]!r} of {kind}; options are wave, top_k, by", loc=(*at, kind, unknown[0])
            )
        out: dict[str, Any] = {"kind": kind}
        if "wave" in options:
            out["wave"] = _windows(options["wave"], (*at, kind, "wave"))
        if "top_k" in options:
            k = options["top_k"]
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise Invalid(f"expected a positive integer, got {k!r}", loc=(*at, kind, "top_k"))
            out["top_k"] = k
        if "by" in options:
            if "top_k" not in options:
                raise Invalid("`by` says what a top-K ranking follows: give top_k too", loc=(*at, kind, "by"))
            if not isinstance(options["by"], str):
                raise Invalid(f"expected a label name, got {options['by']!r}", loc=(*at, kind, "by"))
            out["by"] = options["by"]
        return out
    raise Invalid(
        f"expected an input name like flux, or a mapping like {{flux: {{top_k: 256}}}}, got {value!r}",
        loc=at,
    )


def _latent(options: Any, at: tuple) -> dict[str, Any]:
    """`{latent: {of: cnn, layer: backbone.convs.5, pool: 8}}` (or `{latent: cnn}`) as Part's fields.
    Whether `of` names a stored net, and `layer` one of its layers, is the plan's to say."""
    if isinstance(options, str):
        options = {"of": options}
    if not isinstance(options, Mapping):
        raise Invalid(f"expected options like {{of: cnn, layer: 2, pool: 8}}, got {options!r}", loc=at)
    unknown = sorted(str(k) for k in options if k not in LATENT_OPTIONS)
    if unknown:
        from engine.errors import did_you_mean

        raise Invalid(
            f"unknown option {unknown[0]!r} of latent; options are {', '.join(LATENT_OPTIONS)}",
            loc=(*at, unknown[0]),
            hint=did_you_mean(unknown[0], LATENT_OPTIONS),
        )
    of = options.get("of")
    if not isinstance(of, str) or not of.strip():
        raise Invalid(
            f"`of` names the stored net's trial, got {of!r}"
            if "of" in options
            else "`of` names the stored net's trial",
            loc=(*at, "of"),
            hint="e.g. `{latent: {of: cnn}}`, or `{latent: {of: 'path/to/exp.md#cnn'}}`",
        )
    out: dict[str, Any] = {"kind": "latent", "of": of.strip()}
    layer = options.get("layer")
    if layer is not None:
        if isinstance(layer, bool) or not isinstance(layer, (int, str)) or (isinstance(layer, str) and not layer):
            raise Invalid(
                f"expected a module name (backbone.convs.5) or an index of the backbone's layers, got {layer!r}",
                loc=(*at, "layer"),
            )
        out["layer"] = layer
    pool = options.get("pool")
    if pool is not None:
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise Invalid(f"expected a positive integer, got {pool!r}", loc=(*at, "pool"))
        out["pool"] = pool
    return out


def _windows(value: Any, at: tuple) -> tuple[tuple[float, float], ...]:
    pairs = [value] if isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value) else value
    if not isinstance(pairs, list) or not pairs:
        raise Invalid(f"expected a list of [low, high] wavelengths in Å, got {value!r}", loc=at)
    out = []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, list) and len(pair) == 2 and all(_number(v) for v in pair)) or not pair[0] < pair[1]:
            raise Invalid(f"expected [low, high] with low < high (Å), got {pair!r}", loc=(*at, i))
        out.append((float(pair[0]), float(pair[1])))
    return tuple(out)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _closest(word: str) -> str | None:
    from engine.errors import did_you_mean

    return did_you_mean(word, KINDS)


class Inputs(BaseModel):
    """A trial's `inputs:`: the parts a model's input matrix is made of, side by side."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    parts: tuple[Part, ...] = Field(default=(Part(kind="flux"),), min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if isinstance(value, Inputs):
            return value
        if isinstance(value, Mapping) and set(value) <= {"parts"}:  # `Inputs()`, or a copy in this form
            return value
        items = value if isinstance(value, list) else [value]
        if not items:
            raise Invalid("expected at least one input", hint="leave `inputs:` out for the flux")
        parts = [Part(**_part(item, (i,) if isinstance(value, list) else ())) for i, item in enumerate(items)]
        seen: set[str] = set()
        for i, part in enumerate(parts):
            name = json.dumps(part.shown(), sort_keys=True)
            if name in seen:
                raise Invalid("this input is listed twice", loc=(i,))
            seen.add(name)
        return {"parts": tuple(parts)}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The schema of what a spec writes (a name, a one-key mapping, or a list of them), not of
        the `parts` this class keeps them as."""
        window = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
        selection = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "wave": {"type": "array", "items": window, "description": "windows [low, high] in Å"},
                "top_k": {"type": "integer", "minimum": 1, "description": "the K pixels most correlated with `by`"},
                "by": {"type": "string", "description": "the label a top-K ranking follows (the first target)"},
            },
        }
        item = {
            "oneOf": [
                {"type": "string", "enum": [kind for kind in KINDS if kind not in ("labels", "latent")]},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {
                        **{kind: selection for kind in SPECTRAL},
                        **{kind: {"type": "null"} for kind in FEATURES},
                        "labels": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "latent": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["of"],
                            "properties": {
                                "of": {"type": "string", "description": "the stored mlp / cnn / vit trial"},
                                "layer": {
                                    "type": ["string", "integer"],
                                    "description": "a module of the net, or an index of its backbone's layers",
                                },
                                "pool": {"type": "integer", "minimum": 1, "description": "positions of a feature map"},
                            },
                        },
                    },
                    "additionalProperties": False,
                },
            ]
        }
        return {"title": "Inputs", "oneOf": [item, {"type": "array", "items": item, "minItems": 1}], "default": "flux"}

    @model_serializer
    def _dump(self) -> Any:
        shown = [part.shown() for part in self.parts]
        return shown[0] if len(shown) == 1 else shown

    @property
    def is_flux(self) -> bool:
        """The default: the whole noisy flux, as models read it without `inputs:`."""
        return self.parts == (Part(kind="flux"),)

    @property
    def spectral(self) -> bool:
        """One spectral array (whole, windowed or top-K): what a net convolving along wavelength reads."""
        return len(self.parts) == 1 and self.parts[0].spectral

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(name for part in self.parts for name in part.labels)

    @property
    def latents(self) -> dict[str, Part]:
        """Each latent part by the name its stored net is handed on under (`inputs.latent`, or
        `inputs[1].latent` in a list): the one name the plan keys its source by and the data
        layer finds the net's folder by."""
        several = len(self.parts) > 1
        return {
            f"inputs[{i}].latent" if several else "inputs.latent": part
            for i, part in enumerate(self.parts)
            if part.kind == "latent"
        }

    @property
    def rankings(self) -> tuple[str, ...]:
        """The labels a top-K ranking follows (None: the first target)."""
        return tuple(part.by for part in self.parts if part.by is not None)

    def describe(self) -> str:
        return " + ".join(
            part.kind if isinstance(part.shown(), str) else json.dumps(part.shown(), separators=(", ", ": "))
            for part in self.parts
        )
