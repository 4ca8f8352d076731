"""Simple CNN of the delayed Fisher-penalty experiment (primary paper, Appendix D).

The primary paper describes it as "4 convolutional layers, one max-pool, no dropout, a final
fully connected layer of 128 hidden units". Its source, Jastrzebski et al. (2021), says
it is the Keras CIFAR-10 example without dropout and with a 128-unit dense layer; that
example has *two* max-pools (after the second and the fourth convolution). The two
descriptions disagree, so the number of pools is the option ``max_pools`` (a setup sets it
with ``model: {max_pools: 2}`` in params.yaml):

* ``max_pools=1`` (default, the primary paper): one 2x2 max-pool after the fourth
  convolution;
* ``max_pools=2`` (the Keras example): 2x2 max-pools after the second and the fourth.

Initialization is the option ``init``: ``torch_default`` (default, so the primary paper's
runs are as they were: PyTorch's Kaiming-uniform weights with a=sqrt(5) and uniform biases)
or ``glorot_uniform``, the Keras default of the model Jastrzebski et al. trained: every
weight ~ U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), fans counted as Keras does
(a 3x3 conv from C_in to C_out channels: fan_in = 9 C_in, fan_out = 9 C_out), and zero
biases. The seed-003 setup sets ``init: glorot_uniform``.

Convolutions follow the Keras example: 3x3, channels 32, 32, 64, 64 (times ``width``), padding
'same' for the first and third and 'valid' for the second and fourth, each followed by ReLU;
then flatten, ``fc1`` (``hidden`` = 128 units, ReLU) and the classifier ``fc2``. No dropout.
``image_size`` (default 28 for one input channel, 32 otherwise) fixes the flattened size.

Gradual-unfreezing partition: blocks ``conv1`` .. ``conv4``, head ``fc1, fc2``;
``features(x)`` is the flattened convolutional output fed to ``fc1``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import default_image_size, scaled

INITS = ("torch_default", "glorot_uniform")


def glorot_uniform_(layer: nn.Conv2d | nn.Linear) -> None:
    """Keras' ``glorot_uniform`` weights and ``zeros`` biases, in place. PyTorch's
    ``xavier_uniform_`` counts the fans as Keras does (receptive field x channels)."""
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)


class SimpleCNN(nn.Module):
    block_names = (("conv1",), ("conv2",), ("conv3",), ("conv4",))
    head_names = ("fc1", "fc2")
    setup_options = ("max_pools", "init")  # settable per setup: params.yaml setups.<name>.model

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 3,
        width: float = 1.0,
        max_pools: int = 1,
        hidden: int = 128,
        image_size: int | None = None,
        init: str = "torch_default",
    ) -> None:
        super().__init__()
        if max_pools not in (1, 2):
            raise ValueError(f"simple_cnn: max_pools must be 1 or 2, got {max_pools}")
        if init not in INITS:
            raise ValueError(f"simple_cnn: init must be one of {INITS}, got {init!r}")
        c1, c2 = scaled(32, width), scaled(64, width)
        self.conv1 = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c1, 3, padding=0)
        self.conv3 = nn.Conv2d(c1, c2, 3, padding=1)
        self.conv4 = nn.Conv2d(c2, c2, 3, padding=0)
        self.pool2 = nn.MaxPool2d(2) if max_pools == 2 else nn.Identity()
        self.pool4 = nn.MaxPool2d(2)
        self.max_pools = max_pools
        size = image_size or default_image_size(in_channels)
        with torch.no_grad():
            n_flat = self._trunk(torch.zeros(1, in_channels, size, size)).shape[1]
        self.fc1 = nn.Linear(n_flat, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.feature_dim = n_flat
        self.init = init
        if init == "glorot_uniform":
            for layer in (self.conv1, self.conv2, self.conv3, self.conv4, self.fc1, self.fc2):
                glorot_uniform_(layer)

    def _trunk(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = self.pool2(torch.relu(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        x = self.pool4(torch.relu(self.conv4(x)))
        return torch.flatten(x, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self._trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(self._trunk(x))))

    @classmethod
    def build(cls, num_classes: int, in_channels: int, width: float = 1.0, **kwargs) -> SimpleCNN:
        return cls(num_classes, in_channels, width, **kwargs)
