"""Which device a job runs on: ``"auto"`` is the GPU when there is one, else the CPU.

Its own module so that training, evaluation, post-hoc probes and the benchmark share one
rule without importing each other. ``"auto"`` is for machines that may have no GPU; a job
that asks for ``cuda`` (the ``device`` setting, workflow/profiles/gpu-slots) gets the GPU or
an error saying why it cannot have it, never a silent CPU run (a driver too old for the
wheel makes ``torch.cuda.is_available()`` false, and ``auto`` would then train on the CPU).
"""

from __future__ import annotations

import torch


class DeviceUnavailableError(RuntimeError):
    """A CUDA device was asked for and torch cannot use one."""


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"--device {requested}: torch {torch.__version__} (CUDA {torch.version.cuda}) cannot use a "
                "GPU here (torch.cuda.is_available() is False: no GPU visible, CUDA_VISIBLE_DEVICES empty, "
                "or a driver too old for this wheel). Use --device auto or cpu to train on the CPU on purpose.")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceUnavailableError(f"--device {requested}: only {torch.cuda.device_count()} GPU(s) visible")
    return device
