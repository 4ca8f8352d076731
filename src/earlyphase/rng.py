"""The global random number generators (python, numpy, torch CPU and CUDA): seed, save, restore.

Written once for the two places that need the whole global state: a training checkpoint
(a resumed run continues the same streams, bit for bit) and :func:`earlyphase.probes.base.probe_mode`
(probes leave the training streams untouched). Order of save and restore: torch, numpy,
python, then CUDA. CUDA's state is saved only once CUDA is initialized (reading it would
otherwise start a CUDA context in a CPU job), and restored only where CUDA is available.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
