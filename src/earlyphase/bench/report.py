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


def laptop_table(laptop: dict) -> str:
    """Today's path and the fast path of the laptop workload, with the measured GEMM peaks."""
    peaks = laptop["peaks"]
    bf16 = laptop["cpu_bf16"]
    lines = [
        f"laptop workload: {laptop['workload']}, width {laptop['width']:g}, batch {laptop['batch_size']}, "
        f"{laptop['threads']} thread(s), {laptop['flops_per_step'] / 1e9:.2f} GFLOP/step; "
        f"{laptop['rounds']} round(s) x {laptop['steps']} steps per path (median of rounds)",
        f"measured GEMM peak (n={peaks['fp32']['n']}): fp32 {peaks['fp32']['gflops']:.1f} GFLOP/s, "
        f"bf16 {peaks['bf16']['gflops']:.1f} GFLOP/s; native bf16: "
        f"{', '.join(bf16['instructions']) or 'no'} (CPU kernels: {bf16['capability']})",
    ]
    head = (f"{'path':<6} {'precision':<9} {'layout':<13} {'ms/step':>9} {'img/s':>9} {'GFLOP/s':>8} "
            f"{'of fp32 peak':>13} {'of bf16 peak':>13} {'ratio':>6}")
    lines += ["", head, "-" * len(head)]
    for name, ratio in (("today", 1.0), ("fast", laptop["ratio"])):
        m = laptop["paths"][name]
        layout = "channels_last" if m["channels_last"] else "NCHW"
        lines.append(f"{name:<6} {m['precision']:<9} {layout:<13} {1000 * m['seconds_per_step']:>9.1f} "
                     f"{m['images_per_s']:>9.0f} {m['gflops']:>8.2f} {m['fraction_of_peak']['fp32']:>13.3f} "
                     f"{m['fraction_of_peak']['bf16']:>13.3f} {ratio:>6.2f}")
    return "\n".join(lines)


def render(result: dict) -> str:
    device = result["device"]
    if "laptop" in result:
        return "\n".join([f"device: {device['name']}, torch {result['torch']}, {result['date']}, "
                          f"mode {result['mode']}", laptop_table(result["laptop"])])
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
