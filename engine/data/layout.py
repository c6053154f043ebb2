"""Where the arrays and labels sit in one HDF5 file, whichever tool wrote it.

The reader (`engine.data.shards`) asks this module one question per file: for flux, error,
wave and each parameter, which dataset (or field, or column) holds it. The answer is a
`Column`; what the file holds is an `Inventory`, kept so that every "cannot find it" names what
*is* there and proposes the `data.keys` that would read it. Nothing here reads spectra: an
inventory opens no dataset but pandas' small name lists, so opening a shard set stays cheap.

Layouts understood (see `engine.data.shards` for the key notation):

* plain datasets, at the top level or one group down (`flux`, `params/logg`);
* compound (structured) datasets, each numeric field a column (`params` with `teff`, `logg`);
* pandas `fixed` frames (a group with `axis0`, `axis1`, `blockN_items`, `blockN_values`) and
  `table` frames (a group whose compound dataset `table` holds `values_block_N` fields, the
  column names pickled in its `values_block_N_kind` attributes), read with h5py alone;
* pandas series (a group with `values`, its name in the group's `name` attribute).
"""

from __future__ import annotations

import io
import json
import pickle
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import DataError

PARAMS = ("T_eff", "log_g", "Fe_H", "mag", "snr")
ARRAYS = ("flux", "error", "wave")

#: The names a dataset is tried under before any search: the old reader's only lookup, so a
#: flat file resolves (and fingerprints) exactly as it always did.
DEFAULT_NAMES = {
    "flux": ("flux",),
    "error": ("error",),
    "wave": ("wave",),
    "T_eff": ("T_eff",),
    "log_g": ("log_g",),
    "Fe_H": ("Fe_H", "M_H"),
    "mag": ("mag",),
    "snr": ("snr",),
}

#: Other tools' names, compared after `normal()` (lower case, letters and digits only), so
#: `Teff`, `TEFF`, `t_eff` are one name and `[Fe/H]` is `feh`. `ivar` is not an error (it is
#: 1/σ²), nor `loglam` a wavelength: a wrong quantity read silently is worse than a question.
ALIASES = {
    "T_eff": ("teff",),
    "log_g": ("logg",),
    "Fe_H": ("feh", "mh"),
    "mag": ("mag", "magnitude"),
    "snr": ("snr",),
    "flux": ("flux", "fluxes", "spectra", "spectrum"),
    "error": ("error", "errors", "err", "sigma", "fluxerr", "fluxerror"),
    "wave": ("wave", "wavelength", "wavelengths", "lambda"),
}

#: Looser hints, used only to *propose* keys in an error, never to read.
GUESSES = {
    "T_eff": ("teff", "temp"),
    "log_g": ("logg", "grav"),
    "Fe_H": ("feh", "mh", "metal", "fe"),
    "mag": ("mag",),
    "snr": ("snr", "sn"),
    "flux": ("flux", "spec"),
    "error": ("err", "sig", "unc", "noise"),
    "wave": ("wav", "lam"),
}

SHOWN = 12  # names listed per table in an error before "… and N more"


def normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


# ---------------------------------------------------------------------------------------------
# What the file holds
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One array or label column and how to read it: a dataset, or part of one."""

    key: str  # as data.keys writes it: 'params/logg'
    kind: str  # 'dataset', 'compound field', 'pandas column'
    dataset: str  # the HDF5 dataset read
    field: Optional[str] = None  # a compound field
    col: Optional[int] = None  # a column of a 2-D block (pandas) or of a sub-array field
    rows_axis: int = 0  # which axis of a pandas block runs over rows (old pandas wrote them untransposed)
    shape: tuple = ()
    dtype: str = ""

    @property
    def rows(self) -> int:
        return int(self.shape[0]) if self.shape else 0

    @property
    def numpy_kind(self) -> str:
        """'f', 'i', 'u' …, or '' for an HDF5 type numpy cannot name (opaque, enum): no role's data."""
        try:
            return np.dtype(self.dtype).kind if self.dtype else ""
        except TypeError:
            return ""

    @property
    def label(self) -> str:
        """How an error names it: `dataset 'T_eff'`, `compound field 'params/logg'`."""
        return f"{self.kind} '{self.key}'"

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"

    def read(self, f, start: int | None = None, stop: int | None = None) -> np.ndarray:
        ds = f[self.dataset]
        rows = slice(start, stop)
        if self.field is None and self.col is None:  # a whole dataset (or a pandas series' values)
            return ds[()] if start is None and stop is None else ds[rows]
        if self.field is not None:
            values = ds.fields(self.field)[rows]
            return values if self.col is None else values[:, self.col]
        if self.rows_axis == 0:
            return ds[rows, self.col]
        return ds[self.col, rows]


