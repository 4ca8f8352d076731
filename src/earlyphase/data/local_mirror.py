"""Clean data sets read from a local folder (``datasets.<name>.source: local``).

A cluster's shared filesystem, a Debian package (Fashion-MNIST ships as
``dataset-fashion-mnist``) or a hand-made copy holds the torchvision-format raw files:
the four IDX files of MNIST / Fashion-MNIST (gzipped or not) or the CIFAR python archives.
Every file is verified before use, either with the checksum torchvision publishes for the
download or, where a mirror recompressed the files (Debian did), with the checksum of the
decompressed content. The bytes that were hashed are the bytes that are parsed, and
nothing in the mirror is written, moved or deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import verify
from .errors import ChecksumError, CorruptDataError, MissingDataError
from .extract import safe_extract


@dataclass(frozen=True)
class RawFile:
    """One raw file of a data set: its uncompressed name and what verifies it."""

    name: str
    archive_md5: str | None  # md5 of ``<name>.gz`` as torchvision downloads it
    content_md5: str | None = None  # md5 of the decompressed file, where measured

    def checksum_text(self) -> str:
        known = [f"{self.name}.gz md5 {self.archive_md5}"] if self.archive_md5 else []
        if self.content_md5:
            known.append(f"decompressed {self.name} md5 {self.content_md5}")
        return " or ".join(known)


# (images, labels) per split, torchvision's file names and checksums.
IDX_FILES: dict[str, dict[str, tuple[RawFile, RawFile]]] = {
    "mnist": {
        "train": (RawFile("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                  RawFile("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432")),
        "test": (RawFile("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3"),
                 RawFile("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c")),
    },
    "fashion_mnist": {
        "train": (RawFile("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                          "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
                  RawFile("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                          "9018921c3c673c538a1fc5bad174d6f9")),
        "test": (RawFile("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                         "8181f5470baa50b63fa0f6fddb340f0a"),
                 RawFile("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                         "15d484375f8d13e6eb1aabb0c3f46965")),
    },
}

# The CIFAR python archives as torchvision downloads them (file name, md5).
CIFAR_ARCHIVES = {
    "cifar10": ("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),
    "cifar100": ("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),
}

# Where a local mirror is looked for when params give no path.
DEFAULT_PATHS = {"fashion_mnist": "/usr/share/datasets/fashion-mnist"}

# torchvision keeps the raw files under <root>/<ClassName>/raw; a mirror of a torchvision
# root works as it is.
_TORCHVISION_DIRS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}

_IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}  # unsigned bytes, 1 or 3 dimensions


def local_path(dataset: str, path: str | None) -> str:
    """The mirror folder of ``dataset``: ``path`` or the registered default."""
    if path:
        return path
    if dataset in DEFAULT_PATHS:
        return DEFAULT_PATHS[dataset]
    raise MissingDataError(f"datasets.{dataset}.path: a local source needs the folder that holds the raw files")


def _candidates(folder: Path, dataset: str, raw: RawFile) -> list[Path]:
    folders = [folder]
    if dataset in _TORCHVISION_DIRS:
        folders.append(folder / _TORCHVISION_DIRS[dataset] / "raw")
    return [f / name for f in folders for name in (raw.name + ".gz", raw.name)]


def verified_bytes(path: Path, raw: RawFile) -> bytes:
    """The decompressed content of ``path`` once it matches one of ``raw``'s checksums."""
    data = path.read_bytes()
    gzipped = path.suffix == ".gz"
    if gzipped and raw.archive_md5 and hashlib.md5(data).hexdigest() == raw.archive_md5:
        return gzip.decompress(data)
    content = data
    if gzipped:
        try:
            content = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):  # truncated or not gzip at all
            content = None
    if content is not None and raw.content_md5 and hashlib.md5(content).hexdigest() == raw.content_md5:
        return content
    raise ChecksumError(f"{path} does not match its checksum (expected {raw.checksum_text()}); "
                        "it was not used. Replace it with an intact copy.")


def parse_idx(content: bytes, ndim: int, origin: Path) -> np.ndarray:
    """The uint8 array of an IDX file (LeCun's format: magic, big-endian sizes, data)."""
    header = 4 + 4 * ndim
    if len(content) < header or int.from_bytes(content[:4], "big") != _IDX_MAGIC[ndim]:
        raise CorruptDataError(f"{origin} is not an IDX file of {ndim} dimension(s)")
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(content) != header + int(np.prod(shape)):
        raise CorruptDataError(f"{origin}: {len(content) - header} data bytes for shape {shape}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape).copy()


def _find(folder: Path, dataset: str, raw: RawFile) -> Path:
    for candidate in _candidates(folder, dataset, raw):
        if candidate.is_file():
            return candidate
    raise MissingDataError(f"{folder} has no {raw.name}.gz or {raw.name} (expected {raw.checksum_text()}). "
                           f"Put the torchvision-format raw files there or set datasets.{dataset}.path.")


def idx_split(dataset: str, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of an IDX data set as NHWC uint8 images and int64 labels."""
    images_file, labels_file = IDX_FILES[dataset][split]
    images_path, labels_path = _find(folder, dataset, images_file), _find(folder, dataset, labels_file)
    images = parse_idx(verified_bytes(images_path, images_file), 3, images_path)
    labels = parse_idx(verified_bytes(labels_path, labels_file), 1, labels_path)
    if len(images) != len(labels):
        raise CorruptDataError(f"{images_path} has {len(images)} images, {labels_path} {len(labels)} labels")
    return images[..., None], labels.astype(np.int64)


def cifar_split(dataset: str, folder: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """One split of CIFAR-10/100 from the verified python archive in ``folder``."""
    import torchvision.datasets as tvd

    name, md5 = CIFAR_ARCHIVES[dataset]
    archive = folder / name
    if not archive.is_file():
        raise MissingDataError(f"{folder} has no {name} (expected md5 {md5}); put torchvision's archive there "
                               f"or set datasets.{dataset}.path.")
    if not verify(archive, md5=md5):
        raise ChecksumError(f"{archive} does not match its checksum (expected md5 {md5}); it was not used.")
    cls = tvd.CIFAR10 if dataset == "cifar10" else tvd.CIFAR100
    with tempfile.TemporaryDirectory() as scratch:
        safe_extract(archive, Path(scratch))
        ds = cls(root=scratch, train=train, download=False)
        return np.ascontiguousarray(ds.data, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)


def local_split(dataset: str, folder: Path | str, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """One verified split of ``dataset`` read from the mirror ``folder``."""
    folder = Path(folder)
    if dataset in IDX_FILES:
        return idx_split(dataset, folder, "train" if train else "test")
    if dataset in CIFAR_ARCHIVES:
        return cifar_split(dataset, folder, train)
    raise ValueError(f"no local layout is known for {dataset!r}")
