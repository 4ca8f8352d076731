"""MNIST-C corruptions (Mu & Gilmer 2019, "MNIST-C: A Robustness Benchmark for Computer
Vision") at the single severity used for the released data set.

The released set applies each corruption at the default severity of its function in
google-research/mnist-c ``corruptions.py``; those parameters are reproduced here. Every
function has the signature ``f(images_uint8_NHWC, severity=1, rng) -> uint8 NHWC`` with
images of shape (N, 28, 28, 1); ``severity`` exists for a uniform interface and must be 1.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import digital, noise
from ._array import check_severity, to_float, to_uint8

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

SHOT_PHOTONS = 3  # shot_noise, severity 5 of [60, 25, 12, 5, 3]
IMPULSE_AMOUNT = 0.17  # impulse_noise, severity 4 of [.03, .06, .09, .17, .27]
BRIGHTNESS_SHIFT = 0.5  # brightness, severity 5 of [.1, .2, .3, .4, .5]


def _grey(images, severity) -> np.ndarray:
    check_severity(severity, (1,))
    x = to_float(images)
    if x.shape[-1] != 1:
        raise ValueError(f"MNIST-C corruptions expect 1 channel, got {x.shape}")
    return x


def shot_noise(images, severity, rng):
    """Poisson noise with 3 photons at full scale. Same as the original."""
    return to_uint8(noise.shot_noise(_grey(images, severity), SHOT_PHOTONS, rng))


def impulse_noise(images, severity, rng):
    """Salt-and-pepper noise, amount 0.17. Same as the original."""
    return to_uint8(noise.impulse_noise(_grey(images, severity), IMPULSE_AMOUNT, rng))


def brightness(images, severity, rng):
    """``clip(x + 0.5)`` — what the original's grey->HSV->grey round trip computes."""
    return to_uint8(digital.brightness_gray(_grey(images, severity), BRIGHTNESS_SHIFT))


def stripe(images, severity, rng):
    """Invert the 7 leftmost and 7 rightmost pixel columns. Deterministic, as the original."""
    check_severity(severity, (1,))
    out = np.array(images, dtype=np.uint8, copy=True)
    out[:, :, :7] = 255 - out[:, :, :7]
    out[:, :, 21:] = 255 - out[:, :, 21:]
    return out


MNIST_C_CORRUPTIONS: dict[str, Corruption] = {
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "brightness": brightness,
    "stripe": stripe,
}
