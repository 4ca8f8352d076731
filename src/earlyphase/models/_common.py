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
