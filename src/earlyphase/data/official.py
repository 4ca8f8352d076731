"""Place the released -C sets (Zenodo archives) in the prepared layout.

The archive is fetched into ``raw_dir`` (or taken from there when a verified copy was put
there by hand), extracted safely into a temporary directory, its files are checked for the
official shapes, and the archive's top folder becomes ``out_dir`` atomically.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from earlyphase.operations.atomic import atomic_dir

from .download import fetch, verify
from .errors import ChecksumError, CorruptDataError, MissingDataError
from .extract import safe_extract
from .sources import ArchiveSource, corrupted_archive


def _header(path: Path) -> np.ndarray:
    if not path.is_file():
        raise CorruptDataError(f"archive lacks {path.name} (expected at {path})")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CorruptDataError(f"{path} in the archive is not a valid .npy file: {exc}") from exc


def check_cifar_c(folder: Path, corruptions: list[str]) -> int:
    """Check labels.npy and ``<c>.npy`` shapes; return the images per severity."""
    labels = _header(folder / "labels.npy")
    if labels.ndim != 1 or len(labels) % 5:
        raise CorruptDataError(f"{folder / 'labels.npy'} has shape {labels.shape}")
    n5 = len(labels)
    for c in corruptions:
        arr = _header(folder / f"{c}.npy")
        if arr.shape != (n5, 32, 32, 3) or arr.dtype != np.uint8:
            raise CorruptDataError(
                f"{folder / f'{c}.npy'} is {arr.dtype} {arr.shape}, "
                f"expected uint8 ({n5}, 32, 32, 3)"
            )
    return n5 // 5


def check_mnist_c(folder: Path, corruptions: list[str]) -> int:
    """Check ``<c>/test_images.npy`` and ``test_labels.npy``; return the test-set size."""
    n = None
    for c in corruptions:
        img = _header(folder / c / "test_images.npy")
        lbl = _header(folder / c / "test_labels.npy")
        if img.ndim != 4 or img.shape[1:] != (28, 28, 1) or img.dtype != np.uint8:
            raise CorruptDataError(f"{folder / c / 'test_images.npy'} is {img.dtype} {img.shape}")
        if lbl.shape != (len(img),):
            raise CorruptDataError(f"{folder / c / 'test_labels.npy'} has shape {lbl.shape}")
        if n is not None and len(img) != n:
            raise CorruptDataError(f"{c} has {len(img)} test images, others {n}")
        n = len(img)
    return n or 0


def place_official(
    dataset: str,
    out_dir: Path,
    raw_dir: Path,
    corruptions: list[str],
    mirror: str | None = None,
    progress: bool = True,
    retries: int = 5,
    source: ArchiveSource | None = None,
) -> None:
    """Fetch/verify the archive of ``dataset`` and install it as ``out_dir``.

    ``source`` overrides the registered archive (file name, checksums, layout); tests use
    it to serve small fixture archives.
    """
    src = source or corrupted_archive(dataset)
    archive = fetch(
        src.url(mirror),
        Path(raw_dir) / src.filename,
        md5=src.md5,
        sha256=src.sha256,
        size=src.size,
        progress=progress,
        retries=retries,
    )
    install_archive(dataset, archive, src, Path(out_dir), corruptions)


def place_local(
    dataset: str,
    out_dir: Path,
    folder: Path,
    corruptions: list[str],
    source: ArchiveSource | None = None,
) -> None:
    """Install the released archive of ``dataset`` found in the mirror ``folder`` (a shared
    filesystem on compute nodes without internet), verified with the download's checksums.
    The mirror is only read: a file that does not match is reported, not moved."""
    src = source or corrupted_archive(dataset)
    archive = Path(folder) / src.filename
    checksums = f"md5 {src.md5}" + (f", sha256 {src.sha256}" if src.sha256 else "")
    if not archive.is_file():
        raise MissingDataError(f"{folder} has no {src.filename} (expected {checksums})")
    if not verify(archive, md5=src.md5, sha256=src.sha256):
        raise ChecksumError(f"{archive} does not match its published checksum ({checksums}); it was not used.")
    install_archive(dataset, archive, src, Path(out_dir), corruptions)


def install_archive(dataset: str, archive: Path, src: ArchiveSource, out_dir: Path, corruptions: list[str]) -> None:
    """Extract the verified ``archive``, check its files and make its top folder ``out_dir``."""
    with atomic_dir(out_dir) as tmp:
        scratch = tmp / ".extract"
        safe_extract(archive, scratch)
        top = scratch / src.top_dir
        if not top.is_dir():
            found = sorted(p.name for p in scratch.iterdir())
            raise CorruptDataError(f"{archive} does not contain {src.top_dir}/ (found {found})")
        check = check_cifar_c if src.corruption_kind == "cifar_c" else check_mnist_c
        n = check(top, list(corruptions))
        for item in top.iterdir():
            os.replace(item, tmp / item.name)
        shutil.rmtree(scratch)
        meta = {
            "dataset": dataset,
            "source": "official",
            "archive": src.filename,
            "md5": src.md5,
            "images_per_severity": n,
            "checked": list(corruptions),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
