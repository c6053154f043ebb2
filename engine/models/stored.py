"""`model: {from: cand}`: the fitted model a stored trial kept, scored again without training.

    trials:
      noise-1: {noise.level: 1.0}
      noise-2: {noise.level: 2.0, model: {from: noise-1}}         # the same model at another noise level
      other:   {model: {from: "../other/exp_x.md#cand"}}            # a trial of another report

`fit` loads the model from the source trial's record folder (`Workspace.sources["from"]`, handed
over by `engine.run.trial.run_trial`) and trains nothing; `predict`, `extras` and `info` are the
loaded model's. Its targets must be the trial's. The trial keeps the same model file as its
source (byte for byte), so a stored model read from a stored model is still the original.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import Log, Model, TrainConfig, quiet, resolve_device, train_config
from .configs import StoredConfig


class StoredModel(Model):
    type = "stored"
    Config = StoredConfig

    inner: Any = None
    stored_file: Path | None = None  # the source's model file, kept again as this trial's

    @classmethod
    def from_spec(
        cls, model: Mapping[str, Any], train: Mapping[str, Any] | TrainConfig, targets: Sequence[str]
    ) -> "StoredModel":
        from . import validate

        return cls(validate({**model, "type": cls.type}), train_config(train), targets)

    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        from engine.notebook.store import model_file

        from . import load_stored

        folder = self.workspace.source("from")
        self.inner = load_stored(folder)
        self.stored_file = model_file(folder)
        inner_targets = tuple(getattr(self.inner, "targets", self.targets))
        if inner_targets != self.targets:
            raise ValueError(
                f"the stored model of '{self.config.source}' predicts {list(inner_targets)}, "
                f"this trial {list(self.targets)}"
            )
        net = getattr(self.inner, "net", None)
        if net is not None and hasattr(net, "to"):  # a net runs on this trial's device, not its source's
            net.to(resolve_device(self.train.device))
        kind = getattr(self.inner, "type", "") or type(self.inner).__name__
        self._info = {"from": self.config.source, "source_key": folder.name, "model": kind}
        log(f"stored model: the {kind} of '{self.config.source}' ({folder.name}), not retrained")

    def predict(self, split) -> np.ndarray:
        return np.asarray(self.inner.predict(split), dtype=np.float64)

    def extras(self) -> dict[str, np.ndarray]:
        extras = getattr(self.inner, "extras", None)
        return extras() if callable(extras) else {}

    def info(self) -> dict[str, Any]:
        inner = self.inner.info() if callable(getattr(self.inner, "info", None)) else {}
        return {**self._info, "source_info": dict(inner)}

    def save(self, path: str | Path) -> None:
        """The source's model file, as it is (a stored trial's model is its source's)."""
        import shutil

        if self.stored_file is None:
            raise ValueError("a stored model is saved only after fit() loaded it")
        shutil.copyfile(self.stored_file, path)
