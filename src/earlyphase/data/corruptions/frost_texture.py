"""Procedural frost textures (stand-in for the six frost photographs of ImageNet-C).

The original corruption blends a random crop of one of six frost photographs (shrunk to
20 % for CIFAR). No package ships those images offline, so a bank of ``BANK_SIZE``
textures is synthesised once per process from a fixed seed: a ridged plasma fractal
(frost veins) plus a few hundred short anti-aliased "ice needles" growing in branches at
60 degrees from random nuclei, lightly blurred and tinted blue-white. Mean and spread are
chosen to resemble a frosted window (bright veins on a darker, textured field). The
corruption then crops each image's texture at a random position from a random bank entry,
as the original does with the photographs.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage
from skimage.draw import line_aa

from .plasma import plasma_fractal

BANK_SIZE = 5
TEXTURE_SIZE = 160
_BANK_SEED = 20190101
_TINT = np.array([0.86, 0.93, 1.0])


def _needles(size: int, rng: np.random.Generator) -> np.ndarray:
    canvas = np.zeros((size, size))
    for _ in range(40):  # nuclei
        cy, cx = rng.uniform(0, size, 2)
        base = rng.uniform(0, np.pi / 3)
        for arm in range(6):
            ang = base + arm * np.pi / 3
            length = rng.uniform(4, 18)
            y1, x1 = cy + length * np.sin(ang), cx + length * np.cos(ang)
            rr, cc, val = line_aa(int(cy), int(cx), int(y1), int(x1))
            ok = (rr >= 0) & (rr < size) & (cc >= 0) & (cc < size)
            strength = rng.uniform(0.4, 1)
            canvas[rr[ok], cc[ok]] = np.maximum(canvas[rr[ok], cc[ok]], val[ok] * strength)
            for frac in (0.35, 0.6, 0.85):  # side branches
                by, bx = cy + frac * (y1 - cy), cx + frac * (x1 - cx)
                for side in (-1, 1):
                    ba = ang + side * np.pi / 3
                    bl = length * (1 - frac) * 0.6
                    rr, cc, val = line_aa(
                        int(by), int(bx), int(by + bl * np.sin(ba)), int(bx + bl * np.cos(ba))
                    )
                    ok = (rr >= 0) & (rr < size) & (cc >= 0) & (cc < size)
                    canvas[rr[ok], cc[ok]] = np.maximum(canvas[rr[ok], cc[ok]], 0.6 * val[ok])
    return canvas


@functools.lru_cache(maxsize=1)
def frost_bank() -> np.ndarray:
    """(BANK_SIZE, TEXTURE_SIZE, TEXTURE_SIZE, 3) float textures on the 0..255 scale."""
    rng = np.random.default_rng(_BANK_SEED)
    bank = []
    for _ in range(BANK_SIZE):
        base = plasma_fractal(1, 256, 1.7, rng)[0, :TEXTURE_SIZE, :TEXTURE_SIZE]
        ridges = (1 - np.abs(2 * base - 1)) ** 4
        tex = 0.25 + 0.45 * base + 0.5 * ridges + 0.6 * _needles(TEXTURE_SIZE, rng)
        tex = ndimage.gaussian_filter(tex, 0.6, mode="wrap")
        tex = np.clip(tex / np.quantile(tex, 0.995), 0, 1)
        bank.append(tex[..., None] * _TINT * 255.0)
    return np.stack(bank)


def frost_crops(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random (size, size, 3) crops from random bank textures (0..255 floats)."""
    bank = frost_bank()
    which = rng.integers(0, BANK_SIZE, n)
    y0 = rng.integers(0, TEXTURE_SIZE - size, n)
    x0 = rng.integers(0, TEXTURE_SIZE - size, n)
    ar = np.arange(size)
    rows = (y0[:, None] + ar)[:, :, None]
    cols = (x0[:, None] + ar)[:, None, :]
    return bank[which[:, None, None], rows, cols]
