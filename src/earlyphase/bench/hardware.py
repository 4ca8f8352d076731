"""Which device the benchmark runs on, and its peak bf16 dense tensor throughput.

Peaks are the vendors' datasheet figures for dense (non-sparse) bf16 tensor-core math,
in TFLOP/s. CPUs get no peak (the fraction of peak is reported as n/a).
"""

from __future__ import annotations

import os
import platform

import torch

# (substring of torch.cuda.get_device_name(), TFLOP/s); first match wins, so the
# specific variants come before the generic name.
PEAK_BF16_DENSE_TFLOPS: tuple[tuple[str, float], ...] = (
    ("H200", 989.4),       # H200 SXM
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H100", 989.4),       # H100 SXM5 ("NVIDIA H100 80GB HBM3")
    ("A100", 312.0),       # SXM4 and PCIe
)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_device(device: torch.device) -> dict:
    """``{name, type, peak_bf16_dense_tflops, ...}`` of the benchmark's device."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        props = torch.cuda.get_device_properties(device)
        return {"name": name, "type": "cuda", "peak_bf16_dense_tflops": peak_bf16_tflops(name),
                "memory_bytes": props.total_memory, "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version()}
    return {"name": f"CPU: {cpu_name()}", "type": "cpu", "peak_bf16_dense_tflops": None,
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}


def peak_bf16_tflops(device_name: str) -> float | None:
    for key, peak in PEAK_BF16_DENSE_TFLOPS:
        if key.lower() in device_name.lower():
            return peak
    return None
