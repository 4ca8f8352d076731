"""CIFAR-10-C / CIFAR-100-C corruptions at the CIFAR-scale severities.

Parameters are those of Hendrycks & Dietterich's ``make_cifar_c.py`` (ICLR 2019, "Benchmarking
Neural Network Robustness to Common Corruptions and Perturbations").
Every function has the signature
``f(images_uint8_NHWC, severity, rng) -> uint8 NHWC`` and is vectorised over the batch.
Results cannot match the released files bit for bit (the original script is unseeded);
where an implementation differs from the original beyond the random draws, the function's
docstring says how.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import blur, digital, geometric, noise, weather
from ._array import check_severity, to_float, to_uint8

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

GAUSSIAN_NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)
SHOT_NOISE = (500, 250, 100, 75, 50)
IMPULSE_NOISE = (0.01, 0.02, 0.03, 0.05, 0.07)
SPECKLE_NOISE = (0.06, 0.10, 0.12, 0.16, 0.20)
GAUSSIAN_BLUR = (0.4, 0.6, 0.7, 0.8, 1.0)
GLASS_BLUR = ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2))
DEFOCUS_BLUR = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1.0, 0.2), (1.5, 0.1))
MOTION_BLUR = ((6, 1.0), (6, 1.5), (6, 2.0), (8, 2.0), (9, 2.5))
ZOOM_BLUR_MAX = (1.06, 1.11, 1.16, 1.21, 1.26)  # factors np.arange(1, max, 0.01)
FOG = ((0.2, 3.0), (0.5, 3.0), (0.75, 2.5), (1.0, 2.0), (1.5, 1.75))
FROST = ((1.0, 0.2), (1.0, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45))
# (loc, scale, zoom, threshold, blur radius, blur sigma, keep)
SNOW = (
    (0.1, 0.2, 1.0, 0.6, 8, 3, 0.95),
    (0.1, 0.2, 1.0, 0.5, 10, 4, 0.9),
    (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
    (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
    (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
)
# (loc, scale, sigma, threshold, intensity or mud sigma, 0 = water / 1 = mud)
SPATTER = (
    (0.62, 0.1, 0.7, 0.7, 0.5, 0),
    (0.65, 0.1, 0.8, 0.7, 0.5, 0),
    (0.65, 0.3, 1.0, 0.69, 0.5, 0),
    (0.65, 0.1, 0.7, 0.69, 0.6, 1),
    (0.65, 0.1, 0.5, 0.68, 0.6, 1),
)
# (alpha, sigma, affine jitter) in pixels: 32 * the published fractions
ELASTIC = tuple(
    (32 * a, 32 * s, 32 * j)
    for a, s, j in (
        (0, 0, 0.08),
        (0.05, 0.2, 0.07),
        (0.08, 0.06, 0.06),
        (0.1, 0.04, 0.05),
        (0.1, 0.03, 0.03),
    )
)
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


def gaussian_blur(images, severity, rng):
    """Gaussian blur, sigma .4/.6/.7/.8/1 (skimage semantics: nearest border, truncate 4)."""
    return to_uint8(blur.gaussian(to_float(images), _param(GAUSSIAN_BLUR, severity)))


def glass_blur(images, severity, rng):
    """Blur, 8-bit quantise, local pixel shuffle (delta 1, 1 or 2 passes), blur again.

    Same algorithm as the original (sequential swaps per image), vectorised across images.
    Severity 4 has a smaller sigma than 3 but two shuffle passes, so PSNR is not monotone
    between severities 3 and 4 (true of the published parameters, too).
    """
    sigma, delta, iters = _param(GLASS_BLUR, severity)
    return to_uint8(blur.glass_blur(to_float(images), sigma, delta, iters, rng))


def defocus_blur(images, severity, rng):
    """Disk kernel of radius .3/.4/.5/1/1.5 with alias blur .4/.5/.6/.2/.1.

    Radii below 1 give a single-pixel disk, so severities 1-3 only differ through the 3x3
    alias Gaussian, as in the original.
    """
    radius, alias = _param(DEFOCUS_BLUR, severity)
    return to_uint8(blur.defocus_blur(to_float(images), radius, alias))


def motion_blur(images, severity, rng):
    """Line-kernel motion blur, (radius, sigma) = (6,1)/(6,1.5)/(6,2)/(8,2)/(9,2.5).

    Differs from the original: ImageMagick's ``MotionBlurImage`` is emulated by a one-sided
    Gaussian-weighted line kernel at integer offsets (see ``blur``), angle U(-45, 45) deg.
    """
    radius, sigma = _param(MOTION_BLUR, severity)
    angles = rng.uniform(-45, 45, len(images))
    return to_uint8(np.round(blur.motion_blur(to_float(images), radius, sigma, angles) * 255) / 255)


def zoom_blur(images, severity, rng):
    """Mean of the image and its centre zooms by 1, 1.01, ... < 1.06/1.11/1.16/1.21/1.26."""
    factors = np.arange(1, _param(ZOOM_BLUR_MAX, severity), 0.01)
    return to_uint8(blur.zoom_blur(to_float(images), factors))


def fog(images, severity, rng):
    """Plasma-fractal fog on a 32x32 map.

    (strength, decay) = (.2,3)/(.5,3)/(.75,2.5)/(1,2)/(1.5,1.75). Same as the original.
    """
    strength, decay = _param(FOG, severity)
    return to_uint8(weather.fog(to_float(images), strength, decay, rng, mapsize=32))


def frost(images, severity, rng):
    """``a * image + b * frost`` with (a, b) = (1,.2)/(1,.3)/(.9,.4)/(.85,.4)/(.75,.45).

    Differs from the original: the frost photographs are replaced by procedural frost
    textures (``frost_texture``), cropped at random as the original crops the photographs.
    """
    keep, amount = _param(FROST, severity)
    return to_uint8(weather.frost(to_float(images), keep, amount, rng))


def snow(images, severity, rng):
    """Snow flakes streaked by motion blur, image brightened toward grey*1.5+.5.

    Differs from the original in the streak blur (line kernel instead of ImageMagick).
    """
    return to_uint8(weather.snow(to_float(images), _param(SNOW, severity), rng))


def spatter(images, severity, rng):
    """Water droplets (severities 1-3) or mud splashes (4-5).

    The water branch re-implements OpenCV's Canny, distance transform (exact Euclidean
    instead of the 5x5 approximation), histogram equalisation and filters in numpy/scipy.
    """
    params = _param(SPATTER, severity)
    fn = weather.spatter_mud if params[5] else weather.spatter_water
    return to_uint8(fn(to_float(images), params, rng))


def elastic_transform(images, severity, rng):
    """Random affine (jitter 32*.08/.07/.06/.05/.03 px) plus smooth displacement field.

    (alpha, sigma) = 32 * (0,0)/(.05,.2)/(.08,.06)/(.1,.04)/(.1,.03). Differs from the
    original only in exact bilinear sampling for the affine step (OpenCV quantises positions
    to 1/32 px).
    """
    alpha, sigma, jitter = _param(ELASTIC, severity)
    return to_uint8(geometric.elastic_transform(to_float(images), alpha, sigma, jitter, rng))


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
    "gaussian_blur": gaussian_blur,
    "glass_blur": glass_blur,
    "defocus_blur": defocus_blur,
    "motion_blur": motion_blur,
    "zoom_blur": zoom_blur,
    "fog": fog,
    "frost": frost,
    "snow": snow,
    "spatter": spatter,
    "contrast": contrast,
    "brightness": brightness,
    "saturate": saturate,
    "jpeg_compression": jpeg_compression,
    "pixelate": pixelate,
    "elastic_transform": elastic_transform,
}
