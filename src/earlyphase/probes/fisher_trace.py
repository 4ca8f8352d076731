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
    Exact per-example squared gradient norms, ``chunk_size`` examples at a time, reduced
    immediately.  Two implementations (``per_sample_method``): layer-wise per-example
    gradients from one batched forward/backward via module hooks (Linear, Conv2d,
    eval-mode BatchNorm; the fast path, used automatically when it applies), and
    ``torch.func.vmap(grad(...))`` over ``functional_call`` for any model (memory:
    ``chunk_size × n_params`` floats).
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
    require_autograd,
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


_HOOKABLE = (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.BatchNorm2d)


def _hook_plan(fmodel: FunctionalModel) -> dict[str, tuple[nn.Module, list[str]]] | None:
    """Modules owning covered parameters, if every one has a per-example-norm rule."""
    covered = set(fmodel.names)
    plan: dict[str, tuple[nn.Module, list[str]]] = {}
    for mname, mod in fmodel.model.named_modules():
        own = [
            pn
            for pn, _ in mod.named_parameters(recurse=False)
            if (f"{mname}.{pn}" if mname else pn) in covered
        ]
        if not own:
            continue
        if not isinstance(mod, _HOOKABLE):
            return None
        if isinstance(mod, nn.Conv2d) and (
            mod.groups != 1 or mod.padding_mode != "zeros" or isinstance(mod.padding, str)
        ):
            return None
        if isinstance(mod, nn.BatchNorm1d | nn.BatchNorm2d) and mod.running_mean is None:
            return None
        plan[mname] = (mod, own)
    return plan


def _sq_norms_hooks(
    fmodel: FunctionalModel, inputs: Tensor, labels: Tensor, chunk_size: int, plan
) -> Tensor:
    """Exact per-example squared gradient norms from one batched forward/backward.

    Forward hooks record each covered module's input and add a zero "probe" tensor to its
    output; the gradient of the summed loss w.r.t. that probe is the per-example output
    gradient (examples are independent in eval mode).  Per-example parameter gradients are
    then formed layer by layer: Linear ``g aᵀ``, Conv2d ``G · unfold(A)ᵀ``, eval-mode
    BatchNorm ``Σ g·x̂`` and ``Σ g``, and reduced to squared norms immediately.
    """
    leaves = fmodel.leaves()
    out = []
    for sl in batches(inputs.shape[0], chunk_size):
        records: dict[str, list] = {}
        handles = []

        def make_hook(name, records=records):
            def hook(mod, args, output):
                probe = torch.zeros_like(output, requires_grad=True)
                records[name] = [args[0].detach(), probe, output.detach()]
                return output + probe

            return hook

        for mname, (mod, _) in plan.items():
            handles.append(mod.register_forward_hook(make_hook(mname)))
        try:
            logits = fmodel(leaves, inputs[sl])
        finally:
            for h in handles:
                h.remove()
        loss = F.cross_entropy(logits, labels[sl], reduction="sum")
        names = list(records)
        grads = torch.autograd.grad(loss, [records[n][1] for n in names], allow_unused=True)
        sq = torch.zeros(sl.stop - sl.start, dtype=torch.float64, device=inputs.device)
        for name, g in zip(names, grads, strict=True):
            if g is None:
                continue
            mod, own = plan[name]
            a = records[name][0]
            b = g.shape[0]
            if isinstance(mod, nn.Linear):
                a3 = a.reshape(b, -1, a.shape[-1])
                g3 = g.reshape(b, -1, g.shape[-1])
                if "weight" in own:
                    if a3.shape[1] == 1:
                        sq += (a3.pow(2).sum((1, 2)) * g3.pow(2).sum((1, 2))).double()
                    else:
                        sq += torch.einsum("bto,bti->boi", g3, a3).pow(2).sum((1, 2)).double()
                if "bias" in own:
                    sq += g3.sum(1).pow(2).sum(1).double()
            elif isinstance(mod, nn.Conv2d):
                g3 = g.reshape(b, g.shape[1], -1)
                if "weight" in own:
                    cols = F.unfold(a, mod.kernel_size, mod.dilation, mod.padding, mod.stride)
                    sq += torch.einsum("bol,bkl->bok", g3, cols).pow(2).sum((1, 2)).double()
                if "bias" in own:
                    sq += g3.sum(2).pow(2).sum(1).double()
            else:  # eval-mode BatchNorm: y = γ x̂ + β with running statistics
                shape = [1, -1] + [1] * (a.dim() - 2)
                xhat = (a - mod.running_mean.view(shape)) * torch.rsqrt(
                    mod.running_var.view(shape) + mod.eps
                )
                g3 = g.reshape(b, g.shape[1], -1)
                if "weight" in own:
                    sq += (g3 * xhat.reshape(b, g.shape[1], -1)).sum(2).pow(2).sum(1).double()
                if "bias" in own:
                    sq += g3.sum(2).pow(2).sum(1).double()
        out.append(sq)
    return torch.cat(out)


def _sq_norms_loop(fmodel: FunctionalModel, inputs: Tensor, labels: Tensor) -> Tensor:
    leaves = fmodel.leaves()
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
    leaves = fmodel.leaves()
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
    per_sample_method: str = "auto",
) -> FisherTrace:
    """Estimate tr(F) of ``model`` over ``inputs`` (see the module docstring).

    ``targets`` is accepted for a uniform probe signature and ignored: the Fisher uses
    labels sampled from the model.  ``labels`` overrides the sampling (for tests).
    ``chunk_size`` bounds the per-example gradients held at once (``per_sample`` only).
    ``per_sample_method``: ``"hooks"`` (per-layer per-example gradients from one batched
    backward; Linear, Conv2d with groups=1, eval-mode BatchNorm), ``"vmap"``
    (``torch.func`` per-example gradients; any module), or ``"auto"`` (hooks when every
    covered parameter belongs to a supported module, else vmap).  Both are exact.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    check_inputs(inputs, inputs if targets is None else targets)
    require_autograd("fisher_trace", inputs)
    n = inputs.shape[0]
    # Every estimator differentiates: a caller's torch.no_grad() (evaluation code) must not
    # turn the backward passes off (label sampling below disables grad for itself).
    with probe_mode(model) as m, torch.enable_grad():
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
                if per_sample_method not in ("auto", "hooks", "vmap"):
                    raise ValueError(f"unknown per_sample_method {per_sample_method!r}")
                plan = None if per_sample_method == "vmap" else _hook_plan(fmodel)
                if plan is None and per_sample_method == "hooks":
                    raise ValueError("a covered parameter belongs to a module without hook rule")
                if plan is not None:
                    sq = _sq_norms_hooks(fmodel, inputs, labels, chunk_size, plan)
                else:
                    sq = _sq_norms_per_sample(fmodel, inputs, labels, chunk_size)
            else:
                sq = _sq_norms_loop(fmodel, inputs, labels)
            sq = sq.double()
            trace = float(sq.mean())
            stderr = float(sq.std() / math.sqrt(n)) if n > 1 else float("nan")
    return FisherTrace(trace, trace / n_params, n_params, stderr, n, estimator)
