"""What a model chose, in words: notes under the results table, and warnings for what it left out.

A trial's result is more than its metrics: Ridge picks an α per target, a net stops at its best
epoch, LightGBM at its best round, a mixture of experts trains only the bins with enough spectra.
Each model's `info()` says so (it is stored with the trial, and rules read it as
`trials.<name>.info.alpha.log_g`); here it becomes one line per trial, and anything the model
did quietly that changes what the numbers mean — an expert not trained, an α at the end of its
path — becomes a ⚠ warning in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any


def _g(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def model_notes(model: str, info: Mapping[str, Any], say: ModuleType | None = None) -> tuple[list[str], list[str]]:
    """(notes, warnings) for one trial's model `info`, in the words of `say` (a region phrasebook,
    English by default)."""
    from engine.render.phrasebook import regions

    say = say or regions("en")
    notes: list[str] = []
    warnings: list[str] = []
    if not info:
        return notes, warnings
    if model == "ridge" and info.get("alpha"):
        how = info.get("alpha_selection")
        chosen = [(str(t), _g(a)) for t, a in info["alpha"].items()]
        notes.append(say.alpha_chosen(chosen, how if how and how != "fixed" else None, len(info.get("alphas") or [])))
        path = info.get("alphas") or []
        if len(path) > 1:
            edge = [t for t, a in info["alpha"].items() if a in (path[0], path[-1])]
            if edge:
                warnings.append(say.alpha_at_end(edge, _g(path[0]), _g(path[-1])))
    if model == "moe" and "best_epoch" in info:  # a regression gate: full-batch Adam steps
        if info.get("gate_validation"):
            notes.append(
                say.gate_steps(
                    info["best_epoch"], info.get("epochs_run"), bool(info.get("stopped_early")), info["gate_validation"]
                )
            )
        else:
            notes.append(say.gate_steps_all(info.get("epochs_run")))
    elif "best_epoch" in info:
        notes.append(say.best_epoch(info["best_epoch"], info.get("epochs_run"), bool(info.get("stopped_early"))))
    if model == "moe" and info.get("experts_source"):
        notes.append(say.experts_from(info["experts_source"], info.get("expert_fits")))
    if model == "stored" and info.get("from"):
        notes.append(say.stored(info.get("model"), info["from"]))
    if model == "probe" and info.get("of"):
        notes.append(
            say.probe(info.get("head"), info.get("n_features"), info.get("layer"), info.get("net"), info["of"])
        )
    if "best_iteration" in info:
        notes.append(say.rounds([(str(t), str(n)) for t, n in info["best_iteration"].items()]))
    if model == "moe" and "trained_bins" in info:
        counts = info.get("rows_per_bin") or []
        trained = list(info["trained_bins"])
        notes.append(say.experts_trained(len(trained), len(counts), info.get("experts"), info.get("gate")))
        left = [k for k in range(len(counts)) if k not in trained]
        if left:
            warnings.append(say.experts_untrained([(k, counts[k]) for k in left], len(counts)))
    if "r2_ceiling" in info:
        derived = info.get("method") == "data"
        from engine.render.templates import fmt_metric

        values = [(str(t), fmt_metric(f"r2.{t}", v)) for t, v in info["r2_ceiling"].items()]
        if not derived:
            notes.append(say.exact_ceiling(values))
        else:
            fit = info.get("data_ceiling") or {}
            notes.append(say.data_ceiling(values, fit.get("neighbours", "?"), list(fit.get("parameters") or [])))
            chi2 = fit.get("fit_chi2")
            if chi2 is not None and chi2 > 1:
                warnings.append(say.ceiling_fit(f"{chi2:.3g}"))
    return notes, warnings
