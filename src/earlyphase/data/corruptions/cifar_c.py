"""CIFAR-10-C / CIFAR-100-C corruptions at the CIFAR-scale severities.

Parameters are those of Hendrycks & Dietterich's ``make_cifar_c.py`` (ICLR 2019, "Benchmarking
Neural Network Robustness to Common Corruptions and Perturbations"), listed in
``PAPER_FACTS.md``. Every function has the signature
``f(images_uint8_NHWC, severity, rng) -> uint8 NHWC`` and is vectorised over the batch.
Results cannot match the released files bit for bit (the original script is unseeded);
where an implementation differs from the original beyond the random draws, the function's
docstring says how.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import digital, noise
from ._array import check_severity, to_float, to_uint8

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

GAUSSIAN_NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)
SHOT_NOISE = (500, 250, 100, 75, 50)
IMPULSE_NOISE = (0.01, 0.02, 0.03, 0.05, 0.07)
SPECKLE_NOISE = (0.06, 0.10, 0.12, 0.16, 0.20)
CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)
BRIGHTNESS = (0.05, 0.1, 0.15, 0.2, 0.3)
SATURATE = ((0.3, 0.0), (0.1, 0.0), (1.5, 0.0), (2.0, 0.1), (2.5, 0.2))
JPEG_QUALITY = (80, 65, 58, 50, 40)
PIXELATE = (0.95, 0.9, 0.85, 0.75, 0.65)


def _param(table, severity):
    return table[check_severity(severity) - 1]


def gaussian_noise(images, severity, rng):
    """Additive Gaussian noise, sigma = .04/.06/.08/.09/.10. Same as the original."""
    return to_uint8(noise.gaussian_noise(to_float(images), _param(GAUSSIAN_NOISE, severity), rng))


def shot_noise(images, severity, rng):
    """Poisson noise with 500/250/100/75/50 photons at full scale. Same as the original."""
    return to_uint8(noise.shot_noise(to_float(images), _param(SHOT_NOISE, severity), rng))


def impulse_noise(images, severity, rng):
    """Salt-and-pepper noise, amount .01/.02/.03/.05/.07 (skimage's s&p rule re-implemented)."""
    return to_uint8(noise.impulse_noise(to_float(images), _param(IMPULSE_NOISE, severity), rng))


def speckle_noise(images, severity, rng):
    """Multiplicative Gaussian noise, sigma = .06/.10/.12/.16/.20. Same as the original."""
    return to_uint8(noise.speckle_noise(to_float(images), _param(SPECKLE_NOISE, severity), rng))


def contrast(images, severity, rng):
    """Contrast reduced to .75/.5/.4/.3/.15 around each channel mean. Deterministic."""
    return to_uint8(digital.contrast(to_float(images), _param(CONTRAST, severity)))


def brightness(images, severity, rng):
    """HSV value + .05/.1/.15/.2/.3 (skimage HSV conversion as in the original)."""
    return to_uint8(digital.brightness_hsv(to_float(images), _param(BRIGHTNESS, severity)))


def saturate(images, severity, rng):
    """HSV saturation s*a + b with (a, b) = (.3,0)/(.1,0)/(1.5,0)/(2,.1)/(2.5,.2).

    Severities 1-2 desaturate and 3-5 over-saturate, so the distortion is not monotone in
    severity (as in the original).
    """
    scale, offset = _param(SATURATE, severity)
    return to_uint8(digital.saturate(to_float(images), scale, offset))


def jpeg_compression(images, severity, rng):
    """PIL JPEG at quality 80/65/58/50/40. Same as the original (codec version aside)."""
    return digital.jpeg(np.asarray(images, dtype=np.uint8), _param(JPEG_QUALITY, severity))


def pixelate(images, severity, rng):
    """Box-filter down to int(32 * .95/.9/.85/.75/.65) pixels and back with PIL."""
    return digital.pixelate(np.asarray(images, dtype=np.uint8), _param(PIXELATE, severity))


CIFAR_C_CORRUPTIONS: dict[str, Corruption] = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "speckle_noise": speckle_noise,
    "contrast": contrast,
    "brightness": brightness,
    "saturate": saturate,
    "jpeg_compression": jpeg_compression,
    "pixelate": pixelate,
}
