"""prepare_clean / prepare_corrupted (generated) and the loaders, end to end on tiny sets."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import earlyphase.data.generate as generate
from earlyphase.data.corruptions.cifar_c import CIFAR_C_CORRUPTIONS
from earlyphase.data.errors import CorruptDataError, MissingDataError
from earlyphase.data.loaders import available_corruptions, load_clean, load_corrupted
from earlyphase.data.prepare import prepare_clean, prepare_corrupted


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.npy"))
    }


@pytest.fixture(scope="module")
def cifar_clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("c10")
    prepare_clean(
        "cifar10", "offline", root / "clean", root / "raw", {"train_size": 60, "test_size": 40}
    )
    return root / "clean"


@pytest.fixture(scope="module")
def mnist_clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    prepare_clean(
        "mnist", "offline", root / "clean", root / "raw", {"train_size": 100, "test_size": 30}
    )
    return root / "clean"


def test_clean_layout_and_determinism(cifar_clean, tmp_path):
    x, y = load_clean(cifar_clean, "train")
    assert isinstance(x, np.memmap) and x.shape == (60, 32, 32, 3) and x.dtype == np.uint8
    assert y.dtype == np.int64 and y.shape == (60,)
    assert load_clean(cifar_clean, "test")[0].shape == (40, 32, 32, 3)
    prepare_clean(
        "cifar10",
        "offline",
        tmp_path / "again",
        tmp_path / "raw",
        {"train_size": 60, "test_size": 40},
    )
    assert _digest(tmp_path / "again") == _digest(cifar_clean)


def test_mnist_clean_layout(mnist_clean):
    x, y = load_clean(mnist_clean, "test")
    assert x.shape == (30, 28, 28, 1) and y.dtype == np.int64


def test_generated_cifar_c_layout_order_and_worker_independence(cifar_clean, tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "CHUNK", 16)  # several chunks per severity
    names = ["contrast", "gaussian_noise"]
    prepare_corrupted(
        "cifar10",
        "generated",
        cifar_clean,
        tmp_path / "w1",
        tmp_path / "raw",
        names,
        seed=0,
        workers=1,
    )
    prepare_corrupted(
        "cifar10",
        "generated",
        cifar_clean,
        tmp_path / "w2",
        tmp_path / "raw",
        names,
        seed=0,
        workers=2,
    )
    assert _digest(tmp_path / "w1") == _digest(tmp_path / "w2")
    prepare_corrupted(
        "cifar10",
        "generated",
        cifar_clean,
        tmp_path / "s1",
        tmp_path / "raw",
        names,
        seed=1,
        workers=1,
    )
    d0, d1 = _digest(tmp_path / "w1"), _digest(tmp_path / "s1")
    assert d0["contrast.npy"] == d1["contrast.npy"]  # deterministic corruption
    assert d0["gaussian_noise.npy"] != d1["gaussian_noise.npy"]

    raw = np.load(tmp_path / "w1" / "contrast.npy")
    assert raw.shape == (5 * 40, 32, 32, 3) and raw.dtype == np.uint8
    clean_x, clean_y = load_clean(cifar_clean, "test")
    assert np.array_equal(np.load(tmp_path / "w1" / "labels.npy"), np.tile(clean_y, 5))
    for s in range(1, 6):
        x, y = load_corrupted(tmp_path / "w1", "cifar_c", "contrast", s)
        assert np.array_equal(y, clean_y)
        expected = CIFAR_C_CORRUPTIONS["contrast"](np.asarray(clean_x), s, None)
        assert np.array_equal(x, expected)  # image i of every block is clean image i
    assert available_corruptions(tmp_path / "w1", "cifar_c") == sorted(names)


def test_generated_mnist_c_layout(mnist_clean, tmp_path):
    prepare_corrupted(
        "mnist",
        "generated",
        mnist_clean,
        tmp_path / "mc",
        tmp_path / "raw",
        ["stripe", "shot_noise"],
    )
    x, y = load_corrupted(tmp_path / "mc", "mnist_c", "stripe", 1)
    clean_x, clean_y = load_clean(mnist_clean, "test")
    assert x.shape == (30, 28, 28, 1) and np.array_equal(y, clean_y)
    assert np.array_equal(x[:, :, :7], 255 - np.asarray(clean_x)[:, :, :7])
    assert available_corruptions(tmp_path / "mc", "mnist_c") == ["shot_noise", "stripe"]
    with pytest.raises(ValueError, match="single severity"):
        load_corrupted(tmp_path / "mc", "mnist_c", "stripe", 2)


def test_interrupted_generation_leaves_nothing(cifar_clean, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(CIFAR_C_CORRUPTIONS, "fog", boom)
    out = tmp_path / "c10c"
    with pytest.raises(KeyboardInterrupt):
        prepare_corrupted(
            "cifar10", "generated", cifar_clean, out, tmp_path / "raw", ["contrast", "fog"]
        )
    assert list(tmp_path.iterdir()) == []  # neither out nor a temporary directory


def test_unknown_names_are_rejected(cifar_clean, tmp_path):
    with pytest.raises(ValueError, match="zigzag"):
        prepare_corrupted(
            "cifar10", "generated", cifar_clean, tmp_path / "x", tmp_path / "r", ["zigzag"]
        )
    with pytest.raises(ValueError, match="valid datasets"):
        prepare_clean("imagenet", "offline", tmp_path / "x", tmp_path / "r")
    with pytest.raises(ValueError, match="source"):
        prepare_clean("mnist", "kaggle", tmp_path / "x", tmp_path / "r")


def test_missing_and_truncated_files_name_the_file(cifar_clean, tmp_path):
    import shutil

    broken = tmp_path / "clean"
    shutil.copytree(cifar_clean, broken)
    (broken / "test_labels.npy").unlink()
    with pytest.raises(MissingDataError, match="test_labels.npy.*snakemake"):
        load_clean(broken, "test")
    data = (broken / "train_images.npy").read_bytes()
    (broken / "train_images.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match="train_images.npy.*truncated"):
        load_clean(broken, "train")
    with pytest.raises(MissingDataError, match="fog.npy"):
        load_corrupted(tmp_path, "cifar_c", "fog", 1)
