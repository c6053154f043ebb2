"""What `research runs`, `show` and `diff` print: `engine.browse.api`'s plain data as rich tables
(and CSV). The one place these commands format anything; the data itself stays plain."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from engine.browse.api import columns_of, flat_rows
from engine.render.templates import fmt_metric
from engine.run.plan import shown_value
from engine.text.marks import verdict_mark


def console():
    """A rich console: a terminal's width; piped or captured, as wide as a table needs, so that
    every row stays one line for grep and nothing is cut."""
    from rich.console import Console

    found = Console()
    return found if found.is_terminal else Console(width=WIDE)


WIDE = 1000
#: What a trial key's data and code hashes are of (as `research run --dry-run` says).
INPUTS = {"data": "the files' fingerprint", "code": "engine/models, engine/data, engine/metrics.py, plugins"}


def csv_text(records: Sequence[Mapping[str, Any]]) -> str:
    """Trial records as CSV: a header of every column, then one row per trial (empty: no value)."""
    rows = flat_rows(list(records))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = columns_of(rows)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


#: Up to this many parameters get a column each; more (reports that vary different keys) share one.
PARAM_COLUMNS = 3


def print_runs(records: Sequence[Mapping[str, Any]]) -> None:
    out = console()
    out.print(trials_table(records, report=True))
    reports = len({r["path"] for r in records})
    out.print(
        f"{len(records)} trial{'s' if len(records) != 1 else ''} in {reports} report{'s' if reports != 1 else ''}",
        highlight=False,
    )


def trials_table(records: Sequence[Mapping[str, Any]], *, report: bool, title: str | None = None):
    """One row per trial: (report,) trial, model, the parameters, the metrics, role (, verdict,
    stale). A few parameters get a column each; more share the last column as `key=value`."""
    from rich.markup import escape
    from rich.table import Table

    params = list(dict.fromkeys(p for r in records for p in r["params"]))
    metrics = list(dict.fromkeys(m for r in records for m in r["metrics"]))
    apart = len(params) <= PARAM_COLUMNS
    table = Table(title=title, title_justify="left")
    for name in (["report"] if report else []) + ["trial"]:
        table.add_column(name, no_wrap=True)  # what a reader copies: never cut
    table.add_column("model")
    for name in params if apart else []:
        table.add_column(name, justify="right")
    for name in metrics:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("role", no_wrap=True)
    if report:
        table.add_column("verdict", no_wrap=True)
        table.add_column("stale")
    if not apart:  # last, taking the room the numbers leave
        table.add_column("parameters", min_width=24)
    for r in records:
        cells = ([r["report"]] if report else []) + [r["trial"], r.get("model") or "-"]
        cells += [shown_value(r["params"][p]) if p in r["params"] else "" for p in params] if apart else []
        cells += [fmt_metric(m, r["metrics"][m]) if m in r["metrics"] else "" for m in metrics]
        cells.append(role(r))
        if report:
            cells += [r.get("verdict") or "-", ", ".join(r["why"]) if r["stale"] else "no"]
        if not apart:
            cells.append(", ".join(f"{k}={shown_value(v)}" for k, v in r["params"].items()))
        table.add_row(*(escape(str(c)) for c in cells))
    return table


def print_show(shown: Mapping[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()

    def say(text: str) -> None:
        out.print(escape(text), highlight=False)

    say(f"{shown['path']} — {shown['id']}: {shown.get('title') or ''}".rstrip(": "))
    when = (shown.get("last_run") or "-")[:16].replace("T", " ")
    say(f"status {shown['status']} · last run {when} · stale: {', '.join(shown['why']) if shown['stale'] else 'no'}")
    if shown.get("verdict") or shown.get("says"):
        say(
            f"verdict: {verdict_mark(shown.get('verdict'))} {shown.get('verdict') or '-'} — {shown.get('says') or ''}".rstrip(
                " —"
            )
        )
    else:
        say("verdict: none yet (no run record: run it with `research run`)")
    if shown.get("best") or shown.get("baseline"):
        lost = shown.get("beats_baseline") is False  # the best candidate is no best when the baseline beat it
        say(
            f"{'best candidate (does not beat the baseline)' if lost else 'best'}: {shown.get('best') or '-'} · "
            f"baseline: {shown.get('baseline') or '-'} · primary metric: {shown.get('primary') or '-'}"
        )
    if shown["trials"]:
        out.print(trials_table(shown["trials"], report=False, title="results"))
    if shown["key_numbers"]:
        table = Table(title="key numbers", title_justify="left")
        table.add_column("number")
        table.add_column("value", justify="right")
        for row in shown["key_numbers"]:
            table.add_row(escape(str(row["label"])), escape(str(row["value"])))
        out.print(table)
    for found in shown["binned"]:
        table = Table(title=escape(found["title"] or "binned"), title_justify="left")
        for i, name in enumerate(found["columns"]):
            table.add_column(escape(name), justify="left" if i == 0 else "right")
        for row in found["rows"]:
            table.add_row(*(escape(c) for c in row))
        out.print(table)
    if shown["figures"]:
        say("figures:")
        for figure in shown["figures"]:
            say(f"  {figure['path']}" + ("" if figure["exists"] else "  (missing: run the report again)"))


def print_diff(diff: Mapping[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()

    def say(text: str) -> None:
        out.print(escape(text), highlight=False)

    say(f"{diff['a']} → {diff['b']}")
    for change in diff["report"]:
        say(f"  {change['key']}: {change.get('old') or '-'} → {change.get('new') or '-'}")
    if diff["paired"] == "best":
        say("  no trial name in common: best against best")
    for pair in diff["pairs"]:
        name = pair["a"] if pair["a"] == pair["b"] else f"{pair['a']} → {pair['b']}"
        if pair["same"]:
            say(f"{name}: the same config and metrics")
            continue
        say(f"{name}:")
        if not pair["config_known"]:
            say("  config: not known for one side (its run is not in this run store and its spec does not resolve)")
        elif not pair["config"]:
            say("  config: the same")
        for change in pair["config"]:
            say(f"  {change['key']}: {_value(change, 'old')} → {_value(change, 'new')}")
        for change in pair["inputs"]:
            say(f"  {change['key']}: {change['old'] or '-'} → {change['new'] or '-'} ({INPUTS[change['key']]})")
        table = Table()
        for column in ("metric", "a", "b", "change", "%", ""):
            table.add_column(column, justify="left" if column in ("metric", "") else "right", no_wrap=True)
        for m in pair["metrics"]:
            table.add_row(
                escape(m["metric"]),
                fmt_metric(m["metric"], m["old"]),
                fmt_metric(m["metric"], m["new"]),
                signed(m["metric"], m["change"]),
                "" if m["percent"] is None else f"{'−' if m['percent'] < 0 else '+'}{abs(m['percent']):.1f} %",
                {True: "better", False: "worse", None: ""}[m["better"]],
            )
        out.print(table)
    if diff["only_a"]:
        say(f"only in {diff['a']}: {', '.join(diff['only_a'])}")
    if diff["only_b"]:
        say(f"only in {diff['b']}: {', '.join(diff['only_b'])}")


def role(record: Mapping[str, Any]) -> str:
    return (
        "best"
        if record.get("best")
        else "baseline"
        if record.get("baseline")
        else "reference"
        if record.get("reference")
        else ""
    )


def signed(metric: str, change: float | None) -> str:
    """A change in the metric's own format, always with its sign: `+0.0122`, `−0.0649 dex`."""
    if change is None:
        return "-"
    text = fmt_metric(metric, abs(change))
    return ("−" if change < 0 else "+") + text


def _value(change: Mapping[str, Any], side: str) -> str:
    return shown_value(change[side]) if side in change else "(absent)"
