"""`research data` (synthetic shards, what a shard set holds) and `research cache` (the run store)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.cli.app import app

data_app = typer.Typer(help="Spectra: write synthetic HDF5 shards, describe shard sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("synth", epilog="Example:  research data synth --n 20000 --out data/synth --shards 4")
def data_synth(
    n: int = typer.Option(..., "--n", min=1, help="Number of spectra."),
    out: Path = typer.Option(..., "--out", help="Output folder; shards go to OUT/shard_K/dataset.h5."),
    shards: int = typer.Option(1, "--shards", min=1, help="Number of files."),
    seed: int = typer.Option(0, "--seed", help="Seed of the stellar parameters."),
) -> None:
    """Write N synthetic spectra (the embedded generator) as HDF5 shards the reader reads."""
    from engine.data.synth import write_shards

    paths = write_shards(out, n, shards, seed)
    pattern = paths[0] if len(paths) == 1 else out / f"shard_{{0..{len(paths) - 1}}}" / "dataset.h5"
    typer.echo(f"wrote {n} spectra in {len(paths)} file{'s' if len(paths) != 1 else ''}: {pattern}")


@data_app.command(
    "info",
    epilog="Examples:  research data info 'train_{0..4}/dataset.h5'  ·  research data info --spec research/logg_1m/exp/exp_logg_1m_multitask.md",
)
def data_info(
    pattern: Optional[str] = typer.Argument(
        None,
        help="An HDF5 file, a folder (every *.h5 / *.hdf5 under it), a glob or brace pattern; "
        "with --spec, default: the report's data.source and data.test_source.",
    ),
    keys: Optional[str] = typer.Option(
        None,
        "--keys",
        help="Where the arrays and labels are, as the spec's data.keys (YAML or JSON): "
        "--keys '{params: {log_g: params/logg}}'. Replaces the report's keys with --spec.",
    ),
    spec: Optional[Path] = typer.Option(
        None, "--spec", help="Read data.source, data.test_source and data.keys from this report, as a run would."
    ),
) -> None:
    """Where each array and label is found; shapes, dtypes, parameter ranges, SNR quantiles and size of a shard set."""
    from engine.data.info import describe, parse_keys, print_info
    from engine.errors import DataError

    given = parse_keys(keys) if keys is not None else None
    if spec is None:
        if pattern is None:
            raise DataError(
                "give an HDF5 file, folder or pattern, or --spec REPORT",
                key="research data info",
                hint="e.g. research data info 'train_{0..4}/dataset.h5'",
            )
        print_info(describe(pattern, keys=given))
        return
    from engine.data.info import report_sources
    from engine.notebook.report import load_report

    report = load_report(spec)
    for label, source, base_dir, used, targets in report_sources(
        report.spec.resolve_trials(), report.path, pattern, given
    ):
        typer.echo(label)
        print_info(describe(source, base_dir=base_dir, keys=used, targets=targets))


cache_app = typer.Typer(
    help="What .research/ holds on disk (synthetic cache, run store), and clearing it.", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    root: Optional[Path] = typer.Option(None, "--root", help="Notebook root (default: the one holding the cwd)."),
    top: int = typer.Option(5, "--top", min=0, help="How many of the largest entries to list."),
) -> None:
    """Size on disk, number of entries and the largest of the synthetic cache and the run store."""
    from engine.data.info import human_bytes
    from engine.notebook.cache import usage
    from engine.notebook.paths import given_root, notebook_root

    for store in usage(given_root(root, notebook=True) if root is not None else notebook_root()):
        count = len(store.entries)
        typer.echo(
            f"{store.name}: {store.folder} — {human_bytes(store.size)}, {count} {'entry' if count == 1 else 'entries'}"
        )
        for entry in store.entries[:top]:
            typer.echo(f"  {human_bytes(entry.size):>10}  {entry.label}")


@cache_app.command("clear")
def cache_clear(
    runs: bool = typer.Option(
        False,
        "--runs",
        help="Also remove the run store's trials no report's run record refers "
        "to (and the MoE experts no kept trial uses).",
    ),
    all_: bool = typer.Option(False, "--all", help="Also remove the whole run store: every report's trials run again."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    root: Optional[Path] = typer.Option(None, "--root", help="Notebook root (default: the one holding the cwd)."),
) -> None:
    """Remove the synthetic cache (regenerated on demand); with --runs or --all, run store entries too."""
    from engine.data.info import human_bytes
    from engine.notebook.cache import clear, to_clear
    from engine.notebook.paths import given_root, notebook_root

    where = given_root(root, notebook=True) if root is not None else notebook_root()  # never a fallback: it removes
    entries = to_clear(where, runs=runs, everything=all_)
    if not entries:
        typer.echo("nothing to clear")
        return
    total = sum(e.size for e in entries)
    what = "the synthetic cache" + (
        " and the whole run store" if all_ else " and the run store's unreferenced trials" if runs else ""
    )
    if not yes and not typer.confirm(f"remove {what}: {len(entries)} entries, {human_bytes(total)}?", default=False):
        typer.echo("nothing removed")
        raise typer.Exit(1)
    removed = clear(where, entries)
    typer.echo(
        f"removed {len(removed)} entries, {human_bytes(sum(e.size for e in removed))}"
        + (f" ({len(entries) - len(removed)} in use, kept)" if len(removed) < len(entries) else "")
    )
