"""A dilated 1-D convolutional net, optionally learning the residual of a ridge fit.

    model: {type: cnn, channels: [16, 32, 64], kernel: 7, dilation: 2, stride: 2, residual_on: ridge}

Each layer: Conv1d(kernel, dilation, stride) → BatchNorm → GELU. The feature map is averaged
down to `pool` positions (1: a global average; more keep where along the spectrum a feature
was), flattened, and passed through one dense layer of `hidden` units to the heads.
With `residual_on: ridge` a streaming ridge is fitted first (α = `ridge_alpha`, or chosen on
the validation split) and the net learns only what the linear model misses.
"""

from __future__ import annotations

from torch import nn

from .configs import CNNConfig
from .trainer import NetModel


class CNN(nn.Module):
    def __init__(self, config: CNNConfig, n_pixels: int, wave=None) -> None:
        super().__init__()
        layers, c_in = [], 1
        for c_out, d in zip(config.channels, config.dilations):
            layers += [
                nn.Conv1d(
                    c_in, c_out, config.kernel, stride=config.stride, dilation=d, padding=d * (config.kernel - 1) // 2
                ),
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

    def info(self):
        """What the fit measured, and the receptive field in input pixels (`receptive_field`),
        which a rule reads as `trials.<name>.info.receptive_field`."""
        return {**super().info(), "receptive_field": self.config.receptive_field}
