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

from . import blur, digital, geometric, noise, strokes, weather
from ._array import check_severity, to_float, to_uint8

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

SHOT_PHOTONS = 3  # shot_noise, severity 5 of [60, 25, 12, 5, 3]
IMPULSE_AMOUNT = 0.17  # impulse_noise, severity 4 of [.03, .06, .09, .17, .27]
BRIGHTNESS_SHIFT = 0.5  # brightness, severity 5 of [.1, .2, .3, .4, .5]
GLASS_BLUR = (0.7, 1, 2)  # (sigma, delta, iterations), severity 1
MOTION_BLUR = (10, 3.0)  # (radius, sigma), severity 1
SHEAR = 0.4  # radians, severity 2 of [.2, .4, .6, .8, 1]
ROTATE = 0.4  # radians, severity 2 of [.2, .4, .6, .8, 1]
SCALE = 1 / 0.7  # inverse-map scale, severity 3 of 1/[.9, .8, .7, .6, .5]
TRANSLATE = 3  # pixels, severity 3 of [1, 2, 3, 4, 5]
FOG = (3.0, 1.4)  # (strength, wibble decay), severity 5
SPATTER = (0.65, 0.3, 1.0, 0.65, 1.5, 1)  # severity 4 (mud)
CENTRE = 13.5


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


def glass_blur(images, severity, rng):
    """Glass blur (sigma .7, delta 1, 2 passes, each swap done with probability 1/2).

    As in the released code, the Gaussian runs along image rows only: ``skimage``'s
    ``gaussian(..., multichannel=True)`` took the last axis of the 28x28 array as channels.
    """
    sigma, delta, iters = GLASS_BLUR
    x = _grey(images, severity)
    return to_uint8(blur.glass_blur(x, sigma, delta, iters, rng, swap_prob=0.5, blur_axes=(1,)))


def motion_blur(images, severity, rng):
    """Line-kernel motion blur (radius 10, sigma 3, angle U(-45, 45)).

    Differs from the original: ImageMagick's ``MotionBlurImage`` is emulated (see ``blur``).
    """
    x = _grey(images, severity)
    radius, sigma = MOTION_BLUR
    out = blur.motion_blur(x, radius, sigma, rng.uniform(-45, 45, len(x)))
    return to_uint8(np.round(out * 255) / 255)


def _signs(rng, n):
    return rng.choice(np.array([-1.0, 1.0]), size=n)


def _warp(x, a):
    t = geometric.centred(a, CENTRE)
    return geometric.affine_sample(x, a, t, mode="grid-constant", cval=0.0)


def shear(images, severity, rng):
    """Shear by +-0.4 rad about the centre (skimage <= 0.18 shear convention, bilinear)."""
    x = _grey(images, severity)
    return to_uint8(_warp(x, geometric.shear_matrix(SHEAR * _signs(rng, len(x)))))


def rotate(images, severity, rng):
    """Rotate by +-0.4 rad (about 23 degrees) about the centre, bilinear, black fill."""
    x = _grey(images, severity)
    return to_uint8(_warp(x, geometric.rotation_matrix(ROTATE * _signs(rng, len(x)))))


def scale(images, severity, rng):
    """Shrink to 70 % about the centre (inverse map scaled by 1/0.7), black fill."""
    x = _grey(images, severity)
    a = np.broadcast_to(np.diag([SCALE, SCALE]), (len(x), 2, 2))
    return to_uint8(_warp(x, np.ascontiguousarray(a)))


def translate(images, severity, rng):
    """Shift by 3 px horizontally and 3 px vertically with random signs, black fill."""
    x = _grey(images, severity)
    n = len(x)
    a = np.broadcast_to(np.eye(2), (n, 2, 2))
    t = TRANSLATE * np.stack([_signs(rng, n), _signs(rng, n)], axis=1)
    return to_uint8(geometric.affine_sample(x, a, t, mode="grid-constant", cval=0.0))


def fog(images, severity, rng):
    """Plasma-fractal fog (256x256 map cropped to 28x28), strength 3, wibble decay 1.4."""
    x = _grey(images, severity)
    strength, decay = FOG
    return to_uint8(weather.fog(x, strength, decay, rng, mapsize=256, sub_batch=64))


def spatter(images, severity, rng):
    """Grey (63/255) mud splashes; the mud branch of spatter, severity 4."""
    x = _grey(images, severity)
    return to_uint8(weather.spatter_mud(x, SPATTER, rng, colour=(63,)))


def dotted_line(images, severity, rng):
    """A dashed line from the left to the right edge at random rows. Same as the original."""
    return to_uint8(strokes.dotted_line(_grey(images, severity), rng))


def zigzag(images, severity, rng):
    """A zigzag stroke from column 2 to 25 at a random row and slope. Same as the original."""
    return to_uint8(strokes.zigzag(_grey(images, severity), rng))


def canny_edges(images, severity, rng):
    """Replace the digit by its Canny edge map (skimage defaults). Deterministic."""
    return to_uint8(strokes.canny_edges(_grey(images, severity)))


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
    "glass_blur": glass_blur,
    "motion_blur": motion_blur,
    "shear": shear,
    "scale": scale,
    "rotate": rotate,
    "brightness": brightness,
    "translate": translate,
    "stripe": stripe,
    "fog": fog,
    "spatter": spatter,
    "dotted_line": dotted_line,
    "zigzag": zigzag,
    "canny_edges": canny_edges,
}
