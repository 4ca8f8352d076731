"""Batched diamond-square plasma fractal (the height map behind the fog corruption).

Same recurrence as the ``plasma_fractal`` of Hendrycks' scripts: corners start at 0, each
level sets square centres and diamond centres to the mean of their four neighbours
(with wrap-around) plus U(-wibble, wibble) * wibble noise, and ``wibble`` is divided by
``wibbledecay`` per level; the map is finally normalised to [0, 1] per image.
"""

from __future__ import annotations

import numpy as np


def plasma_fractal(n: int, mapsize: int, wibbledecay: float, rng: np.random.Generator):
    """``n`` independent (mapsize, mapsize) height maps in [0, 1]; mapsize a power of 2."""
    if mapsize & (mapsize - 1):
        raise ValueError("mapsize must be a power of two")
    m = np.zeros((n, mapsize, mapsize))
    step = mapsize
    wibble = 100.0

    def noisy_mean(total):
        return total / 4 + wibble * rng.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = m[:, 0::step, 0::step]
        acc = corners + np.roll(corners, -1, axis=1)
        acc = acc + np.roll(acc, -1, axis=2)
        m[:, half::step, half::step] = noisy_mean(acc)
        centres = m[:, half::step, half::step]
        corners = m[:, 0::step, 0::step]
        row_sum = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        m[:, 0::step, half::step] = noisy_mean(row_sum)
        col_sum = centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        m[:, half::step, 0::step] = noisy_mean(col_sum)
        step //= 2
        wibble /= wibbledecay
    m -= m.min(axis=(1, 2), keepdims=True)
    return m / m.max(axis=(1, 2), keepdims=True)
