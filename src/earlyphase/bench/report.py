"""The printed tables of a benchmark result."""

from __future__ import annotations

import json
from pathlib import Path


def emit(result: dict, out: str | None, echo: bool = True) -> None:
    """Print a check's result as JSON and, given a path, write the same JSON there."""
    text = json.dumps(result, indent=2)
    if echo:
        print(text)
    if out:
        Path(out).write_text(text + "\n")


def _fmt(value, spec: str, missing: str = "n/a") -> str:
    return missing if value is None else format(value, spec)


def training_table(result: dict) -> str:
    head = (f"{'workload':<16} {'path':<9} {'ms/step':>9} {'img/s':>9} {'TFLOP/s':>8} "
            f"{'%peak':>6} {'peak MiB':>9} {'ratio':>6}")
    lines = [head, "-" * len(head)]
    for row in result["training"]:
        for path in ("fast", "reference"):
            m = row[path]
            memory = None if m["peak_memory_bytes"] is None else m["peak_memory_bytes"] / 2**20
            fraction = None if m["peak_fraction"] is None else 100 * m["peak_fraction"]
            ratio = row["speedup_vs_reference"] if path == "fast" else 1.0
            lines.append(f"{row['workload'] if path == 'fast' else '':<16} {path:<9} "
                         f"{1000 * m['seconds_per_step']:>9.2f} {m['images_per_s']:>9.0f} "
                         f"{m['tflops']:>8.3f} {_fmt(fraction, '.1f'):>6} {_fmt(memory, '.0f'):>9} "
                         f"{ratio:>6.2f}")
    return "\n".join(lines)


def probe_table(result: dict) -> str:
    head = f"{'workload':<16} {'probe':<16} {'s/point':>9} {'train steps':>12}"
    lines = [head, "-" * len(head)]
    for row in result["probes"]:
        lines.append(f"{row['workload']:<16} {row['probe']:<16} {row['seconds']:>9.3f} "
                     f"{row['train_steps']:>12.1f}")
    return "\n".join(lines)


def pack_table(result: dict) -> str:
    head = (f"{'workload':<16} {'K':>3} {'img/s (all)':>12} {'img/s per run':>14} "
            f"{'vs K=1':>7} {'vs reference':>13} {'start-up s':>11}")
    lines = [head, "-" * len(head)]
    for row in result.get("pack", []):
        per_run = sum(row["per_run_images_per_s"]) / len(row["per_run_images_per_s"])
        lines.append(f"{row['workload']:<16} {row['k']:>3} {row['images_per_s']:>12.0f} "
                     f"{per_run:>14.0f} {row['ratio_vs_k1']:>7.2f} {row['ratio_vs_reference']:>13.2f} "
                     f"{row['startup_seconds']:>11.1f}")
    return "\n".join(lines)


def render(result: dict) -> str:
    device = result["device"]
    peak = device["peak_bf16_dense_tflops"]
    parts = [
        f"device: {device['name']} (bf16 dense peak: {_fmt(peak, '.1f')} TFLOP/s), "
        f"torch {result['torch']}, {result['date']}, mode {result['mode']}",
        f"fast path: {result['fast_settings']}; ratio = reference s/step / fast s/step",
    ]
    if result["training"]:
        parts += ["", training_table(result)]
    if result["probes"]:
        parts += ["", probe_table(result)]
    if result.get("pack"):
        parts += ["", "K concurrent runs (processes) on the device; reference = the plain loop, "
                  "one process", pack_table(result)]
    return "\n".join(parts)
