"""`research data info`: what is in a shard set — where each array and label was found, shapes,
dtypes, parameter ranges, SNR, size — so a user can check the reader sees their files as meant
before a run spends hours on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .layout import ARRAYS, PARAMS
from .shards import ShardSet, open_shards

SNR_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SNR_SAMPLE_ROWS = 20_000  # rows read to estimate SNR quantiles when the files have no snr column


@dataclass
class DataInfo:
    pattern: str
    files: list[tuple[str, int, int]]  # (path, rows, bytes on disk)
    n: int
    n_pixels: int
    wave: tuple[float, float]
    datasets: dict[str, tuple[tuple[int, ...], str]]  # key -> (shape summed over shards, dtype)
    params: dict[str, tuple[float, float, float]]  # name -> (min, mean, max)
    snr_quantiles: dict[float, float]
    snr_from: str  # "column" or "N sampled rows"
    size_bytes: int
    generator: dict | None = field(default=None)
    mapping: dict[str, str] = field(default_factory=dict)  # role → where it is read from (`ShardSet.mapping`)
    warnings: list[str] = field(default_factory=list)  # labels a run could not read: empty tables, ambiguity, bad keys


def describe(pattern: str | Path, *, base_dir: str | Path = ".", keys=None, targets=()) -> DataInfo:
    """Open the files a path / folder / glob / brace pattern names and summarise them; a label
    of `targets` that a run could not read is a warning."""
    with open_shards(pattern, base_dir=base_dir, keys=keys) as shards:
        return describe_shards(shards, str(pattern), targets)


def describe_shards(shards: ShardSet, pattern: str, targets=()) -> DataInfo:
    files, datasets = [], {}
    for k, path in enumerate(shards.paths):
        files.append((str(path), int(shards.counts[k]), path.stat().st_size))
        lay = shards.layouts[k]
        for role, column in (*((r, lay.arrays[r]) for r in ARRAYS), *lay.params.items()):
            if role == "wave":
                datasets[column.key] = (tuple(column.shape), column.dtype)
                continue
            before = datasets[column.key][0][0] if column.key in datasets else 0
            datasets[column.key] = ((before + column.shape[0], *column.shape[1:]), column.dtype)
    warnings: list[str] = []
    for lay in shards.layouts:
        warnings.extend(str(problem) for problem in lay.problems.values())
    stored = [name for name in PARAMS if all(name in lay.params for lay in shards.layouts)]
    for name in PARAMS:  # in some files only: the others were likely written by another tool
        has = [name in lay.params for lay in shards.layouts]
        if any(has) and not all(has) and not any(name in lay.problems for lay in shards.layouts):
            warnings.append(_error_text(shards, name))
    for name in dict.fromkeys("Fe_H" if t == "M_H" else t for t in targets):
        if name not in stored and not any(name in lay.params for lay in shards.layouts):
            warnings.append(f"data.targets has {name}, which a run cannot read: {_error_text(shards, name)}")
    params = {}
    for name in stored:
        values = shards.param(name)
        params[name] = (float(values.min()), float(values.mean()), float(values.max()))
    if "snr" in stored:
        snr, source = shards.param("snr"), "column"
    else:
        from .noise import snr as compute

        rows = np.unique(np.linspace(0, shards.n - 1, min(shards.n, SNR_SAMPLE_ROWS)).astype(np.int64))
        flux, error = shards.read(rows)
        snr, source = compute(flux, error), f"{len(rows)} sampled rows"
    quantiles = {q: float(v) for q, v in zip(SNR_QUANTILES, np.quantile(snr, SNR_QUANTILES))}
    return DataInfo(
        pattern=pattern,
        files=files,
        n=shards.n,
        n_pixels=shards.n_pixels,
        wave=(float(shards.wave[0]), float(shards.wave[-1])),
        datasets=datasets,
        params=params,
        snr_quantiles=quantiles,
        snr_from=source,
        size_bytes=sum(size for _, _, size in files),
        generator=shards.synthetic_info(),
        mapping=shards.mapping,
        warnings=warnings,
    )


def _error_text(shards: ShardSet, name: str) -> str:
    try:
        shards.param(name)
    except DataError as error:
        return str(error)
    return f"{name} is readable"  # pragma: no cover - callers ask only for what is missing


def parse_keys(text: str):
    """`research data info --keys TEXT` as the spec's `data.keys`; every mistake a `DataError`
    (exit 2), since a typo on the command line is bad input like one in a spec."""
    import yaml
    from pydantic import ValidationError

    from ..spec import DataKeys
    from ..spec.explain import dotted, explain

    example = "e.g. --keys '{params: {log_g: params/logg}}'"
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"not YAML or JSON ({str(exc).splitlines()[0]})", key="--keys", hint=example) from None
    if not isinstance(value, dict):
        raise DataError(f"expected a mapping like the spec's data.keys, got {text!r}", key="--keys", hint=example)
    try:
        return DataKeys.model_validate(value)
    except ValidationError as exc:
        loc, message, hint = explain(exc.errors()[0], DataKeys)
        if hint is None and "string" in message:
            hint = 'quote a name YAML reads as a list or number: "labels/[Fe/H]"'
        raise DataError(message, key=f"--keys {dotted(loc)}".rstrip(), hint=hint or example) from None


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1000
    return f"{size} B"  # pragma: no cover


def print_info(info: DataInfo, console=None) -> None:
    """Print a `DataInfo` as rich tables (the CLI's view)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    console.print(
        f"[bold]{escape(info.pattern)}[/bold]: {len(info.files)} file{'s' if len(info.files) != 1 else ''}, "
        f"{info.n} spectra × {info.n_pixels} pixels, {info.wave[0]:.1f}–{info.wave[1]:.1f} Å, "
        f"{human_bytes(info.size_bytes)} on disk",
        soft_wrap=True,
    )
    if info.generator:
        console.print(
            f"made by {info.generator['generator']} v{info.generator['generator_version']} (seed {info.generator['seed']})"
        )
    if info.mapping:  # lines, not a table: a long key must stay whole to be copied into data.keys
        console.print("keys:")
        width = max(len(role) for role in info.mapping)
        for role, where in info.mapping.items():
            console.print(escape(f"  {role:<{width}} ← {where}"), soft_wrap=True)
    for warning in info.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    files = Table("file", "rows", "size", title="files")
    for path, rows, size in info.files:
        files.add_row(escape(path), str(rows), human_bytes(size))
    console.print(files)
    table = Table("dataset", "shape", "dtype", title="datasets")
    for key, (shape, dtype) in info.datasets.items():
        table.add_row(escape(key), " × ".join(str(s) for s in shape), dtype)
    console.print(table)
    params = Table("parameter", "min", "mean", "max", title="parameters")
    for name, (lo, mean, hi) in info.params.items():
        params.add_row(name, f"{lo:.4g}", f"{mean:.4g}", f"{hi:.4g}")
    console.print(params)
    snr = Table(
        *[f"q{int(q * 100):02d}" for q in info.snr_quantiles],
        title=f"SNR quantiles (median |flux|/error, {info.snr_from})",
    )
    snr.add_row(*[f"{v:.2f}" for v in info.snr_quantiles.values()])
    console.print(snr)


