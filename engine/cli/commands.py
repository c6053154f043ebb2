"""The `research` command: a thin typer layer over the engine.

Each command parses its options, calls one engine function and prints the outcome. Every
`ResearchError` becomes a one-paragraph message on stderr and its exit code (`errors.Exit`: 2
for bad input); Ctrl-C and SIGTERM exit 130; a bug in the engine is one paragraph too, with its
traceback kept in a file. Heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from engine import __version__
from engine.errors import Exit, ResearchError, RunInterrupted

app = typer.Typer(
    name="research",
    help="A markdown-driven research notebook: run the spec in a report's front matter, "
    "write the results back, keep every word you wrote.",
    no_args_is_help=True,
    add_completion=True,  # `research --install-completion` for bash, zsh, fish and PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
new_app = typer.Typer(help="Scaffold a report, hub, roadmap or kanban page from templates/.", no_args_is_help=True)
app.add_typer(new_app, name="new")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"research {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    pass


class Executor(str, Enum):
    local = "local"
    ray = "ray"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


PATHS = "PATH"  # typer adds the "..." of a list


def _verdict_colour(verdict: str | None) -> str:
    """pass green, fail red, anything else (inconclusive, incomplete) yellow."""
    return {"pass": "green", "fail": "red"}.get(str(verdict), "yellow")


@app.command(
    "run",
    epilog="Examples:  research run research/logg_1m/exp/exp_logg_1m_multitask.md  ·  "
    "research run research/ --set train.epochs=1 --dry-run  ·  research run exp.md --sweep model.alpha=1e2,1e3",
)
def run_command(
    paths: list[Path] = typer.Argument(..., metavar=PATHS, help="Reports, or folders of reports."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", metavar="KEY=VALUE", help="Override a key in every trial: --set train.epochs=2 (repeatable)."
    ),
    sweep: Optional[list[str]] = typer.Option(
        None,
        "--sweep",
        metavar="KEY=V1,V2",
        help="Add a grid of trials without editing the file: --sweep "
        "model.alpha=1e2,1e3,1e4 (repeat for a product); a list value keeps its brackets: model.hidden=[32],[64,32]; "
        "recorded like --set.",
    ),
    trial: Optional[list[str]] = typer.Option(
        None, "--trial", metavar="NAME", help="Run only this trial (repeatable)."
    ),
    retrain: bool = typer.Option(
        False,
        "--retrain",
        help="Train every selected trial again, cached or not; its new result replaces the stored one.",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write over hand edits in the generated regions of the report and its pages (retrains nothing).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; run and write nothing."),
    no_commit: bool = typer.Option(False, "--no-commit", help="Do not commit what the run wrote."),
    device: Optional[Device] = typer.Option(None, "--device", help="Override train.device."),
    executor: Executor = typer.Option(Executor.local, "--executor", help="Where trials run: here, or as Ray tasks."),
    address: Optional[str] = typer.Option(
        None, "--address", metavar="HOST:PORT", help="Ray cluster address (default: start a local one)."
    ),
    no_propagate: bool = typer.Option(
        False,
        "--no-propagate",
        help="Write the report only, not its hub, roadmap or kanban (a draft never writes them).",
    ),
) -> None:
    """Run every trial of a report's spec and write the results back into it."""
    import time

    from engine.notebook.drafts import propagates
    from engine.notebook.paths import shown
    from engine.run.validate import validate
    from engine.runner import execute, make_plan, run_paths

    code = 0
    for report in run_paths(paths):
        began = time.perf_counter()
        plan = make_plan(
            report,
            sets=set_ or [],
            sweeps=sweep or [],
            trials=trial or [],
            retrain=retrain,
            device=device.value if device else None,
        )
        typer.echo(f"{report}: {plan.report.spec.id}")
        for item in plan.trials:
            typer.echo(f"  {item.name:<24} {item.why:<13} {item.key}")
            for change in item.changes if item.runs else ():
                typer.echo(f"      {change}")
        if dry_run:
            validate(
                plan,
                data=True,
                scan=False,
                build=True,
                force=force,
                pages=propagates(plan.report.spec.status, not no_propagate),
            )
            continue
        from engine.progress import Progress

        try:
            with Progress() as progress:
                outcome = execute(
                    plan,
                    device=device.value if device else None,
                    say=typer.echo,
                    progress=progress,
                    force_regions=force,
                    commit=not no_commit,
                    executor=executor.value,
                    address=address,
                    propagate=not no_propagate,
                )
        except KeyboardInterrupt:  # click would make it "Aborted!" and exit 1
            raise RunInterrupted(
                "interrupted", path=report, hint="the trials that finished are stored; the next run resumes from them"
            ) from None
        if outcome.verdict is not None:
            typer.echo(
                "  verdict: "
                + typer.style(outcome.verdict.verdict, fg=_verdict_colour(outcome.verdict.verdict), bold=True)
                + (f": {outcome.verdict.says}" if outcome.verdict.says else "")
            )
        ran = sum(1 for t in plan.trials if t.runs and t.record is not None)
        cached = sum(1 for t in plan.trials if t.cached)
        images = [p for p in outcome.written if p.suffix.lower() in (".png", ".svg", ".pdf")]
        typer.echo(
            f"{report}: done in {time.perf_counter() - began:.1f} s — {ran} trained, {cached} cached"
            + (f", {len(outcome.failed)} failed" if outcome.failed else "")
            + (f"; figures: {', '.join(shown(p) for p in images)}" if images else "")
        )
        code = max(code, outcome.exit_code)
    raise typer.Exit(code)


