"""Gradual unfreezing, Algorithm 1 of the primary paper (Liu & Gurevych).

The model is partitioned into blocks ``theta_0 .. theta_{L-1}`` (bottom -> top) and a head
``C`` (``model.block_names``, ``model.head_names``). Algorithm 1::

    S <- {C}; j <- L - 1
    for i = 1 .. N:
        if i mod k == 0 and i <= k L:  S <- S u {theta_j}; j <- j - 1
        forward; update only the parameters in S

so the head trains from step 1, the top block (``layer4`` of ResNet-18) from step ``k``, and
block ``j`` from step ``k (L - j)``; block 0 (the stem) from step ``k L``. With ``k = 1`` one block
is unfrozen per step and everything trains from step ``L``.

Implementation. Frozen parameters get ``requires_grad = False``. Their ``.grad`` stays ``None``
because the loop zeroes gradients with ``set_to_none=True``, and ``torch.optim.SGD`` and
``torch.optim.AdamW`` (for-loop and foreach implementations) skip parameters whose gradient is
``None``: no weight decay, no momentum buffer, no Adam moments and no step count are created
or applied for them. The tests check this bit for bit. When a block is unfrozen, its optimizer
state starts fresh at that step (Adam's bias correction counts from its first update). Fused
SGD cannot start buffers for some parameters only, so on CUDA these runs use foreach SGD
(``changes_trainable_set``; :func:`earlyphase.training.acceleration.optimizer_options`).

The frozen set depends on the step only (``min(L, i // k)`` top blocks are trainable at step
``i``), so ``before_step`` recomputes it from scratch; the intervention is stateless and
resuming at any step gives the same partition.

BatchNorm in frozen blocks (a question the paper leaves open). Default
(``freeze_bn_stats=False``): as in plain PyTorch, a frozen block's BN layers stay in train
mode: they normalise with batch statistics and keep updating their running statistics, only
their affine parameters are frozen. With ``freeze_bn_stats=True`` the BN layers of frozen blocks
are put in eval mode in ``before_step`` (running statistics are used and not updated); this
requires the loop to call ``model.train()`` *before* ``before_step``, as documented in
:mod:`earlyphase.interventions.base`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models.partition import block_modules, block_parameters, head_parameters
from .base import Intervention
from .registration import Registration


def unfreeze_steps(L: int, k: int) -> list[int]:
    """Step at which each block becomes trainable, indexed by block: ``[k L, k (L-1), ..., k]``.

    ``unfreeze_steps(L, k)[j] == k * (L - j)``; the head trains from step 1.
    """
    if L < 1 or k < 1:
        raise ValueError(f"need L >= 1 and k >= 1, got L={L}, k={k}")
    return [k * (L - j) for j in range(L)]


def num_unfrozen_blocks(step: int, L: int, k: int) -> int:
    """How many (top) blocks are trainable during step ``step`` (counted from 1)."""
    return min(L, max(step, 0) // k)


def trainable_parameter_count(model: nn.Module) -> int:
    """Number of scalar parameters with ``requires_grad`` (used to normalise tr(F))."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class GradualUnfreezing(Intervention):
    changes_trainable_set = True  # momentum buffers appear block by block (no fused SGD)

    def __init__(self, k: int, freeze_bn_stats: bool = False) -> None:
        if int(k) != k or k < 1:
            raise ValueError(f"gradual unfreezing needs an integer k >= 1, got {k!r}")
        self.k = int(k)
        self.freeze_bn_stats = bool(freeze_bn_stats)

    def setup(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Freeze every block, make the head trainable (state before step 1)."""
        self._apply(model, 0)

    def before_step(self, step: int, model: nn.Module, optimizer=None) -> None:
        self._apply(model, step)

    def _apply(self, model: nn.Module, step: int) -> None:
        L = len(model.block_names)
        n = num_unfrozen_blocks(step, L, self.k)
        for j, params in enumerate(block_parameters(model)):
            trainable = j >= L - n
            for _, p in params:
                p.requires_grad_(trainable)
        for _, p in head_parameters(model):
            p.requires_grad_(True)
        if self.freeze_bn_stats and model.training:
            for j, modules in enumerate(block_modules(model)):
                frozen = j < L - n
                for m in modules:
                    for sub in m.modules():
                        if isinstance(sub, nn.modules.batchnorm._BatchNorm):
                            sub.train(not frozen)

    def trainable_blocks(self, step: int, L: int) -> list[int]:
        """Indices of the blocks trainable during ``step``."""
        n = num_unfrozen_blocks(step, L, self.k)
        return list(range(L - n, L))


def _run_config(k: int | None, config: dict, run: dict) -> dict:
    # both keys in every run config (null k: standard training), as the run ids were made
    return {"gu_k": k, "gu_freeze_bn_stats": config["training"]["freeze_bn_stats"]}


def _id_tag(run_config: dict) -> str:
    k = run_config["gu_k"]
    return f"gu_k{k}" if k else "std"


def _build(run_config: dict) -> Intervention | None:
    k = run_config.get("gu_k")
    if k is None:
        return None
    return GradualUnfreezing(int(k), freeze_bn_stats=bool(run_config.get("gu_freeze_bn_stats", False)))


# run config keys ``gu_k`` (int or null) and ``gu_freeze_bn_stats`` (bool, default false: frozen
# blocks' BatchNorm stays in train mode)
REGISTRATION = Registration(run_config=_run_config, id_tag=_id_tag, build=_build)
