"""The versioned per-step cost file ``bench/throughput_reference.json``.

The cost model of the pipeline reads it to predict the compute of a run grid. One
measurement per (device, mode, width, batch size, probe settings); a new measurement with
the same key replaces the old one, others are kept. Every entry names its device and date.

Layout::

    {"schema": 1, "description": ...,
     "measurements": [{"device", "device_type", "date", "label", "torch", "mode",
                       "train_step": [{"arch", "shape", "input_shape", "num_classes",
                                       "batch_size", "width", "precision", "channels_last",
                                       "compile", "seconds_per_step", "flops_per_step",
                                       "reference_seconds_per_step"}],
                       "probe_point": [{"arch", "shape", "width", "probe", "seconds",
                                        "train_steps", **probe settings}],
                       "pack": [{"arch", "shape", "batch_size", "width", "k",
                                 "images_per_s", "ratio_vs_k1", "ratio_vs_reference",
                                 "startup_seconds"}]}]}

``pack`` (from ``--pack``): aggregate images/s of K concurrent runs on the device, the
packing factor the cost model applies (``ratio_vs_k1``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .workloads import WORKLOADS

SCHEMA = 1
DESCRIPTION = (
    "Measured seconds per training step (Trainer.train_step, fast path of the device) per "
    "(arch, input shape, batch size, width) and seconds per probe point (one call of one probe) "
    "with the probe settings given. Written by `python -m earlyphase.bench --reference-file`; "
    "each measurement names its device and date."
)


def measurement(result: dict, label: str) -> dict:
    """The cost-file entry of one benchmark result (see :mod:`earlyphase.bench.__main__`)."""
    train_rows = [{
        "arch": row["arch"], "shape": row["shape"], "input_shape": row["input_shape"],
        "num_classes": row["num_classes"], "batch_size": row["batch_size"], "width": row["width"],
        **{k: row["fast"]["settings"].get(k, False) for k in ("precision", "channels_last", "compile",
                                                             "cuda_graphs")},
        "seconds_per_step": row["fast"]["seconds_per_step"],
        "flops_per_step": row["flops_per_step"],
        "reference_seconds_per_step": row["reference"]["seconds_per_step"],
    } for row in result["training"]]
    probe_rows = [{
        "arch": row["arch"], "shape": row["shape"], "width": row["width"], "probe": row["probe"],
        "seconds": row["seconds"], "train_steps": row["train_steps"], **row["settings"],
    } for row in result["probes"]]
    settings = result["settings"]
    pack_rows = [{
        "arch": WORKLOADS[row["workload"]].arch, "shape": WORKLOADS[row["workload"]].shape,
        "batch_size": settings["batch_size"], "width": settings["width"], "k": row["k"],
        "images_per_s": row["images_per_s"], "ratio_vs_k1": row["ratio_vs_k1"],
        "ratio_vs_reference": row["ratio_vs_reference"], "startup_seconds": row["startup_seconds"],
    } for row in result.get("pack", [])]
    return {"device": result["device"]["name"], "device_type": result["device"]["type"],
            "date": result["date"], "label": label, "torch": result["torch"],
            "mode": result["mode"],
            "train_step": train_rows, "probe_point": probe_rows, "pack": pack_rows}


def _key(entry: dict) -> tuple:
    steps = tuple(sorted((r["arch"], r["shape"], r["batch_size"], r["width"], r.get("compile", False))
                         for r in entry["train_step"]))
    packs = tuple(sorted((r["arch"], r["shape"], r["batch_size"], r["width"], r["k"])
                         for r in entry.get("pack", [])))
    return entry["device"], entry["mode"], steps, packs


def merge_measurement(path: Path | str, entry: dict) -> dict:
    """Add ``entry`` to the file at ``path`` (replacing one with the same key); atomic write."""
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {}
    kept = [m for m in data.get("measurements", []) if _key(m) != _key(entry)]
    data = {"schema": SCHEMA, "description": DESCRIPTION, "measurements": [*kept, entry]}
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    return data
