"""Probes on a quadratic loss, where every quantity has a closed form."""

from __future__ import annotations

import math

import pytest
import torch

from earlyphase.probes import average_sharpness, hessian_max_eigenvalue, worst_case_sharpness

from .helpers import Quadratic, gen, mean_loss, spd_matrix

RHO = 0.1
EIGS = [9.0, 4.0, 3.0, 2.5, 2.0, 1.0, 0.5, 0.3, 0.2, 0.1]


@pytest.fixture()
def quad():
    h = spd_matrix(EIGS, seed=1)
    w_star = torch.linspace(-1.0, 2.0, len(EIGS), dtype=torch.float64)
    return Quadratic(h, w_star, split=4), h


def _xy(n):
    return torch.zeros(n, 1, dtype=torch.float64), torch.zeros(n, dtype=torch.long)


def test_worst_case_equals_half_rho2_lambda_max(quad):
    model, h = quad
    x, y = _xy(8)
    r = worst_case_sharpness(
        model, x, y, batch_size=4, generator=gen(3), rho=RHO, n_iters=100, loss_fn=mean_loss
    )
    expected = RHO**2 * max(EIGS) / 2
    assert len(r.per_batch) == 2
    assert r.value == pytest.approx(expected, rel=1e-4)
    assert r.value <= expected * (1 + 1e-9)  # can never exceed the true maximum


def test_the_default_fifteen_iterations_can_stop_short_at_a_minimum(quad):
    """The documented bias of apgd_iters = 15: at a minimum the gradient vanishes, the search
    starts along a random direction and 15 iterations may end a few per cent below the
    maximum; 30 reach it."""
    model, _ = quad
    x, y = _xy(8)
    exact = RHO**2 * max(EIGS) / 2

    def ratios(n_iters):
        return [worst_case_sharpness(model, x, y, batch_size=4, generator=gen(seed), rho=RHO, n_iters=n_iters,
                                     loss_fn=mean_loss).value / exact for seed in range(5)]

    at_15, at_30 = ratios(15), ratios(30)
    assert min(at_15) < 0.96 and all(0.94 <= r <= 1 + 1e-9 for r in at_15)
    assert all(r == pytest.approx(1.0, abs=1e-3) for r in at_30)


def test_average_sharpness_equals_half_rho2_trace_within_mc_error(quad):
    model, h = quad
    n_draws, n_batches = 200, 3
    x, y = _xy(4 * n_batches)
    r = average_sharpness(
        model, x, y, batch_size=4, generator=gen(5), rho=RHO, n_draws=n_draws, loss_fn=mean_loss
    )
    expected = RHO**2 * float(torch.trace(h)) / 2
    # Var(½δᵀHδ) for δ ~ N(0, ρ²I) is ρ⁴ tr(H²) / 2
    sigma = math.sqrt(RHO**4 * float(torch.trace(h @ h)) / 2 / (n_draws * n_batches))
    assert abs(r.value - expected) < 4 * sigma
    # the probe's own standard error estimates the same thing
    assert r.stderr == pytest.approx(sigma, rel=0.25)


@pytest.mark.parametrize("method,n_iter", [("power", 60), ("lanczos", 10)])
def test_hessian_max_eigenvalue_of_quadratic(quad, method, n_iter):
    model, h = quad
    x, y = _xy(3)
    r = hessian_max_eigenvalue(
        model,
        x,
        y,
        batch_size=2,
        generator=gen(0),
        n_iter=n_iter,
        method=method,
        loss_fn=mean_loss,
    )
    assert r.eigenvalue == pytest.approx(max(EIGS), rel=1e-6)
    v = torch.cat([r.vector["a"], r.vector["b"]])
    assert float((h @ v - max(EIGS) * v).norm()) < 1e-2


def test_adaptive_guard_exact_zeros(quad):
    """Adaptive c = |w|: coordinates with w = 0 are never perturbed and do not produce NaN."""
    _, h = quad
    w_star = torch.tensor([0.5, 0.0, -1.5, 2.0, 0.0, 1.0, -0.7, 0.0, 1.2, 0.9], dtype=torch.float64)
    model = Quadratic(h, w_star, split=4)
    c = w_star.abs()
    chc = torch.diag(c) @ h @ torch.diag(c)
    x, y = _xy(4)
    rw = worst_case_sharpness(
        model,
        x,
        y,
        batch_size=4,
        generator=gen(1),
        rho=RHO,
        n_iters=200,
        adaptive=True,
        loss_fn=mean_loss,
        return_deltas=True,
    )
    delta = torch.cat([rw.deltas[0]["a"], rw.deltas[0]["b"]])
    zero = w_star == 0
    assert torch.all(delta[zero] == 0)
    assert torch.all(delta[~zero] != 0)
    assert float((delta[~zero] / c[~zero]).norm()) <= RHO * (1 + 1e-6)
    # max over the ellipsoid ||δ/c|| ≤ ρ of ½δᵀHδ = ρ²/2 · λ_max(C H C)
    expected = RHO**2 * float(torch.linalg.eigvalsh(chc)[-1]) / 2
    assert math.isfinite(rw.value)
    assert rw.value <= expected * (1 + 1e-9)
    # the default (scaled) ascent reaches the constrained maximum, zero coordinates aside
    assert rw.value == pytest.approx(expected, rel=1e-3)

    n_draws = 400
    ra = average_sharpness(
        model,
        x,
        y,
        batch_size=4,
        generator=gen(2),
        rho=RHO,
        n_draws=n_draws,
        adaptive=True,
        loss_fn=mean_loss,
    )
    expected_avg = RHO**2 * float(torch.trace(chc)) / 2
    sigma = math.sqrt(RHO**4 * float(torch.trace(chc @ chc)) / 2 / n_draws)
    assert abs(ra.value - expected_avg) < 4 * sigma


