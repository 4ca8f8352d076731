"""Geometric corruptions: affine warps (MNIST-C) and the elastic transform (CIFAR-C).

All warps are expressed as an inverse map: output pixel at (x=col, y=row) samples the
input at ``A @ (x, y) + t`` with bilinear interpolation (``scipy.ndimage.map_coordinates``,
order 1). Unlike OpenCV's ``warpAffine`` no 1/32-pixel quantisation of the sampling
positions is applied.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def affine_sample(
    x: np.ndarray, a: np.ndarray, t: np.ndarray, mode: str, cval: float = 0.0
) -> np.ndarray:
    """Warp each image of (N, H, W, C) by its own inverse map ``A`` (N, 2, 2), ``t`` (N, 2)."""
    n, h, w, c = x.shape
    yy, xx = np.meshgrid(
        np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
    )
    src_x = a[:, 0, 0, None, None] * xx + a[:, 0, 1, None, None] * yy + t[:, 0, None, None]
    src_y = a[:, 1, 0, None, None] * xx + a[:, 1, 1, None, None] * yy + t[:, 1, None, None]
    return sample(x, src_y, src_x, mode, cval)


def sample(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray, mode: str, cval: float = 0.0):
    """Bilinear sampling of (N, H, W, C) at per-image positions (N, H, W) (all channels)."""
    n, h, w, c = x.shape
    coords = np.empty((4, n, h, w, c))
    coords[0] = np.arange(n)[:, None, None, None]
    coords[1] = src_y[..., None]
    coords[2] = src_x[..., None]
    coords[3] = np.arange(c)[None, None, None, :]
    return ndimage.map_coordinates(x, coords, order=1, mode=mode, cval=cval)


def centred(a: np.ndarray, centre: float) -> np.ndarray:
    """Translation that keeps the point (centre, centre) fixed under the linear maps ``a``."""
    cvec = np.array([centre, centre])
    return cvec[None] - a @ cvec


def shear_matrix(shear: np.ndarray) -> np.ndarray:
    """skimage (<= 0.18) ``AffineTransform(shear=s)`` linear part: [[1, -sin s], [0, cos s]]."""
    z = np.zeros_like(shear)
    return np.stack(
        [np.stack([np.ones_like(shear), -np.sin(shear)], -1), np.stack([z, np.cos(shear)], -1)], -2
    )


def rotation_matrix(angle: np.ndarray) -> np.ndarray:
    """``AffineTransform(rotation=r)`` linear part: [[cos r, -sin r], [sin r, cos r]]."""
    return np.stack(
        [
            np.stack([np.cos(angle), -np.sin(angle)], -1),
            np.stack([np.sin(angle), np.cos(angle)], -1),
        ],
        -2,
    )


def affine_from_points(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Affine maps (N, 2, 2), (N, 2) taking 3 points ``src`` (3, 2) to ``dst`` (N, 3, 2)."""
    design = np.concatenate([src, np.ones((3, 1))], axis=1)  # (3, 3)
    sol = np.linalg.solve(design[None], dst)  # (N, 3, 2): rows = [a_x; a_y; t]
    m = np.transpose(sol, (0, 2, 1))  # (N, 2, 3)
    return m[:, :, :2], m[:, :, 2]


def elastic_transform(
    x: np.ndarray, alpha: float, sigma: float, affine_jitter: float, rng: np.random.Generator
) -> np.ndarray:
    """Random affine warp followed by a smooth random displacement field (Simard et al.).

    As in ``make_cifar_c.py``: the affine map moves three points around the centre by
    U(-jitter, jitter) (reflect-101 borders); the displacements are U(-1, 1) noise smoothed by
    a Gaussian of ``sigma`` (reflect, truncate 3) and scaled by ``alpha``, applied with
    half-sample-symmetric ("reflect") borders.
    """
    n, h, w, _ = x.shape
    centre = np.array([w // 2, h // 2], dtype=np.float64)
    size = min(h, w) // 3
    pts = np.array([centre + size, [centre[0] + size, centre[1] - size], centre - size])
    moved = pts[None] + rng.uniform(-affine_jitter, affine_jitter, size=(n, 3, 2))
    a_fwd, t_fwd = affine_from_points(pts, moved)
    a_inv = np.linalg.inv(a_fwd)
    t_inv = -np.einsum("nij,nj->ni", a_inv, t_fwd)
    warped = affine_sample(x, a_inv, t_inv, mode="mirror")
    noise = rng.uniform(-1, 1, size=(2, n, h, w))
    if sigma > 0:
        noise = ndimage.gaussian_filter(noise, (0, 0, sigma, sigma), mode="reflect", truncate=3)
    dx, dy = noise[0] * alpha, noise[1] * alpha
    yy, xx = np.meshgrid(
        np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij"
    )
    return sample(warped, yy + dy, xx + dx, mode="reflect")
