"""Clean MNIST / Fashion-MNIST / CIFAR-10 / CIFAR-100 through torchvision (which checks its own md5 sums)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DownloadError

_CLASSES = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10", "cifar100": "CIFAR100"}


def torchvision_split(dataset: str, raw_dir: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Download (if needed) and return one split as uint8 NHWC images and int64 labels."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _CLASSES[dataset])
    try:
        ds = cls(root=str(raw_dir), train=train, download=True)
    except (RuntimeError, OSError) as exc:  # URLError is an OSError
        raise DownloadError(
            f"could not obtain {dataset} ({'train' if train else 'test'}) through torchvision "
            f"into {raw_dir}: {exc}. Without network, copy the torchvision archives into "
            f"{raw_dir} by hand, or read them from a folder with source 'local' and a path."
        ) from exc
    data = ds.data.numpy() if hasattr(ds.data, "numpy") else np.asarray(ds.data)
    if data.ndim == 3:
        data = data[..., None]
    targets = ds.targets.numpy() if hasattr(ds.targets, "numpy") else np.asarray(ds.targets)
    return np.ascontiguousarray(data, dtype=np.uint8), np.asarray(targets, dtype=np.int64)
