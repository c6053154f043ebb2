"""A notebook's runs as plain data, for a Python notebook or a script; `research runs`, `show`
and `diff` print the same data.

    from engine.browse.api import Notebook

    nb = Notebook()                          # the notebook holding the current directory
    nb.reports()                             # [{'id': 'EXP-A', 'status': 'done', 'verdict': 'pass', …}]
    nb.trials(sort="mae.log_g")              # one record per trial, best first by MAE
    nb.dataframe()                           # one row per trial, as a pandas DataFrame
    nb.diff("exp.md@HEAD~1", "exp.md")       # config keys old → new, metrics side by side

Everything comes from what runs leave behind: each report's front matter and `record` region, the
run store's records for a trial's whole config (`.research/runs/<key>/record.json`; the report's
own spec when the store does not have it, as on a fresh clone), and git's history for
`FILE@REV`. Nothing trains, no document is written and no ML library is imported, so listing a
notebook of a thousand reports takes about a second. Bad input (a path, trial or revision that
is not there) raises `engine.errors.ResearchError`, and the message lists what does exist.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ResearchError, did_you_mean
from engine.models.configs import shown_config
from engine.notebook import paths as notebook_paths
from engine.notebook.experiments import scan, under
from engine.notebook.paths import shown as relative
from engine.notebook.record import rounded, shown_trials
from engine.notebook.report import Report, read_report
from engine.notebook.store import KeyParts, RunStore
from engine.render.decision import LOWER_IS_BETTER, badness
from engine.run.plan import ABSENT, config_leaves
from engine.spec.vocabulary import base_metric
from engine.text import document
from engine.text.tables import parsed as parsed_tables

#: The columns of `results()` before a trial's parameters and metrics, and after them.
HEAD_COLUMNS = ("report", "trial", "model")
TAIL_COLUMNS = ("best", "baseline", "verdict", "stale", "path")
#: Metrics measured on a positive scale (errors), whose change reads well as a percentage; R²
#: (a fraction of variance, possibly negative) and bias (signed) change by their difference only.
SCALE_METRICS = ("mae", "rmse", "sigma")
_REF = re.compile(r"^(?P<path>.+?\.md)(?:@(?P<rev>[^#]+))?(?:#(?P<trial>.+))?$")


@dataclass(frozen=True)
class Ref:
    """What `research diff` compares: a report (`FILE`), at a git revision (`FILE@REV`), or one
    of its trials (`FILE#trial`, `FILE@REV#trial`)."""

    path: Path
    revision: str | None = None
    trial: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Ref":
        text = str(text)
        if Path(text).is_file():
            return cls(Path(text))
        match = _REF.match(text)
        if match is None:  # not a .md name: '#' and '@' still split it
            rest, _, trial = text.partition("#")
            path, _, revision = rest.partition("@")
            return cls(Path(path), revision or None, trial or None)
        return cls(Path(match["path"]), match["rev"], match["trial"])


@dataclass
class _Version:
    """A report as one git revision holds it (`revision` None: as it is now), paired with the run
    store that has its trials' whole configs: what `show` and `diff` compare."""

    report: Report
    revision: str | None
    store: RunStore
    _configs: dict[str, dict[str, Any] | None] | None = field(default=None, repr=False)

    @property
    def record(self) -> dict[str, Any]:
        return self.report.record or {}

    @property
    def label(self) -> str:
        return relative(self.report.path) + (f"@{self.revision}" if self.revision else "")

    @property
    def names(self) -> list[str]:
        return [str(t.get("name")) for t in self.record.get("trials") or []]

    def trial(self, name: str) -> dict[str, Any]:
        for item in self.record.get("trials") or []:
            if item.get("name") == name:
                return item
        raise ResearchError(
            f"no trial named '{name}' in the run record of {self.label}",
            path=self.report.path,
            key=f"#{name}",
            hint=did_you_mean(name, self.names) or f"its trials: {', '.join(self.names) or 'none'}",
        )

    def configs(self) -> dict[str, dict[str, Any] | None]:
        """Each recorded trial's config as dotted keys: the stored record of the key its run
        record names (what made the numbers), else the spec of this same text (a fresh clone has
        no run store); None when neither can say."""
        if self._configs is None:
            found: dict[str, dict[str, Any] | None] = {}
            resolved: dict[str, Any] | None = None
            rows = self.record.get("trials") or []
            for item in rows:
                name = str(item.get("name"))
                parts = item.get("parts") or next((r.get("parts") for r in rows if r.get("of") == name), None)
                config = self.store.config_of(parts)  # a repeated trial: its first seed's
                if config is None:
                    if resolved is None:
                        resolved = self.report.resolved_configs()
                    # a repeated trial is its seeds in the spec (`x.seed-42`): its first seed's config
                    member = next((str(r.get("name")) for r in rows if r.get("of") == name), None)
                    config = resolved.get(name) or (resolved.get(member) if member else None)
                found[name] = config_leaves(shown_config(config)) if config is not None else None
            self._configs = found
        return self._configs

    @property
    def why(self) -> list[str]:
        return self.report.stale_reasons()


