"""``python -m earlyphase.bench``: training-step and probe throughput, fast path vs reference.

Examples::

    python -m earlyphase.bench --out bench.json                     # CUDA: paper sizes
    python -m earlyphase.bench --quick --out bench.json             # CPU / CI: tiny sizes
    python -m earlyphase.bench --width 0.125 --batch-size 64 --probe-preset smoke \\
        --reference-file bench/throughput_reference.json --note "CPU, shared machine"
    python -m earlyphase.bench --pack 1,2,4,8 --workloads resnet18-cifar  # K runs per device
    python -m earlyphase.bench --cuda-graphs --no-probes                  # captured update
    python -m earlyphase.bench --laptop --threads 2 --out laptop.json     # CPU: today vs fast path
    python -m earlyphase.bench --paired results/fast-path-check/today results/fast-path-check/fast

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

from earlyphase.training.acceleration import FastPath, configure_cuda
from earlyphase.training.trainer import pick_device

from .fast_loop import build_trainer, trainer_step
from .hardware import describe_device
from .pack import pack_throughput
from .probe_cost import COST_MODEL_PROBES, PROBE_PRESETS, PROBES, probe_seconds
from .reference_file import measurement, merge_measurement
from .reference_loop import ReferenceLoop
from .report import emit, render
from .timing import peak_memory_bytes, reset_peak_memory, seconds_per_call, train_step_flops
from .workloads import WORKLOADS


def _pack_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(item) for item in text.split(",") if item.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--pack takes K or K1,K2,...; got {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"--pack sizes must be positive, got {text!r}")
    return sorted({1, *sizes})  # K = 1 is always measured: the ratios are against it


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
    p.add_argument("--compile-backend", default="inductor",
                   help="torch.compile backend (aot_eager: the same graphs, no code generation)")
    p.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=None,
                   help="replay the update as a CUDA graph (falls back to eager off CUDA)")
    p.add_argument("--cudnn-benchmark", action=argparse.BooleanOptionalAction, default=True,
                   help="cuDNN autotuning, as a non-deterministic training job (default on)")
    p.add_argument("--pack", type=_pack_sizes, default=None,
                   help="K[,K...]: K concurrent training processes on the device; aggregate "
                        "images/s against K = 1 and the plain reference (implies --no-probes)")
    p.add_argument("--probe-preset", choices=sorted(PROBE_PRESETS),
                   help="probe settings (full: paper, quick: quick)")
    p.add_argument("--probe-points", type=int, help="override the preset's number of points")
    p.add_argument("--probe-repeat", type=int, default=1, help="timed calls per probe")
    p.add_argument("--no-probes", action="store_true")
    p.add_argument("--probes", choices=["all", "cost-model"], default="all",
                   help="every probe on every workload, or only the probe points the cost model "
                        "reads (earlyphase.bench.probe_cost.COST_MODEL_PROBES)")
    p.add_argument("--laptop", action="store_true",
                   help="only the laptop workload on the CPU (ResNet-18, width 1/8, batch 128, 28x28x1): "
                        "today's fp32 path vs the fast path (--precision/--channels-last; default: "
                        "channels_last, plus bf16 where the CPU has native bf16), with the fp32 and bf16 "
                        "GEMM peaks measured in the same run")
    p.add_argument("--paired", nargs=2, metavar=("TODAY", "FAST"),
                   help="no timing: final ID/OOD accuracy of two builds of one preset's Table 1 runs "
                        "(results folders of today's path and the fast path, make fast-path-check), "
                        "paired by (row, seed), beside the seed-to-seed spread")
    p.add_argument("--rounds", type=int, help="--laptop: alternating timing rounds per path (full 3, quick 1)")
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


def _compile_counters():
    """Zero Dynamo's counters; return a function that reads how many graphs this workload
    compiled and how many graph breaks it met (what the summary shows beside its figure)."""
    from torch._dynamo.utils import counters

    counters.clear()

    def read() -> dict:
        return {"unique_graphs": int(counters["stats"]["unique_graphs"]),
                "graph_breaks": int(sum(counters["graph_break"].values()))}

    return read


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _reference_seconds(workload, batch, width, n_images, device, workers, steps, warmup, peak,
                       flops) -> dict:
    reference = ReferenceLoop(workload, batch, width, n_images, device, workers)
    reset_peak_memory(device)
    seconds = seconds_per_call(reference, steps, warmup, device)
    metrics = _path_metrics(seconds, batch, flops, peak, peak_memory_bytes(device))
    del reference
    _release(device)
    return metrics


def _pack_rows(args, name, batch, width, steps, warmup, n_images, device, fast,
               reference_images_per_s) -> list[dict]:
    spec = {"workload": name, "batch_size": batch, "width": width, "steps": steps, "warmup": warmup,
            "n_images": n_images, "device": str(device), "fast": fast,
            "threads": args.threads or 1, "cudnn_benchmark": args.cudnn_benchmark}
    rows = [pack_throughput(k, spec) for k in args.pack]
    single = rows[0]["images_per_s"]  # K = 1
    for row in rows:
        row.update({"workload": name, "ratio_vs_k1": row["images_per_s"] / single,
                    "ratio_vs_reference": row["images_per_s"] / reference_images_per_s})
    return rows


def run(args) -> dict:
    device = pick_device(args.device)
    configure_cuda(deterministic=False)  # as a training job; --no-cudnn-benchmark only drops autotuning
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
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
    fast = FastPath.resolve({"precision": args.precision, "channels_last": args.channels_last,
                             "compile": args.compile, "cuda_graphs": args.cuda_graphs}, device,
                            compile_backend=args.compile_backend)
    info = describe_device(device)
    peak = info["peak_bf16_dense_tflops"]
    n_images = max(batch * (warmup + steps + 1), probe_settings["points"])

    result = {"device": info, "date": _dt.date.today().isoformat(), "torch": torch.__version__,
              "mode": "quick" if quick else "full", "note": args.note,
              "settings": {"batch_size": batch, "width": width, "steps": steps, "warmup": warmup,
                           "reference_workers": workers, "probe": probe_settings,
                           "cudnn_benchmark": args.cudnn_benchmark},
              "fast_settings": None, "training": [], "probes": [], "pack": []}
    for name in args.workloads.split(","):
        if name not in WORKLOADS:
            raise ValueError(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
        workload = WORKLOADS[name]
        trainer = build_trainer(workload, batch, width, n_images, device, fast)
        result["fast_settings"] = trainer.fast.describe()
        inputs, targets = trainer.stream.batch(1)
        flops = train_step_flops(trainer.model, inputs, targets)
        if args.pack:  # the members build their own runs; this one only counted the FLOPs
            del trainer
            _release(device)
            ref = _reference_seconds(workload, batch, width, n_images, device, workers, steps,
                                     warmup, peak, flops)
            result["pack"] += _pack_rows(args, name, batch, width, steps, warmup, n_images,
                                         device, fast, ref["images_per_s"])
            continue
        reset_peak_memory(device)
        compiled = _compile_counters() if fast.compile else None
        fast_s = seconds_per_call(trainer_step(trainer), steps, warmup, device)
        fast_metrics = _path_metrics(fast_s, batch, flops, peak, peak_memory_bytes(device))
        fast_metrics["settings"] = trainer.execution()["fast"]
        if compiled is not None:
            fast_metrics["compile_stats"] = compiled()
        probes = PROBES if args.probes == "all" else COST_MODEL_PROBES.get(name, ())
        if not args.no_probes and probes:
            for probe, seconds in probe_seconds(trainer, probe_settings, args.probe_repeat, probes).items():
                result["probes"].append({
                    "workload": name, "arch": workload.arch, "shape": workload.shape,
                    "width": workload.width(width), "probe": probe, "seconds": seconds,
                    "train_steps": seconds / fast_s, "settings": probe_settings})
        del trainer
        _release(device)

        ref_metrics = _reference_seconds(workload, batch, width, n_images, device, workers, steps,
                                         warmup, peak, flops)
        result["training"].append({
            "workload": name, "arch": workload.arch, "shape": workload.shape,
            "input_shape": workload.input_shape,
            "num_classes": workload.num_classes, "batch_size": batch, "width": workload.width(width),
            "flops_per_step": flops, "fast": fast_metrics, "reference": ref_metrics,
            "speedup_vs_reference": ref_metrics["seconds_per_step"] / fast_s})
    return result


def run_laptop(args) -> dict:
    """``--laptop``: :func:`earlyphase.bench.laptop.laptop_comparison` with the sizes asked for."""
    from . import laptop

    if args.device not in ("auto", "cpu"):
        raise ValueError(f"--laptop measures the CPU path; got --device {args.device}")
    sizes = {**laptop.LAPTOP, **(laptop.QUICK if args.quick else laptop.FULL)}
    for key in ("batch_size", "width", "steps", "warmup", "rounds"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    fast = {"precision": args.precision, "channels_last": args.channels_last}
    fast = None if all(v is None for v in fast.values()) else fast
    return {"device": describe_device(torch.device("cpu")), "date": _dt.date.today().isoformat(),
            "torch": torch.__version__, "mode": "quick" if args.quick else "full", "note": args.note,
            "laptop": laptop.laptop_comparison(fast, **sizes)}


def run_paired(today: str, fast: str, out: str | None) -> dict:
    """``--paired``: :mod:`earlyphase.bench.paired_paths` on two results folders."""
    from . import paired_paths

    paired = paired_paths.paired_differences(paired_paths.read_runs(today), paired_paths.read_runs(fast))
    print(paired_paths.table(paired))
    result = {"today": today, "fast": fast, "summary": paired_paths.summary(paired),
              "pairs": paired.to_dict(orient="records")}
    emit(result, out, echo=False)
    return result


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if args.paired:
        return run_paired(*args.paired, out=args.out)
    if args.laptop and args.reference_file:
        raise SystemExit("--reference-file takes the workloads' measurement, not --laptop's")
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run_laptop(args) if args.laptop else run(args)
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
