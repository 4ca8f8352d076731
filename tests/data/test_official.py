"""Official -C archives: fetched from a local mirror, verified, extracted, loaded."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.data.errors import ChecksumError, CorruptDataError, UnsafeArchiveError
from earlyphase.data.loaders import available_corruptions, load_corrupted
from earlyphase.data.official import place_official
from earlyphase.data.prepare import prepare_corrupted

CIFAR_C = ("cifar10", "CIFAR-10-C.tar", "CIFAR-10-C", "cifar_c")
MNIST_C = ("mnist", "mnist_c.zip", "mnist_c", "mnist_c")


def _place(http_server, tmp_path, builders, archive, data, out, names, served=None, **kwargs):
    """Serve an official archive whose checksums are those of ``data`` (the mirror answers with
    ``served``, default ``data``) and place it at ``out`` through ``tmp_path / "raw"``."""
    dataset, filename, top_dir, kind = archive
    src = builders.source_for(data, filename, top_dir, kind)
    http_server.files["/" + src.path] = data if served is None else served
    place_official(
        dataset,
        out,
        tmp_path / "raw",
        names,
        mirror=http_server.base,
        progress=False,
        source=src,
        **kwargs,
    )


def test_cifar_c_archive_is_verified_extracted_and_loaded(http_server, tmp_path, builders):
    data = builders.tar_bytes(builders.cifar_c_members(n=4))
    out = tmp_path / "cifar10-c"
    _place(http_server, tmp_path, builders, CIFAR_C, data, out, list(builders.CIFAR_NAMES))
    assert (tmp_path / "raw" / "CIFAR-10-C.tar").is_file()
    assert available_corruptions(out, "cifar_c") == sorted(builders.CIFAR_NAMES)
    full = np.load(out / "contrast.npy")
    x, y = load_corrupted(out, "cifar_c", "contrast", 3)
    np.testing.assert_array_equal(x, full[8:12])
    assert y.dtype == np.int64 and list(y) == [0, 1, 2, 3]


def test_mnist_c_archive_is_verified_extracted_and_loaded(http_server, tmp_path, builders):
    data = builders.zip_bytes(builders.mnist_c_members(n=6))
    out = tmp_path / "mnist-c"
    _place(http_server, tmp_path, builders, MNIST_C, data, out, list(builders.MNIST_NAMES))
    x, y = load_corrupted(out, "mnist_c", "stripe", 1)
    assert x.shape == (6, 28, 28, 1) and y.dtype == np.int64


@pytest.mark.parametrize("damage", ["truncated", "bitflip", "wrong"])
def test_damaged_archive_never_lands_in_place(http_server, tmp_path, builders, damage):
    good = builders.tar_bytes(builders.cifar_c_members(n=4))
    if damage == "truncated":
        served = good[: len(good) // 2]
    elif damage == "bitflip":
        served = bytearray(good)
        served[len(served) // 3] ^= 0x80
        served = bytes(served)
    else:
        served = builders.tar_bytes(builders.cifar_c_members(n=4, seed=1))
    out = tmp_path / "cifar10-c"
    with pytest.raises(ChecksumError):
        _place(http_server, tmp_path, builders, CIFAR_C, good, out, ["contrast"], served=served, retries=1)
    assert not out.exists()
    assert not (tmp_path / "raw" / "CIFAR-10-C.tar").exists()
    assert list(tmp_path.glob(".cifar10-c*")) == []  # no temporary leftovers


def test_traversal_archive_is_refused_even_with_matching_checksum(http_server, tmp_path, builders):
    members = builders.cifar_c_members(n=4)
    members["CIFAR-10-C/../../escaped.npy"] = b"x"
    data = builders.tar_bytes(members)
    out = tmp_path / "work" / "cifar10-c"
    with pytest.raises(UnsafeArchiveError):
        _place(http_server, tmp_path, builders, CIFAR_C, data, out, ["contrast"])
    assert not out.exists()
    assert not list(tmp_path.rglob("escaped.npy"))


def test_archive_with_misshaped_file_is_rejected(http_server, tmp_path, builders):
    members = builders.cifar_c_members(n=4)
    members["CIFAR-10-C/contrast.npy"] = builders._npy(np.zeros((19, 32, 32, 3), np.uint8))
    data = builders.tar_bytes(members)
    with pytest.raises(CorruptDataError, match="contrast.npy"):
        _place(http_server, tmp_path, builders, CIFAR_C, data, tmp_path / "c", ["contrast"])
    assert not (tmp_path / "c").exists()


def test_prepare_corrupted_official_offline_names_the_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("EARLYPHASE_MIRROR", "http://127.0.0.1:1")
    import earlyphase.data.download as dl

    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    with pytest.raises(OSError) as info:
        prepare_corrupted(
            "cifar10",
            "official",
            tmp_path / "clean",
            tmp_path / "c",
            tmp_path / "raw",
            ["contrast"],
        )
    msg = str(info.value)
    assert "http://127.0.0.1:1/records/2535967/files/CIFAR-10-C.tar" in msg
    assert "56bf5dcef84df0e2308c6dcbcbbd8499" in msg
    assert str(tmp_path / "raw" / "CIFAR-10-C.tar") in msg
