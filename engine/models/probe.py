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
positions and flattened; a transformer's tokens (rows, tokens, width) are averaged.

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

from .base import Log, Model, quiet, resolve_device
from .configs import MLPConfig, ProbeConfig, RidgeConfig

EMBED_ROWS = 1024


class Probe(Model):
    type = "probe"
    Config = ProbeConfig

    net_model: Any = None  # the stored NetModel (frozen)
    head: Any = None  # Ridge, MLPModel or LightGBM on the embeddings
    layer_name: str | None = None  # the resolved module name; None: the backbone's output

    # -- the embeddings ------------------------------------------------------------------------
    def _module(self):
        net = self.net_model.net
        layer = self.config.layer
        if layer is None:
            return "backbone", net.backbone
        modules = dict(net.named_modules())
        if isinstance(layer, int):
            leaves = layer_names(net)
            if not -len(leaves) <= layer < len(leaves):
                raise ValueError(
                    f"layer {layer}: the {self.net_model.type}'s backbone has {len(leaves)} layers "
                    f"(0 … {len(leaves) - 1}): {', '.join(leaves)}"
                )
            name = leaves[layer]
            return name, modules[name]
        for name in (layer, f"backbone.{layer}"):
            if name in modules and name.split(".")[0] == "backbone":
                return name, modules[name]  # "backbone" itself too
        raise ValueError(f"the {self.net_model.type} has no layer '{layer}'; its layers: {', '.join(layer_names(net))}")

    def embed(self, split) -> np.ndarray:
        """(rows, features) float32 embeddings of a split at the probed layer."""
        import torch
        from torch.nn import functional as F

        from .trainer import _to_device

        net = self.net_model.net
        net.eval()
        device = next(net.parameters()).device
        _, module = self._module()
        caught: list[torch.Tensor] = []
        handle = module.register_forward_hook(
            lambda _m, _i, out: caught.append(out[0] if isinstance(out, tuple) else out)
        )
        parts = []
        try:
            with torch.no_grad():
                for block in split.blocks():
                    x = _to_device(block.x, device)
                    for start in range(0, len(x), EMBED_ROWS):
                        caught.clear()
                        net(x[start : start + EMBED_ROWS])
                        h = caught[-1].float()
                        if h.dim() == 3 and self.net_model.type == "vit":  # (rows, tokens, width)
                            h = h.mean(dim=1)
                        elif h.dim() == 3:  # (rows, channels, positions)
                            h = F.adaptive_avg_pool1d(h, min(self.config.pool, h.shape[2]))
                        parts.append(h.reshape(len(h), -1).cpu().numpy())
        finally:
            handle.remove()
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 0), np.float32)

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
        from . import load_stored
        from .trainer import NetModel

        self._check_split(train)
        folder = self.workspace.source("of")
        self.net_model = load_stored(folder)
        if not isinstance(self.net_model, NetModel):
            raise ValueError(
                f"a probe reads a stored mlp, cnn or vit; '{self.config.of}' is a "
                f"{getattr(self.net_model, 'type', type(self.net_model).__name__)}"
            )
        self.net_model.net.to(resolve_device(self.train.device))
        for p in self.net_model.net.parameters():
            p.requires_grad_(False)
        self.layer_name = self._module()[0]
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


def layer_names(net) -> list[str]:
    """The backbone's leaf modules, in order, by their names in the whole net (`backbone.…`)."""
    return [f"backbone.{name}" for name, module in net.backbone.named_modules() if name and not list(module.children())]


def _backbone(net_type: str, params: dict[str, Any]):
    """The backbone of a `net_type` net with these parameters, untrained, on a small grid (its
    module names do not depend on the grid's size)."""
    from . import resolve
    from .base import config_from

    target = resolve(net_type)
    config = config_from(target.Config, {k: v for k, v in params.items() if k != "type"}, f"the '{net_type}' model")
    return target.Backbone(config, 256, None)


def check_layer(net_type: str, params: dict[str, Any], layer: Any) -> None:
    """A `SpecError` (model.layer) when a probe's layer is not one of the net's (builds the
    backbone with torch, no data), so a typo is caught before anything trains."""
    from engine.errors import SpecError, did_you_mean

    if layer is None:
        return
    backbone = _backbone(net_type, params)
    leaves = [f"backbone.{n}" for n, m in backbone.named_modules() if n and not list(m.children())]
    if isinstance(layer, int) and not isinstance(layer, bool):
        if not -len(leaves) <= layer < len(leaves):
            raise SpecError(
                f"the {net_type} has {len(leaves)} layers (0 … {len(leaves) - 1}, or -1 for the last)",
                key="model.layer",
                hint=f"its layers: {', '.join(leaves)}",
            )
        return
    names = ["backbone"] + [f"backbone.{n}" for n, _ in backbone.named_modules() if n]
    if str(layer) in names or f"backbone.{layer}" in names:
        return
    hint = did_you_mean(str(layer), names) or did_you_mean(f"backbone.{layer}", names)
    shown = ", ".join(names[:40]) + (" …" if len(names) > 40 else "")
    raise SpecError(
        f"the {net_type} has no layer '{layer}'",
        key="model.layer",
        hint=(hint + "; " if hint else "") + f"its modules: {shown}",
    )
