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
from typing import Any


def _g(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def model_notes(model: str, info: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(notes, warnings) for one trial's model `info`."""
    notes: list[str] = []
    warnings: list[str] = []
    if not info:
        return notes, warnings
    if model == "ridge" and info.get("alpha"):
        how = info.get("alpha_selection")
        chosen = ", ".join(f"{t} {_g(a)}" for t, a in info["alpha"].items())
        notes.append(
            f"α = {chosen}"
            + (f" (chosen by {how} from {len(info.get('alphas') or [])})" if how and how != "fixed" else " (fixed)")
        )
        path = info.get("alphas") or []
        if len(path) > 1:
            edge = [t for t, a in info["alpha"].items() if a in (path[0], path[-1])]
            if edge:
                warnings.append(
                    f"α of {', '.join(edge)} is at the end of the path [{_g(path[0])} … {_g(path[-1])}]: "
                    "the best α may lie beyond it; widen `alphas`"
                )
    if model == "moe" and "best_epoch" in info:  # a regression gate: full-batch Adam steps
        if info.get("gate_validation"):
            line = f"gate: best step {info['best_epoch']} of {info.get('epochs_run')} full-batch Adam steps"
            line += " (stopped early)" if info.get("stopped_early") else ""
            notes.append(f"{line}, on {info['gate_validation']}")
        else:
            notes.append(f"gate: {info.get('epochs_run')} full-batch Adam steps (no early stopping)")
    elif "best_epoch" in info:
        line = f"best epoch {info['best_epoch']} of {info.get('epochs_run')}"
        if info.get("stopped_early"):
            line += " (stopped early)"
        notes.append(line)
    if model == "moe" and info.get("experts_source"):
        fits = info.get("expert_fits")
        notes.append(f"experts {info['experts_source']}" + (f" ({fits} ridge fits in this trial)" if fits else ""))
    if model == "stored" and info.get("from"):
        notes.append(f"the stored {info.get('model') or 'model'} of {info['from']}, not retrained")
    if model == "probe" and info.get("of"):
        notes.append(
            f"probe: {info.get('head')} on {info.get('n_features')} features at {info.get('layer')} "
            f"of the {info.get('net')} of {info['of']}"
        )
    if "best_iteration" in info:
        notes.append("rounds: " + ", ".join(f"{t} {n}" for t, n in info["best_iteration"].items()))
    if model == "moe" and "trained_bins" in info:
        counts = info.get("rows_per_bin") or []
        trained = list(info["trained_bins"])
        notes.append(f"{len(trained)} of {len(counts)} {info.get('experts')} experts trained; gate {info.get('gate')}")
        left = [k for k in range(len(counts)) if k not in trained]
        if left:
            detail = ", ".join(f"bin {k} ({counts[k]} spectra)" for k in left)
            warnings.append(
                f"{len(left)} of {len(counts)} experts not trained — {detail} had too few training spectra "
                "and route to the nearest expert"
            )
    if "r2_ceiling" in info:
        derived = info.get("method") == "data"
        from engine.render.templates import fmt_metric

        values = ", ".join(f"{t} {fmt_metric(f'r2.{t}', v)}" for t, v in info["r2_ceiling"].items())
        if not derived:
            notes.append("exact ceiling R² " + values)
        else:
            fit = info.get("data_ceiling") or {}
            notes.append(
                f"ceiling R² {values}, from the data (derivatives of the noiseless fluxes fitted over "
                f"{fit.get('neighbours', '?')} neighbours in {', '.join(fit.get('parameters') or []) or '?'})"
            )
            chi2 = fit.get("fit_chi2")
            if chi2 is not None and chi2 > 1:
                warnings.append(
                    f"the local fits of the ceiling leave χ² {chi2:.3g} per pixel (≲ 0.3 when the file lists every "
                    "parameter that changes the flux): a parameter missing from the file makes the ceiling too high"
                )
    return notes, warnings