def report_sources(trials, report_path: Path, pattern: str | None, keys=None) -> list[tuple]:
    """What `research data info --spec REPORT` describes: each distinct (files, keys) the report's
    trials read — data.source, data.test_source and the named test sets' sources — once, as
    (label, pattern, base folder, keys, targets). `pattern` instead reads one's own files with
    the report's keys; `keys` replaces the report's."""
    from ..errors import DataError

    jobs: dict[tuple, tuple] = {}
    for trial in trials:
        used = keys if keys is not None else trial.data.keys
        if pattern is not None:
            jobs.setdefault(
                (pattern, ".", repr(used)),
                (f"{pattern} (data.keys of {report_path})", pattern, Path("."), used, trial.data.targets),
            )
            continue
        named = [(f"tests.{name}.source", test.source) for name, test in trial.data.tests.items()]
        for what, source in [("source", trial.data.source), ("test_source", trial.data.test_source), *named]:
            if source is not None and source != "synthetic":
                jobs.setdefault(
                    (source, "report", repr(used)),
                    (
                        f"{report_path}: data.{what}: {source}",
                        source,
                        Path(report_path).parent,
                        used,
                        trial.data.targets,
                    ),
                )
    if not jobs:
        raise DataError(
            "is 'synthetic' and there is no data.test_source: no file to describe",
            path=report_path,
            key="data.source",
            hint="research data synth --n N --out DIR writes synthetic shards to look at",
        )
    return list(jobs.values())
