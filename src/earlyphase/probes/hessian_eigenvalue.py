"""Top eigenvalue λ_max of the loss Hessian.

The loss is the mean of ``loss_fn`` over all probe points (processed in fixed batches of
``batch_size``, each batch weighted by its share of the points), with the model in eval
mode (BatchNorm with running statistics).  The Hessian is taken with respect to the covered
parameters (default ``params="all"``) and only ever touched through Hessian-vector
products (double backward through ``functional_call``): one HVP costs, per batch, a
forward pass, a backward pass with ``create_graph`` and a second backward pass.

``method="power"`` (default, as in Kalra & Barkeshli): ``n_iter`` power iterations
``v ← Hv / ||Hv||``, returning the Rayleigh quotient ``vᵀHv`` of the last iterate.  Power
iteration converges to the eigenvalue of largest *magnitude*; early in training a large
negative eigenvalue could in principle dominate; use Lanczos to get the algebraically
largest one.

``method="lanczos"``: ``n_iter`` Lanczos steps with full re-orthogonalization (keeps
``n_iter`` vectors of the parameter size), returning the largest Ritz value; it converges
much faster than power iteration for the same number of HVPs.

The start vector is a standard normal draw from ``generator`` unless ``init_vector``
(a dict name → tensor, e.g. the ``vector`` returned by a previous call) matches the covered
parameters' names and shapes; the final (Ritz) vector is returned for such warm starts.

Loss functions: cross-entropy by default; ``loss_fn="half_mse"`` gives
``0.5 · mean_x ||f(x) − onehot(y)||²``, the phase-diagram paper's convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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

Method = Literal["power", "lanczos"]


@dataclass(frozen=True)
class HessianEigen:
    eigenvalue: float
    vector: dict[str, Tensor]
    """Unit-norm eigenvector estimate (detached, on the model's device)."""
    n_params: int
    residual: float
    """``||Hv − λv||`` for the last iterate v (power) or the Ritz pair (Lanczos)."""
    n_hvp: int


class _HVP:
    def __init__(self, fmodel: FunctionalModel, inputs, targets, batch_size, loss_fn):
        self.fmodel = fmodel
        self.names = fmodel.names
        self.shapes = [fmodel.base[n].shape for n in self.names]
        self.sizes = [fmodel.base[n].numel() for n in self.names]
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.loss_fn = batch_size, loss_fn
        self.count = 0

    def unflatten(self, flat: Tensor) -> list[Tensor]:
        return [t.view(s) for t, s in zip(flat.split(self.sizes), self.shapes, strict=True)]

    def __call__(self, v: Tensor) -> Tensor:
        self.count += 1
        vs = self.unflatten(v)
        n = self.inputs.shape[0]
        out = torch.zeros_like(v)
        for sl in batches(n, self.batch_size):
            leaves = self.fmodel.leaves()
            with torch.enable_grad():
                loss = self.loss_fn(self.fmodel(leaves, self.inputs[sl]), self.targets[sl])
                loss = loss * ((sl.stop - sl.start) / n)
                gs = torch.autograd.grad(loss, list(leaves.values()), create_graph=True)
                dot = sum((g * vi).sum() for g, vi in zip(gs, vs, strict=True))
                hv = torch.autograd.grad(dot, list(leaves.values()), allow_unused=True)
            out += torch.cat([h.flatten() for h in grads_or_zeros(leaves, hv).values()]).detach()
        return out


def hessian_max_eigenvalue(
    model: nn.Module,
    inputs: Tensor,
    targets: Tensor,
    *,
    batch_size: int = 256,
    generator: torch.Generator,
    params: ParamSelection = "all",
    n_iter: int = 20,
    method: Method = "power",
    loss_fn: LossFn | str | None = None,
    init_vector: dict[str, Tensor] | None = None,
) -> HessianEigen:
    """λ_max of the Hessian of the mean loss over ``inputs`` (see the module docstring)."""
    if method not in ("power", "lanczos"):
        raise ValueError(f"method must be 'power' or 'lanczos', got {method!r}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter}")
    check_inputs(inputs, targets)
    require_autograd("hessian_max_eigenvalue", inputs)
    loss_fn = resolve_loss(loss_fn)
    with torch.no_grad(), probe_mode(model) as m:
        fmodel = FunctionalModel(m, params)
        hvp = _HVP(fmodel, inputs, targets, batch_size, loss_fn)
        if hvp.names == []:
            return HessianEigen(0.0, {}, 0, 0.0, 0)
        v0 = None
        if (
            init_vector is not None
            and list(init_vector) == hvp.names
            and all(init_vector[k].shape == fmodel.base[k].shape for k in hvp.names)
        ):
            v0 = torch.cat([init_vector[k].to(fmodel.base[k]).flatten() for k in hvp.names])
            if not torch.isfinite(v0).all() or float(v0.norm()) == 0.0:
                v0 = None
        if v0 is None:
            v0 = torch.cat([randn_like(fmodel.base[k], generator).flatten() for k in hvp.names])
        v = v0 / v0.norm()
        if method == "power":
            lam, v, residual = _power(hvp, v, n_iter)
        else:
            lam, v, residual = _lanczos(hvp, v, n_iter)
        vector = {k: t.clone() for k, t in zip(hvp.names, hvp.unflatten(v), strict=True)}
        return HessianEigen(float(lam), vector, sum(hvp.sizes), residual, hvp.count)


def _power(hvp: _HVP, v: Tensor, n_iter: int):
    """Returns λ = vᵀHv of the last iterate v, and Hv/||Hv|| as the vector.

    Returning the *next* iterate makes warm starts exact continuations: ``a`` iterations
    followed by ``b`` warm-started ones give the same value as ``a + b`` iterations.
    """
    for _ in range(n_iter):
        hv = hvp(v)
        last = (v, hv)
        nrm = hv.norm()
        if float(nrm) == 0.0:  # the one host read of an iteration
            break
        v = hv / nrm
    # Only the last iterate's λ and residual are returned: computed once, after the loop.
    v_last, hv_last = last
    lam = float(v_last @ hv_last)
    residual = float((hv_last - lam * v_last).norm())
    return lam, v, residual


def _lanczos(hvp: _HVP, v: Tensor, n_iter: int):
    dim = v.numel()
    m = min(n_iter, dim)
    qs = [v]
    alphas: list[float] = []
    betas: list[float] = []
    hvs = []
    for j in range(m):
        w = hvp(qs[j])
        hvs.append(w)
        alpha = float(qs[j] @ w)
        alphas.append(alpha)
        r = w - alpha * qs[j] - (betas[-1] * qs[j - 1] if j > 0 else 0)
        for q in qs:  # full re-orthogonalization (twice is enough)
            r = r - (q @ r) * q
        for q in qs:
            r = r - (q @ r) * q
        beta = float(r.norm())
        if j == m - 1 or beta <= 1e-10 * max(abs(alpha), 1.0):
            break
        betas.append(beta)
        qs.append(r / beta)
    k = len(alphas)
    t = torch.zeros(k, k, dtype=torch.float64)
    for i, a in enumerate(alphas):
        t[i, i] = a
    for i, b in enumerate(betas[: k - 1]):
        t[i, i + 1] = t[i + 1, i] = b
    evals, evecs = torch.linalg.eigh(t)
    y = evecs[:, -1].to(v)
    q = torch.stack(qs[:k])
    ritz = y @ q
    hv_ritz = y @ torch.stack(hvs[:k])
    nrm = ritz.norm()
    lam = float(evals[-1])
    return lam, ritz / nrm, float((hv_ritz / nrm - lam * ritz / nrm).norm())
