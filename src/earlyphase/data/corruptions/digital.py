"""Digital corruptions: contrast, brightness, saturation, JPEG, pixelation.

Float functions take and return (N, H, W, C) arrays in [0, 1]; the JPEG and pixelate
functions work on uint8 because they go through PIL exactly as Hendrycks' script does.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage.color import hsv2rgb, rgb2hsv


def contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Scale deviations from each image's per-channel mean by ``factor``."""
    means = x.mean(axis=(1, 2), keepdims=True)
    return (x - means) * factor + means


def brightness_hsv(x: np.ndarray, shift: float) -> np.ndarray:
    """Add ``shift`` to the HSV value channel (clipped to [0, 1]) of RGB images."""
    hsv = rgb2hsv(x)
    hsv[..., 2] = np.clip(hsv[..., 2] + shift, 0.0, 1.0)
    return hsv2rgb(hsv)


def brightness_gray(x: np.ndarray, shift: float) -> np.ndarray:
    """Brightness for grey images: grey -> RGB -> HSV, V + shift, -> RGB -> grey.

    For a grey pixel (v, v, v) HSV is (0, 0, v) and the luma weights sum to 1, so the
    round trip MNIST-C performs is exactly ``clip(x + shift, 0, 1)``.
    """
    return np.clip(x + shift, 0.0, 1.0)


def saturate(x: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """Set the HSV saturation to ``clip(s * scale + offset, 0, 1)``."""
    hsv = rgb2hsv(x)
    hsv[..., 1] = np.clip(hsv[..., 1] * scale + offset, 0.0, 1.0)
    return hsv2rgb(hsv)


def _pil_mode(images: np.ndarray) -> str:
    return "L" if images.shape[-1] == 1 else "RGB"


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode each uint8 image with PIL's JPEG codec at ``quality``."""
    out = np.empty_like(images)
    mode = _pil_mode(images)
    for i, img in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(img[..., 0] if mode == "L" else img, mode).save(
            buf, "JPEG", quality=int(quality)
        )
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert(mode))
        out[i] = dec[..., None] if mode == "L" else dec
    return out


def pixelate(images: np.ndarray, factor: float) -> np.ndarray:
    """Downsample each uint8 image to ``int(size * factor)`` with a box filter, then back."""
    n, h, w, _ = images.shape
    small = (int(w * factor), int(h * factor))
    out = np.empty_like(images)
    mode = _pil_mode(images)
    for i, img in enumerate(images):
        pil = Image.fromarray(img[..., 0] if mode == "L" else img, mode)
        big = np.asarray(pil.resize(small, Image.BOX).resize((w, h), Image.BOX))
        out[i] = big[..., None] if mode == "L" else big
    return out
