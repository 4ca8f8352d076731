"""Stroke-like MNIST-C corruptions: dotted line, zigzag and Canny edges.

Lines are drawn as in Mu & Gilmer's ``line_from_points``: for every column between the
end points the vertical distance ``d`` to the line gives intensity ``log(1 - d/2.3) + 1``
clipped to [0, 1] (a stroke about 2 px wide), added to the image and clipped.
"""

from __future__ import annotations

import numpy as np

SIZE = 28


def line_intensity(c0, r0, c1, r1, size: int = SIZE) -> np.ndarray:
    """Batched stroke images (N, size, size) for lines (c0, r0) -> (c1, r1); arrays (N,)."""
    c0, r0, c1, r1 = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (c0, r0, c1, r1))
    cc = np.arange(size, dtype=np.float64)[None, None, :]
    rr = np.arange(size, dtype=np.float64)[None, :, None]
    vertical = c1 == c0
    slope = (r1 - r0) / np.where(vertical, 1.0, c1 - c0)
    row_on_line = slope[:, None, None] * (cc - c0[:, None, None]) + r0[:, None, None]
    dist = np.clip(np.abs(rr - row_on_line), 0, 2.3 - 1e-10)
    val = np.clip(np.log(1 - dist / 2.3) + 1, 0, 1)
    left = np.floor(c0)[:, None, None]
    right = np.ceil(c1)[:, None, None]
    val = np.where((cc >= left) & (cc < right), val, 0.0)
    val[vertical] = 0.0
    return val


def dotted_line(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A line across the image from row r0 (left) to r1 (right), every other 2-px gap cut."""
    n = len(x)
    r0, r1 = rng.integers(0, SIZE - 1, size=(2, n))
    lines = line_intensity(np.zeros(n), r0, np.full(n, SIZE - 1.0), r1)
    cols = np.arange(SIZE)
    lines[:, :, (cols // 2) % 2 == 0] = 0.0
    return np.clip(x + lines[..., None], 0, 1)


def _zigzag_points(r0: float, r1: float) -> np.ndarray:
    """Corner points (2, K) of one zigzag from column 2 to 25 (teeth 2 px long and high)."""
    a = b = 2.0
    c0, c1 = 2, 25
    theta = np.arctan((r1 - r0) / (c1 - c0))
    length = (c1 - c0) / np.cos(theta)
    pts = [(0.0, 0.0)]
    r_i = 0.0
    for i in range(int((length - a) // (2 * a)) + 1):
        r_i = (-1) ** i * b
        pts.append(((2 * i + 1) * a, r_i))
    last_full = (2 * a) * (length // (2 * a))
    if length != last_full:
        pts.append((length, r_i / (2 * (length - last_full))))
    pts = np.array(pts).T
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cs, rs = rot @ pts
    return np.stack([cs + c0, rs + r0])


def zigzag(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A zigzag stroke starting at a random row with a random slope of up to +-5 rows."""
    out = x[..., 0].copy()
    r0 = rng.integers(0, SIZE - 1, len(x))
    r1 = r0 + rng.integers(-5, 5, len(x))
    for k in range(len(x)):
        cs, rs = _zigzag_points(float(r0[k]), float(r1[k]))
        seg = line_intensity(cs[:-1], rs[:-1], cs[1:], rs[1:])
        for s in seg:  # clip after every segment, as the original does
            out[k] = np.clip(out[k] + s, 0, 1)
    return out[..., None]


def canny_edges(x: np.ndarray) -> np.ndarray:
    """Binary Canny edge map of each image (``skimage.feature.canny`` defaults: sigma 1)."""
    from skimage.feature import canny

    out = np.empty_like(x)
    for k in range(len(x)):
        out[k, ..., 0] = canny(x[k, ..., 0]).astype(np.float64)
    return out
