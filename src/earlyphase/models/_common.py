"""Small helpers shared by the model files."""

from __future__ import annotations


def scaled(channels: int, width: float) -> int:
    """``channels * width`` rounded to the nearest integer, at least 1."""
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    return max(1, int(round(channels * width)))


def default_image_size(in_channels: int) -> int:
    """28 for single-channel (MNIST-like) inputs, 32 otherwise (CIFAR-like)."""
    return 28 if in_channels == 1 else 32


def global_average_pool(x):
    """Mean over height and width, ``(N, C, H, W) -> (N, C)``.

    Used instead of ``nn.AdaptiveAvgPool2d((1, 1))``: the same values (on the CPU bit for
    bit, forward and backward), but an ordinary reduction whose backward is deterministic on
    CUDA, where ``use_deterministic_algorithms(True)`` rejects the adaptive pool's backward.
    """
    return x.mean(dim=(2, 3))