@app.command(epilog="Examples:  research reproduce research/logg_1m/exp/exp_logg_1m_multitask.md")
def reproduce(
    paths: list[Path] = typer.Argument(..., help="Reports, or folders of reports."),
) -> None:
    """Retrain every trial into a scratch store and compare it with the report's record; write nothing."""
    from engine.run.reproduce import reproduce_report
    from engine.runner import run_paths

    code = Exit.OK
    for report in run_paths(paths):
        from engine.progress import Progress

        with Progress() as progress:
            result, changed = reproduce_report(report, say=typer.echo, progress=progress)
        for name in changed:
            typer.echo(f"{report}: {name}: its spec, data or code changed since the record; nothing to compare (stale)")
        if result is None:
            typer.echo(f"{report}: no trial to compare")
            code = Exit.FAILED
            continue
        typer.echo(f"{report}: {result.summary()}")
        if not result.reproduced or changed:
            code = Exit.FAILED
    raise typer.Exit(int(code))


@app.command(epilog="Example:  research promote research/logg_1m/exp/exp_logg_1m_smoke.md")
def promote(
    files: list[Path] = typer.Argument(..., help="Draft reports (`status: draft`)."),
) -> None:
    """Make a draft an ordinary report: its status becomes planned; its next run writes its pages."""
    from engine.notebook.drafts import PROMOTED
    from engine.notebook.drafts import promote as promote_report

    for file in files:
        promote_report(file)
        typer.echo(
            f"{file}: promoted (status: {PROMOTED}); `research run {file}` writes its hub, roadmap and kanban "
            "(its trials are cached)"
        )


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


@app.command(epilog="Examples:  research sync --dry-run  ·  research sync research/moe/")
def sync(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="Reports or folders whose pages to rebuild (default: all)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the pages that would change; write nothing."),
) -> None:
    """Rebuild hub, roadmap and kanban pages from the reports and their run records."""
    from engine.notebook.locks import end_of_run
    from engine.notebook.paths import notebook_root
    from engine.pages.sync import sync as sync_pages
    from engine.runner import run_paths

    root = notebook_root(paths[0] if paths else None)
    with end_of_run(root, say=typer.echo):  # never beside a run's write-and-commit
        written = sync_pages(root, only=run_paths(paths) if paths else None, dry_run=dry_run)
    for page in written:
        typer.echo(f"{page}: {'would change' if dry_run else 'updated'}")
    typer.echo(
        f"{len(written)} page{'s' if len(written) != 1 else ''} {'to update' if dry_run else 'updated'}", err=True
    )


@app.command(epilog="Examples:  research status  ·  research status research/moe/ --json")
def status(
    paths: Optional[list[Path]] = typer.Argument(None, help="Reports or folders (default: the whole notebook)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows for scripts."),
) -> None:
    """Every experiment: id, MVP, status, verdict, primary metric, last run, stale or not."""
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
        None, "--since", help="Only experiments run on or after this date (YYYY-MM-DD)."
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the digest to this file instead of printing it."),
) -> None:
    """A digest of a topic's experiments: findings, performance matrix, hypotheses, index."""
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


class AdoptKind(str, Enum):
    auto = "auto"
    exp = "exp"
    hub = "hub"


