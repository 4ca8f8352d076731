"""The global random number generators (python, numpy, torch CPU and CUDA): seed, save, restore.

Written once for the two places that need the whole global state: a training checkpoint
(a resumed run continues the same streams, bit for bit) and :func:`earlyphase.probes.base.probe_mode`
(probes leave the training streams untouched). Order of save and restore: torch, numpy,
python, then CUDA.

CUDA: only the generator of the run's own device is saved and restored (``device``, else
the current CUDA device). Reading every visible GPU's state (``get_rng_state_all``) would
touch, and create a context on, devices that other jobs own, at every probe and
checkpoint. CUDA's state is read only once CUDA is initialized (reading it would otherwise
start a CUDA context in a CPU job), and restored only where CUDA is available.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _cuda_index(device: torch.device | str | None) -> int | None:
    """The CUDA device whose generator belongs to this process, or None (a CPU job)."""
    if device is not None:
        device = torch.device(device)
        if device.type != "cuda":
            return None
        if device.index is not None:
            return device.index
    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return None
    return torch.cuda.current_device()


def rng_state(device: torch.device | str | None = None) -> dict:
    """The global generators' states; with CUDA, that of ``device`` only (see module doc)."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    index = _cuda_index(device)
    if index is not None and torch.cuda.is_initialized():
        state["cuda"] = {"device": index, "state": torch.cuda.get_rng_state(index)}
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    saved = state.get("cuda")
    if saved is None or not torch.cuda.is_available():
        return
    if isinstance(saved, dict):
        torch.cuda.set_rng_state(saved["state"], saved["device"])
    else:  # checkpoints written before: one state per visible device; restore our own only
        index = torch.cuda.current_device()
        torch.cuda.set_rng_state(saved[index], index)
