"""CIFAR-C corruptions: shapes, determinism, severity ordering and spot checks of the maths."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.data.corruptions import blur
from earlyphase.data.corruptions.cifar_c import CIFAR_C_CORRUPTIONS
from earlyphase.data.offline_shapes import offline_shapes
from earlyphase.data.registry import CIFAR_C_BENCHMARK, CIFAR_C_EXTRA

DETERMINISTIC = {
    "contrast",
    "brightness",
    "saturate",
    "jpeg_compression",
    "pixelate",
    "gaussian_blur",
    "defocus_blur",
    "zoom_blur",
}
# corruptions whose distortion is not monotone in severity under the published parameters,
# each tested with its own measure below
SPECIAL = {"glass_blur", "motion_blur", "frost", "spatter", "saturate", "elastic_transform"}


@pytest.fixture(scope="module")
def images():
    x, _ = offline_shapes(16, 10, seed=3, split="test")
    return x


@pytest.fixture(scope="module")
def outputs(images):
    """Every corruption at every severity, each with the same seed (0)."""
    return {
        (name, s): fn(images, s, np.random.default_rng(0))
        for name, fn in CIFAR_C_CORRUPTIONS.items()
        for s in range(1, 6)
    }


def psnr(a, b):
    mse = ((a.astype(float) - b.astype(float)) ** 2).reshape(len(a), -1).mean(1)
    return float(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10))))


def pearson(a, b):
    a = a.reshape(len(a), -1).astype(float)
    b = b.reshape(len(b), -1).astype(float)
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    return float(np.mean((a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))))


def test_registry_covers_all_19():
    assert set(CIFAR_C_CORRUPTIONS) == set(CIFAR_C_BENCHMARK) | set(CIFAR_C_EXTRA)
    assert len(CIFAR_C_CORRUPTIONS) == 19


@pytest.mark.parametrize("name", sorted(CIFAR_C_CORRUPTIONS))
def test_shape_dtype_and_change(images, outputs, name):
    for s in range(1, 6):
        y = outputs[name, s]
        assert y.shape == images.shape and y.dtype == np.uint8
        assert not np.array_equal(y, images), (name, s)


@pytest.mark.parametrize("name", sorted(CIFAR_C_CORRUPTIONS))
def test_seeding(images, outputs, name):
    fn = CIFAR_C_CORRUPTIONS[name]
    again = fn(images, 4, np.random.default_rng(0))
    assert np.array_equal(again, outputs[name, 4])
    other = fn(images, 4, np.random.default_rng(1))
    assert np.array_equal(other, again) == (name in DETERMINISTIC)


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_each_image_is_corrupted_independently_of_its_batch(images, name):
    fn = CIFAR_C_CORRUPTIONS[name]
    full = fn(images, 3, np.random.default_rng(0))
    perm = np.random.default_rng(5).permutation(len(images))
    assert np.array_equal(fn(images[perm], 3, np.random.default_rng(0)), full[perm])


@pytest.mark.parametrize("name", sorted(set(CIFAR_C_CORRUPTIONS) - SPECIAL))
def test_psnr_strictly_decreases_with_severity(images, outputs, name):
    values = [psnr(images, outputs[name, s]) for s in range(1, 6)]
    assert all(a > b for a, b in zip(values[:-1], values[1:], strict=True)), values


def test_glass_blur_more_shuffle_passes_distort_more(images, outputs):
    # sigmas .05/.25/.4/.25/.4 with 1,1,1,2,2 passes: a larger sigma smooths the shuffle
    # noise away (PSNR rises from 1 to 3), so compare severities with equal sigma.
    p = {s: psnr(images, outputs["glass_blur", s]) for s in range(1, 6)}
    assert p[4] < p[2] and p[5] < p[3]
    assert max(p.values()) < 30  # every severity is a strong distortion


def test_motion_blur_ordering(images, outputs):
    # (6,1) (6,1.5) (6,2) (8,2) (9,2.5): severities 3 and 4 share sigma 2 and only differ in
    # kernel taps 13..16 whose weights are below exp(-21), so they are equal up to rounding.
    p = [psnr(images, outputs["motion_blur", s]) for s in range(1, 6)]
    assert p[0] > p[1] > p[2] and p[3] > p[4]
    assert abs(p[2] - p[3]) < 0.05


def test_frost_correlation_decreases(images, outputs):
    # a*x + b*frost with a/b = 5, 3.3, 2.25, 2.1, 1.7: the image's share falls, but the
    # mean shift (and with it PSNR) does not grow monotonically; correlation does fall.
    c = [pearson(images, outputs["frost", s]) for s in range(1, 6)]
    assert all(a > b for a, b in zip(c[:-1], c[1:], strict=True)), c


def test_spatter_ordering_within_each_branch(images, outputs):
    # severities 1-3 are water droplets, 4-5 mud: ordered within each branch only
    p = [psnr(images, outputs["spatter", s]) for s in range(1, 6)]
    assert p[0] > p[1] > p[2] and p[3] > p[4]


def test_saturate_moves_saturation_as_published(images, outputs):
    from skimage.color import rgb2hsv

    def sat(x):
        return float(rgb2hsv(x.astype(float) / 255)[..., 1].mean())

    s0 = sat(images)
    s = [sat(outputs["saturate", k]) for k in range(1, 6)]
    assert s[1] < s[0] < s0  # x0.1 below x0.3 below clean
    assert s0 < s[2] < s[3] < s[4]  # x1.5 < x2+.1 < x2.5+.2


def test_elastic_transform_follows_published_parameters(images, outputs):
    # the affine jitter shrinks from 2.56 px to 0.96 px over the severities while the
    # elastic field stays sub-pixel, so PSNR *increases* with severity at 32 px.
    p = [psnr(images, outputs["elastic_transform", s]) for s in range(1, 6)]
    assert all(a < b for a, b in zip(p[:-1], p[1:], strict=True)), p


def test_gaussian_noise_has_the_published_sigma():
    x = np.full((64, 32, 32, 3), 128, np.uint8)
    y = CIFAR_C_CORRUPTIONS["gaussian_noise"](x, 5, np.random.default_rng(0))
    assert abs((y.astype(float) - 128).std() / 255 - 0.10) < 0.003


def test_impulse_noise_amount():
    x = np.full((64, 32, 32, 3), 128, np.uint8)
    y = CIFAR_C_CORRUPTIONS["impulse_noise"](x, 5, np.random.default_rng(0))
    assert abs((y == 255).mean() - 0.035) < 0.003 and abs((y == 0).mean() - 0.035) < 0.003
    assert ((y == 0) | (y == 255) | (y == 128)).all()


def test_contrast_scales_deviation_and_keeps_mean(images):
    y = CIFAR_C_CORRUPTIONS["contrast"](images, 5, None).astype(float)
    x = images.astype(float)
    assert np.allclose(y.mean((1, 2)), x.mean((1, 2)), atol=1.0)
    ratio = y.std((1, 2)) / x.std((1, 2))
    assert np.allclose(ratio, 0.15, atol=0.02)


def test_brightness_lifts_grey_by_published_amount():
    x = np.full((2, 32, 32, 3), 100, np.uint8)
    y = CIFAR_C_CORRUPTIONS["brightness"](x, 5, None)
    assert (y == 100 + int(0.3 * 255)).all()  # 176.5 truncated


def test_clipped_zoom_matches_scipy_zoom():
    from scipy import ndimage

    x = np.random.default_rng(0).random((3, 32, 32, 3))
    for f in (1.0, 1.07, 1.25, 1.75, 2.25):
        ch = int(np.ceil(32 / f))
        top = (32 - ch) // 2
        ref = np.stack(
            [ndimage.zoom(im[top : top + ch, top : top + ch], (f, f, 1), order=1) for im in x]
        )
        trim = (ref.shape[1] - 32) // 2
        np.testing.assert_allclose(
            blur.clipped_zoom(x, f), ref[:, trim : trim + 32, trim : trim + 32], atol=1e-12
        )


def test_disk_kernel_normalised_and_symmetric():
    for r, a in ((0.3, 0.4), (1, 0.2), (1.5, 0.1)):
        k = blur.disk_kernel(r, a)
        assert abs(k.sum() - 1) < 1e-9 and np.allclose(k, k.T) and np.allclose(k, k[::-1])


def test_motion_blur_is_a_one_sided_line():
    x = np.zeros((1, 32, 32, 1))
    x[0, 16, 16, 0] = 1.0
    y = blur.motion_blur(x, 6, 2.0, np.array([0.0]))[0, ..., 0]
    assert abs(y.sum() - 1) < 1e-9
    rows, cols = np.nonzero(y > 1e-12)
    assert (rows == 16).all() and cols.max() == 16 and cols.min() == 16 - 12
    assert np.all(np.diff(y[16, 4:17]) > 0)  # weight decays away from the source pixel


def test_rejects_bad_input(images):
    with pytest.raises(ValueError, match="severity"):
        CIFAR_C_CORRUPTIONS["contrast"](images, 6, None)
    with pytest.raises(ValueError, match="uint8"):
        CIFAR_C_CORRUPTIONS["contrast"](images.astype(np.float32), 1, None)
