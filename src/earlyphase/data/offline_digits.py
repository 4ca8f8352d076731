"""Offline MNIST stand-in: scikit-learn's bundled handwritten digits at MNIST geometry.

``sklearn.datasets.load_digits`` ships 1,797 real 8x8 digits (UCI optical recognition set,
grey levels 0..16) inside the package, so no network is needed. Each digit is resized to
20x20 with bilinear interpolation and anti-aliasing and centred in a 28x28 frame with a
4-pixel black border, which is how MNIST digits are framed (20x20 box, centre of mass near
the centre). Intensities are mapped to 0..255 (white strokes on black, as in MNIST).
"""

from __future__ import annotations

import numpy as np

DIGITS_TOTAL = 1797
_BOX = 20
_PAD = 4


def digits_28x28() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as uint8 (N, 28, 28, 1) and their int64 labels, in sklearn's order."""
    from skimage.transform import resize
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = bunch.images.astype(np.float64) / 16.0  # (N, 8, 8) in [0, 1]
    big = resize(small, (len(small), _BOX, _BOX), order=1, anti_aliasing=True, mode="edge")
    big = np.clip(big, 0.0, 1.0)
    out = np.zeros((len(small), 28, 28, 1), dtype=np.uint8)
    out[:, _PAD : _PAD + _BOX, _PAD : _PAD + _BOX, 0] = np.round(big * 255).astype(np.uint8)
    return out, bunch.target.astype(np.int64)


def offline_digits(
    train_size: int | None = None, test_size: int | None = None, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Deterministic train/test split of the 28x28 digits.

    The 1,797 digits are permuted with ``seed``; the last ``test_size`` (default 360, about
    20 %) form the test split, the first ``train_size`` of the rest (default: all) the
    training split. Returns ``((train_x, train_y), (test_x, test_y))``.
    """
    test_size = 360 if test_size is None else int(test_size)
    if not 0 < test_size < DIGITS_TOTAL:
        raise ValueError(f"test_size must be in 1..{DIGITS_TOTAL - 1}, got {test_size}")
    available = DIGITS_TOTAL - test_size
    train_size = available if train_size is None else min(int(train_size), available)
    if train_size <= 0:
        raise ValueError(f"train_size must be positive, got {train_size}")
    images, labels = digits_28x28()
    order = np.random.default_rng(seed).permutation(DIGITS_TOTAL)
    test_idx = order[DIGITS_TOTAL - test_size :]
    train_idx = order[:train_size]
    return (images[train_idx], labels[train_idx]), (images[test_idx], labels[test_idx])
