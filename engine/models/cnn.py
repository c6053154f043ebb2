"""A dilated 1-D convolutional net, optionally learning the residual of a ridge fit.

    model: {type: cnn, channels: [16, 32, 64], kernel: 7, dilation: 2, stride: 2, residual_on: ridge}

Each layer: Conv1d(kernel, dilation, stride) → BatchNorm → GELU. The feature map is averaged
down to `pool` positions (1: a global average; more keep where along the spectrum a feature
was), flattened, and passed through one dense layer of `hidden` units to the heads.
With `residual_on: ridge` a streaming ridge is fitted first (α = `ridge_alpha`, or chosen on
the validation split) and the net learns only what the linear model misses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import nn

from .trainer import NetModel


@dataclass(frozen=True)
class CNNConfig:
    channels: tuple[int, ...] = (16, 32, 64)  # output channels of each conv layer
    kernel: int = 7
    dilation: int | tuple[int, ...] = 2  # one for all layers, or one per layer
    stride: int = 2
    pool: int = 16  # positions kept by the adaptive average pool before the dense layer
    hidden: int = 256  # dense layer after pooling (0: heads straight on the pooled features)
    dropout: float = 0.0
    residual_on: Literal["ridge"] | None = None
    ridge_alpha: float | None = None  # None: chosen on the validation split from the default path

    def __post_init__(self) -> None:
        dilations = self.dilation if isinstance(self.dilation, tuple) else (self.dilation,) * len(self.channels)
        if len(dilations) != len(self.channels):
            raise ValueError(f"dilation lists {len(dilations)} values for {len(self.channels)} layers")
        if not self.channels or min(self.channels) < 1 or self.kernel < 1 or self.stride < 1 or min(dilations) < 1:
            raise ValueError("channels, kernel, stride and dilation must be positive")
        if self.pool < 1 or self.hidden < 0 or not 0 <= self.dropout < 1:
            raise ValueError("pool must be >= 1, hidden >= 0, dropout in [0, 1)")

    @property
    def dilations(self) -> tuple[int, ...]:
        return self.dilation if isinstance(self.dilation, tuple) else (self.dilation,) * len(self.channels)


class CNN(nn.Module):
    def __init__(self, config: CNNConfig, n_pixels: int, wave=None) -> None:
        super().__init__()
        layers, c_in = [], 1
        for c_out, d in zip(config.channels, config.dilations):
            layers += [
                nn.Conv1d(c_in, c_out, config.kernel, stride=config.stride, dilation=d, padding=d * (config.kernel - 1) // 2),
                nn.BatchNorm1d(c_out),
                nn.GELU(),
            ]
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(config.pool)
        width = c_in * config.pool
        dense = [nn.Flatten(), nn.Dropout(config.dropout)]
        if config.hidden:
            dense += [nn.Linear(width, config.hidden), nn.GELU(), nn.Dropout(config.dropout)]
            width = config.hidden
        self.dense = nn.Sequential(*dense)
        self.n_features = width

    def forward(self, x):  # (batch, pixels)
        return self.dense(self.pool(self.convs(x.unsqueeze(1))))


class CNNModel(NetModel):
    type = "cnn"
    Config = CNNConfig
    Backbone = CNN
