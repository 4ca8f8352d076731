"""Worst-case sharpness by Auto-PGD in weight space.

    S_worst^ρ = max_{||δ ⊙ c⁻¹||₂ ≤ ρ} L(w − δ) − L(w)

c = 1, or c = |w| when ``adaptive`` (exact zeros are never perturbed, see
:mod:`earlyphase.probes.scaling`).  The ball is symmetric, so the search is run on
L(w + δ) and the maximum is the same.

The search follows the reference implementation of Andriushchenko et al. (ICML 2023, "A modern
look at the relationship between sharpness and generalization"):

* the points are taken in the given order and split into fixed batches of ``batch_size``;
  every batch gets its own search (m-sharpness with m = batch size) and the result is the
  mean over batches of (max perturbed − clean) batch-mean loss;
* BatchNorm in eval mode (running statistics); every covered parameter perturbed
  (default ``params="all"``: BN affine, biases, head), buffers never;
* δ₀ = 0; step size η = 2ρ;
* L2 step ``z = P(δ_k + η · c ⊙ g / ||g||₂)`` with g = ∇_w L(w + δ_k) and P the Euclidean
  projection onto the scaled ball;
* momentum as a convex combination ``δ_{k+1} = 0.75 · z + 0.25 · δ_{k−1}`` (the reference
  mixes in the iterate *before* the current one; both are in the ball, so is the mix);
* checkpoints ``w_j = ceil(p_j · n_iters)`` with p₀ = 0, p₁ = 0.22,
  p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06); at each checkpoint the step is halved if
  (1) fewer than 0.75 · (w_j − w_{j−1}) iterations since the last checkpoint raised the best
  loss, or (2) neither the step size nor the best loss changed since the last checkpoint;
  on halving the search restarts from the best point found (current and previous iterate
  both set to it, so momentum restarts);
* the maximum loss seen (including the clean loss, so the value is ≥ 0) is kept.

**Adaptive ascent** (``ascent``, only with c = |w|).  The reference steps along
``c ⊙ g / ||g||₂`` and then projects Euclidean-ly onto the ellipsoid; its fixed points
satisfy ``g ∥ δ / c³``, not the constrained maximum's ``g ∥ δ / c²`` (Lagrange), so it
settles below the maximum however many iterations run (on a quadratic at its minimum, at
the top eigenvector of ``C^{3/2} H C^{3/2}``). Measured: 0.947-0.996 of the exact
``ρ² λ_max(CHC) / 2`` on six test quadratics after 300 iterations, 0.950-0.959 of the scaled
ascent's value on a small MLP and a small CNN classifier after 15 or 100 (more iterations do
not close the gap).
``ascent="scaled"`` (default) runs the same APGD in the scaled variable ``u = δ / c``, where
the constraint is the Euclidean ball ``||u||₂ ≤ ρ``: the step is along the gradient in u,
``c ⊙ g``, normalized by its own norm, the projection a rescaling, and its fixed points
``c ⊙ g ∥ u`` are exactly ``g ∥ δ / c²``.  ``ascent="reference"`` keeps the reference's
step.  With c = 1 the two are the same search, bit for bit.

**Iterations and their bias** (``n_iters``; the probe's ``apgd_iters``, 15 by default, the
paper's "15 examples" read as 15 APGD iterations).  The value is the best loss seen, so a
search cut short can only under-estimate S_worst.  Where the loss's gradient leads the
ascent (a network away from a minimum: the early period the paper probes) 15 iterations are
converged: within 0.01 % of 100 iterations on a small MLP and a small CNN, c = 1 and c = |w|.
Where the gradient vanishes or nearly does (a quadratic at its minimum, a network trained
to near-zero loss) the search starts along a random direction and climbs like a power
iteration, and 15 iterations can fall short: 0.948-1.000 of the exact value on the test
quadratic with c = 1 over five seeds (30 iterations: all within 0.01 %), 0.965 of the
converged value on an MLP at training loss 2e-4 with c = |w| (30 iterations: 0.9998); on
quadratics whose top eigenvalues nearly coincide even 60 iterations stay 1-6 % low.  The default stays at the
paper's 15 (30 would add about 30 % to the probing cost and change every probed run's id);
read S_worst near a minimum as a lower bound a few per cent below the maximum.

Deviations from the reference, documented: the reference restores the best *weights* on
halving but keeps its running δ; here both restart from the best point, as in Croce & Hein's
APGD.  If the gradient is exactly zero (e.g. δ = 0 at a minimum of a quadratic), the
normalized step is undefined (the reference adds 1e-12 and stalls); here a random direction
from ``generator`` is used instead.

Cost per batch: ``n_iters`` forward+backward passes plus one forward pass.  The loss of
each iterate is read off the forward pass that computes its gradient (δ₀ = 0 gives the clean
loss), and the gradient of the best point is cached for restarts.  The search steers on
the host (best loss, step halving), so each iteration reads its loss and gradient norm,
together, in one host synchronisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import (
    FunctionalModel,
    LossFn,
    ParamSelection,
    batches,
    check_inputs,
    grads_or_zeros,
    probe_mode,
    randn_like,
    require_autograd,
    resolve_loss,
)
from .scaling import perturbation_scale, project_to_ball, scaled_norm

MOMENTUM = 0.75
MIN_UPDATE_RATIO = 0.75
ASCENTS = ("scaled", "reference")
"""Adaptive ascents: in u = δ / c (reaches the constrained maximum), or the reference's step."""