@dataclass(frozen=True)
class Table:
    """A compound dataset or a pandas frame: named columns of one length."""

    path: str
    kind: str  # 'compound dataset', 'pandas frame (fixed format)', 'pandas frame (table format)', 'pandas series'
    rows: int
    columns: dict  # name → Column, numeric 1-D columns only
    other: tuple = ()  # names of members that are not numeric columns (strings, sub-arrays)

    @property
    def member_word(self) -> str:
        return "field" if self.kind == "compound dataset" else "column"

    def member(self, name: str) -> Optional[Column]:
        if name in self.columns:
            return self.columns[name]
        folded = [c for n, c in self.columns.items() if n.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None

    def describe(self) -> str:
        names = list(self.columns) + [f"{n} (not numeric)" for n in self.other]
        shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
        return f"{self.path} ({self.kind}, {self.rows} rows; {self.member_word}s {shown or 'none'})"


@dataclass
class Inventory:
    """Everything the reader searches in one file: top level and one group down."""

    datasets: dict = field(default_factory=dict)  # path → (shape, dtype), plain datasets
    tables: dict = field(default_factory=dict)  # path → Table
    groups: dict = field(default_factory=dict)  # plain group path → number of members
    deeper: list = field(default_factory=list)  # groups two levels down: listed, not searched

    def members(self) -> list[tuple[str, Column]]:
        """(name, column) for every plain dataset and every table column."""
        out = []
        for path, (shape, dtype) in self.datasets.items():
            out.append((path.rsplit("/", 1)[-1], Column(path, "dataset", path, shape=shape, dtype=dtype)))
        for table in self.tables.values():
            out.extend(table.columns.items())
        return out

    def describe(self) -> str:
        parts = []
        for path, (shape, dtype) in self.datasets.items():
            parts.append(f"{path} ({_shape(shape)} {dtype})")
        parts.extend(t.describe() for t in self.tables.values())
        for path, count in self.groups.items():
            if not any(p.startswith(path + "/") for p in (*self.datasets, *self.tables)):
                parts.append(f"group {path} ({count} members)")
        if self.deeper:
            parts.append("deeper groups not searched: " + ", ".join(self.deeper[:SHOWN]))
        if len(parts) > 3 * SHOWN:
            parts = parts[: 3 * SHOWN] + [f"and {len(parts) - 3 * SHOWN} more"]
        return ", ".join(parts) if parts else "nothing"


def _shape(shape) -> str:
    return " × ".join(str(s) for s in shape) if shape else "scalar"


def get(f, path: str):
    """The object at `path`, or None (never an exception: a key is the user's text)."""
    if not path or path.strip("/") == "":
        return None
    try:
        return f.get(path)
    except (KeyError, TypeError, ValueError, RuntimeError, OSError):
        return None


def inventory(f) -> Inventory:
    import h5py

    inv = Inventory()

    def visit(obj, path: str, depth: int) -> None:
        if isinstance(obj, h5py.Dataset):
            table = table_at(obj, path)
            if table is not None:
                inv.tables[path] = table
            else:
                inv.datasets[path] = (tuple(obj.shape), str(obj.dtype))
            return
        if not isinstance(obj, h5py.Group):
            return
        table = table_at(obj, path)
        if table is not None:
            inv.tables[path] = table
        elif depth == 0:
            inv.groups[path] = len(obj)
            for name in obj:
                child = get(obj, name)
                if child is not None:
                    visit(child, f"{path}/{name}", depth + 1)
        else:
            inv.deeper.append(path)

    for name in f:
        obj = get(f, name)
        if obj is not None:
            visit(obj, name, 0)
    return inv


# ---------------------------------------------------------------------------------------------
# Tables: compound datasets and pandas frames
# ---------------------------------------------------------------------------------------------


class _NoGlobals(pickle.Unpickler):
    """pandas keeps column names as protocol-0 pickles of lists; refusing every global makes
    unpickling them safe (no class, hence no code, can be named)."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def _unpickle(value):
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (np.bytes_, bytes)):
        try:
            return _NoGlobals(io.BytesIO(bytes(value))).load()
        except Exception:
            return None
    return value


def _text(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _numeric(dtype) -> bool:
    return np.dtype(dtype).kind in "fiu"


def _attr(obj, name, default=None):
    try:
        return obj.attrs.get(name, default)
    except (OSError, TypeError, ValueError):
        return default


def table_at(obj, path: str) -> Optional[Table]:
    """The table `obj` is, or None when it is a plain dataset or group."""
    import h5py

    if isinstance(obj, h5py.Dataset):
        return _compound(obj, path) if obj.dtype.names else None
    if not isinstance(obj, h5py.Group):
        return None
    kind = _text(_attr(obj, "pandas_type", b""))
    if kind == "frame":
        return _pandas_fixed(obj, path)
    if kind in ("frame_table", "series_table") or (
        kind == "" and isinstance(get(obj, "table"), h5py.Dataset) and _attr(obj, "non_index_axes") is not None
    ):
        return _pandas_table(obj, path)
    if kind == "series":
        return _pandas_series(obj, path)
    return None


def _compound(ds, path: str) -> Table:
    columns, other = {}, []
    for name in ds.dtype.names:
        base, sub = ds.dtype.fields[name][0].base, ds.dtype.fields[name][0].shape
        if sub == () and _numeric(base):
            columns[name] = Column(
                f"{path}/{name}",
                "compound field",
                path,
                field=name,
                shape=(ds.shape[0],) if ds.ndim else (),
                dtype=str(base),
            )
        else:
            other.append(name)
    return Table(path, "compound dataset", int(ds.shape[0]) if ds.ndim else 0, columns, tuple(other))


def _pandas_fixed(group, path: str) -> Table:
    import h5py

    index = get(group, "axis1")
    rows = _length(index) if isinstance(index, h5py.Dataset) else None
    columns, other = {}, []
    nblocks = int(_attr(group, "nblocks", 0) or 0) or sum(1 for n in group if re.fullmatch(r"block\d+_items", n))
    for i in range(nblocks):
        items, values = get(group, f"block{i}_items"), get(group, f"block{i}_values")
        if not (isinstance(items, h5py.Dataset) and isinstance(values, h5py.Dataset)):
            continue
        names = [_text(n) for n in np.atleast_1d(items[()])]
        shape = _real_shape(values)
        if values.dtype.kind == "O" or len(shape) != 2 or not _numeric(values.dtype):
            other.extend(names)
            continue
        transposed = bool(_attr(values, "transposed", False))
        rows_axis = 0 if transposed else 1  # pandas writes the block (items × rows) transposed
        if shape[1 - rows_axis] != len(names) and shape[rows_axis] == len(names):
            rows_axis = 1 - rows_axis
        n_rows = 0 if 0 in shape else int(shape[rows_axis])
        rows = n_rows if rows is None else rows
        for j, name in enumerate(names):
            columns[name] = Column(
                f"{path}/{name}",
                "pandas column",
                f"{path}/block{i}_values",
                col=j,
                rows_axis=rows_axis,
                shape=(n_rows,),
                dtype=str(values.dtype),
            )
    return Table(path, "pandas frame (fixed format)", rows or 0, columns, tuple(other))


def _length(ds) -> int:
    shape = _real_shape(ds)
    return int(shape[0]) if shape else 0


def _real_shape(ds) -> tuple:
    """pandas writes an empty array as a one-element placeholder with its true shape pickled."""
    if _attr(ds, "value_type") is not None:
        shape = _unpickle(_attr(ds, "shape"))
        if isinstance(shape, tuple) and all(isinstance(s, int) for s in shape):
            return shape
    return tuple(ds.shape)


def _pandas_table(group, path: str) -> Optional[Table]:
    import h5py

    ds = get(group, "table")
    if not isinstance(ds, h5py.Dataset) or not ds.dtype.names:
        return None
    rows = int(ds.shape[0]) if ds.ndim else 0
    columns, other = {}, []
    for name in ds.dtype.names:
        if name == "index":
            continue
        sub = ds.dtype.fields[name][0]
        kinds = _unpickle(_attr(ds, f"{name}_kind"))
        width = int(np.prod(sub.shape)) if sub.shape else 1
        names = [str(k) for k in kinds] if isinstance(kinds, list) and len(kinds) == width else None
        if names is None:
            names = [name] if not sub.shape else [f"{name}[{j}]" for j in range(width)]
        if not _numeric(sub.base) or len(sub.shape) > 1:
            other.extend(names)
            continue
        for j, column in enumerate(names):
            columns[column] = Column(
                f"{path}/{column}",
                "pandas column",
                f"{path}/table",
                field=name,
                col=j if sub.shape else None,
                shape=(rows,),
                dtype=str(sub.base),
            )
    return Table(path, "pandas frame (table format)", rows, columns, tuple(other))


def _pandas_series(group, path: str) -> Optional[Table]:
    import h5py

    values = get(group, "values")
    if not isinstance(values, h5py.Dataset):
        return None
    name = _attr(group, "name")
    name = _text(name) if isinstance(name, (bytes, np.bytes_, str)) and _text(name) != "N." else path.rsplit("/", 1)[-1]
    rows = _length(values)
    if not _numeric(values.dtype) or values.ndim != 1:
        return Table(path, "pandas series", rows, {}, (name,))
    column = Column(f"{path}/{name}", "pandas column", f"{path}/values", shape=(rows,), dtype=str(values.dtype))
    return Table(path, "pandas series", rows, {name: column}, ())


# ---------------------------------------------------------------------------------------------
# Resolving keys
# ---------------------------------------------------------------------------------------------


class Unresolved(Exception):
    """A key or name that reads nothing: the message says what the file has in its place."""


class Ambiguous(Exception):
    def __init__(self, candidates: list[Column]):
        super().__init__(", ".join(map(str, candidates)))
        self.candidates = candidates


def resolve(f, key: str, inv: Inventory | None = None) -> Column:
    """The column an explicit `data.keys` entry names (see the notation in `engine.data.shards`)."""
    import h5py

    text = str(key).strip()
    obj = get(f, text)
    if isinstance(obj, h5py.Dataset):
        table = table_at(obj, text)
        if table is not None:
            raise Unresolved(_pick_one(table))
        return Column(text, "dataset", text, shape=tuple(obj.shape), dtype=str(obj.dtype))
    if isinstance(obj, h5py.Group):
        table = table_at(obj, text)
        if table is not None and len(table.columns) == 1 and table.kind == "pandas series":
            return next(iter(table.columns.values()))
        if table is not None:
            raise Unresolved(_pick_one(table))
        raise Unresolved(f"'{text}' is a group ({', '.join(list(obj)[:SHOWN]) or 'empty'}), not a dataset")
    splits = [m.start() for m in re.finditer("/", text)][::-1] + [m.start() for m in re.finditer(r"\.", text)][::-1]
    for at in splits:
        head, member = text[:at], text[at + 1 :]
        container = get(f, head)
        if container is None or not member:
            continue
        table = table_at(container, head)
        if table is None:
            if isinstance(container, h5py.Group) and text[at] == "/":
                raise Unresolved(
                    f"group '{head}' has no '{member}'; it holds {', '.join(list(container)[:SHOWN]) or 'nothing'}"
                )
            if isinstance(container, h5py.Dataset) and text[at] == "/":
                raise Unresolved(
                    f"'{head}' is a dataset of shape {tuple(container.shape)} {container.dtype}, without fields"
                )
            continue
        column = table.member(member)
        if column is None:
            raise Unresolved(
                f"'{head}' is a {table.kind} without a {table.member_word} '{member}'; "
                f"its {table.member_word}s are {_names(table)}"
            )
        return column
    if "/" not in text:
        inv = inv if inv is not None else inventory(f)
        for same in (lambda n: n == text, lambda n: n.casefold() == text.casefold()):
            hits = [c for n, c in inv.members() if same(n)]
            if len(hits) == 1:
                return hits[0]
            if hits:
                raise Ambiguous(hits)
    raise Unresolved(f"nothing in the file is named '{text}'")


def _names(table: Table) -> str:
    names = list(table.columns)
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "") or "none"


def _pick_one(table: Table) -> str:
    keys = [c.key for c in table.columns.values()]
    shown = ", ".join(keys[:SHOWN]) + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")
    return (
        f"'{table.path}' is a {table.kind} ({table.rows} rows); name one of its {table.member_word}s: {shown or 'none'}"
    )


def fits(column: Column, role: str, rows: int | None = None) -> bool:
    """Whether a column has the shape `role` needs: what lets a search skip look-alikes."""
    kind = column.numpy_kind
    if role in ("flux", "error"):
        return column.kind == "dataset" and len(column.shape) == 2 and kind == "f"
    if role == "wave":
        return column.kind == "dataset" and len(column.shape) == 1 and kind in "fiu"
    return len(column.shape) == 1 and kind in "fiu" and (rows is None or column.rows in (rows, 0))


def find(f, inv: Inventory, role: str, rows: int | None = None) -> Optional[Column]:
    """The column `role` is read from when data.keys does not say: its own name at the top
    level (whatever its shape: a wrong one is an error, as it always was), else the one member
    named like it (`ALIASES`) that has the right shape."""
    import h5py

    for name in DEFAULT_NAMES[role]:
        obj = get(f, name)
        if isinstance(obj, h5py.Dataset) and not obj.dtype.names:
            return Column(name, "dataset", name, shape=tuple(obj.shape), dtype=str(obj.dtype))
    names = set(ALIASES[role])
    # a look-alike of the wrong shape (per-band `snr` N × 3) is not a candidate: a search must
    # never make a file unreadable that names things its own way; the error lists it anyway
    hits = [c for n, c in inv.members() if normal(n) in names and fits(c, role, rows)]
    if len(hits) > 1:
        raise Ambiguous(hits)
    return hits[0] if hits else None


# ---------------------------------------------------------------------------------------------
# Proposing keys
# ---------------------------------------------------------------------------------------------


def yaml_value(text: str) -> str:
    """A key as YAML flow text: plain when safe, else a JSON string (valid YAML too)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./-]*", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def guess(
    inv: Inventory, role: str, rows: int | None = None, taken: AbstractSet[str] = frozenset()
) -> Optional[Column]:
    """A likely column for `role`: its usual names, then a word of them anywhere in the key
    (`spec/F` for flux), then — for flux and error — the first 2-D float array left."""
    members = [(n, c) for n, c in inv.members() if c.key not in taken and fits(c, role, rows)]
    for name, column in members:
        if normal(name) in ALIASES[role]:
            return column
    for word in GUESSES[role]:
        for _name, column in members:
            if word in normal(column.key):
                return column
    if role in ("flux", "error") and members:
        return members[0][1]
    if role == "wave":  # the one-per-pixel array beside the spectra
        pixels = {c.shape[1] for _, c in inv.members() if fits(c, "flux")}
        for _, column in members:
            if column.shape[0] in pixels and column.numpy_kind == "f":
                return column
    return None


