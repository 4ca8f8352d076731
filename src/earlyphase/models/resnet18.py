"""ResNet-18 with the CIFAR stem, as used for every ResNet-18 result of the primary paper.

Differences from torchvision's ImageNet ResNet-18: the stem is a 3x3 convolution with stride 1
and there is no max-pool, so 32x32 (CIFAR) and 28x28 (MNIST) inputs keep enough resolution
(28 -> 28, 14, 7, 4 through the four stages). Module names follow torchvision (``conv1``,
``bn1``, ``layer1`` .. ``layer4`` of two ``BasicBlock`` each with a ``downsample`` where the
shape changes, ``fc``) so that state dicts are easy to compare. ``width`` multiplies every
channel count (64, 128, 256, 512), rounded, at least 1.

Gradual-unfreezing partition (primary paper): blocks ``{conv1, bn1}``, ``layer1``, ``layer2``,
``layer3``, ``layer4`` (L = 5) and head ``fc``.

Initialisation as torchvision: Kaiming-normal (fan_out, ReLU) convolutions, BatchNorm weight 1
and bias 0, PyTorch's default for the linear head.
"""

from __future__ import annotations

import torch
from torch import nn

from ._common import global_average_pool, scaled


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample: nn.Module | None = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(cout),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    block_names = (("conv1", "bn1"), ("layer1",), ("layer2",), ("layer3",), ("layer4",))
    head_names = ("fc",)

    def __init__(self, num_classes: int, in_channels: int = 3, width: float = 1.0) -> None:
        super().__init__()
        c = [scaled(n, width) for n in (64, 128, 256, 512)]
        self.conv1 = _conv3x3(in_channels, c[0])
        self.bn1 = nn.BatchNorm2d(c[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._stage(c[0], c[0], 1)
        self.layer2 = self._stage(c[0], c[1], 2)
        self.layer3 = self._stage(c[1], c[2], 2)
        self.layer4 = self._stage(c[2], c[3], 2)
        self.fc = nn.Linear(c[3], num_classes)
        self.feature_dim = c[3]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _stage(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled representation fed to ``fc``, shape ``(N, 512*width)``."""
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return global_average_pool(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))

    @classmethod
    def build(cls, num_classes: int, in_channels: int, width: float = 1.0, **kwargs) -> ResNet18:
        kwargs.pop("image_size", None)  # any spatial size works (global average pooling)
        if kwargs:
            raise TypeError(f"resnet18: unexpected options {sorted(kwargs)}")
        return cls(num_classes, in_channels, width)