def test_adaptive_zero_coordinate_does_not_change_the_loss():
    """With c = |w| a loss that depends only on zero weights has zero sharpness."""
    h = torch.diag(torch.tensor([0.0, 0.0, 5.0], dtype=torch.float64))
    w_star = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    model = Quadratic(h, w_star, split=1)
    x, y = _xy(4)
    kw = dict(batch_size=4, rho=0.5, adaptive=True, loss_fn=mean_loss)
    assert worst_case_sharpness(model, x, y, generator=gen(0), n_iters=10, **kw).value == 0.0
    assert average_sharpness(model, x, y, generator=gen(0), n_draws=5, **kw).value == 0.0
    # without the adaptive scaling the same loss is sharp
    kw["adaptive"] = False
    assert worst_case_sharpness(model, x, y, generator=gen(0), n_iters=10, **kw).value > 0.1


# Adaptive c = |w| without exact zeros, for the two ascents of S_worst.
W_ADAPTIVE = [0.5, 0.3, -1.5, 2.0, 0.1, 1.0, -0.7, 0.05, 1.2, 0.9]


def _reference_fixed_point(h, c, rho):
    """½δᵀHδ where the reference ascent settles at a quadratic's minimum: its fixed points
    satisfy g = Hδ ∥ δ/c³, i.e. δ = C^{3/2} z with z an eigenvector of C^{3/2} H C^{3/2}
    (the top one is the stable one), scaled onto the ellipsoid ||δ/c|| = ρ."""
    c15 = torch.diag(c**1.5)
    z = torch.linalg.eigh(c15 @ h @ c15)[1][:, -1]
    delta = c15 @ z
    delta = delta * rho / float((delta / c).norm())
    return float(0.5 * delta @ h @ delta)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adaptive_ascents_against_the_closed_form(seed):
    """max over ||δ/c|| ≤ ρ of ½δᵀHδ is ρ²/2 · λ_max(CHC): the scaled ascent reaches it, the
    reference's step stays at its biased fixed point below it however long it runs."""
    h = spd_matrix(EIGS, seed=1)
    w_star = torch.tensor(W_ADAPTIVE, dtype=torch.float64)
    model = Quadratic(h, w_star, split=4)
    c = w_star.abs()
    exact = RHO**2 * float(torch.linalg.eigvalsh(torch.diag(c) @ h @ torch.diag(c))[-1]) / 2
    x, y = _xy(8)
    kw = dict(batch_size=4, generator=gen(seed), rho=RHO, adaptive=True, loss_fn=mean_loss)

    for n_iters, rel in ((15, 0.01), (100, 1e-6)):  # 15: the probe's default iterations
        scaled = worst_case_sharpness(model, x, y, n_iters=n_iters, ascent="scaled", **kw)
        assert scaled.value == pytest.approx(exact, rel=rel)
        assert scaled.max_scaled_norm <= RHO * (1 + 1e-9)

    reference = worst_case_sharpness(model, x, y, n_iters=1000, ascent="reference", **kw)
    fixed = _reference_fixed_point(h, c, RHO)
    assert fixed / exact == pytest.approx(0.947, abs=0.002)
    # it reaches the fixed point (or a better point passed on the way) and no further
    assert fixed * (1 - 1e-9) <= reference.value <= 0.975 * exact
    assert 0.94 <= reference.value / exact <= 0.975  # the documented ratio


def test_both_ascents_are_the_same_search_without_scaling(quad):
    model, _ = quad
    x, y = _xy(8)
    kw = dict(batch_size=4, rho=RHO, n_iters=15, loss_fn=mean_loss, return_deltas=True)
    a = worst_case_sharpness(model, x, y, generator=gen(2), ascent="scaled", **kw)
    b = worst_case_sharpness(model, x, y, generator=gen(2), ascent="reference", **kw)
    assert a.per_batch == b.per_batch
    assert all(torch.equal(da[n], db[n]) for da, db in zip(a.deltas, b.deltas, strict=True) for n in da)
