"""Verified, resumable downloads against a local HTTP server."""

from __future__ import annotations

import hashlib
import os

import pytest

from earlyphase.data.download import fetch
from earlyphase.data.errors import ChecksumError, DownloadError

PAYLOAD = os.urandom(3 * 1024 * 1024 + 123)  # several read chunks
MD5 = hashlib.md5(PAYLOAD).hexdigest()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_good_download_is_verified_and_renamed(http_server, tmp_path):
    http_server.files["/a.bin"] = PAYLOAD
    dest = fetch(http_server.url("/a.bin"), tmp_path / "a.bin", md5=MD5, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "a.bin.part").exists()


def test_existing_verified_file_is_used_without_network(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(PAYLOAD)
    # port 1 on localhost refuses connections: any network use would fail
    assert fetch("http://127.0.0.1:1/a.bin", dest, md5=MD5, retries=1, progress=False) == dest


@pytest.mark.parametrize("damage", ["truncated", "bitflip", "wrong"])
def test_bad_download_is_quarantined_and_raises(http_server, tmp_path, damage):
    if damage == "truncated":
        body = PAYLOAD[:-1000]
    elif damage == "bitflip":
        body = bytearray(PAYLOAD)
        body[len(body) // 2] ^= 0x01
        body = bytes(body)
    else:
        body = os.urandom(1000)
    http_server.files["/a.bin"] = body
    with pytest.raises(ChecksumError, match="checksum"):
        fetch(http_server.url("/a.bin"), tmp_path / "a.bin", md5=MD5, progress=False)
    assert not (tmp_path / "a.bin").exists()
    assert not (tmp_path / "a.bin.part").exists()
    assert (tmp_path / "a.bin.bad").read_bytes() == body


def test_bad_existing_file_is_quarantined(tmp_path):
    dest = tmp_path / "a.bin"
    dest.write_bytes(b"not it")
    with pytest.raises(ChecksumError, match=str(dest)):
        fetch("http://127.0.0.1:1/a.bin", dest, md5=MD5, retries=1, progress=False)
    assert not dest.exists() and (tmp_path / "a.bin.bad").exists()


def test_interrupted_transfer_resumes_on_rerun(http_server, tmp_path):
    http_server.files["/a.bin"] = PAYLOAD
    http_server.drop_once.add("/a.bin")
    dest = tmp_path / "a.bin"
    with pytest.raises(DownloadError, match="partial download"):
        fetch(http_server.url("/a.bin"), dest, md5=MD5, retries=1, progress=False)
    part = tmp_path / "a.bin.part"
    assert not dest.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    half = part.stat().st_size
    fetch(http_server.url("/a.bin"), dest, md5=MD5, sha256=SHA, retries=1, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert http_server.requests[-1] == ("/a.bin", f"bytes={half}-")


def test_interrupted_transfer_recovers_within_retries(http_server, tmp_path):
    http_server.files["/a.bin"] = PAYLOAD
    http_server.drop_once.add("/a.bin")
    dest = fetch(
        http_server.url("/a.bin"),
        tmp_path / "a.bin",
        md5=MD5,
        retries=3,
        backoff=0.0,
        progress=False,
    )
    assert dest.read_bytes() == PAYLOAD
    assert len(http_server.requests) == 2


def test_server_ignoring_range_restarts_cleanly(http_server, tmp_path):
    http_server.files["/a.bin"] = PAYLOAD
    http_server.ignore_range = True
    (tmp_path / "a.bin.part").write_bytes(b"garbage prefix")
    dest = fetch(http_server.url("/a.bin"), tmp_path / "a.bin", md5=MD5, retries=1, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_unreachable_host_gives_actionable_message(tmp_path):
    dest = tmp_path / "CIFAR-10-C.tar"
    url = "http://127.0.0.1:1/records/2535967/files/CIFAR-10-C.tar"
    with pytest.raises(DownloadError) as info:
        fetch(url, dest, md5=MD5, sha256=SHA, retries=2, backoff=0.0, progress=False)
    msg = str(info.value)
    for needle in ("CIFAR-10-C.tar", url, MD5, SHA, str(dest), "place it at"):
        assert needle in msg
    assert not dest.exists()


def test_missing_file_fails_fast(http_server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        fetch(
            http_server.url("/nope"),
            tmp_path / "x",
            md5=MD5,
            retries=5,
            backoff=10.0,
            progress=False,
        )
    assert len(http_server.requests) == 1  # no retries (and no 10 s back-off) on a 404
