"""Batched Canny edge detector following OpenCV's ``cv2.Canny`` defaults.

3x3 Sobel gradients (replicated borders), L1 gradient magnitude ``|gx| + |gy|``,
non-maximum suppression along the gradient direction quantised to 0/45/90/135 degrees,
and hysteresis: weak edges (>= low) are kept when 8-connected to a strong edge (>= high).
No Gaussian pre-smoothing, as in OpenCV. Used by the CIFAR-C spatter corruption.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def canny_like_opencv(img: np.ndarray, low: float, high: float) -> np.ndarray:
    """Boolean edge maps of a batch of single-channel images (N, H, W), values 0..255."""
    img = img.astype(np.float64)
    gx = ndimage.sobel(img, axis=2, mode="nearest")
    gy = ndimage.sobel(img, axis=1, mode="nearest")
    mag = np.abs(gx) + np.abs(gy)
    angle = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    sector = np.round(angle / 45.0).astype(int) % 4  # 0: horizontal gradient, 2: vertical
    offsets = {0: (0, 1), 1: (1, 1), 2: (1, 0), 3: (1, -1)}
    padded = np.pad(mag, ((0, 0), (1, 1), (1, 1)))
    h, w = mag.shape[1:]
    keep = np.zeros(mag.shape, dtype=bool)
    for s, (dy, dx) in offsets.items():
        fwd = padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        bwd = padded[:, 1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]
        keep |= (sector == s) & (mag > bwd) & (mag >= fwd)
    weak = keep & (mag >= low)
    strong = keep & (mag >= high)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True  # 8-connectivity inside each image, none across the batch
    labels, count = ndimage.label(weak, structure=structure)
    if count == 0:
        return weak
    has_strong = np.zeros(count + 1, dtype=bool)
    has_strong[np.unique(labels[strong])] = True
    has_strong[0] = False
    return has_strong[labels]
