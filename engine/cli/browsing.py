"""Commands that read a notebook and change nothing: `check`, `spec`, `status`, `runs`, `show`, `diff`, `digest`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from engine.cli.app import _verdict_colour, app
from engine.errors import ResearchError


@app.command(epilog="Examples:  research check  ·  research check research/moe/")
def check(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: research/ and hubs/)."),
) -> None:
    """Validate specs, region markers and checksums, hub/roadmap links and image links."""
    from engine.browse.check import check_paths

    targets = paths or [p for p in (Path("research"), Path("hubs")) if p.exists()] or [Path(".")]
    problems, count = check_paths(targets)
    for problem in problems:
        typer.echo(str(problem))
    noun = "file" if count == 1 else "files"
    typer.secho(
        f"{count} {noun} checked, {len(problems)} problem{'s' if len(problems) != 1 else ''}",
        err=True,
        fg="red" if problems else "green",
    )
    raise typer.Exit(1 if problems else 0)


@app.command(
    epilog="Examples:  research spec research/scaling/exp/exp_baselines.md --set train.epochs=1  ·  research spec --schema"
)
def spec(
    file: Optional[Path] = typer.Argument(None, help="An experiment report."),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema of the spec."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a key: --set train.lr=3e-4."),
    as_json: bool = typer.Option(False, "--json", help="Print the resolved trials as JSON."),
) -> None:
    """Print the resolved trials of a report's spec (or, with --schema, the schema)."""
    import json

    from engine.spec import parse_set_option, spec_schema

    if schema:
        typer.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))
        return
    if file is None:
        raise ResearchError("give a report to resolve, or --schema", hint="research spec research/<topic>/exp/exp_x.md")
    from engine.run.plan import make_plan
    from engine.run.validate import validate

    plan = make_plan(file, sets=set_ or [])
    validate(plan, data=False, scan=False, build=False)
    overrides = dict(parse_set_option(item) for item in set_ or [])
    from engine.models.configs import shown_config

    trials = {
        t.name: {"overrides": t.overrides, "config": shown_config(t.config)}
        for t in plan.report.spec.resolve_trials(overrides)
    }
    if as_json:
        typer.echo(json.dumps(trials, indent=2, ensure_ascii=False))
    else:
        import yaml

        typer.echo(yaml.safe_dump(trials, sort_keys=False, allow_unicode=True, default_flow_style=None), nl=False)