def apgd_checkpoints(n_iters: int) -> list[int]:
    """Iteration indices (0-based) at which the step-size conditions are checked."""
    p = [0.0, 0.22]
    w = [0, math.ceil(n_iters * 0.22)]
    while w[-1] < n_iters and w[-1] != w[-2]:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
        w.append(math.ceil(p[-1] * n_iters))
    return w[1:]


@dataclass(frozen=True)
class WorstCaseSharpness:
    value: float
    """Mean over batches of (max perturbed − clean) batch-mean loss."""
    per_batch: list[float]
    clean_loss: float
    n_params: int
    max_scaled_norm: float
    """Largest ``||δ ⊙ c⁻¹||₂`` of the maximizing perturbations (≤ ρ)."""
    deltas: list[dict[str, Tensor]] | None = None
    """Maximizing δ per batch (only with ``return_deltas=True``)."""


def _grad_norm(g) -> Tensor:
    return torch.sqrt(sum(v.double().pow(2).sum() for v in g.values()))


def _loss_and_ascent(fmodel, delta, x, y, loss_fn, scale):
    """Loss at ``delta``, the ascent direction (the gradient g, or c ⊙ g = ∂L/∂u for the
    scaled ascent when ``scale`` is given) and its L2 norm; one host read for both numbers."""
    leaves = fmodel.leaves(delta)
    with torch.enable_grad():
        loss = loss_fn(fmodel(leaves, x), y)
        grads = torch.autograd.grad(loss, list(leaves.values()), allow_unused=True)
    d = grads_or_zeros(leaves, grads)
    if scale is not None:
        d = {n: t * scale[n] for n, t in d.items()}
    value, dnorm = torch.stack([loss.detach().double(), _grad_norm(d)]).tolist()
    return value, d, dnorm


