"""Model zoo: ResNet-18 (CIFAR stem), VGG-11-BN, the simple CNN of the Fisher-penalty
experiment and the bias-free FCN of the phase-diagram paper.

``build_model(arch, num_classes, in_channels, width=1.0, **kwargs)`` builds one by name from
``MODELS``. Every model declares its gradual-unfreezing partition (``block_names``,
``head_names``; see :mod:`earlyphase.models.partition`) and a ``features(x)`` method that returns
the representation fed to the head. Adding a model is one file with a ``build`` function and
one line in ``MODELS``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from . import fcn, resnet18, simple_cnn, vgg11
from .partition import block_parameters, check_partition, head_parameters

MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18.build,
    "vgg11": vgg11.build,
    "simple_cnn": simple_cnn.build,
    "fcn": fcn.build,
}


def build_model(
    arch: str, num_classes: int, in_channels: int, width: float = 1.0, **kwargs
) -> nn.Module:
    """Build ``arch`` (a key of ``MODELS``). For ``fcn``, ``width`` is the hidden width (int)."""
    try:
        builder = MODELS[arch]
    except KeyError:
        raise ValueError(f"unknown arch {arch!r}; valid names: {sorted(MODELS)}") from None
    model = builder(num_classes, in_channels, width, **kwargs)
    check_partition(model)
    return model


__all__ = ["MODELS", "build_model", "block_parameters", "head_parameters", "check_partition"]
