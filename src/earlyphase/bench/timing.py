"""Timing and FLOP counting.

CUDA work is asynchronous, so CUDA timings use CUDA events recorded on the stream around
the timed steps (after warm-up) and a single synchronisation at the end; CPU timings use
``time.perf_counter``. FLOPs are counted once per workload with
``torch.utils.flop_counter.FlopCounterMode`` over one forward + backward pass (matrix
products and convolutions; the optimizer and element-wise work are not counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def seconds_per_call(step: Callable[[], object], n: int, warmup: int,
                     device: torch.device) -> float:
    """Mean seconds of ``step()`` over ``n`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(n):
            step()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0 / n
    begin = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - begin) / n


def train_step_flops(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> int:
    """FLOPs of one forward + backward pass of ``model`` on a batch (gradients discarded)."""
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(inputs), targets).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_bytes(device: torch.device) -> int | None:
    """Peak allocated CUDA memory since the last reset; ``None`` on CPU (not measured)."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return None