def keys_yaml(arrays: dict[str, str], params: dict[str, str], file_glob: str | None = None) -> str:
    """`data.keys: {...}` in flow YAML, for a hint the user can paste."""
    parts = [f"{role}: {yaml_value(key)}" for role, key in arrays.items()]
    if params:
        parts.append("params: {" + ", ".join(f"{name}: {yaml_value(key)}" for name, key in params.items()) + "}")
    body = "{" + ", ".join(parts) + "}"
    if file_glob is not None:
        body = "{files: {" + yaml_value(file_glob) + ": " + body + "}}"
    return f"data.keys: {body}"


def propose(
    inv: Inventory,
    roles,
    rows: int | None = None,
    *,
    taken: AbstractSet[str] = frozenset(),
    file_glob: str | None = None,
) -> Optional[str]:
    """The data.keys that would read `roles` from a file holding `inv`, or None with no idea."""
    used = set(taken)
    arrays: dict[str, str] = {}
    params: dict[str, str] = {}
    for role in roles:
        column = guess(inv, role, rows, used)
        if column is None:
            continue
        used.add(column.key)
        (arrays if role in ARRAYS else params)[role] = column.key
    if not arrays and not params:
        return None
    return keys_yaml(arrays, params, file_glob)


# ---------------------------------------------------------------------------------------------
# One file's layout
# ---------------------------------------------------------------------------------------------