def _search_batch(fmodel, x, y, loss_fn, scale, rho, n_iters, generator, checkpoints, ascent):
    # The iterate v is δ itself (c = 1, or the reference's adaptive step), or u = δ / c for
    # the scaled ascent; the loss is always evaluated at δ.
    scaled = scale is not None and ascent == "scaled"
    ascent_scale = scale if scaled else None

    def to_delta(v):
        return {n: t * scale[n] for n, t in v.items()} if scaled else v

    v = fmodel.zeros()
    prev = fmodel.zeros()
    step = prev_step = 2 * rho
    loss, d, dnorm = _loss_and_ascent(fmodel, to_delta(v), x, y, loss_fn, ascent_scale)
    clean = best = prev_best = loss
    best_v = {n: t.clone() for n, t in v.items()}
    best_ascent = (d, dnorm)
    n_updates, last_cp = 0, 0
    for i in range(n_iters):
        if dnorm == 0.0:  # undefined direction: take a random one (see module docstring)
            d = {n: randn_like(t, generator) for n, t in d.items()}
            if scaled:  # u does not matter where c = 0 (δ = c ⊙ u = 0 there)
                d = {n: t.masked_fill(scale[n] == 0, 0) for n, t in d.items()}
            dnorm = float(_grad_norm(d))
        z = {}
        for n, t in v.items():
            s = d[n] * (step / dnorm)
            if scale is not None and not scaled:  # the reference: c ⊙ g / ||g||
                s = s * scale[n]
            z[n] = t + s
        project_to_ball(z, None if scaled else scale, rho)  # u: the Euclidean ball of radius ρ
        new = {n: MOMENTUM * z[n] + (1 - MOMENTUM) * prev[n] for n in z}
        prev, v = v, new
        # loss (and ascent direction, for the next step) at the new iterate
        if i < n_iters - 1:
            loss, d, dnorm = _loss_and_ascent(fmodel, to_delta(v), x, y, loss_fn, ascent_scale)
        else:
            with torch.no_grad():
                delta = to_delta(v)
                params = {n: fmodel.base[n] + delta[n] for n in delta}
                loss, d, dnorm = float(loss_fn(fmodel(params, x), y)), None, None
        if loss > best:
            best = loss
            best_v = {n: t.clone() for n, t in v.items()}
            best_ascent = (d, dnorm)
            n_updates += 1
        if i in checkpoints:
            cond1 = n_updates < MIN_UPDATE_RATIO * (i - last_cp)
            cond2 = prev_step == step and prev_best == best
            prev_step, prev_best, last_cp = step, best, i
            n_updates = 0
            if cond1 or cond2:
                step *= 0.5
                if i < n_iters - 1:
                    v = {n: t.clone() for n, t in best_v.items()}
                    prev = {n: t.clone() for n, t in best_v.items()}
                    d, dnorm = best_ascent
                    if d is None:  # best is the final iterate: never reached here
                        loss, d, dnorm = _loss_and_ascent(fmodel, to_delta(v), x, y, loss_fn, ascent_scale)
    best_delta = to_delta(best_v)
    return clean, best, best_delta


def worst_case_sharpness(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    *,
    batch_size: int = 256,
    generator: torch.Generator,
    params: ParamSelection = "all",
    rho: float = 0.01,
    n_iters: int = 15,
    adaptive: bool = False,
    ascent: str = "scaled",
    norm: str = "l2",
    loss_fn: LossFn | str | None = None,
    return_deltas: bool = False,
) -> WorstCaseSharpness:
    """Estimate S_worst^ρ by Auto-PGD (see the module docstring).

    ``ascent`` (adaptive only; with c = 1 both are the same search): ``"scaled"`` ascends in
    u = δ / c, ``"reference"`` takes the reference implementation's step.
    ``loss_fn(outputs, targets)`` must return the batch-mean loss (default cross-entropy).
    ``generator`` is only consumed if a gradient vanishes exactly.
    """
    if norm != "l2":
        raise ValueError(f"only norm='l2' is implemented, got {norm!r}")
    if ascent not in ASCENTS:
        raise ValueError(f"ascent must be one of {ASCENTS}, got {ascent!r}")
    if n_iters < 1:
        raise ValueError(f"n_iters must be >= 1, got {n_iters}")
    check_inputs(inputs, targets)
    require_autograd("worst_case_sharpness", inputs)
    loss_fn = resolve_loss(loss_fn)
    cps = set(apgd_checkpoints(n_iters))
    per_batch, clean, deltas, norms = [], [], [], []
    with probe_mode(model) as m:
        fmodel = FunctionalModel(m, params)
        scale = perturbation_scale(fmodel.base, adaptive)
        for sl in batches(inputs.shape[0], batch_size):
            l0, lmax, d = _search_batch(
                fmodel, inputs[sl], targets[sl], loss_fn, scale, rho, n_iters, generator, cps, ascent
            )
            per_batch.append(lmax - l0)
            clean.append(l0)
            norms.append(float(scaled_norm(d, scale)))
            if return_deltas:
                deltas.append(d)
        n_params = fmodel.n_params
    nb = len(per_batch)
    return WorstCaseSharpness(
        value=sum(per_batch) / nb,
        per_batch=per_batch,
        clean_loss=sum(clean) / nb,
        n_params=n_params,
        max_scaled_norm=max(norms),
        deltas=deltas if return_deltas else None,
    )
