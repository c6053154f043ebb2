"""pydantic's validation errors turned into one located sentence a user can act on.

    exp.md:14: train.lrr: unknown key. did you mean 'lr'?

Validators raise `Invalid` (a message, the part of the location pydantic cannot know, a hint);
`explain` turns any pydantic error into (location in the YAML, message, hint), and `line_at`
finds the file line of a location from the key → line map `engine.text.safe_yaml` builds.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import BaseModel

from engine.errors import Invalid, did_you_mean
from engine.text.safe_yaml import Loc

__all__ = ["Invalid", "dotted", "explain", "is_number", "kind_of", "line_at", "show", "valid_keys"]


def line_at(lines: Mapping[Loc, int], loc: Loc) -> Optional[int]:
    """The line of `loc`, or of its nearest ancestor in the file."""
    loc = tuple(loc)
    while True:
        for candidate in (loc, tuple(str(p) if isinstance(p, int) else p for p in loc)):
            if candidate in lines:
                return lines[candidate]
        if not loc:
            return None
        loc = loc[:-1]


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def kind_of(value: Any) -> str:
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


def show(value: Any) -> str:
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


def explain(error: Mapping[str, Any], root: type[BaseModel]) -> tuple[Loc, str, Optional[str]]:
    """(location in the YAML, message, hint) for one pydantic error."""
    loc: Loc = tuple(p for p in error["loc"] if p != "[key]")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, Invalid):
        return loc + cause.loc, cause.message, cause.hint
    if kind == "missing":
        return loc, "required key is missing", None
    if kind == "extra_forbidden":
        valid = valid_keys(root, loc[:-1])
        hint = did_you_mean(str(loc[-1]), valid) or (f"valid keys here: {', '.join(valid)}" if valid else None)
        return loc, "unknown key", hint
    if kind in _EXPECTED:
        hint = None
        if kind == "string_type" and value is not None and not isinstance(value, (list, dict)):
            hint = "put quotes around it to make it a string"
        return loc, f"expected {_EXPECTED[kind]}, got {show(value)}", hint
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return (
            loc,
            f"expected one of {', '.join(repr(c) for c in choices)}, got {show(value)}",
            did_you_mean(str(value), choices) if isinstance(value, str) else None,
        )
    if kind in _BOUNDS:
        name, words = _BOUNDS[kind]
        bound = ctx.get(name)
        bound = f"{bound:g}" if is_number(bound) else bound
        return loc, f"expected a value {words} {bound}, got {show(value)}", None
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


def valid_keys(root: type[BaseModel], loc: Loc) -> list[str]:
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
