"""`research data info`: what is in a shard set — shapes, dtypes, parameter ranges, SNR, size."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .shards import PARAMS, ShardSet, open_shards

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


def describe(pattern: str | Path, *, base_dir: str | Path = ".", keys=None) -> DataInfo:
    """Open the files a path / glob / brace pattern names and summarise them."""
    with open_shards(pattern, base_dir=base_dir, keys=keys) as shards:
        return _describe(shards, str(pattern))


def _describe(shards: ShardSet, pattern: str) -> DataInfo:
    import h5py

    files, datasets = [], {}
    for k, path in enumerate(shards.paths):
        files.append((str(path), int(shards.counts[k]), path.stat().st_size))
        with h5py.File(path, "r") as f:
            for key in (shards.flux_key, shards.error_key, shards.wave_key, *shards._param_paths[k].values()):
                ds = f[key]
                if key == shards.wave_key:
                    datasets[key] = (tuple(ds.shape), str(ds.dtype))
                    continue
                before = datasets[key][0][0] if key in datasets else 0
                datasets[key] = ((before + ds.shape[0], *ds.shape[1:]), str(ds.dtype))
    stored = [name for name in PARAMS if all(name in found for found in shards._param_paths)]
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
    )


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1000
    return f"{size} B"  # pragma: no cover


def print_info(info: DataInfo, console=None) -> None:
    """Print a `DataInfo` as rich tables (the CLI's view)."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    console.print(
        f"[bold]{info.pattern}[/bold]: {len(info.files)} file{'s' if len(info.files) != 1 else ''}, "
        f"{info.n} spectra × {info.n_pixels} pixels, {info.wave[0]:.1f}–{info.wave[1]:.1f} Å, "
        f"{human_bytes(info.size_bytes)} on disk"
    )
    if info.generator:
        console.print(f"made by {info.generator['generator']} v{info.generator['generator_version']} (seed {info.generator['seed']})")
    files = Table("file", "rows", "size", title="files")
    for path, rows, size in info.files:
        files.add_row(path, str(rows), human_bytes(size))
    console.print(files)
    table = Table("dataset", "shape", "dtype", title="datasets")
    for key, (shape, dtype) in info.datasets.items():
        table.add_row(key, " × ".join(str(s) for s in shape), dtype)
    console.print(table)
    params = Table("parameter", "min", "mean", "max", title="parameters")
    for name, (lo, mean, hi) in info.params.items():
        params.add_row(name, f"{lo:.4g}", f"{mean:.4g}", f"{hi:.4g}")
    console.print(params)
    snr = Table(*[f"q{int(q * 100):02d}" for q in info.snr_quantiles], title=f"SNR quantiles (median |flux|/error, {info.snr_from})")
    snr.add_row(*[f"{v:.2f}" for v in info.snr_quantiles.values()])
    console.print(snr)