class Notebook:
    """Every report and trial of the notebook that holds `root` (the nearest folder at or above
    it with `.research/` or `.git`, as the CLI finds it).

        nb = Notebook("~/notebook")
        [r["id"] for r in nb.reports() if r["stale"]]    # what needs a re-run
        nb.trials("research/logg_1m")                     # the trials of one topic's reports
    """

    def __init__(self, root: str | Path = ".") -> None:
        self.root = notebook_paths.notebook_root(Path(root).expanduser())
        self.store = RunStore(self.root / notebook_paths.STATE_DIR / "runs")

    # -- listings --------------------------------------------------------------------------

    def reports(self, paths: Iterable[str | Path] | None = None) -> list[dict[str, Any]]:
        """Every experiment report (under `paths`, files or folders, when given), sorted by id:
        path, id, title, status, verdict, the rule's words, best and baseline trial, staleness."""
        out = []
        for report in self._reports(paths, unreadable=True):
            rec = report.record or {}
            out.append(
                {
                    **_summary(report, rec, report.stale_reasons(), relative(report.path)),
                    "trials": [t.get("name") for t in shown_trials(rec)],
                }
            )
        return out

    def trials(self, paths: Iterable[str | Path] | None = None, *, sort: str | None = None) -> list[dict[str, Any]]:
        """One record per trial of every report that has run: report id, trial, model type,
        `params` (the config keys whose values differ between the report's trials, those this
        trial's config has), `metrics`
        (each metric of the run record), best / baseline / reference, the verdict, staleness.

        `sort`: a metric (best first: lower is better for mae, rmse and |bias|), a parameter
        (`model.alpha`) or a field (`report`, `model`); unsorted, reports by id, trials in
        the report's order."""
        records = []
        for report in self._reports(paths):
            records.extend(trial_records(_Version(report, None, self.store)))
        return sort_records(records, sort) if sort else records

    def results(self, paths: Iterable[str | Path] | None = None, *, sort: str | None = None) -> list[dict[str, Any]]:
        """`trials()` as flat rows, one key per column (`report`, `trial`, `model`, each
        parameter, each metric, `best`, `baseline`, `verdict`, `stale`, `path`), every row with
        every column: what `research runs --csv` writes and `dataframe()` holds."""
        return flat_rows(self.trials(paths, sort=sort))

    def dataframe(self, paths: Iterable[str | Path] | None = None, *, sort: str | None = None):
        """`results()` as a pandas DataFrame (pandas is optional: `pip install pandas`).

        df = Notebook().dataframe()
        df[df.report == "EXP-A"].sort_values("mae.log_g")"""
        try:
            import pandas
        except ImportError:
            raise ImportError(
                "Notebook.dataframe() needs pandas, which is not installed: pip install pandas "
                "(or use Notebook.results(), the same rows as dicts)"
            ) from None
        rows = self.results(paths, sort=sort)
        return pandas.DataFrame(rows, columns=columns_of(rows))

    # -- one report, two things --------------------------------------------------------------

    def show(self, path: str | Path) -> dict[str, Any]:
        """One report as `research show` prints it: verdict and its words, each trial's metrics,
        the key numbers, the binned tables (as the report shows them) and the figures' paths."""
        ref = Ref.parse(str(path))
        version = self._version(ref.path, ref.revision)
        rec, report = version.record, version.report
        trials = trial_records(version)
        return {
            **_summary(report, rec, version.why, version.label),
            "metrics": metric_order(trials, rec.get("primary")),
            "trials": trials,
            "key_numbers": [
                {"label": row[0], "value": row[1]} for row in rec.get("key_numbers") or [] if len(row) >= 2
            ],
            "binned": region_tables(report.text, "binned", str(report.path)),
            "figures": figure_paths(report.text, report.path),
        }

    def diff(self, a: str, b: str | None = None) -> dict[str, Any]:
        """What changed from `a` to `b`: trials (`FILE#trial`), reports (`FILE`, trials paired
        by name — or best with best when no name is shared), or a report at a git revision
        (`FILE@HEAD~1`; with no `b`, the same file as it is now). Per pair: the config keys
        that differ (`old` → `new`; a key one side lacks has no `old` or no `new`), the `inputs`
        whose hash differs (`data`: the files' fingerprint, `code`: the numeric code), every
        metric side by side, with its signed change, its change in percent where that means
        something (errors, not R² or bias) and whether it is `better`; `same` when nothing moved.

            d = Notebook().diff("exp.md@HEAD~1")
            [(c["key"], c.get("old"), c.get("new")) for c in d["pairs"][0]["config"]]"""
        first = Ref.parse(a)
        if b is None:
            if first.revision is None:
                raise ResearchError(
                    "give two things to compare, or one at a git revision",
                    key="research diff",
                    hint="e.g. research diff exp.md#base exp.md#cand, or research diff exp.md@HEAD~1",
                )
            second = Ref(first.path, None, first.trial)
        else:
            second = Ref.parse(b)
        old, new = self._version(first.path, first.revision), self._version(second.path, second.revision)
        for version in (old, new):
            if not version.record.get("trials"):
                raise ResearchError(
                    f"{version.label} has no run record to compare",
                    path=version.report.path,
                    hint=f"run it first: research run {relative(version.report.path)}",
                )
        if first.trial or second.trial:
            name_a = first.trial or second.trial or ""  # one of them is named here
            name_b = second.trial or first.trial or ""
            old.trial(name_a)  # not there: an error that names the trials it has
            new.trial(name_b)
            pairs: list[tuple[str, str]] = [(name_a, name_b)]
            only_a, only_b, paired = [], [], "named"
        else:
            shared = [n for n in old.names if n in new.names]
            if shared:
                pairs, paired = [(n, n) for n in shared], "by name"
            else:
                best_a, best_b = old.record.get("best"), new.record.get("best")
                if best_a is None or best_b is None:
                    raise ResearchError(
                        f"{old.label} and {new.label} share no trial name and one has no best trial",
                        hint="name the trials: FILE#trial",
                    )
                pairs, paired = [(best_a, best_b)], "best"
            taken_a, taken_b = {p[0] for p in pairs}, {p[1] for p in pairs}
            only_a = [n for n in old.names if n not in taken_a]
            only_b = [n for n in new.names if n not in taken_b]
        report = []
        if not (first.trial or second.trial):
            for key in ("verdict", "says", "best", "baseline"):
                if old.record.get(key) != new.record.get(key):
                    report.append({"key": key, "old": old.record.get(key), "new": new.record.get(key)})
        primary = new.record.get("primary") or old.record.get("primary")
        trials = bool(first.trial or second.trial)
        return {
            "a": old.label + (f"#{pairs[0][0]}" if trials else ""),
            "b": new.label + (f"#{pairs[0][1]}" if trials else ""),
            "paired": paired,
            "report": report,
            "pairs": [_pair(old, new, x, y, primary) for x, y in pairs],
            "only_a": only_a,
            "only_b": only_b,
        }

    # -- reading -----------------------------------------------------------------------------

    def _reports(self, paths: Iterable[str | Path] | None, *, unreadable: bool = False) -> list[Report]:
        """The reports under `paths`; those whose front matter or markers are broken only with
        `unreadable` (a listing names their problem; their trials cannot be read)."""
        given = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths or []]
        for path in given:
            if not path.exists():
                raise ResearchError(
                    "no such file or folder", path=path, hint="give reports or folders of reports inside the notebook"
                )
        return [e for e in under(scan(self.root), given) if unreadable or e.problem is None]

    def _version(self, path: Path, revision: str | None) -> _Version:
        from engine.text import textfile

        if revision is None:
            if not path.is_file():
                raise ResearchError("no such report", path=path, hint=_reports_hint(self.root))
            text = textfile.read_text(path)
        else:
            from engine.run.provenance import text_at

            text = text_at(path, revision)
        where = f"{relative(path)}@{revision}" if revision else str(path)
        report = read_report(path, None if revision else self.root, text=text)
        if report is None:
            raise ResearchError(
                "is not an experiment report (its front matter has no `id:`)", path=where, hint=_reports_hint(self.root)
            )
        if report.problem:
            raise ResearchError(report.problem, path=where)
        return _Version(report, revision, self.store)


