"""Sandboxed `when:` / `value:` expressions of a spec.

A spec's decision rules and key numbers are small expressions over the results of a run::

    best.mae.log_g <= 0.97 * baseline.mae.log_g
    trials.single-task.mae.log_g - best.mae.log_g

They are user text, so they are never given to `eval`: they are compiled by jinja2's
`SandboxedEnvironment` (no access to underscored attributes, no imports, no builtins beyond
the few listed in `FUNCTIONS`) with `StrictUndefined`, and every missing name or key is an
`ExpressionError` that says what exists there.

Trial names may contain hyphens, dots and pluses (`single-task`, `lr-1e-3`), which are not
identifiers, so `trials.<name>` is rewritten to `trials["<name>"]` for the known trial names
before compiling. `trials["<name>"]` may also be written directly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import SandboxedEnvironment

from engine.errors import ExpressionError, did_you_mean

__all__ = [
    "EXPRESSION_NAMES",
    "FUNCTIONS",
    "PROBE",
    "PROBE_SPREAD",
    "PROBE_TREE",
    "AnyBins",
    "AnyCells",
    "Bins",
    "ProbeTree",
    "Expression",
    "Missing",
    "NoValue",
    "Probe",
    "Spread",
    "compile_expression",
    "placeholders",
    "fill",
    "with_spread",
]

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)


def placeholders(text: str) -> list[str]:
    """The expressions inside `{{ … }}` of a text such as a rule's `says`."""
    return [inner.strip() for inner in _PLACEHOLDER.findall(text or "")]


def fill(text: str, values: Iterable[str]) -> str:
    """The text with each `{{ … }}` replaced, in order, by the formatted value given for it."""
    values = iter(values)
    return _PLACEHOLDER.sub(lambda _: next(values), text)


#: The names a spec expression may use; the runner provides them when it evaluates.
#: `trials.<name>` (every trial's metrics), `best` (the best trial by the primary metric, with
#: its `name`), `baseline` (the trial named by `decision.baseline`) and `ci` (bootstrap
#: confidence intervals), `binned` (`binned[i][trial]`: the values of binned table i, bin by bin),
#: `ceiling` (the report's `fisher_ceiling` trial: `best.rmse.log_g / ceiling.sigma.log_g`).
#: Add a name here when the runner starts providing it.
EXPRESSION_NAMES: tuple[str, ...] = ("trials", "best", "baseline", "ci", "binned", "compare", "ceiling")
#: Names of the context that are functions: `compare('a', 'b').r2.log_g.lo`.
CONTEXT_FUNCTIONS: tuple[str, ...] = ("compare",)


class NoValue(ExpressionError):
    """A rule or key number needs a value these results do not have (`Missing`): the rule is
    undecided, said with why, instead of the run stopping after training."""


class Missing:
    """A result that does not exist (NaN in the results): a bin with too few spectra, a metric
    undefined on its rows. Reading it shows `nan`; comparing or computing with it raises
    `NoValue`, because `nan < x` is silently false and would let the next rule decide."""

    __slots__ = ("path", "why", "left_out")

    def __init__(self, path: str, why: str | None = None, *, left_out: bool = False) -> None:
        self.path = path
        self.why = why or "NaN: a metric not defined on these rows"
        self.left_out = left_out  # a bin the table leaves out of its spread: aggregates over the bins skip it too

    def refuse(self, *_: Any) -> Any:
        raise NoValue(
            f"{self.path} has no value ({self.why})",
            hint="a rule can only read what the results have: change the bins (edges, min_n) or the rule",
        )

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = refuse
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __round__ = __float__ = __int__ = __bool__ = refuse
    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose; typeshed types __hash__ as a method

    def __repr__(self) -> str:
        return "nan"


class Bins(list):
    """One trial's values in the bins of a binned table, as rules read them (`binned[i][trial]`).
    `absent`: bin index → why the table leaves it out (too few spectra). Read alone, such a bin
    is `Missing`; `mean`, `std`, `min` and `max` over the bins leave it out, as the table's
    spread row does, so `std(binned[0]['cnn'])` is the number the table shows."""

    def __init__(
        self, values: Iterable[Any] = (), absent: Mapping[int, str] | None = None, path: str = "binned"
    ) -> None:
        super().__init__(values)
        self.absent = dict(absent or {})
        self.path = path


