"""A latent probe: a ridge, a small MLP or LightGBM on the embeddings a stored net makes at one layer.

    trials:
      cnn:   {model: {type: cnn}}
      probe: {model: {type: probe, of: cnn, layer: backbone.convs.5, head: ridge}, data.targets: [T_eff]}
      trees: {model: {type: probe, of: cnn, head: lightgbm, lightgbm: {num_leaves: 15, n_estimators: 300}}}

What a net has learned about a quantity, read linearly off its hidden representation. The net
is the fitted model of a stored mlp / cnn / vit trial (`of`, a trial of this report or
`path/to/exp.md#trial`), used as it is (frozen); the head trains on its embeddings of this
trial's splits, for this trial's targets (they need not be the net's).

`layer`: a module name of the net (`backbone.layers.3`, `backbone.convs.5`, `backbone.blocks.1`;
the `backbone.` prefix may be left out), an index into the backbone's layers (its leaf modules
in order, negative from the end), or none: the backbone's output, the features the net's heads
read. A convolutional feature map (rows, channels, positions) is averaged down to `pool`
positions and flattened; a transformer's tokens (rows, tokens, width) are averaged. The
embeddings are `engine.models.latent`'s, the code a `latent` input block reads them with too, so
a ridge probe and a ridge on `inputs: {latent: …}` with the same layer and pool agree.

`head`: `ridge` (`alpha` / `alphas`), `mlp` (`hidden`, trained with the trial's `train:`) or
`lightgbm`: the LightGBM model itself, one booster per target, its parameters the `lightgbm:`
mapping (checked as a lightgbm model's), early stopping on the embeddings of the validation
split and seeded by `train.seed`, as that model is. What reads linearly (ridge) against what
reads at all (trees) says how the net lays a quantity out.

The checkpoint holds the whole predictor: the net and the head, each as its own checkpoint's
meta and arrays, so a stored probe reloads without the source trial (a LightGBM head's boosters
are their model strings as uint8 arrays, as a lightgbm trial keeps them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Log, Model, quiet
from .configs import MLPConfig, ProbeConfig, RidgeConfig
from .latent import Latent


class Probe(Model):
    type = "probe"
    Config = ProbeConfig

    net_model: Any = None  # the stored NetModel (frozen)
    head: Any = None  # Ridge, MLPModel or LightGBM on the embeddings
    layer_name: str | None = None  # the resolved module name; None: the backbone's output

    # -- the embeddings (`engine.models.latent`, as a `latent` input reads them) ----------------
    def _latent(self) -> Latent:
        return Latent(self.net_model, self.config.layer, self.config.pool)

    def embed(self, split) -> np.ndarray:
        """(rows, features) float32 embeddings of a split at the probed layer."""
        return self._latent().embed(split)

    def _embedded(self, split):
        """The split's embeddings as a split of its own (no noise: it was applied to the spectra)."""
        from engine.data.source import ArraySource
        from engine.data.split import Split

        z = self.embed(split)
        labels = split.labels(self.targets).astype(np.float64)
        source = ArraySource(z, np.zeros_like(z), {t: labels[:, j] for j, t in enumerate(self.targets)})
        return Split(source, np.arange(len(z)), self.targets, 0.0, name=split.name)

    # -- fit / predict -------------------------------------------------------------------------
    def fit(self, train, val=None, *, log: Log = quiet, progress=None) -> None:
        self._check_split(train)
        folder = self.workspace.source("of")
        latent = Latent.load(folder, self.config.of, self.config.layer, self.config.pool, self.train.device)
        self.net_model, self.layer_name = latent.net_model, latent.layer_name
        z_train = self._embedded(train)
        z_val = self._embedded(val) if val is not None and len(val) else None
        log(
            f"probe: {z_train.n_pixels} features at {self.layer_name} of the {self.net_model.type} of "
            f"'{self.config.of}' ({folder.name}); {self.config.head} head"
        )
        self.head = self._new_head()
        self.head.fit(z_train, z_val, log=log, progress=progress)
        head_info = self.head.info()
        self._info = {
            "of": self.config.of,
            "source_key": folder.name,
            "net": self.net_model.type,
            "layer": self.layer_name,
            "n_features": int(z_train.n_pixels),
            "head": self.config.head,
            **{
                k: head_info[k]
                for k in ("alpha", "alpha_selection", "best_epoch", "epochs_run", "stopped_early", "best_iteration")
                if k in head_info
            },
        }

    def _new_head(self) -> Model:
        """The head is the model of its kind, not a copy of one: its fit, predictions and
        checkpoint are that model's, so a probe's ridge or LightGBM is the same as a trial's."""
        cfg = self.config
        if cfg.head == "ridge":
            from .ridge import Ridge

            return Ridge(RidgeConfig(alpha=cfg.alpha, alphas=cfg.alphas), self.train, self.targets)
        if cfg.head == "lightgbm":
            from .lgbm import LightGBM

            return LightGBM(cfg.lightgbm_config, self.train, self.targets)
        from .mlp import MLPModel

        return MLPModel(MLPConfig(hidden=cfg.hidden), self.train, self.targets)

    def predict(self, split) -> np.ndarray:
        return self.head.predict(self._embedded(split))

    # -- checkpoint ----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"net": self.net_model._meta(), "head": self.head._meta(), "layer_name": self.layer_name}

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"net:{k}": v for k, v in self.net_model._arrays().items()}
        arrays.update({f"head:{k}": v for k, v in self.head._arrays().items()})
        return arrays

    def _restore(self, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from . import resolve

        def part(prefix: str, meta: dict[str, Any]):
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            return resolve(meta["type"]).from_parts(meta, own)

        self.net_model = part("net:", state["net"])
        self.head = part("head:", state["head"])
        self.layer_name = state.get("layer_name")
