"""The digest's performance matrices: one per noise level, rows of method × input × N_train × test set.

The user compares methods at one noise level at a time, with what each reads (its input) as a
column, so a 126-feature model and a 4096-pixel one sit side by side. N_train and the test set
are columns too: rows of different sizes are the comparison the user wants to see, and the test
set says which numbers rank together — only values on the same test set are held against each
other for the best (bold), and a ceiling or a reference is never the best.

Each row is the best trial of its (method, input, N_train, test set) by the matrix's lead metric
(the primary metric most of its experiments share); its cells are that trial's values of every
primary metric there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.models.configs import MOE_DEFAULT_FEATURES
from engine.notebook.record import shown_trials, test_condition
from engine.notebook.report import Report
from engine.notebook.store import RunStore
from engine.render.decision import CEILING_MODEL, badness
from engine.render.repeats import seeds_of
from engine.render.templates import fmt_metric


def input_words(inputs, w: Mapping[str, str]) -> str:
    """A trial's `inputs:` in words for a table cell (`flux top-256 + quality`, `latent of cnn
    (backbone.convs.5, pool 8)`): the spec's own mapping syntax reads as noise in a matrix."""
    out = []
    for part in inputs.parts:
        if part.kind == "labels":
            out.append(w["in_labels"].format(names=", ".join(part.labels)))
            continue
        if part.kind == "latent":
            where = [str(part.layer)] if part.layer is not None else []
            where += [w["in_pool"].format(pool=part.pool)] if part.pool is not None else []
            out.append(w["in_latent"].format(source=part.of) + (f" ({', '.join(where)})" if where else ""))
            continue
        words = w["in_top_k"].format(kind=part.kind, k=part.top_k) if part.top_k else part.kind
        words += w["in_by"].format(label=part.by) if part.by else ""
        if part.wave:
            words += " " + ", ".join(f"{lo:g}–{hi:g} Å" for lo, hi in part.wave)
        out.append(words)
    return " + ".join(out)


def trial_input(config: Mapping[str, Any], conditions: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """What a trial's model reads, as far as its config says: the flux (all of its pixels, with the
    matrix's noise) unless the model reads something else — a LightGBM's binned or PCA features,
    a MoE gate's features (the experts read the flux), a probe's embeddings of its source net, a
    Fisher ceiling's derivatives. A trial's own `inputs:` is read first: this is the one place
    that says what a trial sees."""
    model = _model(config)
    kind = str(model.get("type") or "")
    pixels = conditions.get("n_pixels")
    if config.get("inputs") not in (None, "flux"):  # the trial chose what its model sees (`inputs:`)
        from engine.data.inputs import Inputs

        columns = pixels or "?"  # a run records the input's width as its n_pixels
        return w["in_inputs"].format(inputs=input_words(Inputs.model_validate(config["inputs"]), w), columns=columns)
    flux = w["in_flux"].format(pixels=pixels) if pixels else w["in_flux_bare"]
    if kind == CEILING_MODEL:
        return w["in_ceiling"]
    if kind == "probe":
        layer = model.get("layer")
        return w["in_probe"].format(source=model.get("of"), layer=layer if layer is not None else w["in_backbone"])
    if kind == "stored":
        return w["in_stored"].format(flux=flux, source=model.get("from"))
    if kind == "lightgbm":
        features = str(model.get("features") or "pixels")
        way, _, k = features.partition(":")
        if way == "binned":
            count = -(-int(pixels) // int(k)) if pixels and k.isdigit() and int(k) > 0 else "?"
            return w["in_binned"].format(k=k, features=count)
        if way == "pca":
            return w["in_pca"].format(k=k)
        return flux
    if kind == "moe":
        gate = str(model.get("gate") or "oracle")
        features = str(model.get("features") or MOE_DEFAULT_FEATURES.get(gate) or "")
        if not features:
            return w["in_oracle"].format(flux=flux)
        return w["in_gate"].format(flux=flux, features=w.get(f"features_{features}", str(features)))
    return flux


def _model(config: Mapping[str, Any]) -> Mapping[str, Any]:
    model = config.get("model")
    return model if isinstance(model, Mapping) else {}


def method_of(model: str, config: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """The method a row names: the model type, and for a MoE its gate, for a probe its head —
    the choice such a report compares; other parameters (α, widths) are the trial's tuning."""
    params = _model(config)
    if model == "moe" and params.get("gate"):
        return w["gate"].format(model=model, gate=params["gate"])
    if model == "probe" and params.get("head"):
        return w["head"].format(model=model, head=params["head"])
    return model


def matrices(
    reports: Sequence[Report], store: RunStore, w: Mapping[str, str], link: Callable[[Path], str]
) -> list[dict[str, Any]]:
    """One matrix per noise level (lowest first): its metric columns and rows, best in bold."""
    by_noise: dict[float, list[dict[str, Any]]] = {}
    for report in reports:
        rec = report.record or {}
        primary = rec.get("primary")
        if not primary:
            continue
        configs = trial_configs(report, store)
        references = set(rec.get("references") or [])
        for trial in shown_trials(rec):
            metrics = trial.get("metrics") or {}
            if metrics.get(primary) is None:
                continue
            conditions = trial.get("conditions") or {}
            model = str(trial.get("model"))
            config = configs.get(str(trial.get("name"))) or {"model": {"type": model}}
            method = method_of(model, config, w)
            ceiling, reference = model == CEILING_MODEL, trial.get("name") in references
            if ceiling:
                method = w["ceiling"].format(method=method)
            elif reference:
                method = w["reference"].format(method=method)
            noise = conditions.get("noise", trial.get("noise"))
            n_train, source = conditions.get("n_train"), conditions.get("source")
            by_noise.setdefault(float(noise or 0.0), []).append(
                {
                    "method": method,
                    "input": trial_input(config, conditions, w),
                    "n_train": (f"{n_train} · {source}" if conditions.get("test_source") else str(n_train))
                    if n_train
                    else "-",
                    "test": _test(conditions, w),
                    "metrics": metrics,
                    "primary": primary,
                    "yardstick": ceiling or reference,
                    "remark": " · ".join(
                        p
                        for p in (str(trial.get("name")), f"[{report.id}]({link(report.path)})", seeds_of([trial]))
                        if p
                    ),
                }
            )
    return [_matrix(noise, rows, w) for noise, rows in sorted(by_noise.items())]


def _test(conditions: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """The test set in words; its noise only when it is not the training noise (the matrix's)."""
    if not conditions:
        return w["not_recorded"]
    other_noise = conditions.get("test_noise", conditions.get("noise")) != conditions.get("noise")
    return test_condition({**conditions, "n_pixels": None}, noise=other_noise)


def _matrix(noise: float, candidates: list[dict[str, Any]], w: Mapping[str, str]) -> dict[str, Any]:
    counts = Counter(c["primary"] for c in candidates)
    columns = sorted(counts, key=lambda m: (-counts[m], m))
    lead = columns[0]

    def rank(c: Mapping[str, Any]) -> tuple[int, float]:
        if c["metrics"].get(lead) is not None:
            return 0, badness(lead, c["metrics"][lead])
        return 1, badness(c["primary"], c["metrics"][c["primary"]])

    best: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for c in candidates:
        key = (c["method"], c["input"], c["n_train"], c["test"])
        if key not in best or rank(c) < rank(best[key]):
            best[key] = c
    rows = sorted(best.values(), key=lambda c: (c["yardstick"], c["test"], rank(c), c["method"]))
    bold = set()
    for metric in columns:
        for test in {r["test"] for r in rows}:
            scored = [
                (badness(metric, r["metrics"][metric]), i)
                for i, r in enumerate(rows)
                if r["test"] == test and not r["yardstick"] and r["metrics"].get(metric) is not None
            ]
            if len(scored) > 1:
                bold.add((min(scored)[1], metric))
    shown = []
    for i, r in enumerate(rows):
        cells = []
        for metric in columns:
            value = r["metrics"].get(metric)
            text = fmt_metric(metric, value) if value is not None else "-"
            cells.append(f"**{text}**" if (i, metric) in bold else text)
        shown.append({**{k: r[k] for k in ("method", "input", "n_train", "test", "remark")}, "cells": cells})
    head = "".join(f" {metric} |" for metric in columns)
    return {"noise": f"{noise:g}", "columns": columns, "head": head, "rows": shown}


def trial_configs(report: Report, store: RunStore) -> dict[str, dict[str, Any]]:
    """Each shown trial's resolved config: the run store's record of the key the run record names
    (a repeated trial's first seed that has one), else the report's spec resolved with the
    record's --set and --sweep options (a fresh clone has no run store); absent when neither
    can say — a spec that no longer validates."""
    rec = report.record or {}
    rows = rec.get("trials") or []
    resolved: dict[str, Any] | None = None
    out: dict[str, dict[str, Any]] = {}
    for trial in shown_trials(rec):
        name = str(trial.get("name"))
        runs = [trial, *(r for r in rows if r.get("of") == name)]
        config = next((c for r in runs if (c := store.config_of(r.get("parts"))) is not None), None)
        if config is None:
            if resolved is None:
                resolved = report.resolved_configs()
            config = next((resolved[str(r.get("name"))] for r in runs if str(r.get("name")) in resolved), None)
        if config is not None:
            out[name] = config
    return out
