"""Benchmark: generate a full-size CIFAR-10-C-shaped set and an MNIST-C test set locally.

Builds synthetic clean test sets (10,000 procedural 32x32 RGB images; 10,000 MNIST-like
digits tiled from scikit-learn's bundled digits), then runs the same code path as
``prepare_corrupted(source="generated")`` with ``--workers`` processes and prints the
compute time per corruption (summed over workers) and the wall-clock total.

    python -m earlyphase.bench.corruptions --workers 2 [--n 10000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from earlyphase.data.generate import generate_corrupted
from earlyphase.data.offline_digits import digits_28x28
from earlyphase.data.offline_shapes import offline_shapes
from earlyphase.data.registry import CIFAR_C_BENCHMARK, CIFAR_C_EXTRA, MNIST_C_BENCHMARK


def _write_clean(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        np.save(folder / f"{split}_images.npy", images)
        np.save(folder / f"{split}_labels.npy", labels.astype(np.int64))


def _run(kind, clean, out, names, workers):
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    seconds = generate_corrupted(kind, clean, out, names, seed=0, workers=workers, progress=True)
    return seconds, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n", type=int, default=10_000, help="test images per set")
    ap.add_argument("--out", type=Path, default=None, help="keep outputs here (default: temp)")
    args = ap.parse_args(argv)

    root = args.out or Path(tempfile.mkdtemp(prefix="earlyphase-bench-"))
    try:
        x, y = offline_shapes(args.n, 10, seed=0, split="test")
        _write_clean(root / "cifar_clean", x, y)
        d, dy = digits_28x28()
        reps = -(-args.n // len(d))
        _write_clean(
            root / "mnist_clean", np.tile(d, (reps, 1, 1, 1))[: args.n], np.tile(dy, reps)[: args.n]
        )

        cifar_names = list(CIFAR_C_BENCHMARK + CIFAR_C_EXTRA)
        c_sec, c_wall = _run(
            "cifar_c", root / "cifar_clean", root / "cifar_c", cifar_names, args.workers
        )
        m_sec, m_wall = _run(
            "mnist_c", root / "mnist_clean", root / "mnist_c", list(MNIST_C_BENCHMARK), args.workers
        )

        print(
            f"\nCIFAR-10-C shaped: {len(cifar_names)} corruptions x 5 severities x {args.n} "
            f"images, {args.workers} worker(s)"
        )
        print(f"{'corruption':20s} {'cpu s':>8s} {'ms/img/sev':>11s}")
        for name in cifar_names:
            print(f"{name:20s} {c_sec[name]:8.1f} {1000 * c_sec[name] / (5 * args.n):11.3f}")
        print(f"{'total (cpu)':20s} {sum(c_sec.values()):8.1f}")
        print(f"{'total (wall)':20s} {c_wall:8.1f}")

        print(f"\nMNIST-C: {len(MNIST_C_BENCHMARK)} corruptions x {args.n} images")
        print(f"{'corruption':20s} {'cpu s':>8s} {'ms/img':>11s}")
        for name in MNIST_C_BENCHMARK:
            print(f"{name:20s} {m_sec[name]:8.1f} {1000 * m_sec[name] / args.n:11.3f}")
        print(f"{'total (cpu)':20s} {sum(m_sec.values()):8.1f}")
        print(f"{'total (wall)':20s} {m_wall:8.1f}")
        print(f"\ngrand total (wall): {c_wall + m_wall:.1f} s")
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
