"""A 1-D vision transformer: the spectrum cut into patches of adjacent pixels, one token each.

    model: {type: vit, patch: 64, dim: 128, depth: 4, heads: 4, pos: wave}

Patches (zero-padded at the red end to a whole number) are embedded linearly, get a position
encoding, and pass through `depth` pre-norm transformer blocks (nanoGPT's Block, without the
causal mask). The tokens are averaged (`pool: mean`) or a class token is read (`pool: cls`).

`pos`: `learned` (one vector per patch), `wave` (fixed sinusoids of each patch's position on a
log-wavelength axis, in pixels: a gap between detector arms shows up as a jump, unlike a plain
patch index) or `none`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .configs import ViTConfig
from .trainer import NetModel


class SelfAttention(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.heads, self.dropout = config.heads, config.dropout
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Block(nn.Module):
    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        hidden = int(config.mlp_ratio * config.dim)
        self.ln1, self.ln2 = nn.LayerNorm(config.dim), nn.LayerNorm(config.dim)
        self.attn = SelfAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.dim, hidden), nn.GELU(), nn.Linear(hidden, config.dim), nn.Dropout(config.dropout)
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    def __init__(self, config: ViTConfig, n_pixels: int, wave: np.ndarray | None = None) -> None:
        super().__init__()
        self.config = config
        self.n_patches = math.ceil(n_pixels / config.patch)
        self.pad = self.n_patches * config.patch - n_pixels
        self.embed = nn.Linear(config.patch, config.dim)
        if config.pos == "learned":
            self.pos: torch.Tensor | None = nn.Parameter(torch.zeros(self.n_patches, config.dim))
            nn.init.normal_(self.pos, std=0.02)
        elif config.pos == "wave":  # a buffer: saved in the checkpoint, so loading needs no wave grid
            self.register_buffer("pos", wave_encoding(wave, n_pixels, config.patch, config.dim))
        else:
            self.pos = None
        self.cls = nn.Parameter(torch.zeros(1, 1, config.dim)) if config.pool == "cls" else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.ln_f = nn.LayerNorm(config.dim)
        self.n_features = config.dim

    def forward(self, x):  # (batch, pixels)
        x = F.pad(x, (0, self.pad)).view(len(x), self.n_patches, self.config.patch)
        h = self.embed(x)
        if self.pos is not None:
            h = h + self.pos
        if self.cls is not None:
            h = torch.cat([self.cls.expand(len(h), -1, -1), h], dim=1)
        h = self.drop(h)
        for block in self.blocks:
            h = block(h)
        h = self.ln_f(h)
        return h[:, 0] if self.cls is not None else h.mean(dim=1)


def wave_encoding(wave: np.ndarray | None, n_pixels: int, patch: int, dim: int) -> torch.Tensor:
    """(patches, dim) sinusoids of each patch's mean position on a log-λ axis, in pixel units."""
    if wave is None:  # rebuilt from a checkpoint: the values come from its state
        return torch.zeros(math.ceil(n_pixels / patch), dim)
    loglam = np.log(np.asarray(wave, dtype=np.float64))
    step = np.median(np.diff(loglam)) if n_pixels > 1 else 1.0
    position = (loglam - loglam[0]) / (step if step > 0 else 1.0)
    pad = math.ceil(n_pixels / patch) * patch - n_pixels
    position = np.concatenate([position, position[-1] + np.arange(1, pad + 1)]).reshape(-1, patch).mean(axis=1)
    freqs = np.exp(-math.log(10000.0) * np.arange(0, dim, 2) / dim) / patch
    angles = position[:, None] * freqs[None, :]
    enc = np.zeros((len(position), dim))
    enc[:, 0::2], enc[:, 1::2] = np.sin(angles), np.cos(angles[:, : dim // 2])
    return torch.tensor(enc, dtype=torch.float32)


class ViTModel(NetModel):
    type = "vit"
    Config = ViTConfig
    Backbone = ViT