def _items(args: tuple[Any, ...]) -> list[Any]:
    """`f(a, b, c)` or `f([a, b, c])`: the items either way; over a table's bins (`Bins`), the
    bins the table counts; over bins known only from the data (`AnyBins`), two stand-ins."""
    if len(args) == 1 and isinstance(args[0], AnyBins):
        return [PROBE, PROBE]
    if len(args) == 1 and isinstance(args[0], Bins):
        kept = [v for v in args[0] if not (isinstance(v, Missing) and v.left_out)]
        if not kept:
            why = "; ".join(args[0].absent.values())
            raise NoValue(
                f"{args[0].path} has no bin with enough spectra" + (f" ({why})" if why else ""),
                hint="change the edges (or min_n) so that the table counts some bins, or change the rule",
            )
        return kept
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)


def _values(args: tuple[Any, ...]) -> list[float]:
    """The numbers of `_items`; a missing value refused by name (the rule is undecided)."""
    items = _items(args)
    if not items:
        raise ValueError("needs at least one number")
    for item in items:
        if isinstance(item, Missing):
            item.refuse()
        if not _is_number(item) or (isinstance(item, float) and math.isnan(item)):
            raise ValueError(f"expected numbers, got {item!r}")
    return [float(item) for item in items]


def _probed(args: tuple[Any, ...]) -> Any:
    """A stand-in among the numbers (an expression checked before results exist): its result."""
    return next((item for item in _items(args) if isinstance(item, Probe)), None)


def _mean(*args: Any) -> float:
    import statistics

    probe = _probed(args)
    return probe if probe is not None else statistics.fmean(_values(args))


def _std(*args: Any) -> float:
    """`sample_std`, refused before the results exist when too few values are certain: one
    number, a table of one bin, or bins that no test spectrum can reach (`binned.empty_for_sure`);
    over a table's bins after training, fewer than two counted is a `NoValue` (the rule undecided)."""
    items = _items(args)
    probe = _probed(args)
    bins = args[0] if len(args) == 1 and isinstance(args[0], Bins) else None
    if len(items) < 2 and bins is not None and (bins.absent or probe is None):
        why = "; ".join(bins.absent.values())
        raise NoValue(
            f"{bins.path} has only 1 bin the table counts, and std() needs two" + (f" ({why})" if why else ""),
            hint="change the edges (or min_n) so that the table counts two bins, or change the rule",
        )
    if probe is not None:
        if len(items) < 2:
            raise ValueError("std() needs at least two numbers (the sample std, n − 1)")
        return probe
    from engine.metrics import sample_std  # the one std (numpy loads with it: only when a rule asks)

    return sample_std(_values(args))


def _extreme(pick: Any) -> Any:
    def extreme(*args: Any) -> Any:
        probe = _probed(args)
        if probe is not None:
            return probe
        values = _values(args)
        return _items(args)[values.index(pick(values))]  # the item itself: a seeds' score keeps its .std

    extreme.__name__ = pick.__name__
    return extreme


#: Functions an expression may call.
FUNCTIONS: dict[str, Any] = {
    "abs": abs,
    "min": _extreme(min),
    "max": _extreme(max),
    "round": round,
    "log10": math.log10,
    "sqrt": math.sqrt,
    "mean": _mean,
    "std": _std,
}

_MAX_POWER = 1000  # `9 ** 9 ** 9` would hang the process; refuse exponents above this
_MAX_REPEAT = 100_000  # `'x' * 10 ** 9` would eat the memory


