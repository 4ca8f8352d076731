"""Dataset registry and the offline stand-ins (deterministic, well-formed, learnable)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier
from sklearn.neighbors import NearestCentroid

from earlyphase.data.offline_digits import offline_digits
from earlyphase.data.offline_shapes import offline_shapes
from earlyphase.data.registry import DATASETS, get_spec


def test_registry_entries():
    assert set(DATASETS) == {"mnist", "fashion_mnist", "cifar10", "cifar100"}
    assert DATASETS["fashion_mnist"].corruption_kind == "mnist_c"  # Fashion-MNIST-C: MNIST-C corruptions
    assert DATASETS["mnist"].image_shape == (28, 28, 1)
    assert DATASETS["mnist"].severities == (1,)
    assert DATASETS["cifar100"].num_classes == 100
    for spec in DATASETS.values():
        assert len(spec.benchmark_corruptions) == 15
    assert len(DATASETS["cifar10"].all_corruptions) == 19


def test_unknown_dataset_error_lists_valid_names():
    with pytest.raises(ValueError, match="cifar10, cifar100, fashion_mnist, mnist"):
        get_spec("svhn")
    with pytest.raises(KeyError):
        DATASETS["svhn"]


def test_digits_split_is_deterministic_and_disjoint():
    (a, ya), (b, yb) = offline_digits(train_size=500, test_size=200, seed=0)
    (a2, _), (b2, _) = offline_digits(train_size=500, test_size=200, seed=0)
    assert a.shape == (500, 28, 28, 1) and b.shape == (200, 28, 28, 1) and a.dtype == np.uint8
    assert np.array_equal(a, a2) and np.array_equal(b, b2)
    assert ya.dtype == np.int64 and set(ya) == set(range(10))
    rows = {r.tobytes() for r in a}
    assert not any(r.tobytes() in rows for r in b)  # no test image in train
    assert a[:, :4].max() == 0 and a[:, :, -4:].max() == 0  # MNIST-like black border
    (c, _), _ = offline_digits(train_size=500, test_size=200, seed=1)
    assert not np.array_equal(a, c)


def test_digits_are_learnable():
    (a, ya), (b, yb) = offline_digits(test_size=300)
    acc = (
        NearestCentroid()
        .fit(a.reshape(len(a), -1) / 255.0, ya)
        .score(b.reshape(len(b), -1) / 255.0, yb)
    )
    assert acc > 0.75  # chance is 0.1


def test_shapes_are_deterministic_and_balanced():
    x, y = offline_shapes(300, 10, seed=0)
    x2, y2 = offline_shapes(300, 10, seed=0)
    assert x.shape == (300, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert np.bincount(y).tolist() == [30] * 10
    xt, _ = offline_shapes(300, 10, seed=0, split="test")
    assert not np.array_equal(x, xt)
    assert x.std() > 30  # not a flat image set


def _features(x):
    """8x8 average-pooled colour images: enough for a linear model, fast to fit."""
    n = len(x)
    return x.reshape(n, 8, 4, 8, 4, 3).mean((2, 4)).reshape(n, -1) / 255.0


@pytest.mark.parametrize("classes,n_train,threshold", [(10, 1500, 0.4), (100, 3000, 0.07)])
def test_shapes_are_learnable(classes, n_train, threshold):
    x, y = offline_shapes(n_train, classes, seed=0)
    xt, yt = offline_shapes(1000, classes, seed=0, split="test")
    clf = RidgeClassifier(alpha=1.0).fit(_features(x), y)  # linear baseline
    acc = clf.score(_features(xt), yt)
    assert acc > threshold  # chance is 1/classes
    assert len(np.unique(y)) == classes
