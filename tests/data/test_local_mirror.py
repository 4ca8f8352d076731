"""Local mirrors (``source: local``): verified raw files, Fashion-MNIST, Fashion-MNIST-C.

The real Fashion-MNIST files come from Debian's ``dataset-fashion-mnist`` (recompressed, so
only their decompressed content matches a published checksum); tests that need them are
skipped with the reason when the package is not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from earlyphase.data import local_mirror
from earlyphase.data.errors import ChecksumError, CorruptDataError, MissingDataError
from earlyphase.data.loaders import load_corrupted
from earlyphase.data.official import check_mnist_c, place_local
from earlyphase.data.prepare import prepare_clean, prepare_corrupted
from earlyphase.data.registry import MNIST_C_BENCHMARK
from earlyphase.data.sources import ArchiveSource

from .helpers import mnist_c_members, zip_bytes

DEBIAN = Path(local_mirror.DEFAULT_PATHS["fashion_mnist"])
needs_fashion_mnist = pytest.mark.skipif(
    not (DEBIAN / "train-labels-idx1-ubyte.gz").is_file(),
    reason=f"Fashion-MNIST is not installed in {DEBIAN} (apt-get install dataset-fashion-mnist)",
)


def _idx(array: np.ndarray) -> bytes:
    """An IDX file written independently of the parser: magic 0x08 (ubyte), ndim, sizes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _snapshot(folder: Path) -> dict[str, tuple[int, float]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime) for p in folder.iterdir()}


