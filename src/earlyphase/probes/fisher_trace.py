"""Trace of the Fisher information matrix, tr(F).

    tr(F) = E_x E_{ŷ ~ p_w(·|x)} || ∇_w log p_w(ŷ | x) ||²

with labels ŷ *sampled from the model* (one draw per example from ``generator``), the
expectation over x taken as the mean over the probe points, and w the covered parameters
(``params="trainable"`` by default: during gradual unfreezing only the unfrozen blocks and
the head).  The result is reported raw and normalized by the number of covered parameters.

Estimators (all unbiased for the same quantity; the model is in eval mode under
:func:`~earlyphase.probes.base.probe_mode`, so BatchNorm uses running statistics and every
example's gradient is well defined on its own):

``"per_sample"`` (default)
    Per-example gradients with ``torch.func.vmap(grad(...))`` over ``functional_call``,
    ``chunk_size`` examples at a time (memory: ``chunk_size × n_params`` floats); the
    squared norms are reduced immediately.
``"batched"``
    One backward pass per group of ``batch_size`` examples: with independent labels
    sampled from the model, E_ŷ ∇ log p(ŷ|x_i) = 0, so cross terms vanish in expectation
    and ||Σ_i g_i||² is an unbiased estimate of Σ_i E||g_i||².  Much cheaper (one backward
    per batch instead of one per example) but with far higher variance: the estimate of a
    batch of B is dominated by the B(B−1) zero-mean cross terms.  Prefer it for penalties
    and cheap monitoring; prefer ``per_sample`` for recorded curves.
``"loop"``
    The plain reference: one forward/backward per example.  Same sampled labels, so its
    value equals ``per_sample`` up to floating-point summation order.  For tests and the
    benchmark.

The label sampling (one forward pass over the points, then one categorical draw per
example from ``generator``) is shared by every estimator, so for a given generator seed
``per_sample`` and ``loop`` agree to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import grad, vmap

from .base import (
    FunctionalModel,
    ParamSelection,
    batches,
    check_inputs,
    probe_mode,
    sample_categorical,
)

Estimator = Literal["per_sample", "batched", "loop"]
ESTIMATORS = ("per_sample", "batched", "loop")


@dataclass(frozen=True)
class FisherTrace:
    trace: float
    """tr(F) summed over the covered parameters (mean over examples)."""
    trace_norm: float
    """``trace / n_params``."""
    n_params: int
    """Number of scalar parameters covered."""
    stderr: float
    """Monte-Carlo standard error of ``trace`` from the per-example (or per-batch) terms."""
    n_examples: int
    estimator: str


@torch.no_grad()
def sample_model_labels(
    fmodel: FunctionalModel, inputs: Tensor, batch_size: int, generator: torch.Generator
) -> Tensor:
    """ŷ_i ~ p_w(·|x_i), one independent draw per example, in order, from ``generator``."""
    labels = []
    for sl in batches(inputs.shape[0], batch_size):
        logits = fmodel(fmodel.base, inputs[sl])
        labels.append(sample_categorical(torch.softmax(logits.double(), dim=-1), generator))
    return torch.cat(labels)


def _sq_norms_per_sample(
    fmodel: FunctionalModel, inputs: Tensor, labels: Tensor, chunk_size: int
) -> Tensor:
    def nll_one(params: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
        logits = fmodel(params, x.unsqueeze(0))
        return F.cross_entropy(logits, y.unsqueeze(0))

    per_example_grad = vmap(grad(nll_one), in_dims=(None, 0, 0))
    out = []
    for sl in batches(inputs.shape[0], chunk_size):
        grads = per_example_grad(fmodel.base, inputs[sl], labels[sl])
        sq = sum(g.pow(2).flatten(1).sum(1) for g in grads.values())
        out.append(sq.detach())
        del grads
    return torch.cat(out)


def _sq_norms_loop(fmodel: FunctionalModel, inputs: Tensor, labels: Tensor) -> Tensor:
    leaves = {n: t.clone().requires_grad_(True) for n, t in fmodel.base.items()}
    out = []
    for i in range(inputs.shape[0]):
        logits = fmodel(leaves, inputs[i : i + 1])
        loss = F.cross_entropy(logits, labels[i : i + 1])
        gs = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
        out.append(sum(g.pow(2).sum() for g in gs if g is not None))
    return torch.stack([torch.as_tensor(v) for v in out]).detach()


def _sq_norms_batched(
    fmodel: FunctionalModel, inputs: Tensor, labels: Tensor, batch_size: int
) -> tuple[Tensor, Tensor]:
    """||Σ_{i∈b} g_i||² per batch b, and the batch sizes."""
    leaves = {n: t.clone().requires_grad_(True) for n, t in fmodel.base.items()}
    vals, sizes = [], []
    for sl in batches(inputs.shape[0], batch_size):
        logits = fmodel(leaves, inputs[sl])
        loss = F.cross_entropy(logits, labels[sl], reduction="sum")
        gs = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
        vals.append(sum(g.pow(2).sum() for g in gs if g is not None).detach())
        sizes.append(sl.stop - sl.start)
    return torch.stack([torch.as_tensor(v) for v in vals]), torch.tensor(sizes)


def fisher_trace(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor | None = None,
    *,
    batch_size: int = 256,
    generator: torch.Generator,
    params: ParamSelection = "trainable",
    estimator: Estimator = "per_sample",
    chunk_size: int = 64,
    labels: Tensor | None = None,
) -> FisherTrace:
    """Estimate tr(F) of ``model`` over ``inputs`` (see the module docstring).

    ``targets`` is accepted for a uniform probe signature and ignored: the Fisher uses
    labels sampled from the model.  ``labels`` overrides the sampling (for tests).
    ``chunk_size`` bounds the per-example gradients held at once (``per_sample`` only).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    check_inputs(inputs, inputs if targets is None else targets)
    n = inputs.shape[0]
    with probe_mode(model) as m:
        fmodel = FunctionalModel(m, params)
        n_params = fmodel.n_params
        if n_params == 0:
            return FisherTrace(0.0, 0.0, 0, 0.0, n, estimator)
        if labels is None:
            labels = sample_model_labels(fmodel, inputs, batch_size, generator)
        if estimator == "batched":
            sq, sizes = _sq_norms_batched(fmodel, inputs, labels, batch_size)
            # per-batch estimates of the mean squared norm, weighted by batch size
            est = sq.double() / sizes.double()
            w = sizes.double() / n
            trace = float((w * est).sum())
            if len(est) > 1:
                var = float(((est - trace) ** 2 * w).sum() / (1 - (w**2).sum()))
                stderr = math.sqrt(var * float((w**2).sum()))
            else:
                stderr = float("nan")
        else:
            if estimator == "per_sample":
                sq = _sq_norms_per_sample(fmodel, inputs, labels, chunk_size)
            else:
                sq = _sq_norms_loop(fmodel, inputs, labels)
            sq = sq.double()
            trace = float(sq.mean())
            stderr = float(sq.std() / math.sqrt(n)) if n > 1 else float("nan")
    return FisherTrace(trace, trace / n_params, n_params, stderr, n, estimator)