@app.command(epilog="Examples:  research status  ·  research status research/moe/ --json")
def status(
    paths: Optional[list[Path]] = typer.Argument(None, help="Reports or folders (default: the whole notebook)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows for scripts."),
) -> None:
    """Every experiment: id, MVP, status, verdict, primary metric, last run, stale or not; under the
    table, each run going on with its trial, epoch, losses and ETA, and each run that died."""
    import json

    from engine.browse.status import rows
    from engine.notebook.paths import notebook_root

    root = notebook_root(paths[0] if paths else None)
    found = rows(root, paths)
    if as_json:
        typer.echo(json.dumps(found, indent=1, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    table.add_column("id", no_wrap=True)  # ids are what a reader copies: never cut them
    for name in ("MVP", "status", "verdict", "primary metric", "last run", "stale"):
        table.add_column(name)
    for row in found:
        metric = f"{row['metric']} = {row['value_text']}" if row["value_text"] else "-"
        verdict = f"[{_verdict_colour(row['verdict'])}]{row['verdict']}[/]" if row["verdict"] else "-"
        table.add_row(
            row["id"],
            row["mvp"] or "-",
            row["status"],
            verdict,
            metric,
            (row["last_run"] or "-")[:16],
            ", ".join(row["why"]) if row["stale"] else "no",
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: room for whole ids and numbers
        console = Console(width=160)
    console.print(table)
    for row in found:  # each run going on, or dead, with where it stands: one line, not cut
        if row["live"] is not None:
            typer.echo(f"{row['id']}: {row['live']['line']}")


@app.command(epilog="Examples:  research runs --sort r2.log_g  ·  research runs research/moe/ --csv > runs.csv")
def runs(
    paths: Optional[list[Path]] = typer.Argument(None, help="Reports or folders (default: the whole notebook)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON record per trial, for scripts."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV: a header, then one row per trial."),
    sort: Optional[str] = typer.Option(
        None,
        "--sort",
        metavar="METRIC",
        help="Sort by a metric, best first (lower is better for mae, rmse and |bias|), or by a "
        "parameter or field: --sort r2.log_g, --sort model.alpha.",
    ),
) -> None:
    """Every trial of every report: the parameters that differ, its metrics, verdict, stale or not."""
    import json

    from engine.browse.api import Notebook

    if as_json and as_csv:
        raise ResearchError("--json and --csv are two formats of the same rows", key="research runs", hint="choose one")
    records = Notebook(paths[0] if paths else ".").trials(paths, sort=sort)
    if as_json:
        typer.echo(json.dumps(records, indent=1, ensure_ascii=False))
        return
    from engine.browse import views

    if as_csv:
        typer.echo(views.csv_text(records), nl=False)
    else:
        views.print_runs(records)


@app.command(
    epilog="Examples:  research show research/moe/exp/exp_moe_regression_gate.md  ·  research show exp.md@HEAD~1"
)
def show(
    file: Path = typer.Argument(..., help="An experiment report (FILE@REV: as a git revision holds it)."),
    as_json: bool = typer.Option(False, "--json", help="Print it as JSON, for scripts."),
) -> None:
    """A report's verdict, results, key numbers, binned tables and figure paths, from its record and regions."""
    import json

    from engine.browse.api import Notebook, Ref

    shown = Notebook(Ref.parse(str(file)).path).show(file)
    if as_json:
        typer.echo(json.dumps(shown, indent=1, ensure_ascii=False))
        return
    from engine.browse import views

    views.print_show(shown)


@app.command(epilog="Examples:  research diff exp.md#equal exp.md#logg-first  ·  research diff exp.md@HEAD~1")
def diff(
    a: str = typer.Argument(
        ..., help="A trial (FILE#trial), a report (FILE) or a report at a git revision (FILE@HEAD~1)."
    ),
    b: Optional[str] = typer.Argument(None, help="What to hold it against (default, for FILE@REV: FILE as it is now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON, for scripts."),
) -> None:
    """The config keys that differ (old → new) and the metrics side by side with their change."""
    import json

    from engine.browse.api import Notebook, Ref

    changes = Notebook(Ref.parse(a).path).diff(a, b)
    if as_json:
        typer.echo(json.dumps(changes, indent=1, ensure_ascii=False))
        return
    from engine.browse import views

    views.print_diff(changes)


@app.command(epilog="Examples:  research digest logg_1m --since 2026-11-01 --out hubs/logg_1m_digest.md")
def digest(
    topic: str = typer.Argument(..., help="The topic, as in the reports' `topic:`."),
    since: Optional[str] = typer.Option(
        None, "--since", help="Only findings from experiments run on or after this date (YYYY-MM-DD)."
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the digest to this file instead of printing it."),
) -> None:
    """A digest of a topic's experiments: findings by theme (sentence, key numbers, design implication), a
    performance matrix per noise level, each question verified / refuted / open, open questions by priority,
    planned experiments, questions for discussion, an index."""
    from engine.browse.digest import digest as make_digest
    from engine.notebook.paths import notebook_root
    from engine.text import textfile

    if since is not None:
        import datetime as dt

        try:
            dt.date.fromisoformat(since)
        except ValueError:
            raise ResearchError(
                f"--since expects a date YYYY-MM-DD, got '{since}'", hint="e.g. --since 2026-01-01"
            ) from None
    root = notebook_root(out.parent if out else None)
    text = make_digest(root, topic, since=since, out=out.resolve() if out else None)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with textfile.lock_for(out):
        textfile.atomic_write(out, text.encode("utf-8"))
    typer.echo(f"wrote {out}")
