"""MNIST-C corruptions: shapes, determinism and spot checks of each transformation."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.data.corruptions import strokes
from earlyphase.data.corruptions.mnist_c import MNIST_C_CORRUPTIONS
from earlyphase.data.offline_digits import offline_digits
from earlyphase.data.registry import MNIST_C_BENCHMARK

DETERMINISTIC = {"brightness", "stripe", "canny_edges", "scale"}


@pytest.fixture(scope="module")
def digits():
    _, (x, _) = offline_digits(test_size=16, seed=0)
    return x


def test_registry_is_the_15_benchmark_corruptions():
    assert list(MNIST_C_CORRUPTIONS) == list(MNIST_C_BENCHMARK)


@pytest.mark.parametrize("name", MNIST_C_BENCHMARK)
def test_shape_dtype_seed(digits, name):
    fn = MNIST_C_CORRUPTIONS[name]
    y = fn(digits, 1, np.random.default_rng(0))
    assert y.shape == digits.shape and y.dtype == np.uint8
    assert not np.array_equal(y, digits)
    assert np.array_equal(fn(digits, 1, np.random.default_rng(0)), y)
    assert np.array_equal(fn(digits, 1, np.random.default_rng(1)), y) == (name in DETERMINISTIC)


@pytest.mark.parametrize("name", MNIST_C_BENCHMARK)
def test_only_severity_one(digits, name):
    with pytest.raises(ValueError, match="severity"):
        MNIST_C_CORRUPTIONS[name](digits, 2, np.random.default_rng(0))


def test_stripe_and_brightness_exact(digits):
    y = MNIST_C_CORRUPTIONS["stripe"](digits, 1, None).astype(int)
    x = digits.astype(int)
    assert (y[:, :, :7] == 255 - x[:, :, :7]).all() and (y[:, :, 21:] == 255 - x[:, :, 21:]).all()
    assert (y[:, :, 7:21] == x[:, :, 7:21]).all()
    b = MNIST_C_CORRUPTIONS["brightness"](digits, 1, None).astype(int)
    assert (b == np.minimum(x + 127, 255)).all()  # floor(x + 127.5)


def test_translate_moves_by_three_pixels():
    x = np.zeros((8, 28, 28, 1), np.uint8)
    x[:, 14, 14] = 255
    y = MNIST_C_CORRUPTIONS["translate"](x, 1, np.random.default_rng(0))
    for img in y[..., 0]:
        r, c = np.unravel_index(img.argmax(), img.shape)
        assert img.max() == 255 and abs(r - 14) == 3 and abs(c - 14) == 3


def test_scale_shrinks_about_the_centre():
    x = np.zeros((1, 28, 28, 1), np.uint8)
    x[0, 4:24, 4:24] = 255  # 20 px box
    y = MNIST_C_CORRUPTIONS["scale"](x, 1, None)[0, ..., 0]
    rows = np.nonzero(y.max(1) > 127)[0]
    assert 13 <= rows.size <= 15  # 20 * 0.7 = 14
    assert abs(rows.mean() - 13.5) < 0.6


def test_rotate_and_shear_keep_the_centre_and_mass():
    x = np.zeros((6, 28, 28, 1), np.uint8)
    x[:, 8:20, 12:16] = 255
    mass = x.astype(float).sum((1, 2, 3))
    # a rotation keeps the area; the shear's inverse map [[1, -sin s], [0, cos s]] has
    # determinant cos(0.4), so the sheared digit covers 1/cos(0.4) = 1.086 times the area
    for name, expected in (("rotate", 1.0), ("shear", 1 / np.cos(0.4))):
        y = MNIST_C_CORRUPTIONS[name](x, 1, np.random.default_rng(0)).astype(float)
        assert (y[:, 13:15, 13:15] > 200).all()
        assert np.allclose(y.sum((1, 2, 3)) / mass, expected, rtol=0.02), name
        assert not np.array_equal(y, x)


def test_dotted_line_gaps(digits):
    blank = np.zeros_like(digits)
    y = MNIST_C_CORRUPTIONS["dotted_line"](blank, 1, np.random.default_rng(0))[..., 0]
    cols = np.nonzero(y.max(axis=(0, 1)))[0]
    assert cols.size and all((c // 2) % 2 == 1 for c in cols)


def test_line_intensity_profile():
    line = strokes.line_intensity([0.0], [10.0], [27.0], [10.0])[0]
    # columns floor(c0) .. ceil(c1)-1 are drawn, as in the original (column 27 stays empty)
    assert np.allclose(line[10, :27], 1.0) and line[10, 27] == 0 and (line[13] == 0).all()
    assert 0 < line[11, 5] < 1


def test_canny_draws_outline_only():
    x = np.zeros((1, 28, 28, 1), np.uint8)
    x[0, 8:20, 8:20] = 255
    y = MNIST_C_CORRUPTIONS["canny_edges"](x, 1, None)[0, ..., 0]
    assert set(np.unique(y)) <= {0, 255}
    assert y[12:16, 12:16].max() == 0 and y[:5].max() == 0 and y[7:21, 7:21].max() == 255
