"""Blur corruptions, batched over (N, H, W, C) float images in [0, 1].

Re-implementations of the blurs in Hendrycks & Dietterich's ``make_cifar_c.py`` and Mu &
Gilmer's MNIST-C ``corruptions.py`` without OpenCV or ImageMagick:

- Gaussian filtering follows ``skimage.filters.gaussian`` (mode "nearest", truncate 4);
- the defocus disk kernel is built as in the original (a disk on a 17x17 grid smoothed by a
  3x3 Gaussian, as ``cv2.GaussianBlur`` does) and applied with reflect-101 borders like
  ``cv2.filter2D``;
- motion blur emulates ImageMagick's ``MotionBlurImage``: a one-sided line kernel of width
  ``2*ceil(radius)+1`` with weights ``exp(-i^2 / (2 sigma^2))`` at integer offsets
  ``round(i*cos(angle)), round(i*sin(angle))``, edge pixels replicated.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def gaussian(x: np.ndarray, sigma: float, axes: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """Gaussian filter along ``axes`` (default: the two spatial axes) like skimage's."""
    sig = [0.0] * x.ndim
    for a in axes:
        sig[a] = sigma
    return ndimage.gaussian_filter(x, sig, mode="nearest", truncate=4.0)


def glass_blur(
    x: np.ndarray,
    sigma: float,
    delta: int,
    iterations: int,
    rng: np.random.Generator,
    swap_prob: float = 1.0,
    blur_axes: tuple[int, ...] = (1, 2),
) -> np.ndarray:
    """Blur, quantise to uint8, locally shuffle pixels, blur again.

    The shuffle visits positions from the bottom-right to the top-left (rows and columns
    ``size-delta`` down to ``delta+1``) and swaps each pixel with a neighbour at offsets
    drawn from ``[-delta, delta-1]`` (``randint``'s half-open range, as in the original).
    The swaps are sequential per image, as in the original; they are vectorised across the
    batch. ``swap_prob < 1`` skips each swap with probability ``1 - swap_prob`` (MNIST-C).
    """
    n, h, w, _ = x.shape
    q = np.floor(np.clip(gaussian(x, sigma, blur_axes), 0, 1) * 255 + 1e-6) / 255.0
    idx = np.arange(n)
    rows = range(h - delta, delta, -1)
    cols = range(w - delta, delta, -1)
    for _ in range(iterations):
        offsets = rng.integers(-delta, delta, size=(len(rows), len(cols), 2, n))
        if swap_prob < 1.0:
            keep = rng.random((len(rows), len(cols), n)) < swap_prob
            offsets = offsets * keep[:, :, None, :]
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                dx, dy = offsets[i, j]
                r2, c2 = r + dy, c + dx
                a = q[idx, r, c].copy()
                q[idx, r, c] = q[idx, r2, c2]
                q[idx, r2, c2] = a
    return gaussian(q, sigma, blur_axes)


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """Anti-aliased disk kernel of the original defocus blur, zero rows/columns trimmed."""
    half = 8 if radius <= 8 else int(radius)
    ksize = 3 if radius <= 8 else 5
    grid = np.arange(-half, half + 1)
    xx, yy = np.meshgrid(grid, grid)
    disk = (xx**2 + yy**2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    g = np.exp(-((np.arange(ksize) - (ksize - 1) / 2) ** 2) / (2 * alias_blur**2))
    g /= g.sum()
    k = ndimage.correlate1d(disk, g, axis=0, mode="mirror")
    k = ndimage.correlate1d(k, g, axis=1, mode="mirror")
    nz = np.nonzero(np.abs(k) > 0)
    lo = min(nz[0].min(), nz[1].min())
    hi = max(nz[0].max(), nz[1].max())
    lo = min(lo, k.shape[0] - 1 - hi)  # keep the kernel centred
    return k[lo : k.shape[0] - lo, lo : k.shape[1] - lo]


def defocus_blur(x: np.ndarray, radius: float, alias_blur: float) -> np.ndarray:
    """Correlate each channel with :func:`disk_kernel` (reflect-101 borders)."""
    k = disk_kernel(radius, alias_blur)
    return ndimage.correlate(x, k[None, :, :, None], mode="mirror")


def motion_kernel_offsets(radius: float, sigma: float, angles_deg: np.ndarray):
    """Weights (width,) and integer (dy, dx) offsets (N, width) of the line kernels."""
    width = int(2 * np.ceil(radius) + 1)
    i = np.arange(width, dtype=np.float64)
    weights = np.exp(-(i**2) / (2 * sigma**2))
    weights /= weights.sum()
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))[:, None]
    dx = np.ceil(i[None] * np.cos(theta) - 0.5).astype(np.int64)
    dy = np.ceil(i[None] * np.sin(theta) - 0.5).astype(np.int64)
    return weights, dy, dx


def motion_blur(x: np.ndarray, radius: float, sigma: float, angles_deg: np.ndarray) -> np.ndarray:
    """One-sided line-kernel blur with a per-image angle (ImageMagick emulation)."""
    n, h, w, _ = x.shape
    weights, dy, dx = motion_kernel_offsets(radius, sigma, angles_deg)
    rr = np.arange(h)[None, :, None]
    cc = np.arange(w)[None, None, :]
    nn = np.arange(n)[:, None, None]
    out = np.zeros_like(x)
    for k, wk in enumerate(weights):
        r = np.clip(rr + dy[:, k, None, None], 0, h - 1)
        c = np.clip(cc + dx[:, k, None, None], 0, w - 1)
        out += wk * x[nn, r, c]
    return out


def _linear_zoom_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear-interpolation weights of ``scipy.ndimage.zoom`` (order 1).

    ``zoom`` with ``grid_mode=False`` maps output index ``o`` to input coordinate
    ``o * (n_in - 1) / (n_out - 1)``.
    """
    pos = np.arange(n_out) * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(1)
    lo = np.clip(np.floor(pos).astype(int), 0, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def clipped_zoom(x: np.ndarray, factor: float) -> np.ndarray:
    """Zoom the centre of each image by ``factor`` and crop back to size.

    Same result as the original's ``scipy.ndimage.zoom(crop, factor, order=1)`` followed by
    a centre trim, computed as a separable matrix product over the batch.
    """
    h = x.shape[1]
    ch = int(np.ceil(h / factor))
    top = (h - ch) // 2
    n_out = int(round(ch * factor))
    trim = (n_out - h) // 2
    m = _linear_zoom_matrix(ch, n_out)[trim : trim + h]
    crop = np.moveaxis(x[:, top : top + ch, top : top + ch], -1, 1)  # (N, C, ch, ch)
    return np.moveaxis(m @ crop @ m.T, 1, -1)


def zoom_blur(x: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Average of the image and its clipped zooms by each of ``factors``."""
    acc = x.copy()
    for f in factors:
        acc += clipped_zoom(x, float(f))
    return acc / (len(factors) + 1)
