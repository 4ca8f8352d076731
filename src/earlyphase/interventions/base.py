"""The interface between the training loop and an intervention.

The loop (``earlyphase.training.trainer``) calls, for a list of interventions:

0. before anything runs, ``compile_conflict`` (a class attribute): when not ``None``, the reason
   this intervention's step cannot run under ``torch.compile`` (double backward), and the loop
   runs eagerly; ``changes_trainable_set`` (a class attribute): True when the intervention
   flips ``requires_grad`` mid-run, which decides the optimizer implementation on CUDA
   (:func:`earlyphase.training.acceleration.optimizer_options`);
1. ``setup_data(data)`` once the training set is on the device (:class:`TrainingData`), then
   ``setup(model, optimizer)`` once, after the model and optimizer exist and before the first
   step (also when resuming, *before* ``load_state_dict``);
2. for every optimisation step ``step = 1, 2, ...`` (Algorithm 1's ``i``):
   ``model.train()``, then ``before_step(step, model, optimizer)``, then ``batch(step)`` (the
   first intervention that returns a batch chooses it; else the loop's own stream), then the
   forward pass,
   then ``loss = mean CE + sum of penalty(step, model, inputs, targets, logits)`` over the
   interventions that return a tensor, then
   ``optimizer.zero_grad(set_to_none=True); loss.backward(); optimizer.step()``;
3. ``state_dict()`` when checkpointing, ``load_state_dict(state)`` when resuming.

Setting ``zero_grad(set_to_none=True)`` matters: parameters frozen by gradual unfreezing then
have ``grad is None`` and the PyTorch optimizers skip them entirely (no weight decay, no
momentum, no Adam moments); see :mod:`earlyphase.interventions.gradual_unfreezing`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from earlyphase.training.batches import BatchStream, Normalizer


@dataclass(frozen=True)
class TrainingData:
    """The training set as the loop holds it (on the device) and its batch settings."""

    images: torch.Tensor
    labels: torch.Tensor
    normalizer: Normalizer
    stream: BatchStream
    """The loop's own batches: step ``s`` of the run draws ``stream.batch(s)``."""
    batch_size: int
    seed: int
    augment: bool


class Intervention:
    """No-op base class; subclasses override the hooks they need."""

    compile_conflict: str | None = None
    changes_trainable_set: bool = False

    def setup_data(self, data: TrainingData) -> None:
        """Called once, when the training set is on the device (before :meth:`setup`)."""

    def setup(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Called once before training (and before ``load_state_dict`` on resume)."""

    def before_step(self, step: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Called before the forward pass of step ``step`` (counted from 1)."""

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The (inputs, targets) of step ``step`` when this intervention chooses the data."""
        return None

    def penalty(
        self,
        step: int,
        model: nn.Module,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        logits: torch.Tensor,
    ) -> torch.Tensor | None:
        """Extra differentiable loss term added to the mean cross-entropy, or ``None``."""
        return None

    def state_dict(self) -> dict:
        """Everything needed to resume bit-exactly (plain Python objects and tensors)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} has no state, got keys {sorted(state)}")

    def __repr__(self) -> str:  # readable in logs
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"
