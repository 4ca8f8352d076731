"""Average-case sharpness.

    S_avg^ρ = E_δ L(w − δ) − L(w),   δ ~ N(0, ρ² diag(c²)),

c = 1, or c = |w| when ``adaptive`` (coordinates with w = 0 are not perturbed, see
:mod:`earlyphase.probes.scaling`).  The noise is symmetric, so evaluating at w − δ or at
w + δ is the same estimator.

The points are split, in their given order, into fixed batches of ``batch_size``.  For
every batch the clean batch-mean loss is computed once and reused, and ``n_draws``
independent perturbations (fresh per batch, drawn from ``generator``) are evaluated with a
forward pass each.  The result is the mean over batches of (mean perturbed − clean)
batch-mean loss, as in the reference implementation of Andriushchenko et al.

``draws_per_call > 1`` evaluates that many draws in one call with ``torch.func.vmap`` over
stacked perturbed parameters (``functional_call``), which can pay off for small models on
an accelerator (fewer, larger kernels); ``1`` (default) loops over draws (each draw is
already a full batched forward pass, so the loop does exactly the passes the definition
needs). The probe suite passes the setting ``draws_per_call`` through. Either way the
losses of a batch are read to the host once, after all its draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import vmap

from .base import (
    FunctionalModel,
    LossFn,
    ParamSelection,
    batches,
    check_inputs,
    probe_mode,
    randn_like,
    resolve_loss,
)
from .scaling import perturbation_scale


@dataclass(frozen=True)
class AverageSharpness:
    value: float
    """Mean over batches of (mean over draws of the perturbed loss − clean loss)."""
    stderr: float
    """Monte-Carlo standard error of ``value`` (from the spread of the draws)."""
    per_batch: list[float]
    clean_loss: float
    """Mean over batches of the clean batch-mean loss."""
    n_params: int


def _draw(fmodel: FunctionalModel, scale, rho: float, generator) -> dict[str, Tensor]:
    out = {}
    for n, t in fmodel.base.items():
        eps = randn_like(t, generator).mul_(rho)
        if scale is not None:
            eps.mul_(scale[n])
        out[n] = t - eps
    return out


@torch.no_grad()
def average_sharpness(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    *,
    batch_size: int = 256,
    generator: torch.Generator,
    params: ParamSelection = "all",
    rho: float = 0.01,
    n_draws: int = 15,
    adaptive: bool = False,
    loss_fn: LossFn | str | None = None,
    draws_per_call: int = 1,
) -> AverageSharpness:
    """Estimate S_avg^ρ (see the module docstring). ``loss_fn(outputs, targets)`` must
    return the batch-mean loss (default cross-entropy)."""
    check_inputs(inputs, targets)
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    loss_fn = resolve_loss(loss_fn)
    per_batch, clean, var_terms = [], [], []
    with probe_mode(model) as m:
        fmodel = FunctionalModel(m, params)
        scale = perturbation_scale(fmodel.base, adaptive)

        def stacked_losses(stack: dict[str, Tensor], x: Tensor, y: Tensor) -> Tensor:
            return vmap(lambda p: loss_fn(fmodel(p, x), y))(stack)

        for sl in batches(inputs.shape[0], batch_size):
            x, y = inputs[sl], targets[sl]
            # Losses stay on the device until the batch is done: one host read per batch.
            pending = [loss_fn(fmodel(fmodel.base, x), y)]
            drawn = 0
            while drawn < n_draws:
                k = min(draws_per_call, n_draws - drawn)
                if k == 1:
                    pending.append(loss_fn(fmodel(_draw(fmodel, scale, rho, generator), x), y))
                else:
                    draws = [_draw(fmodel, scale, rho, generator) for _ in range(k)]
                    stack = {n: torch.stack([d[n] for d in draws]) for n in fmodel.base}
                    pending.append(stacked_losses(stack, x, y))
                drawn += k
            l0, *vals = torch.cat([t.reshape(-1).double() for t in pending]).tolist()
            v = torch.tensor(vals, dtype=torch.float64)
            per_batch.append(float(v.mean()) - l0)
            clean.append(l0)
            var_terms.append(float(v.var()) / n_draws if n_draws > 1 else float("nan"))
        n_params = fmodel.n_params
    nb = len(per_batch)
    return AverageSharpness(
        value=sum(per_batch) / nb,
        stderr=math.sqrt(sum(var_terms)) / nb,
        per_batch=per_batch,
        clean_loss=sum(clean) / nb,
        n_params=n_params,
    )
