"""Which device a job runs on: ``"auto"`` is the GPU when there is one, else the CPU.

Its own module so that training, evaluation, post-hoc probes and the benchmark share one
rule without importing each other.
"""

from __future__ import annotations

import torch


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)
