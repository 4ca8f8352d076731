"""The CPU's GEMM peak, measured: a timed square matrix product in fp32 and in bf16.

Datasheet peaks do not exist for a shared CPU of unknown clock, so the benchmark measures
what ``torch.mm`` reaches with the threads the training step uses, in the same run as the
step it is compared with. The rate of the fastest timed call is the peak: on a machine
shared with other jobs the fastest call is the one least slowed by them. One untimed call
first (oneDNN builds its kernel and packs the operands on the first call of a shape).
"""

from __future__ import annotations

import time

import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def gemm_peak(precision: str, n: int, min_seconds: float, min_calls: int = 2) -> dict:
    """GFLOP/s of ``n x n @ n x n`` in ``precision``: the best of at least ``min_calls`` timed
    calls, calling until ``min_seconds`` have passed."""
    if precision not in DTYPES:
        raise ValueError(f"precision must be one of {sorted(DTYPES)}, got {precision!r}")
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=generator).to(DTYPES[precision]) for _ in range(2))
    torch.mm(a, b)
    best, calls, begin = float("inf"), 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - begin < min_seconds:
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
        calls += 1
    return {"precision": precision, "n": n, "gflops": 2 * n**3 / best / 1e9, "calls": calls,
            "threads": torch.get_num_threads()}
