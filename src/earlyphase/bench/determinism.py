"""Two-run determinism check: ``python -m earlyphase.bench.determinism``.

Trains the same short run twice with ``python -m earlyphase train --deterministic`` (each
in its own process, as the workflow runs it) and compares the results bit for bit: the
final weights and BatchNorm statistics, the training log and the probe records. The run
has gradual unfreezing and records every default probe twice, so an operation without a
deterministic implementation anywhere in training or the probes either fails the run
(``use_deterministic_algorithms`` raises) or shows up as a difference. Synthetic data, as
the benchmark. Exit status 0 when identical, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from earlyphase.bench.report import emit

from .fast_loop import bench_config
from .workloads import WORKLOADS

PROBES = ["fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig"]


def run_config(workload, batch_size: int, width: float, steps: int, points: int) -> dict:
    config = bench_config(workload, batch_size, width)
    probe = {"probes": PROBES, "every": max(steps // 2, 1), "window": steps, "points": points,
             "batch_size": max(points // 2, 1), "rho": 0.01, "norm": "l2",
             "n_draws": 2, "apgd_iters": 2, "eig_iters": 2, "fisher_params": "trainable",
             "sharpness_params": "all"}
    return {**config, "total_steps": steps, "gu_k": max(steps // 4, 1), "probe": probe,
            "log_every": max(steps // 4, 1)}


def _train(config: dict, run_dir: Path, data: Path, device: str) -> None:
    command = [sys.executable, "-m", "earlyphase", "train", "--config", json.dumps(config),
               "--run-dir", str(run_dir), "--data", str(data), "--device", device,
               "--deterministic", "--checkpoint-every", "0", "--no-progress"]
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    if result.returncode != 0:
        raise RuntimeError(f"deterministic training failed:\n{result.stderr[-4000:]}")


def compare(a: Path, b: Path) -> dict:
    """Bitwise comparison of two finished runs' ``final/`` folders."""
    wa = torch.load(a / "model.pt", map_location="cpu", weights_only=False)["model"]
    wb = torch.load(b / "model.pt", map_location="cpu", weights_only=False)["model"]
    different = {name: float((t.double() - wb[name].double()).abs().max())
                 for name, t in wa.items() if not torch.equal(t, wb[name])}
    tables = {}
    for table in ("train_log.parquet", "probes.parquet"):
        fa, fb = pd.read_parquet(a / table), pd.read_parquet(b / table)
        tables[table] = bool(fa.equals(fb))
    return {"identical": not different and all(tables.values()), "tensors": len(wa),
            "different_tensors": different, "tables_identical": tables}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m earlyphase.bench.determinism",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workload", default="resnet18-cifar", choices=sorted(WORKLOADS))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--points", type=int, default=256, help="probe points")
    parser.add_argument("--out", help="write the result as JSON here")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    config = run_config(workload, args.batch_size, args.width, args.steps, args.points)
    with tempfile.TemporaryDirectory(prefix="earlyphase-determinism-") as folder:
        root = Path(folder)
        images, labels = workload.images(max(args.batch_size * args.steps // 2, args.points))
        np.save(root / "train_images.npy", images)
        np.save(root / "train_labels.npy", labels)
        for name in ("a", "b"):
            _train(config, root / name, root, args.device)
        result = {"workload": args.workload, "device": args.device, "batch_size": args.batch_size,
                  "width": args.width, "steps": args.steps,
                  **compare(root / "a" / "final", root / "b" / "final")}
        result["execution"] = json.loads((root / "a" / "final" / "execution.json").read_text())
        result["probe_records"] = len(pd.read_parquet(root / "a" / "final" / "probes.parquet"))
    emit(result, args.out)
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["identical"] else 1)
