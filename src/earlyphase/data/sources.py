"""Where the released corrupted test sets live, and their published checksums.

URLs are ``<base>/<path>``; the base defaults to ``https://zenodo.org`` and can be replaced
by a mirror through the ``EARLYPHASE_MIRROR`` environment variable or a ``mirror``
argument (the tests point it at a local HTTP server).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_BASE = "https://zenodo.org"
MIRROR_ENV = "EARLYPHASE_MIRROR"


@dataclass(frozen=True)
class ArchiveSource:
    """One downloadable archive with its checksums and expected top-level folder."""

    filename: str
    path: str  # relative to the base URL
    md5: str
    sha256: str | None
    size: int | None  # bytes, where published
    top_dir: str  # folder the archive unpacks into
    corruption_kind: str

    def url(self, mirror: str | None = None) -> str:
        base = mirror or os.environ.get(MIRROR_ENV) or DEFAULT_BASE
        return f"{base.rstrip('/')}/{self.path}"


CORRUPTED_ARCHIVES: dict[str, ArchiveSource] = {
    "cifar10": ArchiveSource(
        filename="CIFAR-10-C.tar",
        path="records/2535967/files/CIFAR-10-C.tar",
        md5="56bf5dcef84df0e2308c6dcbcbbd8499",
        sha256="c72763e101c723b7c507b96205f7e938912a5d587376173b825850cf3cb876a7",
        size=2_918_471_680,
        top_dir="CIFAR-10-C",
        corruption_kind="cifar_c",
    ),
    "cifar100": ArchiveSource(
        filename="CIFAR-100-C.tar",
        path="records/3555552/files/CIFAR-100-C.tar",
        md5="11f0ed0f1191edbf9fa23466ae6021d3",
        sha256=None,
        size=None,
        top_dir="CIFAR-100-C",
        corruption_kind="cifar_c",
    ),
    "mnist": ArchiveSource(
        filename="mnist_c.zip",
        path="records/3239543/files/mnist_c.zip",
        md5="4b34b33045869ee6d424616cd3a65da3",
        sha256="af9ee8c6a815870c7fdde5af84c7bf8db0bcfa1f41056db83871037fba70e493",
        size=246_661_575,
        top_dir="mnist_c",
        corruption_kind="mnist_c",
    ),
}


def corrupted_archive(dataset: str) -> ArchiveSource:
    """The archive of ``dataset``'s corrupted test set (ValueError for unknown names)."""
    try:
        return CORRUPTED_ARCHIVES[dataset]
    except KeyError:
        raise ValueError(
            f"no corrupted archive for {dataset!r}; known: {', '.join(CORRUPTED_ARCHIVES)}"
        ) from None