class _Sandbox(SandboxedEnvironment):
    """jinja2's sandbox, with `**` and `*` guarded against resource exhaustion."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _is_number(right) and abs(right) > _MAX_POWER:
            raise SecurityError(f"exponent {right} is too large (at most {_MAX_POWER})")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and _is_number(times):
                    if len(seq) * max(times, 0) > _MAX_REPEAT:
                        raise SecurityError("repeating a sequence that many times is not allowed")
        return super().call_binop(context, operator, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False)
_ENV.globals.clear()  # no range(), dict(), lipsum(), cycler(), joiner(), namespace()
_ENV.globals.update(FUNCTIONS)

_STRING = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.S)
_TRIALS_DOT = re.compile(r"(?<![\w.])trials\s*\.")
_NAME_CONTINUES = re.compile(r"[A-Za-z0-9_+\-]")


def _rewrite_trial_names(source: str, names: Iterable[str]) -> str:
    """`trials.single-task.mae` → `trials["single-task"].mae` for known trial names.

    Longest names first and whole names only (the next character must not continue a name; a
    dot may follow). Text inside string literals is left alone.
    """
    ordered = sorted({n for n in names if n and '"' not in n}, key=len, reverse=True)
    if not ordered:
        return source
    out: list[str] = []
    pos = 0
    for match in _STRING.finditer(source):
        out.append(_rewrite_code(source[pos : match.start()], ordered))
        out.append(match.group(0))
        pos = match.end()
    out.append(_rewrite_code(source[pos:], ordered))
    return "".join(out)


_AT_TEST = re.compile(r"\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)@([A-Za-z_]\w*)")


def _rewrite_test_sets(source: str) -> str:
    """`best.r2.log_g@low_noise` → `best["r2@low_noise"].log_g`: a named test set's scores sit
    beside the primary's in a trial's metrics under `<metric>@<test set>`, so a reference reads
    as the metric string the spec's `metrics:` list uses. String literals are left alone."""
    out: list[str] = []
    pos = 0
    for match in _STRING.finditer(source):
        out.append(_AT_TEST.sub(r'["\1@\3"].\2', source[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_AT_TEST.sub(r'["\1@\3"].\2', source[pos:]))
    return "".join(out)


def _rewrite_code(code: str, names: list[str]) -> str:
    out: list[str] = []
    pos = 0
    for match in _TRIALS_DOT.finditer(code):
        if match.start() < pos:
            continue
        start = match.end()
        for name in names:
            end = start + len(name)
            if code.startswith(name, start) and not _NAME_CONTINUES.match(code, end):
                out.append(code[pos : match.start()])
                out.append(f'trials["{name}"]')
                pos = end
                break
    out.append(code[pos:])
    return "".join(out)


class Expression:
    """A compiled, sandboxed expression. Call `evaluate(context)` to get its value."""

    __slots__ = ("source", "compiled_source", "names", "trials", "path", "line", "key", "_function")

    def __init__(
        self,
        source: str,
        compiled_source: str,
        function: Any,
        *,
        names: frozenset[str],
        trials: frozenset[str],
        path: str | None,
        line: int | None,
        key: str | None,
    ) -> None:
        self.source = source  #: the text as the user wrote it
        self.compiled_source = compiled_source  #: after the trial-name rewrite
        self.names = names  #: top-level names it reads (`best`, `trials`, …), functions excluded
        self.trials = trials  #: trial names it reads through `trials.<name>`
        self.path = path
        self.line = line
        self.key = key
        self._function = function

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def _error(
        self, message: str, hint: str | None = None, kind: type[ExpressionError] = ExpressionError
    ) -> ExpressionError:
        return kind(
            f"{message.rstrip('.')} (in `{self.source}`)", path=self.path, line=self.line, key=self.key, hint=hint
        )

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """The value of the expression over `context` (nested dicts; `a.b` reads `a["b"]`)."""
        for name in sorted(self.names):
            if name not in context:
                available = sorted(context)
                hint = did_you_mean(name, available) or (
                    f"available names: {', '.join(available)}" if available else None
                )
                raise self._error(f"unknown name '{name}'", hint)
        values = {name: _wrap(value, name) for name, value in context.items()}
        try:
            result = self._function(**values)
            if isinstance(result, Undefined):
                str(result)  # StrictUndefined raises the reason here
        except ExpressionError as exc:
            raise self._error(exc.message, exc.hint, type(exc)) from None
        except SecurityError as exc:
            raise self._error(f"not allowed: {exc}") from None
        except UndefinedError as exc:
            spread = re.search(r"'(?:float|int) object' has no attribute '(mean|std|n|values)'", str(exc))
            raise self._error(
                f"undefined value: {exc}",
                f"only a repeated trial (repeats: or seeds:) has .{spread.group(1)}" if spread else None,
            ) from None
        except ZeroDivisionError:
            raise self._error("division by zero") from None
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise self._error(f"cannot evaluate: {exc}") from None
        return _unwrap(result)


@lru_cache(maxsize=1024)
def _compiled(rewritten: str) -> tuple[nodes.Expr, Any]:
    """The parsed tree and the compiled function of an expression, once per process: a check or
    a run compiles the same rules and key numbers for the spec, for every page and for each
    validation (jinja2 compiles to Python source and `compile`s it: milliseconds each). Both are
    only read afterwards — the tree is walked, the function called with a fresh context."""
    tree = Parser(_ENV, rewritten, state="variable").parse_expression()
    return tree, _ENV.compile_expression(rewritten, undefined_to_none=False)


def compile_expression(
    source: str,
    *,
    names: Iterable[str] = (),
    path: str | None = None,
    line: int | None = None,
    key: str | None = None,
    allowed: Iterable[str] | None = None,
) -> Expression:
    """Compile `source` in the sandbox, or raise a located `ExpressionError`.

    `names` are the trial names (rewritten so `trials.single-task` works, and checked: a
    reference to an unknown trial is an error when `names` is not empty). `allowed`, when
    given, are the top-level names the expression may use (see `EXPRESSION_NAMES`).
    """
    names = [str(n) for n in names]

    def error(message: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, path=path, line=line, key=key, hint=hint)

    if not isinstance(source, str) or not source.strip():
        raise error("expected an expression, got an empty value")
    rewritten = _rewrite_test_sets(_rewrite_trial_names(source, names))
    try:
        tree, function = _compiled(rewritten)
    except TemplateSyntaxError as exc:
        raise error(f"cannot parse `{source}`: {exc.message}") from None

    def walk(kind: Any) -> list[Any]:
        return ([tree] if isinstance(tree, kind) else []) + list(tree.find_all(kind))

    used = {n.name for n in walk(nodes.Name) if n.ctx == "load"} - set(FUNCTIONS)
    if allowed is not None:
        allowed = set(allowed)
        for name in sorted(used - allowed):
            hint = did_you_mean(name, allowed) or f"available names: {', '.join(sorted(allowed))}"
            raise error(f"unknown name '{name}' in `{source}`", hint)

    for node in walk(nodes.Getattr):
        if node.attr.startswith("_"):
            raise error(
                f"`{source}` reads '{node.attr}': names starting with '_' are not allowed",
                "read results only: trials.<name>.<metric>.<target>, best, baseline, ci, binned",
            )
    for node in walk(nodes.Getitem):
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            raise error(f"`{source}` reads '{node.arg.value}': names starting with '_' are not allowed")

    for node in walk(nodes.Call):
        if (
            isinstance(node.node, nodes.Name)
            and node.node.name not in FUNCTIONS
            and node.node.name not in CONTEXT_FUNCTIONS
        ):
            raise error(f"unknown name '{node.node.name}' in `{source}`", f"the functions are {', '.join(FUNCTIONS)}")
        if not isinstance(node.node, nodes.Name):
            raise error(
                f"`{source}`: calling a method is not allowed",
                f"an expression may call only {', '.join(FUNCTIONS)} (and use filters such as `| round(2)`)",
            )

    referenced = set()
    for node in walk((nodes.Getattr, nodes.Getitem)):
        if not (isinstance(node.node, nodes.Name) and node.node.name == "trials"):
            continue
        if isinstance(node, nodes.Getattr):
            referenced.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            referenced.add(node.arg.value)
    if names:
        for trial in sorted(referenced - set(names)):
            hint = did_you_mean(trial, names) or f"trials: {', '.join(names)}"
            raise error(f"no trial named '{trial}' in `{source}`", hint)

    return Expression(
        source,
        rewritten,
        function,
        names=frozenset(used),
        trials=frozenset(referenced),
        path=path,
        line=line,
        key=key,
    )


class Probe:
    """A stand-in number: the value of every metric when an expression is checked before any
    result exists. Arithmetic, comparisons, `round`, `abs`, `log10` and formats all work on it,
    so evaluating an expression over a context of probes fails exactly where a name, a key or
    an index it reads would not exist in the real results."""

    __slots__ = ()

    def _same(self, *_: Any) -> "Probe":
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _same
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _same
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __round__ = _same

    def _compare(self, _: Any) -> bool:
        return True

    __lt__ = __le__ = __gt__ = __ge__ = _compare

    def __eq__(self, other: Any) -> bool:
        return True

    def __ne__(self, other: Any) -> bool:
        return False

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def __float__(self) -> float:
        return 0.5

    def __int__(self) -> int:
        return 1

    def __format__(self, spec: str) -> str:
        return format(0.5, spec)

    def __repr__(self) -> str:
        return "<a number>"


class ProbeTree(Probe):
    """A stand-in for a model's `info`, whose keys are known only once it has run: any key or
    index reads another stand-in, and it is a number too."""

    __slots__ = ()

    def __getattr__(self, name: str) -> "ProbeTree":
        if name.startswith("_"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: Any) -> "ProbeTree":
        return self


class AnyBins(Mapping):
    """The bins of a table whose count is known only from the data (`width:`): any index is a bin."""

    def __getitem__(self, key: Any) -> Probe:
        if isinstance(key, int) and not isinstance(key, bool):
            return PROBE
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


class AnyCells(Mapping):
    """The cells of a named table whose bins are known only from the data: any name is a cell."""

    def __init__(self, cell: Mapping[str, Any]) -> None:
        self._cell = cell

    def __getitem__(self, key: Any) -> Mapping[str, Any]:
        if isinstance(key, str):
            return self._cell
        raise KeyError(key)

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


class ProbeSpread(Probe):
    """A stand-in for a repeated trial's score: a number with `.mean`, `.std`, `.n`, `.values`."""

    __slots__ = ()
    mean = std = property(lambda self: PROBE)
    n = property(lambda self: PROBE)
    values = property(lambda self: [PROBE, PROBE])


class Spread(float):
    """A repeated trial's score: the mean over its seeds (so it compares and computes as that
    number), with `.mean`, `.std` (sample, n − 1), `.n` and `.values` (one per seed) for rules
    such as `best.r2.log_g.mean - 2 * best.r2.log_g.std > baseline.r2.log_g`."""

    mean: float
    std: float
    n: int
    values: list[float]

    def __new__(cls, mean: float, std: float, values: list[float]) -> "Spread":
        self = super().__new__(cls, mean)
        self.mean, self.std, self.n, self.values = float(mean), float(std), len(values), list(values)
        return self

    def __repr__(self) -> str:
        return f"{float(self)!r} ± {self.std!r} (n = {self.n})"


def with_spread(metrics: Mapping[str, Any], spread: Mapping[str, Any]) -> dict[str, Any]:
    """A repeated trial's metrics with each score a `Spread` (the mean, its seeds' std, …)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        inner = spread.get(key)
        if isinstance(value, Mapping) and isinstance(inner, Mapping):
            out[key] = with_spread(value, inner)
        elif isinstance(inner, Mapping) and "mean" in inner and _is_number(value):
            out[key] = Spread(value, inner["std"], inner["values"])
        else:
            out[key] = value
    return out


PROBE: Probe = Probe()
PROBE_TREE: ProbeTree = ProbeTree()
PROBE_SPREAD: ProbeSpread = ProbeSpread()


class _Namespace:
    """A read-only view of a dict where `ns.key` and `ns["key"]` read items.

    It has no public methods, so no key is ever shadowed (`trials.items` is the trial named
    items). A missing key raises `ExpressionError` naming the path and what exists there.
    """

    __slots__ = ("_data", "_path")

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self._data = data
        self._path = path

    def _get(self, key: Any) -> Any:
        try:
            value = self._data[key]
        except (KeyError, TypeError):
            keys = [str(k) for k in self._data]
            hint = did_you_mean(str(key), keys) or (f"it has: {', '.join(keys)}" if keys else f"{self._path} is empty")
            raise ExpressionError(f"{self._path} has no '{key}'", hint=hint) from None
        if isinstance(key, str) and re.fullmatch(r"[A-Za-z_]\w*", key):
            path = f"{self._path}.{key}"
        else:
            path = f"{self._path}[{key!r}]"
        return _wrap(value, path)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._get(name)

    def __getitem__(self, key: Any) -> Any:
        return self._get(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: Any) -> bool:
        return _unwrap(self) == _unwrap(other)

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose; typeshed types __hash__ as a method

    def __repr__(self) -> str:
        return f"{self._path}={self._data!r}"


def _wrap(value: Any, path: str) -> Any:
    if isinstance(value, (_Namespace, AnyBins)):
        return value
    if isinstance(value, float) and value != value and not isinstance(value, Spread):
        return Missing(path)
    if isinstance(value, Bins):
        return Bins(
            [
                Missing(f"{path}[{i}]", value.absent[i], left_out=True)
                if i in value.absent
                else _wrap(v, f"{path}[{i}]")
                for i, v in enumerate(value)
            ],
            value.absent,
            path,
        )
    if callable(value) and not isinstance(value, (Mapping, Probe)):  # a context function: wrap what it gives

        def call(*args: Any) -> Any:
            return _wrap(value(*args), f"{path}({', '.join(repr(a) for a in args)})")

        return call
    if isinstance(value, Mapping):
        return _Namespace(value, path)
    if isinstance(value, (list, tuple)):
        return [_wrap(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, Missing):
        return math.nan
    if isinstance(value, _Namespace):
        return {k: _unwrap(v) for k, v in value._data.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value
