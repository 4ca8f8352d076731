"""Warm start, the intervention of the plasticity experiment (Berariu et al., "A study on the
plasticity of neural networks").

Warm start: train on a fixed part of the training set, then continue on all of it.
:class:`WarmStart` (run config key ``warm_start``: ``{pretrain_steps, fraction,
reset_blocks}``) does it at the loop's named points: steps ``1..pretrain_steps`` draw their
batches from the subset (:meth:`WarmStart.batch`); before step ``pretrain_steps + 1`` the
optimizer state is reset (momentum / Adam moments and step counts dropped, hyper-parameters
kept) and the chosen blocks are re-initialized; later steps draw batch ``step -
pretrain_steps`` of the full set. Batches are a function of the step only, so a resume on
either side of the switch is exact. Two helpers:

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
from ..training.batches import BatchStream
from .base import Intervention, TrainingData
from .registration import Registration

__all__ = ["WarmStart", "warm_start_subset", "reset_blocks"]

_RESET_SEED_OFFSET = 0x5EED_0004  # reset seed = run seed + this (its own stream)


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


class WarmStart(Intervention):
    """Pre-train on a seeded subset for ``pretrain_steps`` steps, then switch to the full set
    with a fresh optimizer state and ``reset_blocks`` re-initialized (see the module docstring)."""

    def __init__(self, pretrain_steps: int, fraction: float, reset_blocks: list | None = None,
                 seed: int = 0) -> None:
        self.pretrain_steps = int(pretrain_steps)
        self.fraction = float(fraction)
        self.reset_blocks = list(reset_blocks or [])
        self.seed = int(seed)
        self.subset: torch.Tensor | None = None
        self._pretrain_stream: BatchStream | None = None
        self._stream: BatchStream | None = None

    def setup_data(self, data: TrainingData) -> None:
        subset = warm_start_subset(len(data.labels), self.fraction, self.seed)
        self.subset = torch.as_tensor(subset, device=data.labels.device)
        self._pretrain_stream = BatchStream(data.images[self.subset], data.labels[self.subset],
                                            data.batch_size, data.seed, data.augment, data.normalizer)
        self._stream = data.stream

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        if step <= self.pretrain_steps:
            return self._pretrain_stream.batch(step)
        return self._stream.batch(step - self.pretrain_steps)

    def before_step(self, step: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        if step == self.pretrain_steps + 1:
            self.end_pretraining(model, optimizer)

    def end_pretraining(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        optimizer.state.clear()
        if self.reset_blocks:
            reset_blocks(model, self.reset_blocks, generator=self.seed + _RESET_SEED_OFFSET, init="model")


def _run_config(spec: dict | None, config: dict, run: dict) -> dict:
    return {"warm_start": spec} if spec else {}  # absent without a warm start


def _id_tag(run_config: dict) -> str:
    spec = run_config.get("warm_start")
    if not spec:
        return ""
    tag = f"ws{spec['pretrain_steps']}"
    if spec.get("reset_blocks"):
        tag += "-reset" + "_".join(str(b) for b in spec["reset_blocks"])
    return tag


def _build(run_config: dict) -> Intervention | None:
    spec = run_config.get("warm_start")
    if not spec:
        return None
    return WarmStart(spec["pretrain_steps"], spec["fraction"], spec.get("reset_blocks"),
                     seed=run_config.get("seed", 0))


# run config key ``warm_start``: {pretrain_steps, fraction, reset_blocks} or absent; the subset
# and the resets are seeded by the run's ``seed``
REGISTRATION = Registration(run_config=_run_config, id_tag=_id_tag, build=_build)