@app.command(epilog="Examples:  research adopt research/moe/exp/exp_old_report.md --dry-run")
def adopt(
    file: Path = typer.Argument(..., help="A legacy report or hub page without markers."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the diff; write nothing."),
    kind: AdoptKind = typer.Option(AdoptKind.auto, "--kind", help="What the page is."),
) -> None:
    """Add a front matter spec and region markers to a legacy page, changing nothing else.

    The front matter takes the header's id, author, date, topic, MVP and status, and a draft
    spec from the design tables; the placeholder and appendix result tables get region markers.
    It says what it read, what it guessed (`# guess` in the YAML) and what to fill by hand."""
    from engine.adopt.legacy import adopt_file

    result = adopt_file(file, dry_run=dry_run, kind=kind.value)
    if dry_run:
        typer.echo(result.diff(str(file)), nl=False)
        typer.echo(result.summary(), err=True)
        return
    names = ", ".join(name for name, *_ in result.regions) or "none"
    typer.echo(f"{file}: adopted as {result.kind}; regions: {names}")
    for line in result.summary().splitlines():
        if not line.startswith("region "):
            typer.echo(f"  {line}")


class Language(str, Enum):
    en = "en"
    zh = "zh"


LANG_HELP = (
    "The page's language, headings and all, and the language later runs fill its regions in "
    "(default: `language:` in the notebook's research.yaml, else zh)."
)


def _created(path: Path) -> None:
    typer.echo(f"created {path}")


@new_app.command("exp", epilog="Example:  research new exp logg_1m multitask --hub hubs/logg_1m_hub.md --mvp MVP-1.5")
def new_exp(
    topic: str = typer.Argument(..., help="Topic folder, e.g. logg_1m."),
    name: str = typer.Argument(..., help="Short name, e.g. multitask."),
    title: Optional[str] = typer.Option(None, help="Title (default: from the name)."),
    hub: Optional[str] = typer.Option(None, help="Hub page, relative to the notebook root."),
    roadmap: Optional[str] = typer.Option(None, help="Roadmap page, relative to the notebook root."),
    kanban: Optional[str] = typer.Option(None, help="Kanban page, relative to the notebook root."),
    mvp: Optional[str] = typer.Option(None, help="The roadmap's MVP this experiment serves, e.g. MVP-1.5."),
    author: Optional[str] = typer.Option(None, help="Author (default: your login)."),
    prefix: str = typer.Option("EXP", help="Project prefix of the id."),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    draft: bool = typer.Option(
        False,
        "--draft",
        help="Start it as a draft: its runs never write the hub, roadmap or kanban until `research promote`.",
    ),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new experiment report in research/TOPIC/exp/, spec and regions in place."""
    from engine.notebook.paths import given_root
    from engine.pages.scaffold import new_experiment, write

    root = given_root(root)
    _created(
        write(
            new_experiment(
                topic,
                name,
                root=root,
                title=title,
                hub=hub,
                roadmap=roadmap,
                kanban=kanban,
                mvp=mvp,
                author=author,
                prefix=prefix,
                draft=draft,
                language=lang.value if lang else None,
            )
        )
    )


def _new_page(
    kind: str, topic: Optional[str], title: Optional[str], hub: Optional[str], root: Path, lang: Optional[Language]
) -> None:
    from engine.notebook.paths import given_root
    from engine.pages.scaffold import new_page, write

    root = given_root(root)

    _created(write(new_page(kind, topic, root=root, title=title, hub=hub, language=lang.value if lang else None)))


@new_app.command("hub", epilog="Example:  research new hub logg_1m")
def new_hub(
    topic: str = typer.Argument(...),
    title: Optional[str] = typer.Option(None),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new hub page in hubs/."""
    _new_page("hub", topic, title, None, root, lang)


@new_app.command("roadmap", epilog="Example:  research new roadmap logg_1m --hub hubs/logg_1m_hub.md")
def new_roadmap(
    topic: str = typer.Argument(...),
    title: Optional[str] = typer.Option(None),
    hub: Optional[str] = typer.Option(None, help="Its hub, relative to the notebook root."),
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """A new roadmap page in hubs/."""
    _new_page("roadmap", topic, title, hub, root, lang)


@new_app.command("kanban", epilog="Example:  research new kanban")
def new_kanban(
    root: Path = typer.Option(Path("."), help="Notebook root."),
    lang: Optional[Language] = typer.Option(None, "--lang", help=LANG_HELP),
) -> None:
    """The kanban page, hubs/kanban.md."""
    _new_page("kanban", None, None, None, root, lang)


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


class Interrupted(KeyboardInterrupt):
    """SIGTERM, read as Ctrl-C: the run stops the same way and leaves the same state."""


def _on_sigterm(signum, frame) -> None:
    raise Interrupted()


class _LeftOutFirst:
    """A parameter's coercion that answers a left-out parameter (value None) itself, as typer's
    own does (None, or () for a list), and builds typer's, a pydantic TypeAdapter, only for a
    value given. typer builds one for every parameter it processes — `--help`, the completion
    flags, every option not given — which imports most of pydantic: a tenth of a second of
    `research status`, which needs no pydantic at all."""

    __slots__ = ("descriptor", "built")

    def __init__(self, descriptor) -> None:
        self.descriptor = descriptor
        self.built = None

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


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point: run a command; every ending is one paragraph and an exit code, never a traceback."""
    import signal

    # A parent may hand its signal mask down (a thread that blocked SIGINT, then started us): the
    # promise that Ctrl-C and SIGTERM stop a run cleanly holds only if they can be delivered.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        command()(args=argv, prog_name="research")
    except ResearchError as error:
        typer.echo(f"research: {error}", err=True)
        return int(error.exit_code)
    except KeyboardInterrupt:
        typer.echo("research: interrupted", err=True)
        return int(Exit.INTERRUPTED)
    except SystemExit as done:  # click ends every command this way, usage errors with 2
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as error:  # a bug in the engine: say so in one paragraph, keep the traceback in a file
        typer.echo(
            f"research: internal error: {type(error).__name__}: {error}. This is a bug in research; "
            f"the traceback is in {_crash_report(error)}.",
            err=True,
        )
        return int(Exit.FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return int(Exit.OK)


def _crash_report(error: BaseException) -> str:
    import os
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if os.environ.get("RESEARCH_DEBUG"):
        typer.echo(text, err=True)
    fd, path = tempfile.mkstemp(prefix="research-crash-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def run() -> None:
    sys.exit(main())
