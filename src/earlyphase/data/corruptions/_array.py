"""Shared conversions between uint8 images and float arrays in [0, 1].

Hendrycks' scripts compute in floats on the 0..1 scale and store ``np.uint8(x * 255)``,
which truncates; :func:`to_uint8` does the same (plus a tiny tolerance so that values that
are integers up to float error, e.g. 254.9999999, are not pushed down by one level).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-6


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC -> float64 NHWC in [0, 1]; rejects anything that is not 4-D uint8."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"expected uint8 images of shape (N, H, W, C), got {images.dtype} {images.shape}"
        )
    return images.astype(np.float64) / 255.0


def to_uint8(x: np.ndarray) -> np.ndarray:
    """float in [0, 1] (values outside are clipped) -> uint8, truncating like ``np.uint8``."""
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + _EPS).astype(np.uint8)


def check_severity(severity: int, allowed: range | tuple = range(1, 6)) -> int:
    """Return ``severity`` as int if it is allowed, else raise ValueError."""
    if int(severity) != severity or int(severity) not in allowed:
        raise ValueError(f"severity must be one of {list(allowed)}, got {severity!r}")
    return int(severity)


def rgb_to_gray(x: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma (the weights of OpenCV's RGB2GRAY) of float NHW3 -> NHW1."""
    return x[..., 0:1] * 0.299 + x[..., 1:2] * 0.587 + x[..., 2:3] * 0.114
