"""Run one trial: data → model → predictions → metrics. No documents, no printing; the run store
only as the folder where shared artifacts and the stored trials a model reads are found.

This is the unit an executor ships (locally, or to a Ray worker): its inputs are a JSON-able
config and paths, its output a JSON-able result plus the prediction arrays and the fitted model,
both as the live object (`model`, local only) and as the bytes of its file (`model_file`, what
the run store keeps as `model.npz` beside the record; picklable, so a Ray worker sends it back).

`store_dir` (the run store's folder) is where the model may keep and find artifacts shared
between trials (a mixture's experts); `uses` maps a model parameter that names another trial
(`from`, `of`, `experts_from`), or a latent input (`inputs.latent`), to that trial's key, whose
record folder the model (or the input matrix) reads.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.spec import METRICS

PARAM_COLUMNS = ("T_eff", "log_g", "Fe_H", "mag", "snr")


@dataclass
class TrialResult:
    metrics: dict[str, dict[str, float]]
    info: dict[str, Any]
    predictions: dict[str, Any]
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    model: Any = None  # the fitted model (None once shipped back from a worker)
    model_file: tuple[str, bytes] | None = None  # (store.MODEL or store.PLUGIN_MODEL, its bytes); None: not kept


def run_trial(
    config: Mapping[str, Any],
    *,
    base_dir: Path,
    cache_dir: Path,
    store_dir: Path | None = None,
    uses: Mapping[str, str] | None = None,
    device: str | None = None,
    log: Callable[[str], None] | None = None,
    progress=None,
    checked: Any = None,
    model_config: Any = None,
) -> TrialResult:
    """Train the trial's model on its train split and score it on its test split (a model that
    comes from a stored trial, `from:`, is loaded instead of trained).

    `checked` (the trial's typed sections, `engine.spec.Trial`) and `model_config` (its model's
    config, `engine.models.validate`) are what validation made of `config` before anything ran:
    a run hands them on, so the worker reads no dict again. Called with `config` alone (Python,
    a bench), the dict is validated here, once."""
    import numpy as np

    from engine.data.load import make_splits
    from engine.models import Model, Workspace, build
    from engine.notebook.store import RunStore, engine_code_hash
    from engine.spec import TrialConfig

    lines: list[str] = []

    def say(message: str) -> None:
        lines.append(message)
        if log is not None:
            log(message)

    started = time.perf_counter()
    trial = checked if checked is not None else TrialConfig.model_validate(dict(config))
    splits = make_splits(
        trial.data,
        trial.noise,
        base_dir=base_dir,
        cache_dir=cache_dir,
        val_frac=trial.train.val_frac,
        say=say,
        progress=progress,
    )
    train = trial.train.model_copy(update={"device": device}) if device else trial.train
    targets = list(trial.data.targets)
    store = RunStore(store_dir) if store_dir is not None else None
    sources = {name: store.path(key) for name, key in (uses or {}).items()} if store is not None else {}
    splits = splits.seeing(trial.inputs, targets, sources=sources, device=train.device)
    if splits.train.inputs is not None:
        say(f"inputs: {trial.inputs.describe()} ({splits.train.n_pixels} columns)")
        for read in splits.train.inputs.info().get("latent", []):
            say(
                f"latent: {read['width']} features at {read['layer']} of the {read['net']} of '{read['of']}' ({read['source_key']})"
            )
    model = build(dict(config["model"]), train, targets, config=model_config)
    if isinstance(model, Model) or hasattr(model, "workspace"):
        model.workspace = Workspace(
            artifacts=Path(store_dir) if store_dir is not None else None, sources=sources, code=engine_code_hash()
        )
    say(
        f"train {len(splits.train)} · val {len(splits.val) if splits.val is not None else 0} · test {len(splits.test)} spectra"
    )
    model.fit(splits.train, splits.val, log=say, progress=progress)
    primary = trial.data.primary
    scored: dict[str | None, Any] = (
        {name: split for name, split in splits.tests.items()} if splits.tests else {None: splits.test}
    )
    say(f"scoring {sum(len(split) for split in scored.values()):,} test spectra")
    scores: dict[str, dict[str, float]] = {}
    predictions: dict[str, Any] = {}
    for name, split in sorted(scored.items(), key=lambda item: item[0] == primary):  # the primary last: info() is its
        got, arrays = score_split(model, split, targets)
        if name is not None:
            scores.update({f"{metric}@{name}": values for metric, values in got.items()})
        if name == primary:  # bare names: `r2`, `y_true`; the others' arrays under `@<name>:`
            scores.update(got)
            predictions.update(arrays)
        else:
            predictions.update({f"@{name}:{key}": values for key, values in arrays.items()})
        if name is not None:
            say(f"test {name}: {len(split)} spectra, " + ", ".join(f"r2.{t} {got['r2'][t]:.4g}" for t in targets))
    if splits.tests:
        predictions["primary_test"] = np.array(primary, dtype="S")
    info = dict(model.info()) if hasattr(model, "info") else {}
    info["split"] = {
        "n_train": len(splits.train),
        "n_val": len(splits.val) if splits.val is not None else 0,
        "n_test": len(splits.test),
        "n_pixels": int(splits.test.n_pixels),
    }  # the conditions the numbers hold under
    if splits.train.inputs is not None:
        info.update(splits.train.inputs.info())
    if splits.tests:
        info["split"]["tests"] = {name: len(split) for name, split in splits.tests.items()}
        info["split"]["primary_test"] = primary
    kept = model_bytes(model, say)
    seconds = time.perf_counter() - started
    say(f"done in {seconds:.1f} s: " + ", ".join(f"{m}.{t} {scores[m][t]:.4g}" for m in ("r2", "mae") for t in targets))
    return TrialResult(
        scores,
        info,
        predictions,
        lines,
        seconds,
        str(info.get("device", train.device)),
        model=model,
        model_file=kept,
    )


def score_split(model, split, targets) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """The model's metrics on one test split and the arrays the report reads back: truth,
    predictions, the parameter columns tables are binned by, the model's per-spectrum extras.
    A model's own scores (`scores()`: a Fisher ceiling's σ) join the metrics under their names."""
    import numpy as np

    from engine import metrics as metric_lib

    pred = np.asarray(model.predict(split), dtype=np.float64)
    truth = split.labels(targets).astype(np.float64)
    scores = metric_lib.evaluate(truth, pred, targets, [f"{m}.{t}" for m in METRICS for t in targets])
    own = getattr(model, "scores", None)
    if callable(own):
        for name, values in own().items():
            if name not in METRICS:
                scores[name] = {t: float(v) for t, v in values.items()}
    arrays: dict[str, Any] = {
        "index": split.index,
        "targets": np.array(targets, dtype="S"),
        "y_true": truth,
        "y_pred": pred,
    }
    columns = getattr(split.source, "columns", ())
    for name in PARAM_COLUMNS:
        if name in columns:
            arrays[f"param.{name}"] = split.param(name)
    extras = getattr(model, "extras", None)
    if callable(extras):  # per-spectrum values a model reports besides its predictions (gate entropy…)
        for name, values in extras().items():
            arrays[f"extra.{name}"] = np.asarray(values)
    return scores, arrays


def model_bytes(model: Any, say: Callable[[str], None] = lambda line: None) -> tuple[str, bytes] | None:
    """The fitted model as (file name, bytes) for the run store: a built-in model's checkpoint
    (`model.npz`), or what a plugin's own `save(path)` writes (`model.bin`); None for a plugin
    without `save` (it is simply not kept) or whose save failed (said in the log)."""
    import tempfile

    from engine.models import Model
    from engine.notebook.store import MODEL, PLUGIN_MODEL

    stored = getattr(model, "stored_file", None)
    if isinstance(stored, Path):  # `from:` a stored trial: its source's file, as it is
        return stored.name, stored.read_bytes()
    save = getattr(model, "save", None)
    if not callable(save):
        return None
    with tempfile.TemporaryDirectory(prefix="research-model-") as tmp:
        folder = Path(tmp)
        if isinstance(model, Model):
            model.save(folder / MODEL)
            return MODEL, (folder / MODEL).read_bytes()
        try:
            save(folder / "model")
        except Exception as error:  # the plugin's own code: the trial's numbers still count
            say(f"the model is not kept: its save() raised {type(error).__name__}: {error}")
            return None
        files = [p for p in folder.rglob("*") if p.is_file()]
        if len(files) != 1:
            say(f"the model is not kept: its save() wrote {len(files)} files, not one")
            return None
        return PLUGIN_MODEL, files[0].read_bytes()


def short_error(error: BaseException) -> str:
    """One line for the report's log: the exception and where in the engine or plugin it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}{where}"[:300]
