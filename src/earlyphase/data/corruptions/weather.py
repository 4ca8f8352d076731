"""Weather-like corruptions: fog, frost, snow and spatter (batched, float images in [0, 1]).

Follow Hendrycks & Dietterich's ``make_cifar_c.py`` (and MNIST-C's grey variants) with
these substitutions, all vectorised over the batch:

- frost uses procedural textures (``frost_texture``) instead of the six photographs;
- snow's streaks use the line-kernel motion blur of ``blur.motion_blur`` instead of
  ImageMagick (the layer is still quantised to 8 bits, as the PNG round trip does);
- spatter's "water" branch (severities 1-3) uses the batched Canny of ``edges`` and an exact
  Euclidean distance transform instead of OpenCV's 5x5-mask approximation.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import blur
from ._array import rgb_to_gray
from .frost_texture import frost_crops
from .plasma import plasma_fractal


def fog(
    x: np.ndarray,
    strength: float,
    wibbledecay: float,
    rng: np.random.Generator,
    mapsize: int = 32,
    sub_batch: int = 256,
) -> np.ndarray:
    """Add a plasma-fractal haze and rescale by ``max / (max + strength)`` per image."""
    n, h, w, _ = x.shape
    haze = np.empty((n, h, w))
    for s in range(0, n, sub_batch):
        e = min(n, s + sub_batch)
        haze[s:e] = plasma_fractal(e - s, mapsize, wibbledecay, rng)[:, :h, :w]
    max_val = x.max(axis=(1, 2, 3), keepdims=True)
    return (x + strength * haze[..., None]) * max_val / (max_val + strength)


def frost(x: np.ndarray, keep: float, amount: float, rng: np.random.Generator) -> np.ndarray:
    """``keep * image + amount * frost_crop`` on the 0..255 scale, returned on 0..1."""
    crops = frost_crops(len(x), x.shape[1], rng)
    return (keep * x * 255.0 + amount * crops) / 255.0


def snow(x: np.ndarray, params: tuple, rng: np.random.Generator) -> np.ndarray:
    """Snow: thresholded zoomed Gaussian flakes, motion-blurred, added twice (and rotated).

    ``params`` = (loc, scale, zoom, threshold, blur_radius, blur_sigma, keep).
    """
    loc, scale, zoom, threshold, radius, sigma, keep = params
    n, h, w, _ = x.shape
    layer = rng.normal(loc, scale, size=(n, h, w, 1))
    layer = blur.clipped_zoom(layer, zoom)
    layer[layer < threshold] = 0
    layer = np.floor(np.clip(layer, 0, 1) * 255) / 255.0
    layer = blur.motion_blur(layer, radius, sigma, rng.uniform(-135, -45, n))
    layer = np.round(layer * 255) / 255.0
    bright = (
        np.maximum(x, rgb_to_gray(x) * 1.5 + 0.5)
        if x.shape[-1] == 3
        else np.maximum(x, x * 1.5 + 0.5)
    )
    x = keep * x + (1 - keep) * bright
    return x + layer + layer[:, ::-1, ::-1]


def _equalize_hist(img: np.ndarray) -> np.ndarray:
    """OpenCV ``equalizeHist`` for a batch of uint8 images (N, H, W)."""
    n = len(img)
    flat = img.reshape(n, -1).astype(np.int64)
    total = flat.shape[1]
    hist = np.zeros((n, 256), dtype=np.int64)
    np.add.at(hist, (np.arange(n)[:, None], flat), 1)
    first = np.argmax(hist > 0, axis=1)
    first_count = hist[np.arange(n), first]
    cdf = np.cumsum(hist, axis=1) - first_count[:, None]
    scale = 255.0 / np.maximum(total - first_count, 1)
    lut = np.clip(np.round(cdf * scale[:, None]), 0, 255)
    lut[np.arange(256)[None] < first[:, None]] = 0
    single = first_count == total  # constant image: OpenCV maps it to itself
    lut[single] = first[single, None]
    return np.take_along_axis(lut, flat, axis=1).reshape(img.shape).astype(np.uint8)


def _liquid_layer(shape, loc, scale, sigma, rng):
    layer = rng.normal(loc, scale, size=shape)
    return ndimage.gaussian_filter(layer, (0, sigma, sigma), mode="nearest", truncate=4.0)


def spatter_water(x: np.ndarray, params: tuple, rng: np.random.Generator) -> np.ndarray:
    """Pale-turquoise water droplets (severities 1-3 of CIFAR-C)."""
    loc, scale, sigma, threshold, intensity, _ = params
    n, h, w, _ = x.shape
    liquid = _liquid_layer((n, h, w), loc, scale, sigma, rng)
    liquid[liquid < threshold] = 0
    liquid_u8 = np.floor(np.clip(liquid, 0, 1) * 255).astype(np.uint8)
    from .edges import canny_like_opencv

    edges = canny_like_opencv(liquid_u8, 50, 150)
    # distance to the nearest edge pixel of the same image: a huge spacing on the batch
    # axis keeps images apart; images without edges get distances >= 20 (truncated below)
    dist = ndimage.distance_transform_edt(~edges, sampling=(1e6, 1, 1))
    dist = np.minimum(dist, 20.0)
    dist = ndimage.uniform_filter(dist, (1, 3, 3), mode="mirror")
    dist = _equalize_hist(np.floor(dist).astype(np.uint8)).astype(np.float64)
    ker = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64)
    dist = np.clip(np.round(ndimage.correlate(dist, ker[None], mode="mirror")), 0, 255)
    dist = ndimage.uniform_filter(dist, (1, 3, 3), mode="mirror")
    m = liquid_u8 * dist
    m = m / np.maximum(m.max(axis=(1, 2), keepdims=True), 1e-12) * intensity
    colour = np.array([175, 238, 238]) / 255.0
    return x + m[..., None] * colour[None, None, None, : x.shape[-1]]


def spatter_mud(
    x: np.ndarray, params: tuple, rng: np.random.Generator, colour=(63, 42, 20)
) -> np.ndarray:
    """Mud splashes (severities 4-5 of CIFAR-C; the only MNIST-C variant, grey 63)."""
    loc, scale, sigma, threshold, mud_sigma, _ = params
    n, h, w, c = x.shape
    liquid = _liquid_layer((n, h, w), loc, scale, sigma, rng)
    m = (liquid > threshold).astype(np.float64)
    m = ndimage.gaussian_filter(m, (0, mud_sigma, mud_sigma), mode="nearest", truncate=4.0)
    m[m < 0.8] = 0
    col = np.asarray(colour, dtype=np.float64)[:c] / 255.0
    return x * (1 - m[..., None]) + m[..., None] * col