def trial_records(version: _Version) -> list[dict[str, Any]]:
    rec = version.record
    configs = version.configs()
    varying = varying_keys([configs.get(str(t.get("name"))) for t in shown_trials(rec)])
    why = version.why
    references = set(rec.get("references") or [])
    out = []
    for item in shown_trials(rec):  # a repeated trial once, as the mean over its seeds
        name = str(item.get("name"))
        leaves = configs.get(name)
        out.append(
            {
                "report": version.report.id,
                "trial": name,
                "model": item.get("model"),
                "params": {k: leaves[k] for k in varying if k in leaves} if leaves is not None else {},
                "metrics": {m: (item.get("metrics") or {})[m] for m in metric_order([item], rec.get("primary"))},
                "best": name == rec.get("best"),
                "baseline": name == rec.get("baseline"),
                "reference": name in references,
                "verdict": rec.get("verdict"),
                "stale": bool(why),
                "why": why,
                "config": item.get("config"),
                "key": _key(item.get("parts")),
                "path": version.label,
            }
        )
    return out


def varying_keys(configs: list[dict[str, Any] | None]) -> list[str]:
    """The dotted config keys whose values are not the same in every trial (the model type is
    the `model` field already), in the order the configs hold them."""
    known = [c for c in configs if c is not None]
    if len(known) < 2:
        return []
    keys = list(dict.fromkeys(k for c in known for k in c))
    return [k for k in keys if k != "model.type" and len({_canonical(c.get(k, ABSENT)) for c in known}) > 1]


