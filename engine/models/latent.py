"""A stored net's latent: its embeddings at one layer, the one definition both readers of it
share — a probe's head (`engine.models.probe`) and a `latent` input block of any feature model
(`engine.data.inputs`), so the two see the very same numbers for the same net, layer and pool.

The net is used frozen, as it was stored: it is fed the noisy flux (the split's noise already
applied) and standardises it itself. `layer` names a module of the net (`backbone.convs.5`; the
`backbone.` prefix may be left out), an index into the backbone's leaf modules (negative from
the end), or none: the backbone's output. A convolutional feature map (rows, channels,
positions) is averaged down to `pool` positions and flattened; a transformer's tokens (rows,
tokens, width) are averaged, so the width does not depend on the number of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import resolve_device
from .configs import LATENT_POOL, NETS

#: rows per forward pass: bounded memory on any device, and the same batches for every reader
EMBED_ROWS = 1024


class Latent:
    """One layer of one stored net, frozen: what turns noisy flux into embeddings."""

    def __init__(self, net_model: Any, layer: int | str | None = None, pool: int | None = None) -> None:
        self.net_model = net_model
        self.layer = layer
        self.pool = LATENT_POOL if pool is None else int(pool)
        self.layer_name, self._module = resolve_layer(net_model, layer)

    @classmethod
    def load(cls, folder: str | Path, ref: str, layer: int | str | None, pool: int | None, device: str) -> "Latent":
        """The net a stored trial kept (its record folder), on `device`, its weights frozen. `ref`
        is the trial as the spec names it, for the message when it holds no net."""
        from . import load_stored
        from .trainer import NetModel

        net_model = load_stored(folder)
        if not isinstance(net_model, NetModel):
            raise ValueError(
                f"a latent is read off a stored {', '.join(NETS[:-1])} or {NETS[-1]}; '{ref}' is a "
                f"{getattr(net_model, 'type', type(net_model).__name__)}"
            )
        net_model.net.to(resolve_device(device))
        for p in net_model.net.parameters():
            p.requires_grad_(False)
        return cls(net_model, layer, pool)

    @property
    def net_type(self) -> str:
        return str(self.net_model.type)

    def width(self, n_pixels: int) -> int:
        """The embedding's width for spectra of `n_pixels` (one forward pass of a zero row: the
        width follows from the shapes alone)."""
        return int(self.rows(np.zeros((1, n_pixels), np.float32)).shape[1])

    def rows(self, x: np.ndarray) -> np.ndarray:
        """(rows, width) float32 embeddings of a block of noisy flux (rows, pixels)."""
        import torch
        from torch.nn import functional as F

        from .trainer import _to_device

        net = self.net_model.net
        net.eval()
        device = next(net.parameters()).device
        caught: list[torch.Tensor] = []
        handle = self._module.register_forward_hook(
            lambda _m, _i, out: caught.append(out[0] if isinstance(out, tuple) else out)
        )
        parts = []
        try:
            with torch.no_grad():
                tensor = _to_device(np.ascontiguousarray(x, dtype=np.float32), device)
                for start in range(0, len(tensor), EMBED_ROWS):
                    caught.clear()
                    net(tensor[start : start + EMBED_ROWS])
                    h = caught[-1].float()
                    if h.dim() == 3 and self.net_type == "vit":  # (rows, tokens, width)
                        h = h.mean(dim=1)
                    elif h.dim() == 3:  # (rows, channels, positions)
                        h = F.adaptive_avg_pool1d(h, min(self.pool, h.shape[2]))
                    parts.append(h.reshape(len(h), -1).cpu().numpy())
        finally:
            handle.remove()
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 0), np.float32)

    def embed(self, split) -> np.ndarray:
        """(rows, width) float32 embeddings of a split (of the noisy flux it yields)."""
        parts = [self.rows(block.x) for block in split.blocks()]
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def resolve_layer(net_model: Any, layer: int | str | None) -> tuple[str, Any]:
    """(the module's full name, the module) a `layer` names; "backbone" for none."""
    net = net_model.net
    if layer is None:
        return "backbone", net.backbone
    modules = dict(net.named_modules())
    if isinstance(layer, int):
        leaves = layer_names(net)
        if not -len(leaves) <= layer < len(leaves):
            raise ValueError(
                f"layer {layer}: the {net_model.type}'s backbone has {len(leaves)} layers "
                f"(0 … {len(leaves) - 1}): {', '.join(leaves)}"
            )
        name = leaves[layer]
        return name, modules[name]
    for name in (layer, f"backbone.{layer}"):
        if name in modules and name.split(".")[0] == "backbone":
            return name, modules[name]  # "backbone" itself too
    raise ValueError(f"the {net_model.type} has no layer '{layer}'; its layers: {', '.join(layer_names(net))}")


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


def check_layer(net_type: str, params: dict[str, Any], layer: Any, *, key: str = "model.layer") -> None:
    """A `SpecError` (at `key`) when a layer is not one of the net's (builds the backbone with
    torch, no data), so a typo is caught before anything trains."""
    from engine.errors import SpecError, did_you_mean

    if layer is None:
        return
    backbone = _backbone(net_type, params)
    leaves = [f"backbone.{n}" for n, m in backbone.named_modules() if n and not list(m.children())]
    if isinstance(layer, int) and not isinstance(layer, bool):
        if not -len(leaves) <= layer < len(leaves):
            raise SpecError(
                f"the {net_type} has {len(leaves)} layers (0 … {len(leaves) - 1}, or -1 for the last)",
                key=key,
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
        key=key,
        hint=(hint + "; " if hint else "") + f"its modules: {shown}",
    )
