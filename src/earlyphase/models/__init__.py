"""Model zoo: ResNet-18 (CIFAR stem), VGG-11-BN, the simple CNN of the Fisher-penalty
experiment and the bias-free FCN of the phase-diagram paper.

``build_model(arch, num_classes, in_channels, width=1.0, **options)`` builds one by name from
:data:`MODELS`, which maps an architecture name to its class. Every model class

* declares its gradual-unfreezing partition (``block_names``, ``head_names``; see
  :mod:`earlyphase.models.partition`); :func:`num_blocks` reads it, so the run grid and the
  reports never keep a copy of it;
* has a classmethod ``build(num_classes, in_channels, width, **options)``;
* has a ``features(x)`` method that returns the representation fed to the head;
* may name ``setup_options``: constructor options a setup sets in params.yaml
  (``setups.<name>.model``), e.g. ``max_pools`` of the simple CNN.

Adding a model is one file with its class and one line in :data:`MODELS` (docs/extending.md).
"""

from __future__ import annotations

from torch import nn

from .fcn import FCN
from .partition import block_parameters, check_partition, head_parameters
from .resnet18 import ResNet18
from .simple_cnn import SimpleCNN
from .vgg11 import VGG11

MODELS: dict[str, type[nn.Module]] = {
    "resnet18": ResNet18,
    "vgg11": VGG11,
    "simple_cnn": SimpleCNN,
    "fcn": FCN,
}


def model_class(arch: str) -> type[nn.Module]:
    try:
        return MODELS[arch]
    except KeyError:
        raise ValueError(f"unknown arch {arch!r}; valid names: {sorted(MODELS)}") from None


def build_model(
    arch: str, num_classes: int, in_channels: int, width: float = 1.0, **options
) -> nn.Module:
    """Build ``arch`` (a key of ``MODELS``). For ``fcn``, ``width`` is the hidden width (int)."""
    model = model_class(arch).build(num_classes, in_channels, width, **options)
    check_partition(model)
    return model


def num_blocks(arch: str) -> int:
    """Number of gradual-unfreezing blocks of ``arch`` (head excluded), from its class's
    ``block_names``. Models whose partition depends on options (the FCN's depth) have none."""
    names = getattr(model_class(arch), "block_names", None)
    if not isinstance(names, tuple):
        raise ValueError(f"{arch!r} has no fixed block partition (it depends on the model's options)")
    return len(names)


def setup_options(arch: str) -> tuple[str, ...]:
    """Constructor options of ``arch`` that a setup may set (``setups.<name>.model``)."""
    return tuple(getattr(model_class(arch), "setup_options", ()))


__all__ = [
    "MODELS",
    "block_parameters",
    "build_model",
    "check_partition",
    "head_parameters",
    "model_class",
    "num_blocks",
    "setup_options",
]
