"""Bias-free ReLU fully connected network of the phase-diagram paper (Kalra & Barkeshli 2023).

``depth`` counts the linear layers (``depth - 1`` hidden layers of ``width`` units, then the
output layer); the input is flattened. No bias, no normalisation. With
``N_l`` the fan-in of layer ``l`` and ``sigma_w`` its weight scale, the pre-activations are

* ``ntk`` (Neural Tangent Parameterization): ``h^{l+1} = sigma_w / sqrt(N_l) * W^{l+1} phi(h^l)``
  with ``W_ij ~ N(0, 1)``;
* ``sp`` (Standard Parameterization): ``h^{l+1} = W^{l+1} phi(h^l)`` with
  ``W_ij ~ N(0, sigma_w^2 / N_l)``.

Both are initialised at criticality for ReLU: ``sigma_w^2 = 2`` for every layer but the last,
whose ``sigma_w = 1`` (``sigma_w_last``), as in the paper's Appendix A. The first layer acts on
the raw (flattened) input rather than ``phi`` of it. At initialisation both give the same
function distribution; they differ in how gradients scale with width.

Gradual-unfreezing partition: one block per hidden layer (``fc1`` .. ``fc{depth-1}``), head
``out``. ``features(x)`` is the last hidden activation.

``width`` is an integer number of hidden units here (not a multiplier); ``image_size``
(default 28 for one channel, 32 otherwise) or ``in_features`` fixes the input dimension.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._common import default_image_size


class ScaledLinear(nn.Module):
    """Bias-free linear map ``y = multiplier * x @ W.T``."""

    def __init__(self, fan_in: int, fan_out: int, sigma_w: float, parameterization: str):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        if parameterization == "ntk":
            self.multiplier = sigma_w / math.sqrt(fan_in)
            self.init_std = 1.0
        else:
            self.multiplier = 1.0
            self.init_std = sigma_w / math.sqrt(fan_in)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.normal_(0.0, self.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x @ self.weight.t()
        return out if self.multiplier == 1.0 else out * self.multiplier

    def extra_repr(self) -> str:
        o, i = self.weight.shape
        return f"in={i}, out={o}, multiplier={self.multiplier:.4g}"


class FCN(nn.Module):
    def __init__(
        self,
        num_classes: int,
        in_features: int,
        width: int = 512,
        depth: int = 4,
        parameterization: str = "sp",
        sigma_w: float = math.sqrt(2.0),
        sigma_w_last: float = 1.0,
    ) -> None:
        super().__init__()
        if parameterization not in ("sp", "ntk"):
            raise ValueError(
                f"fcn: parameterization must be 'sp' or 'ntk', got {parameterization!r}"
            )
        if depth < 2:
            raise ValueError(f"fcn: depth must be >= 2 (one hidden layer), got {depth}")
        if width < 1:
            raise ValueError(f"fcn: width must be >= 1, got {width}")
        self.parameterization = parameterization
        fan_in = in_features
        for i in range(1, depth):
            self.add_module(f"fc{i}", ScaledLinear(fan_in, width, sigma_w, parameterization))
            fan_in = width
        self.out = ScaledLinear(fan_in, num_classes, sigma_w_last, parameterization)
        self.block_names = tuple((f"fc{i}",) for i in range(1, depth))
        self.head_names = ("out",)
        self.feature_dim = width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        for (name,) in self.block_names:
            x = torch.relu(self.get_submodule(name)(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))

    @classmethod
    def build(cls, num_classes: int, in_channels: int, width: float = 512, **kwargs) -> FCN:
        if float(width) != int(width):
            raise ValueError(f"fcn: width is a number of hidden units, got {width}")
        image_size = kwargs.pop("image_size", None) or default_image_size(in_channels)
        in_features = kwargs.pop("in_features", None) or in_channels * image_size * image_size
        return cls(num_classes, in_features, width=int(width), **kwargs)
