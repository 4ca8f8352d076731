"""Memory-mapped readers of the prepared data layouts.

Layouts (see ``docs/data.md``):

- clean: ``<clean_dir>/{train,test}_{images,labels}.npy``, uint8 NHWC images, int64 labels;
- CIFAR-C: ``<c_dir>/<corruption>.npy`` uint8 (5*N, 32, 32, 3), severities 1..5 stacked,
  and ``<c_dir>/labels.npy`` (the official CIFAR-10-C / CIFAR-100-C layout);
- MNIST-C: ``<c_dir>/<corruption>/test_{images,labels}.npy`` (the official mnist_c layout).

Images are returned memory-mapped (read-only); labels are returned as int64 arrays.
Missing or damaged files raise :class:`MissingDataError` / :class:`CorruptDataError`
with a message naming the file and how to rebuild it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import CorruptDataError, MissingDataError

SPLITS = ("train", "test")
CORRUPTION_KINDS = ("cifar_c", "mnist_c")


def _rebuild_hint(directory: Path) -> str:
    return (
        f"rebuild it with `snakemake --cores 1 {directory}` "
        f"(or `python -m earlyphase prepare-data ...` writing to {directory})"
    )


def _open(path: Path, rebuild_dir: Path) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"missing data file {path}; {_rebuild_hint(rebuild_dir)}")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise CorruptDataError(
            f"data file {path} is truncated or not a valid .npy file ({exc}); "
            f"delete {rebuild_dir} and {_rebuild_hint(rebuild_dir)}"
        ) from exc


def _check_pair(images, labels, img_path, lbl_path, rebuild_dir) -> np.ndarray:
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise CorruptDataError(
            f"{img_path} holds {images.dtype} {images.shape}, expected uint8 (N, H, W, 1|3); "
            f"{_rebuild_hint(rebuild_dir)}"
        )
    if labels.ndim != 1 or len(labels) != len(images) or labels.dtype.kind not in "iu":
        raise CorruptDataError(
            f"{lbl_path} holds {labels.dtype} {labels.shape}, expected {len(images)} integer "
            f"labels matching {img_path}; {_rebuild_hint(rebuild_dir)}"
        )
    return np.asarray(labels, dtype=np.int64)


def load_clean(clean_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (memory-mapped uint8 NHWC) and int64 labels of ``split`` ("train" or "test")."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    clean_dir = Path(clean_dir)
    img_path = clean_dir / f"{split}_images.npy"
    lbl_path = clean_dir / f"{split}_labels.npy"
    images = _open(img_path, clean_dir)
    labels = _check_pair(images, _open(lbl_path, clean_dir), img_path, lbl_path, clean_dir)
    return images, labels


def _check_kind(kind: str) -> None:
    if kind not in CORRUPTION_KINDS:
        raise ValueError(f"corruption_kind must be one of {CORRUPTION_KINDS}, got {kind!r}")


def load_corrupted(
    c_dir: Path, corruption_kind: str, corruption: str, severity: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images (memory-mapped) and int64 labels of one corruption at one severity.

    For ``cifar_c`` the severity block ``(severity-1)*N : severity*N`` of the stacked file
    is returned (severity 1..5); for ``mnist_c`` severity must be 1.
    """
    _check_kind(corruption_kind)
    c_dir = Path(c_dir)
    if corruption_kind == "mnist_c":
        if severity != 1:
            raise ValueError(f"MNIST-C has a single severity (1), got {severity}")
        img_path = c_dir / corruption / "test_images.npy"
        lbl_path = c_dir / corruption / "test_labels.npy"
        images = _open(img_path, c_dir)
        labels = _check_pair(images, _open(lbl_path, c_dir), img_path, lbl_path, c_dir)
        return images, labels
    if severity not in (1, 2, 3, 4, 5):
        raise ValueError(f"CIFAR-C severities are 1..5, got {severity}")
    img_path = c_dir / f"{corruption}.npy"
    lbl_path = c_dir / "labels.npy"
    images = _open(img_path, c_dir)
    labels = _check_pair(images, _open(lbl_path, c_dir), img_path, lbl_path, c_dir)
    if len(images) % 5:
        raise CorruptDataError(
            f"{img_path} has {len(images)} images, not a multiple of the 5 severities; "
            f"{_rebuild_hint(c_dir)}"
        )
    n = len(images) // 5
    block = slice((severity - 1) * n, severity * n)
    return images[block], labels[block]


def available_corruptions(c_dir: Path, corruption_kind: str) -> list[str]:
    """Sorted names of the corruptions present in ``c_dir``."""
    _check_kind(corruption_kind)
    c_dir = Path(c_dir)
    if not c_dir.is_dir():
        raise MissingDataError(f"missing corrupted-data directory {c_dir}; {_rebuild_hint(c_dir)}")
    if corruption_kind == "mnist_c":
        return sorted(p.name for p in c_dir.iterdir() if (p / "test_images.npy").is_file())
    return sorted(
        p.stem for p in c_dir.glob("*.npy") if p.stem != "labels" and not p.name.startswith(".")
    )
