"""``python -m earlyphase.bench``: training-step and probe throughput, fast path vs reference.

Examples::

    python -m earlyphase.bench --out bench.json                     # CUDA: paper sizes
    python -m earlyphase.bench --quick --out bench.json             # CPU / CI: tiny sizes
    python -m earlyphase.bench --width 0.125 --batch-size 64 --probe-preset smoke \\
        --reference-file bench/throughput_reference.json --note "CPU, shared machine"

Without CUDA ``--quick`` is implied (width 0.25, batch 32, few steps, quick probe settings).
See :mod:`earlyphase.bench` for what is measured and how.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import sys

import torch

from earlyphase.train import pick_device

from .fast_loop import build_trainer, trainer_step
from .hardware import describe_device
from .probe_cost import PROBE_PRESETS, probe_seconds
from .reference_file import measurement, merge_measurement
from .reference_loop import ReferenceLoop
from .report import render
from .timing import peak_memory_bytes, reset_peak_memory, seconds_per_call, train_step_flops
from .workloads import WORKLOADS

FULL = {"batch_size": 128, "width": 1.0, "steps": 50, "warmup": 10, "probe_preset": "paper"}
QUICK = {"batch_size": 32, "width": 0.25, "steps": 5, "warmup": 2, "probe_preset": "quick"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m earlyphase.bench",
                                description=__doc__.splitlines()[0])
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:i]")
    p.add_argument("--quick", action="store_true", help="tiny sizes (implied without CUDA)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated, from {', '.join(WORKLOADS)}")
    p.add_argument("--batch-size", type=int, help="training batch (full 128, quick 32)")
    p.add_argument("--width", type=float, help="channel-width multiplier (full 1.0, quick 0.25)")
    p.add_argument("--steps", type=int, help="timed steps per path (full 50, quick 5)")
    p.add_argument("--warmup", type=int, help="untimed steps first (full 10, quick 2)")
    p.add_argument("--workers", type=int,
                   help="reference DataLoader workers (default: 0 on CPU, min(8, cores) on CUDA)")
    p.add_argument("--precision", choices=["fp32", "bf16"], help="fast path (device default)")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--probe-preset", choices=sorted(PROBE_PRESETS),
                   help="probe settings (full: paper, quick: quick)")
    p.add_argument("--probe-points", type=int, help="override the preset's number of points")
    p.add_argument("--probe-repeat", type=int, default=1, help="timed calls per probe")
    p.add_argument("--no-probes", action="store_true")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--out", help="write the result as JSON here")
    p.add_argument("--reference-file", help="merge the per-step costs into this cost file")
    p.add_argument("--note", default="", help="label of the measurement in the cost file")
    return p


def _path_metrics(seconds: float, batch: int, flops: int, peak_tflops, memory) -> dict:
    tflops = flops / seconds / 1e12
    return {"seconds_per_step": seconds, "images_per_s": batch / seconds, "tflops": tflops,
            "peak_fraction": None if peak_tflops is None else tflops / peak_tflops,
            "peak_memory_bytes": memory}


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def run(args) -> dict:
    device = pick_device(args.device)
    quick = args.quick or device.type != "cuda"
    sizes = dict(QUICK if quick else FULL)
    for key in ("batch_size", "width", "steps", "warmup", "probe_preset"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    batch, width, steps, warmup = (sizes[k] for k in ("batch_size", "width", "steps", "warmup"))
    workers = args.workers if args.workers is not None else (
        min(8, os.cpu_count() or 1) if device.type == "cuda" else 0)
    probe_settings = dict(PROBE_PRESETS[sizes["probe_preset"]])
    if args.probe_points is not None:
        probe_settings["points"] = args.probe_points
    fast = {"precision": args.precision, "channels_last": args.channels_last,
            "compile": args.compile}
    info = describe_device(device)
    peak = info["peak_bf16_dense_tflops"]
    n_images = max(batch * (warmup + steps + 1), probe_settings["points"])

    result = {"device": info, "date": _dt.date.today().isoformat(), "torch": torch.__version__,
              "mode": "quick" if quick else "full",
              "settings": {"batch_size": batch, "width": width, "steps": steps, "warmup": warmup,
                           "reference_workers": workers, "probe": probe_settings},
              "fast_settings": None, "training": [], "probes": []}
    for name in args.workloads.split(","):
        workload = WORKLOADS[name]
        trainer = build_trainer(workload, batch, width, n_images, device, fast)
        result["fast_settings"] = trainer.fast.describe()
        inputs, targets = trainer.stream.batch(1)
        flops = train_step_flops(trainer.model, inputs, targets)
        reset_peak_memory(device)
        fast_s = seconds_per_call(trainer_step(trainer), steps, warmup, device)
        fast_metrics = _path_metrics(fast_s, batch, flops, peak, peak_memory_bytes(device))
        fast_metrics["settings"] = trainer.execution()["fast"]
        if not args.no_probes:
            for probe, seconds in probe_seconds(trainer, probe_settings, args.probe_repeat).items():
                result["probes"].append({
                    "workload": name, "arch": workload.arch, "shape": workload.shape,
                    "width": width, "probe": probe, "seconds": seconds,
                    "train_steps": seconds / fast_s, "settings": probe_settings})
        del trainer
        _release(device)

        reference = ReferenceLoop(workload, batch, width, n_images, device, workers)
        reset_peak_memory(device)
        ref_s = seconds_per_call(reference, steps, warmup, device)
        ref_metrics = _path_metrics(ref_s, batch, flops, peak, peak_memory_bytes(device))
        del reference
        _release(device)

        result["training"].append({
            "workload": name, "arch": workload.arch, "shape": workload.shape,
            "input_shape": [workload.channels, workload.size, workload.size],
            "num_classes": workload.num_classes, "batch_size": batch, "width": width,
            "flops_per_step": flops, "fast": fast_metrics, "reference": ref_metrics,
            "speedup_vs_reference": ref_s / fast_s})
    return result


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run(args)
    print(render(result))
    if args.out:
        with open(args.out, "w") as out:
            json.dump(result, out, indent=2)
            out.write("\n")
    if args.reference_file:
        merge_measurement(args.reference_file, measurement(result, args.note))
        print(f"\nper-step costs merged into {args.reference_file}")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