def sort_records(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Trial records best first by a metric (`badness`: lower is better for errors and |bias|,
    higher for R²), or ascending by a parameter or field; what has no value goes last."""
    if not records:
        return records
    metrics = {m for r in records for m in r["metrics"]}
    params = {p for r in records for p in r["params"]}
    fields = {k for k, v in records[0].items() if not isinstance(v, (dict, list))}
    if key in metrics:
        return sorted(records, key=lambda r: badness(key, r["metrics"].get(key)))
    if key not in params and key not in fields:
        known = [*sorted(metrics), *sorted(params), *fields]
        raise ResearchError(
            f"nothing named '{key}' to sort by",
            key="--sort",
            hint=did_you_mean(key, known) or f"sort by a metric, parameter or field: {', '.join(known)}",
        )

    def value(record):
        found = record["params"].get(key) if key in params else record.get(key)
        if found is None:
            return (2, 0, "")
        if isinstance(found, (int, float)):
            return (0, found, "")
        return (1, 0, str(found))

    return sorted(records, key=value)


def flat_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {**{c: r.get(c) for c in HEAD_COLUMNS}, **r["params"], **r["metrics"], **{c: r.get(c) for c in TAIL_COLUMNS}}
        for r in records
    ]
    columns = columns_of(rows)
    return [{c: row.get(c) for c in columns} for row in rows]


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    """Every column of the rows: the head, then parameters, metrics (in the order met), the tail."""
    middle = list(dict.fromkeys(k for row in rows for k in row if k not in HEAD_COLUMNS and k not in TAIL_COLUMNS))
    return [*HEAD_COLUMNS, *middle, *TAIL_COLUMNS]


def metric_order(records: Sequence[Mapping[str, Any]], primary: str | None) -> list[str]:
    """The metrics of the records, the primary first (a record keeps the others sorted by name)."""
    found = list(dict.fromkeys(m for r in records for m in r.get("metrics") or {}))
    return sorted(found, key=lambda m: (m != primary, found.index(m)))


def metric_change(metric: str, old: Any, new: Any) -> dict[str, Any]:
    """One metric of a pair: both values, the signed change, the change in percent (of an
    error, from a positive old value), and whether it is better by the metric's direction."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (old, new))
    change = new - old if numbers else None
    percent = change / old * 100 if numbers and base_metric(metric) in SCALE_METRICS and old > 0 else None
    better = None
    if numbers and change != 0 and base_metric(metric) in LOWER_IS_BETTER:
        better = badness(metric, new) < badness(metric, old)
    return {
        "metric": metric,
        "old": old,
        "new": new,
        "change": rounded(change),
        "percent": rounded(percent),
        "better": better,
    }


def _pair(old: _Version, new: _Version, name_a: str, name_b: str, primary: str | None) -> dict[str, Any]:
    was, now = old.configs().get(name_a), new.configs().get(name_b)
    config = []
    if was is not None and now is not None:
        for key in list(dict.fromkeys([*was, *now])):
            before, after = was.get(key, ABSENT), now.get(key, ABSENT)
            if _canonical(before) != _canonical(after):
                config.append(
                    {
                        "key": key,
                        **({"old": before} if before is not ABSENT else {}),
                        **({"new": after} if after is not ABSENT else {}),
                    }
                )
    trial_a, trial_b = old.trial(name_a), new.trial(name_b)
    metrics_a, metrics_b = trial_a.get("metrics") or {}, trial_b.get("metrics") or {}
    parts_a, parts_b = trial_a.get("parts") or {}, trial_b.get("parts") or {}
    inputs = [
        {"key": part, "old": parts_a.get(part), "new": parts_b.get(part)}
        for part in ("data", "code")
        if parts_a.get(part) != parts_b.get(part)
    ]
    ordered = metric_order([{"metrics": metrics_a}, {"metrics": metrics_b}], primary)
    metrics = [metric_change(m, metrics_a.get(m), metrics_b.get(m)) for m in ordered]
    known = was is not None and now is not None
    return {
        "a": name_a,
        "b": name_b,
        "same": known and not config and not inputs and all(m["old"] == m["new"] for m in metrics),
        "config_known": known,
        "config": config,
        "inputs": inputs,
        "metrics": metrics,
    }


def region_tables(text: str, prefix: str, path: str | None = None) -> list[dict[str, Any]]:
    """The markdown tables in the regions named `prefix` or `prefix-N`, as the report shows them:
    each with its title (the bold line above it), its header and its rows of cell texts."""
    tables = []
    for name, region in document.regions(text, path).items():
        if name == prefix or re.fullmatch(rf"{re.escape(prefix)}-\d+", name):
            tables.extend(markdown_tables(region.body))
    return tables


def markdown_tables(body: str) -> list[dict[str, Any]]:
    """Every table of `body` (`engine.text.tables` reads them), each titled by the paragraph or
    heading right above it, unless a list or a quote came between."""
    tokens = document.markdown_tokens(body)
    titles: dict[int, str | None] = {}
    title: str | None = None
    for index, token in enumerate(tokens):
        if token.type == "inline" and token.level == 1:  # a paragraph: the next table's title
            title = _plain(token.content)
        elif token.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            title = None
        elif token.type == "table_open":
            titles[index], title = title, None
    found = []
    for table in parsed_tables(tokens):
        header, *rows = [[_plain(cell) for cell in row] for row in table.texts()]
        found.append({"title": titles[table.index], "columns": header, "rows": rows})
    return found


def figure_paths(text: str, path: Path) -> list[dict[str, Any]]:
    """The images of the report's `figures` / `figure-N` regions: their paths relative to the
    current directory, and whether each file is there."""
    out = []
    for name, region in document.regions(text, str(path)).items():
        if name != "figures" and not re.fullmatch(r"figure-\d+", name):
            continue
        for _, _, file, alt in document.local_images(region.body):
            target = path.parent / file
            out.append({"path": relative(target), "exists": target.is_file(), "caption": alt})
    return out


def _summary(report: Report, rec: Mapping[str, Any], why: list[str], path: str) -> dict[str, Any]:
    """What `reports()` and `show()` both say of a report: where and what it is, its verdict, staleness."""
    return {
        "path": path,
        "id": report.id,
        "title": report.meta.get("title"),
        "status": report.status,
        "verdict": rec.get("verdict"),
        "says": rec.get("says"),
        "primary": rec.get("primary"),
        "best": rec.get("best"),
        "baseline": rec.get("baseline"),
        "beats_baseline": (rec.get("standing") or {}).get("beats_baseline"),
        "last_run": report.last_run,
        "stale": bool(why),
        "why": why,
    }


def _key(parts: Any) -> str | None:
    """The run store key of a record's trial (`parts` as the run record keeps them)."""
    if not isinstance(parts, Mapping) or set(parts) != {"config", "data", "code"}:
        return None
    return KeyParts(**parts).key


def _canonical(value: Any) -> str:
    return "\0absent" if value is ABSENT else json.dumps(value, sort_keys=True, default=str)


def _plain(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text).strip()


def _reports_hint(root: Path) -> str:
    found = [relative(e.path) for e in scan(root) if e.problem is None]
    if not found:
        return "this notebook has no experiment report yet (research new exp TOPIC NAME)"
    shown = ", ".join(found[:8]) + (f", … ({len(found)} in all)" if len(found) > 8 else "")
    return f"reports here: {shown}"
