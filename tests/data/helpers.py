"""Builders of small archives in the official CIFAR-10-C and mnist_c layouts."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import numpy as np

from earlyphase.data.sources import ArchiveSource

CIFAR_NAMES = ("gaussian_noise", "contrast")
MNIST_NAMES = ("shot_noise", "stripe")


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def cifar_c_members(n: int = 4, seed: int = 0) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    members = {"CIFAR-10-C/labels.npy": _npy(np.tile(np.arange(n) % 10, 5).astype(np.uint8))}
    for c in CIFAR_NAMES:
        members[f"CIFAR-10-C/{c}.npy"] = _npy(
            rng.integers(0, 256, (5 * n, 32, 32, 3), dtype=np.uint8)
        )
    return members


def mnist_c_members(n: int = 6, seed: int = 0) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    members = {}
    for c in MNIST_NAMES:
        members[f"mnist_c/{c}/test_images.npy"] = _npy(
            rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
        )
        members[f"mnist_c/{c}/test_labels.npy"] = _npy((np.arange(n) % 10).astype(np.uint8))
        members[f"mnist_c/{c}/train_images.npy"] = _npy(np.zeros((2, 28, 28, 1), np.uint8))
        members[f"mnist_c/{c}/train_labels.npy"] = _npy(np.zeros(2, np.uint8))
    return members


def tar_bytes(members: dict[str, bytes], links: dict[str, tuple[str, str]] | None = None) -> bytes:
    """A tar archive; ``links`` maps member name -> (kind "sym"|"hard", target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def source_for(data: bytes, filename: str, top_dir: str, kind: str) -> ArchiveSource:
    return ArchiveSource(
        filename=filename,
        path=f"files/{filename}",
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        top_dir=top_dir,
        corruption_kind=kind,
    )
