"""The laptop workload: today's CPU training step and the CPU fast path, side by side.

The laptop preset's step (config/laptop.yaml: ResNet-18 at width 1/8, batch 128, 28x28x1
images, AdamW) is timed twice in one process, on the same synthetic data: with today's
path (fp32, contiguous NCHW) and with the fast path (channels_last, and bf16 autocast where
the CPU has native bf16; see :mod:`earlyphase.training.cpu_bf16`). Both are
:meth:`Trainer.train_step` itself, as every run executes it. The two paths alternate over
``rounds`` (today, fast, today, fast, ...), so a change of load on a shared machine hits
both alike; each path's time is the median of its rounds. The ratio is fast images/s over
today's images/s.

Achieved GFLOP/s (forward + backward FLOPs of one step, :func:`timing.train_step_flops`)
are reported as fractions of the machine's fp32 and bf16 GEMM peaks, both measured in the
same run (:mod:`.gemm_peak`); ``fraction_of_own_peak`` divides by the peak of the precision
the path computes in.
"""

from __future__ import annotations

import statistics

import torch

from earlyphase.training.acceleration import FastPath
from earlyphase.training.cpu_bf16 import bf16_support

from .fast_loop import build_trainer, trainer_step
from .gemm_peak import gemm_peak
from .timing import seconds_per_call, train_step_flops
from .workloads import WORKLOADS

WORKLOAD = "resnet18-mnist"
# The laptop preset's setup (config/laptop.yaml fmnist-resnet18).
LAPTOP = {"width": 0.125, "batch_size": 128}
LAPTOP_OPTIMIZER = {"optimizer": "adamw", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}
TODAY = FastPath(precision="fp32", channels_last=False)

FULL = {"steps": 20, "warmup": 3, "rounds": 3, "gemm_n": 1024, "gemm_seconds": 1.0}
QUICK = {"steps": 2, "warmup": 1, "rounds": 1, "gemm_n": 512, "gemm_seconds": 0.1}


def default_fast_spec() -> dict:
    """The fast path to measure: channels_last, plus bf16 where the CPU computes it natively."""
    return {"precision": "bf16" if bf16_support()["native"] else "fp32", "channels_last": True}


def _path_result(fast: FastPath, round_seconds: list[float], batch: int, flops: int, peaks: dict) -> dict:
    seconds = statistics.median(round_seconds)
    gflops = flops / seconds / 1e9
    fractions = {precision: gflops / peak["gflops"] for precision, peak in peaks.items()}
    return {"precision": fast.precision, "channels_last": fast.channels_last,
            "cpu_bf16_native": fast.cpu_bf16_native, "seconds_per_step": seconds,
            "round_seconds": round_seconds, "images_per_s": batch / seconds, "gflops": gflops,
            "fraction_of_peak": fractions, "fraction_of_own_peak": fractions[fast.precision]}


def laptop_comparison(fast_spec: dict | None, *, batch_size: int, width: float, steps: int, warmup: int,
                      rounds: int, gemm_n: int, gemm_seconds: float) -> dict:
    """Time today's path and the fast path on the laptop workload; measure both GEMM peaks."""
    device = torch.device("cpu")
    workload = WORKLOADS[WORKLOAD]
    fast = FastPath.resolve(fast_spec or default_fast_spec(), device)
    n_images = batch_size * (warmup + steps + 1)
    trainers = {name: build_trainer(workload, batch_size, width, n_images, device, path, LAPTOP_OPTIMIZER)
                for name, path in (("today", TODAY), ("fast", fast))}
    inputs, targets = trainers["today"].stream.batch(1)
    flops = train_step_flops(trainers["today"].model, inputs, targets)
    times: dict[str, list[float]] = {"today": [], "fast": []}
    for round_index in range(rounds):
        for name, trainer in trainers.items():
            times[name].append(seconds_per_call(trainer_step(trainer), steps,
                                                warmup if round_index == 0 else 0, device))
    peaks = {precision: gemm_peak(precision, gemm_n, gemm_seconds) for precision in ("fp32", "bf16")}
    paths = {"today": _path_result(TODAY, times["today"], batch_size, flops, peaks),
             "fast": _path_result(trainers["fast"].fast, times["fast"], batch_size, flops, peaks)}
    return {"workload": WORKLOAD, "input_shape": workload.input_shape, "batch_size": batch_size,
            "width": width, "optimizer": LAPTOP_OPTIMIZER, "steps": steps, "warmup": warmup,
            "rounds": rounds, "threads": torch.get_num_threads(), "flops_per_step": flops,
            "cpu_bf16": bf16_support(), "peaks": peaks, "paths": paths,
            "ratio": paths["fast"]["images_per_s"] / paths["today"]["images_per_s"]}
