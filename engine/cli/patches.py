"""Typer patches, in one place: what typer does not do for this CLI.

Placeholders a reader knows (`PATH...`, `KEY=VALUE`) instead of Python types; every path an
argument names checked before any command runs; and typer's per-parameter coercion built only
for a value given (it imports pydantic, a tenth of a second of every command that needs none).
These reach into typer's private `_coercion` hooks where it has them, and leave typer's own
behaviour in place where it does not.
"""

from __future__ import annotations

from typing import Any

import typer

from engine.cli.app import app


class _LeftOutFirst:
    """A parameter's coercion that answers a left-out parameter (value None) itself, as typer's
    own does (None, or () for a list), and builds typer's, a pydantic TypeAdapter, only for a
    value given. typer builds one for every parameter it processes — `--help`, the completion
    flags, every option not given — which imports most of pydantic: a tenth of a second of
    `research status`, which needs no pydantic at all."""

    __slots__ = ("descriptor", "built")

    def __init__(self, descriptor) -> None:
        self.descriptor = descriptor
        self.built: Any = None  # typer's own coercion (a private class), built on first use

    def coerce(self, value, param, ctx):
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        if self.built is None:
            from typer._coercion import build_runtime_param

            self.built = build_runtime_param(self.descriptor)
        return self.built.coerce(value, param=param, ctx=ctx)


def _defer_coercion(param) -> None:
    """Give `param` a `_LeftOutFirst` coercion where this typer has the hooks it needs (the lazy
    `_runtime_param` slot and `typer._coercion.build_runtime_param`); else typer's stays."""
    try:
        from typer._coercion import build_runtime_param  # noqa: F401
    except ImportError:  # pragma: no cover - another typer: its own coercion, untouched
        return
    if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
        param._runtime_param = _LeftOutFirst(param.type_descriptor)


#: The arguments that name reports, pages or folders of them (`diff`'s `a` and `b`: FILE#trial, FILE@REV).
_GIVEN_PATHS = ("paths", "file", "files", "a", "b")


def _paths_must_exist(param) -> None:
    """Check every path given to `param` before the command runs (`paths.given`: a missing one
    is refused with the report its name is closest to), for every command at once."""
    before = param.callback

    def callback(ctx, p, value):
        if value is not None and not ctx.resilient_parsing:
            from engine.notebook.paths import given

            for item in value if isinstance(value, (list, tuple)) else [value]:
                given(item)
        return before(ctx, p, value) if before is not None else value

    param.callback = callback


def command():
    """The click command of `app`, with placeholders a reader knows (`PATH...`, `KEY=VALUE`,
    `TEXT`, `N`) where typer would print Python types (`<list[str]>`, `<bool>`), none after a flag."""
    names = {"path": "PATH", "str": "TEXT", "int": "N", "float": "X"}

    def readable(cmd) -> None:
        for param in cmd.params:
            _defer_coercion(param)
            if param.param_type_name == "argument" and param.name in _GIVEN_PATHS:
                _paths_must_exist(param)
            if param.param_type_name == "argument":  # its name says it all: no `<list[Path]>` beside it
                param.display_type_rich = lambda ctx: None
            if param.metavar is not None:
                continue
            if param.param_type_name == "argument":
                base = {"paths": "PATH", "file": "FILE"}.get(param.name, param.name.upper())
                param.metavar = base  # typer adds the "..." of a list
            elif getattr(param, "is_flag", False):
                param.metavar = ""
            elif not getattr(param, "type_descriptor", None) or not param.type_descriptor.is_choice:
                bare = str(param.bare_type()).lower() if hasattr(param, "bare_type") else ""
                bare = bare.removeprefix("list[").removesuffix("]")
                param.metavar = names.get(bare, bare.upper() or "VALUE")
        made = cmd.get_help_option

        def help_option(ctx, made=made):  # --help is a flag too
            option = made(ctx)
            if option is not None:
                option.metavar = ""
                _defer_coercion(option)
            return option

        cmd.get_help_option = help_option
        for sub in getattr(cmd, "commands", {}).values():
            readable(sub)

    built = typer.main.get_command(app)
    readable(built)
    return built
