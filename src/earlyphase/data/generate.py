"""Local generation of a corrupted test set in the official on-disk layout.

The clean test split is processed in fixed chunks of ``CHUNK`` images; chunk ``k`` of
corruption ``c`` at severity ``s`` uses the random stream
``SeedSequence([seed, crc32(c), s, k])``. The output therefore depends on ``seed`` only,
never on the number of worker processes.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .loaders import load_clean

CHUNK = 500


def corruption_registry(kind: str) -> dict[str, Callable]:
    """The registry of corruption functions for ``kind`` ("cifar_c" or "mnist_c")."""
    if kind == "cifar_c":
        from .corruptions.cifar_c import CIFAR_C_CORRUPTIONS

        return CIFAR_C_CORRUPTIONS
    if kind == "mnist_c":
        from .corruptions.mnist_c import MNIST_C_CORRUPTIONS

        return MNIST_C_CORRUPTIONS
    raise ValueError(f"unknown corruption kind {kind!r}")


def chunk_rng(seed: int, corruption: str, severity: int, chunk: int) -> np.random.Generator:
    """The random generator of one (corruption, severity, chunk) task."""
    key = zlib.crc32(corruption.encode())
    return np.random.default_rng(np.random.SeedSequence([seed, key, severity, chunk]))


def corrupt_chunk(
    kind: str, corruption: str, severity: int, images: np.ndarray, seed: int, chunk: int
) -> np.ndarray:
    """Apply one corruption to one chunk of clean images with its own random stream."""
    fn = corruption_registry(kind)[corruption]
    out = fn(np.ascontiguousarray(images), severity, chunk_rng(seed, corruption, severity, chunk))
    if out.shape != images.shape or out.dtype != np.uint8:
        raise RuntimeError(f"{corruption} returned {out.dtype} {out.shape} for {images.shape}")
    return out


def _task(args):
    """Run one chunk; returns its output and the CPU seconds it took (all threads)."""
    kind, corruption, severity, clean_dir, start, stop, seed, chunk, single_thread = args
    images, _ = load_clean(Path(clean_dir), "test")
    t0 = time.process_time()
    if single_thread:  # one BLAS thread per worker process: no oversubscription
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            out = corrupt_chunk(kind, corruption, severity, images[start:stop], seed, chunk)
        else:
            with threadpool_limits(1):
                out = corrupt_chunk(kind, corruption, severity, images[start:stop], seed, chunk)
    else:
        out = corrupt_chunk(kind, corruption, severity, images[start:stop], seed, chunk)
    return corruption, severity, start, out, time.process_time() - t0


def generate_corrupted(
    kind: str,
    clean_dir: Path,
    out_dir: Path,
    corruptions: list[str],
    seed: int = 0,
    workers: int = 1,
    severities: tuple[int, ...] | None = None,
    progress: bool = False,
) -> dict[str, float]:
    """Write the corrupted test set of ``clean_dir`` into ``out_dir`` (which must exist).

    CIFAR-C: ``<out_dir>/<c>.npy`` with severities 1..5 stacked, and ``labels.npy``.
    MNIST-C: ``<out_dir>/<c>/test_images.npy`` and ``test_labels.npy`` (severity 1).
    Returns the CPU seconds spent per corruption (summed over workers).
    """
    registry = corruption_registry(kind)
    unknown = [c for c in corruptions if c not in registry]
    if unknown:
        raise ValueError(f"unknown {kind} corruptions {unknown}; known: {sorted(registry)}")
    if severities is None:
        severities = (1, 2, 3, 4, 5) if kind == "cifar_c" else (1,)
    images, labels = load_clean(Path(clean_dir), "test")
    n = len(images)
    out_dir = Path(out_dir)
    targets = {}
    for c in corruptions:
        if kind == "cifar_c":
            path = out_dir / f"{c}.npy"
        else:
            (out_dir / c).mkdir(parents=True, exist_ok=True)
            path = out_dir / c / "test_images.npy"
            np.save(out_dir / c / "test_labels.npy", labels)
        targets[c] = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.uint8, shape=(n * len(severities),) + images.shape[1:]
        )
    if kind == "cifar_c":
        np.save(out_dir / "labels.npy", np.tile(labels, len(severities)))

    tasks = [
        (
            kind,
            c,
            s,
            str(clean_dir),
            start,
            min(n, start + CHUNK),
            seed,
            start // CHUNK,
            workers > 1,
        )
        for c in corruptions
        for s in severities
        for start in range(0, n, CHUNK)
    ]
    seconds = {c: 0.0 for c in corruptions}
    sev_pos = {s: i for i, s in enumerate(severities)}

    def _store(result):
        c, s, start, out, dt = result
        offset = sev_pos[s] * n + start
        targets[c][offset : offset + len(out)] = out
        seconds[c] += dt

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc=f"generating {kind}", unit="chunk")
    if workers <= 1:
        for t in tasks:
            _store(_task(t))
            if bar:
                bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_task, tasks, chunksize=1):
                _store(result)
                if bar:
                    bar.update()
    if bar:
        bar.close()
    for arr in targets.values():
        arr.flush()
    targets.clear()  # close the memory maps
    return seconds
