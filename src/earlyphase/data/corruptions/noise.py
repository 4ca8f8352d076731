"""Pixel-noise corruptions (Hendrycks & Dietterich 2019; Mu & Gilmer 2019).

All functions take float images in [0, 1] of shape (N, H, W, C) and a
``numpy.random.Generator`` and return unclipped floats; noise is drawn independently for
every pixel and channel, as in the original per-image code.
"""

from __future__ import annotations

import numpy as np


def gaussian_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive N(0, sigma^2) noise."""
    return x + rng.normal(0.0, sigma, size=x.shape)


def shot_noise(x: np.ndarray, photons: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson (photon) noise: ``Poisson(x * photons) / photons``."""
    return rng.poisson(x * photons) / float(photons)


def impulse_noise(x: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise as in ``skimage.util.random_noise(mode='s&p')``.

    Each value is replaced with probability ``amount``; replaced values become 1 or 0 with
    equal probability.
    """
    flipped = rng.random(x.shape) < amount
    salted = rng.random(x.shape) < 0.5
    out = x.copy()
    out[flipped & salted] = 1.0
    out[flipped & ~salted] = 0.0
    return out


def speckle_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Multiplicative noise ``x + x * N(0, sigma^2)``."""
    return x + x * rng.normal(0.0, sigma, size=x.shape)