@pytest.fixture()
def tiny_idx(tmp_path, monkeypatch):
    """A four-file IDX mirror of 12 train / 5 test images with checksums registered for it:
    the gzipped files match their archive checksum; the content checksum is registered too."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28)), "train-labels-idx1-ubyte": np.arange(12) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28)), "t10k-labels-idx1-ubyte": np.arange(5),
    }
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = {}
    for name, array in arrays.items():
        content = _idx(array)
        packed = gzip.compress(content, mtime=0)
        (mirror / f"{name}.gz").write_bytes(packed)
        files[name] = local_mirror.RawFile(name, hashlib.md5(packed).hexdigest(), hashlib.md5(content).hexdigest())
    monkeypatch.setitem(local_mirror.IDX_FILES, "mnist", {
        "train": (files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]),
        "test": (files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"]),
    })
    return mirror, arrays


def test_gzipped_files_with_the_download_checksum_are_read(tiny_idx):
    mirror, arrays = tiny_idx
    images, labels = local_mirror.local_split("mnist", mirror, train=True)
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
    assert np.array_equal(images[..., 0], arrays["train-images-idx3-ubyte"])
    assert labels.dtype == np.int64 and np.array_equal(labels, arrays["train-labels-idx1-ubyte"])


def test_recompressed_and_uncompressed_files_are_verified_by_their_content(tiny_idx):
    mirror, arrays = tiny_idx
    # Recompressed at another level (different .gz bytes, same content), and one file unpacked.
    name = "t10k-images-idx3-ubyte"
    content = gzip.decompress((mirror / f"{name}.gz").read_bytes())
    (mirror / f"{name}.gz").write_bytes(gzip.compress(content, compresslevel=1, mtime=123))
    labels = mirror / "t10k-labels-idx1-ubyte.gz"
    (mirror / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    images, labels = local_mirror.local_split("mnist", mirror, train=False)
    assert np.array_equal(images[..., 0], arrays[name])
    assert np.array_equal(labels, arrays["t10k-labels-idx1-ubyte"])


def test_a_torchvision_root_is_a_mirror_as_it_is(tiny_idx, tmp_path):
    mirror, _ = tiny_idx
    root = tmp_path / "torchvision-root"
    shutil.copytree(mirror, root / "MNIST" / "raw")
    images, _ = local_mirror.local_split("mnist", root, train=True)
    assert len(images) == 12


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_truncated_or_altered_files_are_rejected_and_left_in_place(tiny_idx, damage):
    mirror, _ = tiny_idx
    target = mirror / "train-labels-idx1-ubyte.gz"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[: len(data) // 2])
    else:  # the same gzip framing around one altered label
        content = bytearray(gzip.decompress(data))
        content[-1] ^= 1
        target.write_bytes(gzip.compress(bytes(content), mtime=0))
    before = _snapshot(mirror)
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz.*not used"):
        local_mirror.local_split("mnist", mirror, train=True)
    assert _snapshot(mirror) == before  # nothing moved, renamed or deleted in the mirror


def test_a_missing_file_names_the_file_and_its_checksum(tiny_idx):
    mirror, _ = tiny_idx
    (mirror / "t10k-labels-idx1-ubyte.gz").unlink()
    expected = local_mirror.IDX_FILES["mnist"]["test"][1].archive_md5
    with pytest.raises(MissingDataError, match=f"t10k-labels-idx1-ubyte.gz.*{expected}"):
        local_mirror.local_split("mnist", mirror, train=False)


def test_a_file_that_is_not_idx_is_a_clear_error(tmp_path):
    with pytest.raises(CorruptDataError, match="not an IDX file"):
        local_mirror.parse_idx(b"\x00\x00\x08\x01" + b"\x00" * 3, 3, tmp_path / "x")
    with pytest.raises(CorruptDataError, match="data bytes"):
        local_mirror.parse_idx(_idx(np.zeros((2, 3, 3)))[:-1], 3, tmp_path / "x")


def test_prepare_clean_keeps_the_first_images_of_a_subset(tiny_idx, tmp_path):
    mirror, arrays = tiny_idx
    out = tmp_path / "clean"
    prepare_clean("mnist", "local", out, tmp_path / "raw", path=str(mirror),
                  subset={"train_size": 7, "test_size": 3})
    train = np.load(out / "train_images.npy")
    assert train.shape == (7, 28, 28, 1)
    assert np.array_equal(train[..., 0], arrays["train-images-idx3-ubyte"][:7])
    assert np.load(out / "test_labels.npy").tolist() == [0, 1, 2]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["source"] == "local" and meta["path"] == str(mirror) and meta["train_size"] == 7


@needs_fashion_mnist
def test_debian_fashion_mnist_is_accepted_by_its_content_checksums():
    raw = local_mirror.IDX_FILES["fashion_mnist"]["train"][1]
    packed = (DEBIAN / f"{raw.name}.gz").read_bytes()
    assert hashlib.md5(packed).hexdigest() != raw.archive_md5  # recompressed: only the content matches
    images, labels = local_mirror.local_split("fashion_mnist", DEBIAN, train=False)
    assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10
    _, train_labels = local_mirror.local_split("fashion_mnist", DEBIAN, train=True)
    assert np.bincount(train_labels).tolist() == [6000] * 10


@needs_fashion_mnist
@pytest.mark.parametrize("damage", ["truncate", "append"])
def test_damaged_copies_of_the_real_files_are_rejected(tmp_path, damage):
    mirror = tmp_path / "copy"
    shutil.copytree(DEBIAN, mirror)
    target = mirror / "t10k-labels-idx1-ubyte.gz"
    data = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(data[:-100])
    else:  # a valid gzip of content with one extra byte
        target.write_bytes(gzip.compress(gzip.decompress(data) + b"\x00"))
    with pytest.raises(ChecksumError, match="15d484375f8d13e6eb1aabb0c3f46965"):
        local_mirror.local_split("fashion_mnist", mirror, train=False)


@pytest.fixture()
def fashion_like_clean(tmp_path) -> Path:
    """A prepared 28x28x1 clean split (real Fashion-MNIST images when installed)."""
    out = tmp_path / "clean"
    out.mkdir()
    if (DEBIAN / "t10k-images-idx3-ubyte.gz").is_file():
        images, labels = local_mirror.local_split("fashion_mnist", DEBIAN, train=False)
        images, labels = images[:20], labels[:20]
    else:
        rng = np.random.default_rng(1)
        images, labels = rng.integers(0, 256, (20, 28, 28, 1), dtype=np.uint8), np.arange(20) % 10
    for split in ("train", "test"):
        np.save(out / f"{split}_images.npy", images)
        np.save(out / f"{split}_labels.npy", labels.astype(np.int64))
    return out


def test_fashion_mnist_c_is_generated_in_the_official_mnist_c_layout(fashion_like_clean, tmp_path):
    out = tmp_path / "fashion_mnist_c"
    corruptions = ["shot_noise", "rotate", "fog", "zigzag"]
    prepare_corrupted("fashion_mnist", "generated", fashion_like_clean, out, tmp_path / "raw", corruptions)
    assert check_mnist_c(out, corruptions) == 20  # <corruption>/test_images.npy + test_labels.npy
    clean = np.load(fashion_like_clean / "test_images.npy")
    for corruption in corruptions:
        images, labels = load_corrupted(out, "mnist_c", corruption, 1)
        assert images.shape == clean.shape and images.dtype == np.uint8
        assert np.array_equal(labels, np.load(fashion_like_clean / "test_labels.npy"))
        assert not np.array_equal(images, clean), corruption
    assert json.loads((out / "meta.json").read_text())["dataset"] == "fashion_mnist"
    with pytest.raises(ValueError, match="has no corruption"):
        prepare_corrupted("fashion_mnist", "generated", fashion_like_clean, tmp_path / "x", tmp_path / "raw",
                          ["gaussian_blur"])  # a CIFAR-C corruption
    assert set(MNIST_C_BENCHMARK) >= set(corruptions)


def _archive_source(data: bytes) -> ArchiveSource:
    return ArchiveSource(filename="mnist_c.zip", path="unused", md5=hashlib.md5(data).hexdigest(),
                         sha256=hashlib.sha256(data).hexdigest(), size=len(data), top_dir="mnist_c",
                         corruption_kind="mnist_c")


def test_a_released_archive_in_a_mirror_is_verified_and_installed(tmp_path):
    data = zip_bytes(mnist_c_members())
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "mnist_c.zip").write_bytes(data)
    place_local("mnist", tmp_path / "c", mirror, ["shot_noise", "stripe"], source=_archive_source(data))
    assert np.load(tmp_path / "c" / "stripe" / "test_images.npy").shape == (6, 28, 28, 1)


def test_an_altered_archive_in_a_mirror_is_refused_and_not_moved(tmp_path):
    data = zip_bytes(mnist_c_members())
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "mnist_c.zip").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    before = _snapshot(mirror)
    with pytest.raises(ChecksumError, match="not used"):
        place_local("mnist", tmp_path / "c", mirror, ["stripe"], source=_archive_source(data))
    assert _snapshot(mirror) == before and not (tmp_path / "c").exists()
    os.remove(mirror / "mnist_c.zip")
    with pytest.raises(MissingDataError, match="mnist_c.zip"):
        place_local("mnist", tmp_path / "c", mirror, ["stripe"], source=_archive_source(data))
