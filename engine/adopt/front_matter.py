"""The front matter an adopted report starts with: its header, then a draft spec of the run.

A finished report already says what its run was — in its header, its design tables, the names
of the methods it compared, its appendix's result tables, its figures' file names, its prose and
its acceptance criterion. Adopting reads all of it into a draft spec close enough to run after a
few edits, so that the report can be regenerated instead of retyped. The draft must say in the
YAML itself where each value came from: a value the report states is `# read from "…" (line
N)`, one inferred from words is `# guessed from "…" (line N): check`, a default is `# guess: …`.
Whatever the spec refuses is taken out again (or cut where figure and table numbering depends on
it) and listed to fill by hand, so the draft always loads and its expressions always evaluate;
the text is checked to load back as exactly the values it was rendered from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.adopt import decision, design_tables, figures, methods, prose, results
from engine.adopt.design_tables import DEFAULT_TARGETS
from engine.adopt.header import HEADER_FIELDS, header_fields
from engine.adopt.headings import fold
from engine.adopt.links import answers, hypothesis_ids, links, prerequisites
from engine.adopt.markers import Image
from engine.adopt.outline import Outline, Table
from engine.adopt.said import Said, Unread, clean, default
from engine.text import document
from engine.text.safe_yaml import yaml_scalar

FRONT_HEADER_KEYS = ("id", "topic", "mvp", "author", "date")  # the header fields the front matter carries
LineAt = Callable[[int], int]  # 0-based body line → 1-based line of the adopted file

Note = Said | str  # a Said, or a plain comment


@dataclass
class FrontMatter:
    """The draft composed for a report: its values, the note of each, and what the CLI says of it."""

    spec: dict  # the values the front matter holds
    notes: dict[str, Note]  # dotted key (list items `figures[2]`) → its comment
    legacy_status: str | None = None
    header: list[str] = field(default_factory=list)  # the header fields read (id, author, …)
    to_fill: list[Unread] = field(default_factory=list)  # what the report says that the spec does not hold
    commented: list[tuple[str, Note]] = field(default_factory=list)  # YAML lines left commented out, and why

    def filled(self, line_at: LineAt | None = None) -> list[str]:
        """What to fill by hand, each with its line in the adopted file."""
        return [item.say(line_at) for item in self.to_fill]

    def text(self, line_at: LineAt | None = None) -> str:
        """The front matter (LF endings, fences included), each note citing adopted-file lines."""
        return front_matter_text(self, line_at)

    @property
    def read(self) -> list[str]:
        """The keys whose values the report states."""
        return [k for k, n in self.notes.items() if isinstance(n, Said) and not n.guess and _top(k) in self.spec]

    @property
    def guessed(self) -> list[str]:
        """The keys whose values are guesses (a default, or inferred from words)."""
        return [k for k, n in self.notes.items() if isinstance(n, Said) and n.guess and _top(k) in self.spec]


def _top(key: str) -> str:
    return re.split(r"[.\[]", key, maxsplit=1)[0]


# ---------------------------------------------------------------------------------------------
# Reading the report


@dataclass(frozen=True)
class Parts:
    """Where a report keeps what the draft reads: tables by the region adopting gives them."""

    results: Table | None = None  # the overall table (region `results`)
    binned: tuple[Table, ...] = ()  # the per-bin tables, in region order (binned-0, binned-1, …)
    comparisons: Table | None = None  # the bootstrap table (region `comparisons`)
    key_numbers: Table | None = None  # the key-number table (region `key-numbers`)
    images: tuple[Image, ...] = ()  # the figures (figure-1, figure-2, …)


def compose(doc: Outline, lines: list[str], path: str | None, parts: Parts) -> FrontMatter:
    """The draft of a legacy report: read, validated and checked to round-trip."""
    title, fields, where = header_fields(doc, lines)
    tables = doc.tables_in_place()
    sentences = doc.prose_lines(lines)
    said_ids = answers(doc) or hypothesis_ids(fields.get("hypothesis", ""))
    named = design_tables.named_targets(tables)
    fm = FrontMatter(spec={}, notes={}, legacy_status=fields.get("status"))
    fm.header = [name for name in HEADER_FIELDS if name in fields]
    _header(fm, title, fields, where, path)
    _language(fm, sentences)
    fm.spec.update(links(doc))
    fm.spec["answers"] = said_ids
    fm.notes["answers"] = "ids in the hub's hypothesis tree this experiment answers"
    for link, line in prerequisites(doc):
        fm.commented.append(
            (
                f"prerequisite: [{yaml_scalar(link)}]",
                Said(line, link, guess=False, why="uncomment once that report is adopted and has run: it must be done"),
            )
        )
        break
    targets = named[0] if named else list(DEFAULT_TARGETS)
    fm.spec["data"] = {"source": "synthetic", "targets": targets}
    fm.notes["data.source"] = 'the embedded generator; or HDF5 shards, e.g. "train_{0..4}/dataset.h5"'
    fm.notes["data.targets"] = named[1] if named else default("what to predict; edit")
    design = design_tables.read(tables, targets)
    _design(fm, design)
    _prose(fm, sentences)
    _experiment(fm, doc, lines, tables, sentences, parts, targets)
    _validated(fm, path)
    _check_round_trip(fm.text(), fm.spec)
    return fm


def _header(
    fm: FrontMatter, title: str | None, fields: dict[str, str], where: dict[str, int], path: str | None
) -> None:
    values, notes = fm.spec, fm.notes
    stem = Path(path).stem if path else "untitled"
    values["id"] = fields.get("id") or stem
    if not fields.get("id"):
        notes["id"] = default("the report has no ID: choose one")
    name = fields.get("name") if fold(fields.get("name", "")) not in ("", "todo", "tbd") else None
    values["title"] = title or name or stem
    if not (title or name):
        notes["title"] = default("the report has no H1 title")
    for key in FRONT_HEADER_KEYS[1:]:
        if fields.get(key):
            values[key] = fields[key]
    if "topic" in values:
        _topic(fm, fields["topic"], where["topic"], path)
    values["status"] = "planned"


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # Han characters (CJK unified and compatibility ideographs)
_WORD = re.compile(r"[A-Za-z]{2,}")


def _language(fm: FrontMatter, sentences: list[tuple[int, str]]) -> None:
    """`language: zh` when the report's prose is Chinese: its tables, verdicts and observations
    are then written in Chinese, as the words around them are. Chinese here means more Han
    characters than English words in the prose (code blocks left out): a Chinese report full of
    metric names and model names still has two or more characters per English word, an English
    report with a Chinese note far fewer than one."""
    prose = " ".join(text for _, text in sentences)
    han, words = len(_CJK.findall(prose)), len(_WORD.findall(prose))
    if han > words:
        fm.spec["language"] = "zh"
        fm.notes["language"] = default(
            f"the prose is Chinese ({han} Han characters, {words} English words): tables and observations in Chinese; en for English"
        )


def _topic(fm: FrontMatter, topic: str, line: int, path: str | None) -> None:
    """A topic written as `` `VIT` / `moe` `` (project / topic): the part that names the report's
    folder (research/<topic>/exp/), else the last part, as a guess."""
    parts = [p for p in re.split(r"\s*[/／|｜]\s*", topic) if p]
    if len(parts) < 2:
        return
    folder = Path(path).parent if path else None
    if folder is not None and folder.name == "exp":
        folder = folder.parent
    chosen = next((p for p in parts if folder is not None and fold(p) == fold(folder.name)), None)
    fm.spec["topic"] = chosen or parts[-1]
    why = f"the header names {' / '.join(parts)}; " + (
        "the report's folder is this one" if chosen else "the last is taken as the topic, the others as the project"
    )
    fm.notes["topic"] = Said(line, topic, guess=chosen is None, why=why)


def _design(fm: FrontMatter, design: design_tables.DesignValues) -> None:
    """Put what the design tables said into the values (each with where it was read)."""
    for key, value in design.values.items():
        section, _, name = key.partition(".")
        if section in ("sweep", "trials"):
            fm.spec[section] = value
        elif section == "data":
            fm.spec["data"][name] = value
        else:
            fm.spec.setdefault(section, {})[name] = value
    for key, said in design.sources.items():
        if key in design.values or key.startswith("trials."):
            fm.notes[key] = said
    fm.to_fill += [Unread(text) for text in design.unread]


def _prose(fm: FrontMatter, sentences) -> None:
    """Sizes and the noise level the tables did not give, from sentences (each a guess)."""
    data = fm.spec["data"]
    for key, finder in (("n_train", prose.n_train), ("n_test", prose.n_test)):
        if key not in data and (found := finder(sentences)) is not None:
            data[key] = found.value
            fm.notes[f"data.{key}"] = found.said
    if "noise" not in fm.spec and (found := prose.noise_level(sentences)) is not None:
        fm.spec["noise"] = {"level": found.value}
        fm.notes["noise.level"] = found.said
    if (found := prose.bootstrap_n(sentences)) is not None:
        fm.spec["bootstrap"] = {"n": found.value}
        fm.notes["bootstrap"] = Said(found.said.line, found.said.quote, guess=False)


def _experiment(fm: FrontMatter, doc, lines, tables, sentences, parts: Parts, targets: list[str]) -> None:
    """Model, trials, metrics, binned tables, comparisons, figures, decision and key numbers
    from the methods compared, the result tables, the figures and the acceptance criterion."""
    values, notes = fm.spec, fm.notes
    mixture = prose.mixture(sentences)
    found = methods.read(tables, parts.results, parts.comparisons, mixture=mixture is not None)
    fm.to_fill += found.unread
    criterion = prose.acceptance(sentences)
    own_trials = "trials" in values or "sweep" in values
    if mixture is not None:
        _mixture_model(fm, mixture, found, sentences, tables)
    elif found.methods and not own_trials:
        first = next((m for m in found.methods if m.name == found.baseline), found.methods[0])
        values["model"] = {"type": first.kind}
        notes["model"] = Said(first.said.line, first.said.quote, why="the baseline's model; each trial sets its own")
    else:
        values["model"] = {"type": "ridge"}
        notes["model"] = default(
            "the runnable default; the report's model is not read (ridge, lightgbm, mlp, cnn, vit, moe)"
        )
    if found.methods and not own_trials:
        values["trials"] = {m.name: m.overrides for m in found.methods}
        for m in found.methods:
            notes[f"trials.{m.name}"] = m.said
    names = [m.name for m in found.methods] if "trials" in values and not own_trials else []

    primary_target = "log_g" if "log_g" in targets else targets[0]
    read_metrics = results.metrics(parts.results, found, targets)
    metric_list = read_metrics[0] if read_metrics else [f"r2.{primary_target}", f"mae.{primary_target}"]
    notes["metrics"] = read_metrics[1] if read_metrics else default("the first is the primary metric")
    criterion_metric = _criterion_metric(criterion[0], primary_target) if criterion else None
    if criterion_metric and criterion_metric in metric_list and criterion_metric != metric_list[0]:
        metric_list = [criterion_metric] + [m for m in metric_list if m != criterion_metric]
    rule = decision.rules(criterion[0], found, metric_list[0]) if criterion else None
    values["metrics"] = metric_list

    binned: list[dict[str, Any]] = []
    grid = methods.grid_edges(tables)
    for index, table in enumerate(parts.binned):
        made = results.binned(table, found, targets, grid, baseline=found.baseline)
        if made is None:
            fm.to_fill.append(
                Unread(f"binned table {index}: its bins are not ranges or Teff × [Fe/H] cell names", table.begin)
            )
            break  # binned-N is drawn from binned[N]: the later ones would land in the wrong region
        binned.append(made.entry)
        for part, said in made.said.items():
            notes[f"binned[{index}].{part}"] = said
    if binned:
        values["binned"] = binned
    if found.comparisons and names:
        values["comparisons"] = found.comparisons
        if found.comparisons_said:
            notes["comparisons"] = found.comparisons_said
    drawn, unread = figures.read(
        doc,
        lines,
        parts.images,
        binned=binned,
        mixture=mixture is not None,
        nets=_nets(values),
        primary=metric_list[0],
        trials=[m.name for m in found.methods if m.kind != "ridge" and m.name in names],
    )
    fm.to_fill += unread
    if drawn:
        values["figures"] = [f.entry for f in drawn]
        for index, figure in enumerate(drawn):
            notes[f"figures[{index}]"] = figure.said
    if names:
        _decision(fm, found, rule, criterion)
    focus = _focus(rule, found)
    numbers, unread = results.key_numbers(
        parts.key_numbers,
        found,
        metric_list[0],
        targets,
        focus=focus,
        cells=next((b for b in binned if b.get("name") == "cells"), None),
    )
    fm.to_fill += unread
    if numbers and names:
        values["key_numbers"] = [n.entry for n in numbers]
        for index, number in enumerate(numbers):
            notes[f"key_numbers[{index}]"] = number.said


def _nets(values: dict) -> bool:
    """Whether a trial of the draft trains a net (its training curves can be drawn)."""
    models = [values["model"], *(t.get("model", {}) for t in (values.get("trials") or {}).values())]
    return any(isinstance(m, dict) and m.get("type") in ("mlp", "cnn", "vit") for m in models)


def _criterion_metric(criterion: str, target: str) -> str | None:
    """The metric an acceptance criterion is about (its Δ's, else the first it names)."""
    found = re.search(r"(?:Δ|delta)\s*\$?\s*(R\s*²|R\^?2|R2|MAE|RMSE)|(MAE|RMSE|R²|R2)", criterion, re.I)
    if found is None:
        return None
    word = (found.group(1) or found.group(2)).upper().replace("²", "2").replace("^", "").replace(" ", "")
    return {"R2": "r2", "MAE": "mae", "RMSE": "rmse"}[word] + "." + target


def _mixture_model(fm: FrontMatter, mixture, found: methods.Methods, sentences, tables) -> None:
    """A moe model: its experts, α and grid as the report states them, the baseline's gate, and
    the gate's training (steps, patience) as the design says."""
    kind, said = mixture
    model: dict[str, Any] = {"type": "moe", "experts": kind}
    notes = fm.notes
    notes["model.type"] = Said(said.line, said.quote, why="the report names experts and a gate")
    notes["model.experts"] = said
    if (alpha := prose.alpha(sentences)) is not None:
        model["alpha"] = float(alpha.value)
        notes["model.alpha"] = Said(alpha.said.line, alpha.said.quote, guess=False)
    if kind == "grid":
        grid = methods.grid_edges(tables)
        for axis, key in (("T_eff", "teff_edges"), ("Fe_H", "feh_edges")):
            if axis in grid:
                model[key] = grid[axis][0]
                notes[f"model.{key}"] = grid[axis][1]
    base = next((m for m in found.methods if m.name == found.baseline), None)
    if base is not None and "model.gate" in base.overrides:
        model["gate"] = base.overrides["model.gate"]
        notes["model.gate"] = "the baseline's gate; each trial sets its own"
    if (epochs := prose.gate_epochs(sentences)) is not None:
        model["gate_steps"] = epochs.value
        notes["model.gate_steps"] = epochs.said
    if (wait := prose.patience(sentences)) is not None:
        model["gate_patience"] = wait.value
        notes["model.gate_patience"] = wait.said
    fm.spec["model"] = model


def _decision(fm: FrontMatter, found: methods.Methods, rule: decision.Rules | None, criterion) -> None:
    references = [m.name for m in found.methods if m.reference]
    if found.baseline is None and not (rule and rule.rules):
        return
    chosen: dict[str, Any] = {}
    if found.baseline is not None:
        chosen["baseline"] = found.baseline
        fm.notes["decision.baseline"] = found.baseline_said or default("the first method")
    if references:
        chosen["references"] = references
        fm.notes["decision.references"] = "yardsticks, never the best: a global model beside the experts, a ceiling"
    if rule and rule.rules:
        chosen["rules"] = rule.rules
        fm.notes["decision.rules"] = criterion[1]
    elif criterion:
        fm.to_fill.append(Unread(f"the acceptance criterion as decision.rules: {criterion[0]}", criterion[1].line))
    fm.spec["decision"] = chosen


def _focus(rule: decision.Rules | None, found: methods.Methods) -> str | None:
    """The trial the report is about: the one its acceptance criterion compares, else the one
    candidate that is not the baseline."""
    if rule and rule.rules:
        named = re.search(r"compare\('([^']+)'", rule.rules[0]["when"])
        if named:
            return named.group(1)
    candidates = [m.name for m in found.methods if not m.reference and m.name != found.baseline]
    return candidates[0] if len(candidates) == 1 else None


# ---------------------------------------------------------------------------------------------
# Writing it


def flow(value: Any) -> str:
    """A value in YAML flow style that loads back as itself."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_scalar(str(k))}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return yaml_scalar(value)


def front_matter_text(fm: FrontMatter, line_at: LineAt | None = None) -> str:
    """The front matter (LF endings, fences included) of a draft, each value with its note."""
    values, notes = fm.spec, fm.notes
    out = [
        "---",
        "# Adopted by `research adopt`: the report's header, then a draft spec read from its tables,",
        '# figures and prose. `# read from "…" (line N)`: stated there; `# guessed from …: check` and',
        "# `# guess:` are inferred: check each, then `research run --dry-run` this file.",
    ]

    def comment(key: str) -> str:
        note = notes.get(key)
        if note is None:
            return ""
        text = note.comment(line_at) if isinstance(note, Said) else clean(note)
        return f"  # {text}" if text else ""

    def line(key: str, rendered: str, indent: str = "", note_key: str | None = None) -> None:
        out.append(f"{indent}{key}: {rendered}{comment(note_key or key)}")

    for key in ("id", "title", "topic", "mvp", "author", "date"):
        if key in values:
            line(key, yaml_scalar(values[key]))
    status_note = "engine-maintained: planned | running | done | failed"
    if fm.legacy_status:
        status_note += f"; the report said: {fm.legacy_status}"
    out.append(f"status: {values['status']}  # {clean(status_note)}")
    if "language" in values:
        line("language", yaml_scalar(values["language"]))
    for key in ("hub", "roadmap", "kanban"):
        if key in values:
            line(key, yaml_scalar(values[key]))
    line("answers", flow(values["answers"]))
    for text, note in fm.commented:
        rendered = note.comment(line_at) if isinstance(note, Said) else clean(note)
        out.append(f"# {text}  # {rendered}")
    out.append("data:")
    for key, value in values["data"].items():
        line(key, flow(value), "  ", f"data.{key}")
    if "noise" in values:
        line("noise", flow(values["noise"]), note_key="noise.level")
    model = values["model"]
    if len(model) == 1:
        line("model", flow(model), note_key="model" if "model" in notes else "model.type")
    else:
        out.append("model:")
        for key, value in model.items():
            line(key, flow(value), "  ", f"model.{key}")
    if "train" in values:
        line("train", flow(values["train"]), note_key="train.loss_weights")
    for section in ("trials", "sweep"):
        if section in values:
            out.append(f"{section}:{comment(section)}")
            for key, value in values[section].items():
                line(yaml_scalar(key), flow(value), "  ", f"{section}.{key}")
    line("metrics", flow(values["metrics"]))
    if "binned" in values:
        out.append("binned:")
        for index, table in enumerate(values["binned"]):
            for position, (key, value) in enumerate(table.items()):
                line(key, flow(value), "  - " if position == 0 else "    ", f"binned[{index}].{key}")
    if "comparisons" in values:
        line("comparisons", flow(values["comparisons"]))
    if "figures" in values:
        out.append("figures:")
        for index, figure in enumerate(values["figures"]):
            out.append(f"  - {flow(figure)}{comment(f'figures[{index}]')}")
    if "bootstrap" in values:
        line("bootstrap", flow(values["bootstrap"]))
    if "decision" in values:
        out.append("decision:")
        chosen = values["decision"]
        for key in ("baseline", "references"):
            if key in chosen:
                line(key, flow(chosen[key]), "  ", f"decision.{key}")
        if "rules" in chosen:
            out.append(f"  rules:{comment('decision.rules')}")
            for rule in chosen["rules"]:
                for position, (key, value) in enumerate(rule.items()):
                    out.append(f"{'    - ' if position == 0 else '      '}{key}: {flow(value)}")
    if "key_numbers" in values:
        out.append("key_numbers:")
        for index, number in enumerate(values["key_numbers"]):
            out.append(f"  - {flow(number)}{comment(f'key_numbers[{index}]')}")
    for text in fm.filled(line_at):
        out.append(f"# not in the spec, fill by hand if it matters: {clean(text)}")
    out.append("---")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Validating it


def _validated(fm: FrontMatter, path: str | None) -> None:
    """Take out what the spec refuses (each said in a note to fill by hand), until the draft
    loads as a spec and every expression in it evaluates over results shaped like a run's."""
    from engine.errors import ResearchError
    from engine.spec import load_spec

    for _ in range(64):
        text = fm.text()
        try:
            spec = load_spec("".join(document.split_lines(text)[1:-1]), path=path, first_line=2)
        except ResearchError as error:
            _refuse(fm, error.key or "", error.message)
            continue
        failed = _expression_problem(spec)
        if failed is None:
            return
        _refuse(fm, *failed)
    raise AssertionError(f"the adopted spec does not load after 64 refusals: {fm.filled()[-3:]}")


def _expression_problem(spec) -> tuple[str, str] | None:
    """The first expression of the draft that would fail once its trials have results."""
    from engine.errors import ResearchError
    from engine.render.decision import shape_context

    trials = spec.resolve_trials({})
    targets = {t.shown_name: list((t.config.get("data") or {}).get("targets") or []) for t in trials}
    context = shape_context(spec, targets)
    for key, expression in spec.expressions().items():
        try:
            expression.evaluate(context)
        except ResearchError as error:
            return key, error.message
    return None


#: The parts of a draft that can be taken out when the spec refuses them, by the key refused.
_CUT_LISTS = ("figures", "binned")  # region N is drawn from item N: cut the list there
_DROP_ITEMS = ("key_numbers",)


def _refuse(fm: FrontMatter, key: str, message: str) -> None:
    """Take out the part of the draft `key` names (a whole section when it names none)."""
    values = fm.spec
    found = re.match(r"(?P<top>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>[^\[]+))?", key)
    top = found["top"] if found else ""
    index = int(found["index"]) if found and found["index"] else None
    rest = found["rest"] if found else None
    if top not in values and top not in ("data", "model"):
        top = next(
            (t for t in ("key_numbers", "decision", "figures", "comparisons", "binned", "bootstrap") if t in values),
            "",
        )
        index = None
    if not top:
        raise AssertionError(f"the adopted spec does not load: {key}: {message}")
    fm.to_fill.append(Unread(f"{key or top} refused by the spec: {message}"))
    if top in _CUT_LISTS and index is not None:
        values[top] = values[top][:index]
        if not values[top]:
            del values[top]
    elif top in _DROP_ITEMS and index is not None:
        del values[top][index]
        _renumber(fm.notes, top, index)
        if not values[top]:
            del values[top]
    elif top == "data" and rest in values["data"] and rest not in ("source", "targets"):
        del values["data"][rest]
    elif top == "model":
        param = (rest or "").split(".")[0]
        if param and param != "type" and param in values["model"]:
            del values["model"][param]
        else:
            values["model"] = {"type": "ridge"}
            fm.notes["model"] = default("the runnable default: the report's model was refused")
    elif top == "trials" and rest and rest.split(".")[0] in values["trials"] and len(values["trials"]) > 1:
        del values["trials"][rest.split(".")[0]]
    elif top == "decision" and (rest or "").startswith("rules"):
        values["decision"].pop("rules", None)
    elif top == "metrics":
        target = values["data"]["targets"][0]
        values["metrics"] = [f"r2.{target}", f"mae.{target}"]
        fm.notes["metrics"] = default("the first is the primary metric")
    elif top in ("id", "title", "status", "answers"):
        raise AssertionError(f"the adopted spec does not load: {key}: {message}")
    else:
        del values[top]


def _renumber(notes: dict[str, Note], section: str, removed: int) -> None:
    """The notes of a list's items after one was taken out, moved up by one."""
    moved = {}
    for key in list(notes):
        found = re.match(rf"{section}\[(\d+)\](.*)", key)
        if found and int(found.group(1)) >= removed:
            note = notes.pop(key)
            if int(found.group(1)) > removed:
                moved[f"{section}[{int(found.group(1)) - 1}]{found.group(2)}"] = note
    notes.update(moved)


def _check_round_trip(front: str, values: dict) -> None:
    """The draft must load back as exactly the values it was rendered from (a bug otherwise)."""
    import yaml

    loaded = yaml.safe_load("".join(document.split_lines(front)[1:-1]))
    if loaded != values:
        raise AssertionError(f"front matter does not round-trip: {loaded!r} != {values!r}")
