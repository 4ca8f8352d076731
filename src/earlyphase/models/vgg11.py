"""VGG-11 with BatchNorm (configuration 'A' of Simonyan & Zisserman) for 32x32 inputs.

Eight 3x3 convolutions, each followed by BatchNorm and ReLU, with max-pools after
convolutions 1, 2, 4, 6 and 8 (channels 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M).
The pools use ``ceil_mode=True``: identical for 32x32 inputs (32 -> 16, 8, 4, 2, 1) and it lets
28x28 inputs through the fifth pool (28 -> 14, 7, 4, 2, 1) instead of collapsing to 0x0.
A global average pool follows (the identity for these sizes; a mean over H and W,
see :func:`._common.global_average_pool`).

Head: three linear layers with ReLU, ``512w -> 512w -> 512w -> num_classes``, the usual
CIFAR adaptation of VGG's 4096-unit classifier. No dropout: the primary paper and its
hyper-parameter table mention none, and dropout would add a source of randomness that the
probes (which run the model in eval mode) do not see during training.

Gradual-unfreezing partition (primary paper): 8 blocks, one per convolution with its BN
(``block1`` .. ``block8``; a block's max-pool has no parameters), head ``fc1, fc2, fc3``.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import global_average_pool, scaled

# (output channels, max-pool after this convolution)
_CFG_A = (
    (64, True),
    (128, True),
    (256, False),
    (256, True),
    (512, False),
    (512, True),
    (512, False),
    (512, True),
)


class VGG11(nn.Module):
    block_names = tuple((f"block{i}",) for i in range(1, 9))
    head_names = ("fc1", "fc2", "fc3")

    def __init__(self, num_classes: int, in_channels: int = 3, width: float = 1.0) -> None:
        super().__init__()
        cin = in_channels
        for i, (c, pool) in enumerate(_CFG_A, start=1):
            cout = scaled(c, width)
            layers: list[nn.Module] = [
                nn.Conv2d(cin, cout, kernel_size=3, padding=1),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            if pool:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True))
            self.add_module(f"block{i}", nn.Sequential(*layers))
            cin = cout
        hidden = scaled(512, width)
        self.fc1 = nn.Linear(cin, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, num_classes)
        self.feature_dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the convolutional trunk, pooled and flattened: ``(N, 512*width)``."""
        for names in self.block_names:
            x = self.get_submodule(names[0])(x)
        return global_average_pool(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)

    @classmethod
    def build(cls, num_classes: int, in_channels: int, width: float = 1.0, **kwargs) -> VGG11:
        kwargs.pop("image_size", None)
        if kwargs:
            raise TypeError(f"vgg11: unexpected options {sorted(kwargs)}")
        return cls(num_classes, in_channels, width)