@dataclass
class FileLayout:
    """Where one file keeps each array and label, and why a label cannot be read from it."""

    path: Path
    rows: int
    arrays: dict  # role → Column: flux, error, wave
    params: dict  # parameter → Column
    problems: dict  # parameter → DataError raised when the parameter is asked for
    inventory: Inventory
    globs: tuple = ()  # the data.keys.files entries that applied
    warnings: list = field(default_factory=list)

    def signature(self) -> tuple:
        return (
            tuple((r, str(c)) for r, c in self.arrays.items()),
            tuple(sorted((n, str(c), c.field, c.col) for n, c in self.params.items())),
            self.globs,
        )


def origin(role: str, glob: str | None) -> str:
    """The spec key an explicit entry came from, so a validate error lands on its line."""
    prefix = "data.keys" if glob is None else f"data.keys.files.{glob}"
    return f"{prefix}.{role}" if role in ARRAYS else f"{prefix}.params.{role}"


def read_layout(f, path: Path, explicit: dict[str, tuple[str, str | None]], globs: tuple = ()) -> FileLayout:
    """Resolve every role in one open file. `explicit`: role → (key, the glob it came from or None).

    Flux, error and wave must resolve (nothing can be read without them); a parameter that
    cannot is kept as a problem, raised only when a run asks for it — a file without `mag`
    serves every run that does not select on magnitude."""
    inv = inventory(f)
    arrays: dict[str, Column] = {}
    for role in ARRAYS:
        arrays[role] = _array(f, inv, path, role, explicit, arrays)
    flux = arrays["flux"]
    if len(flux.shape) != 2 or flux.numpy_kind != "f":
        raise _shape_error(path, flux, f"expected 2-D float array N × pixels, got shape {flux.shape}")
    n = flux.rows
    layout = FileLayout(path, n, arrays, {}, {}, inv, globs)
    for name in PARAMS:
        try:
            column = _param(f, inv, path, name, explicit.get(name), n)
        except DataError as error:
            layout.problems[name] = error
            continue
        if column is None:
            continue
        if column.rows == 0 and n > 0 and len(column.shape) == 1:
            where = column.key.rsplit("/", 1)[0] if column.kind != "dataset" else column.key
            message = f"the parameter table '{where}' is empty (0 rows) but the file has {n} spectra"
            layout.warnings.append(f"{path}: {name} ← {column}: {message}")
            layout.problems[name] = DataError(
                message,
                path=path,
                key=column.label,
                hint="write the labels into the file, or read them from another with data.keys",
            )
            continue
        if column.shape != (n,):
            raise _shape_error(path, column, f"expected {n} values (one per spectrum), got shape {column.shape}")
        layout.params[name] = column
    return layout


