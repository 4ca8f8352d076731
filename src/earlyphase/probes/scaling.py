"""Perturbation scaling ``c`` shared by the two sharpness probes.

Non-adaptive sharpness uses ``c = 1``.  Adaptive sharpness uses ``c = |w|`` elementwise,
taken at the unperturbed weights.

**Exact zeros (the guard).**  With ``c_i = |w_i| = 0`` the constraint ``||δ ⊙ c⁻¹||₂ ≤ ρ``
only admits ``δ_i = 0`` (the limit of a vanishing semi-axis), and the Gaussian
``N(0, ρ² c_i²)`` is the point mass at 0.  Both probes therefore *never perturb a
coordinate whose weight is exactly zero* in adaptive mode, and such coordinates are left out
of the scaled norm (instead of producing 0/0 = NaN).  Typical cases are BatchNorm and
convolution biases that are still at their zero initialization: adaptive sharpness at
step 0 does not move them.
"""

from __future__ import annotations

import torch
from torch import Tensor


def perturbation_scale(base: dict[str, Tensor], adaptive: bool) -> dict[str, Tensor] | None:
    """``c`` per covered parameter, or ``None`` for ``c = 1`` (non-adaptive)."""
    if not adaptive:
        return None
    return {n: t.abs() for n, t in base.items()}


def scaled_norm(delta: dict[str, Tensor], scale: dict[str, Tensor] | None) -> Tensor:
    """``||δ ⊙ c⁻¹||₂`` with coordinates where ``c = 0`` left out (they hold δ = 0)."""
    total = None
    for n, d in delta.items():
        if scale is None:
            s = d.double().pow(2).sum()
        else:
            c = scale[n]
            nz = c != 0
            s = torch.where(nz, d / torch.where(nz, c, 1), 0).double().pow(2).sum()
        total = s if total is None else total + s
    assert total is not None
    return total.sqrt()


def project_to_ball(
    delta: dict[str, Tensor], scale: dict[str, Tensor] | None, rho: float
) -> dict[str, Tensor]:
    """Euclidean projection of δ onto ``{δ : ||δ ⊙ c⁻¹||₂ ≤ ρ}`` (in place, also returned).

    ``c = 1``: rescale onto the sphere when outside.  Adaptive: the Euclidean projection
    onto the ellipsoid, as in the reference implementation, i.e.
    ``δ_i ← δ_i c_i² / (c_i² + 2λ)`` with λ ≥ 0 solving ``||δ(λ) ⊙ c⁻¹|| = ρ``.  λ is found
    with Newton's method on the secular equation ``1/||δ(λ)⊙c⁻¹|| − 1/ρ = 0`` (concave in λ,
    so Newton from λ = 0 converges monotonically), followed by a final rescaling so that
    the result is feasible to rounding.  Coordinates with ``c = 0`` are set to 0.
    """
    if scale is None:  # on the device, no host read: rho / norm where it exceeds rho, x * 1 = x
        norm = scaled_norm(delta, None)
        factor = torch.where(norm > rho, rho / norm, torch.ones_like(norm))
        for d in delta.values():
            d.mul_(factor)
        return delta
    for n, d in delta.items():  # the guard: δ = 0 where c = 0
        d.masked_fill_(scale[n] == 0, 0)
    norm = float(scaled_norm(delta, scale))
    if norm <= rho:
        return delta
    # a_i = δ_i c_i (so δ_i / c_i at λ=0 is a_i / c_i²), s_i = c_i²
    flat_a = torch.cat([(d * scale[n]).double().flatten() for n, d in delta.items()])
    flat_s = torch.cat([scale[n].double().pow(2).flatten() for n in delta])
    lam = 0.0
    for _ in range(100):
        denom = flat_s + 2 * lam
        denom = torch.where(denom == 0, 1.0, denom)  # c=0 entries have a=0
        psi = float((flat_a.pow(2) / denom.pow(2)).sum())  # ||δ(λ)/c||²
        dpsi = float((-4 * flat_a.pow(2) / denom.pow(3)).sum())
        h = psi**-0.5 - 1 / rho
        if abs(psi**0.5 - rho) <= 1e-12 * rho:
            break
        dh = -0.5 * psi**-1.5 * dpsi
        lam = lam - h / dh
    for n, d in delta.items():
        c2 = scale[n].pow(2)
        d.mul_(c2 / torch.where(c2 + 2 * lam == 0, 1.0, c2 + 2 * lam))
    norm = float(scaled_norm(delta, scale))
    if norm > rho:
        for d in delta.values():
            d.mul_(rho / norm)
    return delta
