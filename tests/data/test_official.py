"""Official -C archives: fetched from a local mirror, verified, extracted, loaded."""

from __future__ import annotations

import numpy as np
import pytest

from earlyphase.data.errors import ChecksumError, CorruptDataError, UnsafeArchiveError
from earlyphase.data.loaders import available_corruptions, load_corrupted
from earlyphase.data.official import place_official
from earlyphase.data.prepare import prepare_corrupted


def _serve(http_server, src, data):
    http_server.files["/" + src.path] = data
    return http_server.base


def test_cifar_c_archive_is_verified_extracted_and_loaded(http_server, tmp_path, builders):
    members = builders.cifar_c_members(n=4)
    data = builders.tar_bytes(members)
    src = builders.source_for(data, "CIFAR-10-C.tar", "CIFAR-10-C", "cifar_c")
    mirror = _serve(http_server, src, data)
    out = tmp_path / "cifar10-c"
    place_official(
        "cifar10",
        out,
        tmp_path / "raw",
        list(builders.CIFAR_NAMES),
        mirror=mirror,
        progress=False,
        source=src,
    )
    assert (tmp_path / "raw" / "CIFAR-10-C.tar").is_file()
    assert available_corruptions(out, "cifar_c") == sorted(builders.CIFAR_NAMES)
    full = np.load(out / "contrast.npy")
    x, y = load_corrupted(out, "cifar_c", "contrast", 3)
    np.testing.assert_array_equal(x, full[8:12])
    assert y.dtype == np.int64 and list(y) == [0, 1, 2, 3]


def test_mnist_c_archive_is_verified_extracted_and_loaded(http_server, tmp_path, builders):
    data = builders.zip_bytes(builders.mnist_c_members(n=6))
    src = builders.source_for(data, "mnist_c.zip", "mnist_c", "mnist_c")
    mirror = _serve(http_server, src, data)
    out = tmp_path / "mnist-c"
    place_official(
        "mnist",
        out,
        tmp_path / "raw",
        list(builders.MNIST_NAMES),
        mirror=mirror,
        progress=False,
        source=src,
    )
    x, y = load_corrupted(out, "mnist_c", "stripe", 1)
    assert x.shape == (6, 28, 28, 1) and y.dtype == np.int64


@pytest.mark.parametrize("damage", ["truncated", "bitflip", "wrong"])
def test_damaged_archive_never_lands_in_place(http_server, tmp_path, builders, damage):
    good = builders.tar_bytes(builders.cifar_c_members(n=4))
    src = builders.source_for(good, "CIFAR-10-C.tar", "CIFAR-10-C", "cifar_c")
    if damage == "truncated":
        served = good[: len(good) // 2]
    elif damage == "bitflip":
        served = bytearray(good)
        served[len(served) // 3] ^= 0x80
        served = bytes(served)
    else:
        served = builders.tar_bytes(builders.cifar_c_members(n=4, seed=1))
    mirror = _serve(http_server, src, served)
    out = tmp_path / "cifar10-c"
    with pytest.raises(ChecksumError):
        place_official(
            "cifar10",
            out,
            tmp_path / "raw",
            ["contrast"],
            mirror=mirror,
            progress=False,
            source=src,
            retries=1,
        )
    assert not out.exists()
    assert not (tmp_path / "raw" / "CIFAR-10-C.tar").exists()
    assert list(tmp_path.glob(".cifar10-c*")) == []  # no temporary leftovers


def test_traversal_archive_is_refused_even_with_matching_checksum(http_server, tmp_path, builders):
    members = builders.cifar_c_members(n=4)
    members["CIFAR-10-C/../../escaped.npy"] = b"x"
    data = builders.tar_bytes(members)
    src = builders.source_for(data, "CIFAR-10-C.tar", "CIFAR-10-C", "cifar_c")
    mirror = _serve(http_server, src, data)
    out = tmp_path / "work" / "cifar10-c"
    with pytest.raises(UnsafeArchiveError):
        place_official(
            "cifar10",
            out,
            tmp_path / "raw",
            ["contrast"],
            mirror=mirror,
            progress=False,
            source=src,
        )
    assert not out.exists()
    assert not list(tmp_path.rglob("escaped.npy"))


def test_archive_with_misshaped_file_is_rejected(http_server, tmp_path, builders):
    members = builders.cifar_c_members(n=4)
    members["CIFAR-10-C/contrast.npy"] = builders._npy(np.zeros((19, 32, 32, 3), np.uint8))
    data = builders.tar_bytes(members)
    src = builders.source_for(data, "CIFAR-10-C.tar", "CIFAR-10-C", "cifar_c")
    mirror = _serve(http_server, src, data)
    with pytest.raises(CorruptDataError, match="contrast.npy"):
        place_official(
            "cifar10",
            tmp_path / "c",
            tmp_path / "raw",
            ["contrast"],
            mirror=mirror,
            progress=False,
            source=src,
        )
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