def _shape_error(path, column: Column, message: str) -> DataError:
    return DataError(f"{message} {column.dtype}".rstrip(), path=path, key=column.label)


def _array(f, inv: Inventory, path, role: str, explicit: dict, arrays: dict) -> Column:
    given = explicit.get(role)
    if given is None:
        try:
            column = find(f, inv, role)
        except Ambiguous as many:
            raise ambiguity_error(path, inv, role, many.candidates) from None
        if column is None:
            raise layout_error(
                path,
                inv,
                role,
                "missing",
                key=f"dataset '{role}'",
                chosen=arrays,
                wanted=_unfound(f, inv, role, explicit),
            )
        return column
    key, glob = given
    try:
        column = resolve(f, key, inv)
    except Unresolved as problem:
        raise layout_error(
            path,
            inv,
            role,
            str(problem),
            key=origin(role, glob),
            chosen=arrays,
            wanted=_unfound(f, inv, role, explicit),
        ) from None
    except Ambiguous as many:
        raise ambiguity_error(path, inv, role, many.candidates, key=origin(role, glob)) from None
    if column.kind != "dataset":
        raise layout_error(
            path,
            inv,
            role,
            f"'{key}' is a {column.kind}, but {role} must be a dataset",
            key=origin(role, glob),
            chosen=arrays,
            wanted=[role],
        )
    return column


