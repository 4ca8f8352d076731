"""Warm-start helpers for the plasticity experiment (Berariu et al., seed 002).

Warm start: train on a fixed half of the training set, then continue on all of it (the
optimizer state is reset; the loop does the orchestration). Two helpers live here:

* :func:`warm_start_subset` -- the fixed, reproducible subset of training indices used in the
  first phase (``floor(fraction * n_train)`` distinct indices, sorted, drawn from a NumPy
  ``Generator`` seeded with ``seed``; the same arguments always give the same subset);
* :func:`reset_blocks` -- re-initialise chosen blocks of a model (block indices of
  ``model.block_names``; ``-1`` or ``"head"`` for the head), the "shrink and perturb"-style
  partial resets used to study plasticity. Each submodule's own ``reset_parameters`` (PyTorch's
  default initialiser for that layer type) is called under ``torch.random.fork_rng`` seeded
  from ``generator``, so the global RNG is untouched and the reset is reproducible. BatchNorm
  running statistics of a reset block are reset too.

Note that ``reset_parameters`` gives PyTorch's default initialisation, not the Kaiming
``fan_out`` initialisation the ResNet-18/VGG-11 constructors apply to convolutions; pass
``init="model"`` to re-run the same initialiser as the model constructor uses
(Kaiming-normal fan_out for convolutions, ones/zeros for BatchNorm, default for linear layers).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models.partition import block_modules, head_modules

__all__ = ["warm_start_subset", "reset_blocks"]


def warm_start_subset(n_train: int, fraction: float = 0.5, seed: int = 0) -> np.ndarray:
    """Sorted ``int64`` indices of ``floor(fraction * n_train)`` distinct training examples."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if n_train < 1:
        raise ValueError(f"n_train must be >= 1, got {n_train}")
    n = int(np.floor(fraction * n_train))
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x57A27]))
    return np.sort(rng.permutation(n_train)[:n]).astype(np.int64)


def _model_init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.modules.batchnorm._BatchNorm):
        m.reset_parameters()  # weight 1, bias 0, running stats reset
    elif hasattr(m, "reset_parameters"):
        m.reset_parameters()


def reset_blocks(
    model: nn.Module,
    block_indices,
    generator: torch.Generator | int,
    init: str = "default",
) -> list[str]:
    """Re-initialise the listed blocks in place; returns the names of the reset submodules.

    ``generator`` is a ``torch.Generator`` (one ``int64`` seed is drawn from it, so passing the
    same generator twice gives two different resets) or an ``int`` seed.
    """
    if init not in ("default", "model"):
        raise ValueError(f"init must be 'default' or 'model', got {init!r}")
    if isinstance(generator, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    else:
        seed = int(generator)
    blocks = block_modules(model)
    L = len(blocks)
    names: list[str] = []
    targets: list[nn.Module] = []
    for b in block_indices:
        if b == "head" or b == -1:
            targets += head_modules(model)
            names += list(model.head_names)
        elif isinstance(b, int) and 0 <= b < L:
            targets += blocks[b]
            names += list(model.block_names[b])
        else:
            raise ValueError(f"block index {b!r} out of range 0..{L - 1} (or 'head')")
    devices = [d for d in {p.device for p in model.parameters()} if d.type == "cuda"]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        with torch.no_grad():
            for top in targets:
                for m in top.modules():
                    if init == "model":
                        _model_init(m)
                    elif hasattr(m, "reset_parameters"):
                        m.reset_parameters()
                    elif any(True for _ in m.parameters(recurse=False)):
                        raise TypeError(
                            f"{type(m).__name__} owns parameters but has no reset_parameters"
                        )
    return names
