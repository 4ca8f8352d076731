"""Offline CIFAR stand-in: procedurally generated 32x32 RGB images of coloured shapes.

Class ``k`` fixes a shape (one of ten: disc, square, triangle, ring, cross, horizontal
bars, vertical bars, diamond, checker, X) and a hue. With 10 classes shape and hue both
identify the class; with 100 classes the class is (shape = k mod 10, hue = k // 10).
Nuisance factors vary per image: position, scale, rotation, shape brightness and
saturation, a background colour with a linear gradient, and pixel noise, so the task is
learnable but not trivial. Everything is drawn from ``numpy.random.default_rng`` seeded by
(seed, split), so the bytes are reproducible.
"""

from __future__ import annotations

import numpy as np

N_SHAPES = 10
_SIZE = 32
_CHUNK = 2048


def _field(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Signed distance-like field of one shape (negative inside) at local coords u, v."""
    au, av = np.abs(u), np.abs(v)
    box = np.maximum(au, av)
    r = np.sqrt(u**2 + v**2)
    if shape == 0:  # disc
        return r - 1.0
    if shape == 1:  # square
        return box - 0.8
    if shape == 2:  # triangle
        return np.maximum.reduce([v - 0.7, -0.9 - v, 1.6 * au - 0.7 + 0.5 * v])
    if shape == 3:  # ring
        return np.abs(r - 0.75) - 0.25
    if shape == 4:  # cross
        return np.minimum(np.maximum(au - 0.3, av - 1.0), np.maximum(av - 0.3, au - 1.0))
    if shape == 5:  # horizontal bars
        return np.maximum(box - 0.9, 0.35 * np.sin(v * 3.5 * np.pi))
    if shape == 6:  # vertical bars
        return np.maximum(box - 0.9, 0.35 * np.sin(u * 3.5 * np.pi))
    if shape == 7:  # diamond
        return au + av - 1.0
    if shape == 8:  # checker
        return np.maximum(box - 0.9, 0.3 * np.sin(u * 2 * np.pi) * np.sin(v * 2 * np.pi))
    return np.maximum(np.abs(au - av) - 0.25, r - 1.05)  # X


def _shape_masks(shape_id: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Soft-edged masks in [0, 1] for each image's shape; u, v are (N, H, W) local coords."""
    field = np.empty_like(u)
    for s in np.unique(shape_id):
        sel = shape_id == s
        field[sel] = _field(int(s), u[sel], v[sel])
    return np.clip(0.5 - field * 6.0, 0.0, 1.0)  # about 1/6 unit soft edge


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB for arrays of equal shape; returns shape + (3,)."""
    i = np.floor(h * 6.0) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape + (3,))
    for k, (r, g, b) in enumerate(table):
        sel = i == k
        out[sel] = np.stack([r[sel], g[sel], b[sel]], axis=-1)
    return out


def _render(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    n = len(labels)
    shape_id = labels % N_SHAPES
    hue_idx = labels // N_SHAPES if num_classes > N_SHAPES else labels
    n_hues = max(1, -(-num_classes // N_SHAPES)) if num_classes > N_SHAPES else num_classes
    hue = (hue_idx / n_hues + rng.uniform(-0.25, 0.25, n) / n_hues) % 1.0

    scale = rng.uniform(6.0, 11.0, n)
    cx = rng.uniform(11.0, 21.0, n)
    cy = rng.uniform(11.0, 21.0, n)
    angle = rng.uniform(-0.5, 0.5, n)
    yy, xx = np.mgrid[0:_SIZE, 0:_SIZE].astype(np.float64) + 0.5
    dx = (xx[None] - cx[:, None, None]) / scale[:, None, None]
    dy = (yy[None] - cy[:, None, None]) / scale[:, None, None]
    ca, sa = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u, v = ca * dx + sa * dy, -sa * dx + ca * dy
    mask = _shape_masks(shape_id, u, v)[..., None]

    fg = _hsv_to_rgb(hue, rng.uniform(0.55, 1.0, n), rng.uniform(0.6, 1.0, n))  # (N, 3)
    bg0 = _hsv_to_rgb(rng.uniform(0, 1, n), rng.uniform(0.0, 0.35, n), rng.uniform(0.1, 0.6, n))
    grad_dir = rng.uniform(0, 2 * np.pi, n)
    ramp = (
        np.cos(grad_dir)[:, None, None] * (xx[None] - 16)
        + np.sin(grad_dir)[:, None, None] * (yy[None] - 16)
    ) / 32.0
    bg = bg0[:, None, None, :] + 0.25 * ramp[..., None]
    img = mask * fg[:, None, None, :] + (1 - mask) * bg
    img += rng.normal(0.0, 0.04, img.shape)
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def offline_shapes(
    n: int, num_classes: int, seed: int = 0, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images uint8 (n, 32, 32, 3) and balanced int64 labels in a shuffled order.

    ``split`` only changes the random stream (train and test never share a draw).
    """
    if num_classes < 2:
        raise ValueError("num_classes must be at least 2")
    split_code = {"train": 0, "test": 1}[split]
    rng = np.random.default_rng([seed, split_code, num_classes])
    labels = rng.permutation(np.arange(n) % num_classes).astype(np.int64)
    images = np.empty((n, _SIZE, _SIZE, 3), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        stop = min(n, start + _CHUNK)
        images[start:stop] = _render(labels[start:stop], num_classes, rng)
    return images, labels