def _unfound(f, inv: Inventory, role: str, explicit: dict) -> list[str]:
    """`role` and the arrays after it that will not resolve either: one hint for all of them."""
    out = [role]
    for later in ARRAYS[ARRAYS.index(role) + 1 :]:
        try:
            found = resolve(f, explicit[later][0], inv) if later in explicit else find(f, inv, later)
        except (Unresolved, Ambiguous):
            found = None
        if found is None:
            out.append(later)
    return out


def _param(f, inv: Inventory, path, name: str, given, n: int) -> Optional[Column]:
    if given is None:
        try:
            return find(f, inv, name, n)
        except Ambiguous as many:
            raise ambiguity_error(path, inv, name, many.candidates, rows=n) from None
    key, glob = given
    try:
        return resolve(f, key, inv)
    except Unresolved as problem:
        raise layout_error(path, inv, name, str(problem), key=origin(name, glob), rows=n) from None
    except Ambiguous as many:
        raise ambiguity_error(path, inv, name, many.candidates, key=origin(name, glob), rows=n) from None


def layout_error(
    path,
    inv: Inventory,
    role: str,
    problem: str,
    *,
    key: str,
    chosen: dict | None = None,
    wanted: list[str] | None = None,
    rows: int | None = None,
    file_glob: str | None = None,
) -> DataError:
    """A role that reads nothing: what the file holds instead, and the keys that would read it."""
    hint = propose(inv, wanted or [role], rows, taken={c.key for c in (chosen or {}).values()}, file_glob=file_glob)
    hint = f"read it with {hint}" if hint else f"name it with data.keys.{'params.' if role in PARAMS else ''}{role}"
    return DataError(f"{problem}; the file holds {inv.describe()}", path=path, key=key, hint=hint)


def ambiguity_error(
    path, inv: Inventory, role: str, candidates: list[Column], *, key: str | None = None, rows: int | None = None
) -> DataError:
    names = ", ".join(map(str, candidates[:-1])) + f" and {candidates[-1]}"
    first = candidates[0].key
    example = keys_yaml({role: first}, {}) if role in ARRAYS else keys_yaml({}, {role: first})
    return DataError(
        f"{len(candidates)} candidates: {names}",
        path=path,
        key=key or f"{'dataset' if role in ARRAYS else 'parameter'} '{role}'",
        hint=f"say which with data.keys, e.g. {example}",
    )
