"""Auto-PGD worst-case sharpness on a tiny network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from earlyphase.probes import apgd_checkpoints, average_sharpness, worst_case_sharpness
from earlyphase.probes.scaling import project_to_ball

from .helpers import gen, tiny_mlp

RHO = 0.05


@pytest.fixture(scope="module")
def data():
    model = tiny_mlp(5, d_in=6, hidden=16, classes=5)
    # a few steps of training so the point is not a trivial one
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x = torch.randn(96, 6, generator=gen(1), dtype=torch.float64)
    y = torch.randint(0, 5, (96,), generator=gen(2))
    for _ in range(30):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    opt.zero_grad(set_to_none=True)
    return model, x, y


def test_checkpoints_follow_the_reference_schedule():
    # p = 0, .22, .41, .57, .70, .80, .87, .93 ...  -> ceil(p * n)
    assert apgd_checkpoints(15) == [4, 7, 9, 11, 12, 14, 14]
    assert apgd_checkpoints(100)[:6] == [22, 41, 57, 70, 80, 87] or apgd_checkpoints(100)[:6] == [
        22,
        41,
        58,
        70,
        80,
        87,
    ]


@pytest.mark.parametrize("adaptive", [False, True])
def test_worst_exceeds_average_and_random_and_respects_the_ball(data, adaptive):
    model, x, y = data
    bs = 32
    w = worst_case_sharpness(
        model,
        x,
        y,
        batch_size=bs,
        generator=gen(0),
        rho=RHO,
        n_iters=15,
        adaptive=adaptive,
        return_deltas=True,
    )
    a = average_sharpness(
        model, x, y, batch_size=bs, generator=gen(0), rho=RHO, n_draws=15, adaptive=adaptive
    )
    assert w.value > 0
    assert w.value >= a.value
    params = dict(model.named_parameters())
    scale = {n: p.detach().abs() for n, p in params.items()} if adaptive else None
    for d in w.deltas:
        assert set(d) == set(params)
        sq = sum(float(((d[n] / (scale[n] if adaptive else 1)) ** 2).sum()) for n in d)
        assert sq**0.5 <= RHO * (1 + 1e-6)
    # the perturbed − clean loss of the returned δ is the reported per-batch value
    for b, d in enumerate(w.deltas):
        xb, yb = x[b * bs : (b + 1) * bs], y[b * bs : (b + 1) * bs]
        pert = {n: p.detach() + d[n] for n, p in params.items()}
        val = F.cross_entropy(functional_call(model, pert, (xb,)), yb) - F.cross_entropy(
            model(xb), yb
        )
        assert float(val.detach()) == pytest.approx(w.per_batch[b], rel=1e-9, abs=1e-12)
    # best of 20 random directions on the same ball, per batch
    g = gen(9)
    best_random = []
    for b in range(len(w.per_batch)):
        xb, yb = x[b * bs : (b + 1) * bs], y[b * bs : (b + 1) * bs]
        clean = float(F.cross_entropy(model(xb), yb).detach())
        vals = []
        for _ in range(20):
            r = {n: torch.randn(p.shape, generator=g, dtype=p.dtype) for n, p in params.items()}
            if adaptive:
                r = {n: r[n] * scale[n] for n in r}
            nrm = sum(float(((r[n] / (scale[n] if adaptive else 1)) ** 2).sum()) for n in r)
            pert = {n: p.detach() + r[n] * RHO / nrm**0.5 for n, p in params.items()}
            loss = F.cross_entropy(functional_call(model, pert, (xb,)), yb)
            vals.append(float(loss.detach()) - clean)
        best_random.append(max(vals))
    assert w.value > 2 * sum(best_random) / len(best_random)


@pytest.mark.parametrize("adaptive", [False, True])
def test_fifteen_iterations_are_converged_where_the_gradient_leads(data, adaptive):
    """Away from a minimum (the early period the paper probes) the default 15 iterations reach
    the value of 100 (the bias near a minimum is in test_quadratic)."""
    model, x, y = data
    kw = dict(batch_size=32, generator=gen(0), rho=RHO, adaptive=adaptive)
    converged = worst_case_sharpness(model, x, y, n_iters=100, **kw).value
    assert worst_case_sharpness(model, x, y, n_iters=15, **kw).value == pytest.approx(converged, rel=1e-3)


def test_projection_is_the_nearest_point_of_the_ellipsoid():
    g = gen(4)
    scale = {
        "a": torch.rand(7, generator=g, dtype=torch.float64) + 0.1,
        "b": torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64),
    }
    delta = {
        "a": torch.randn(7, generator=g, dtype=torch.float64),
        "b": torch.tensor([0.3, 1.0, -2.0], dtype=torch.float64),
    }
    rho = 0.3
    p = project_to_ball({k: v.clone() for k, v in delta.items()}, scale, rho)
    assert p["b"][0] == 0  # c = 0: not perturbed
    flat = lambda d: torch.cat([d["a"], d["b"][1:]])  # noqa: E731
    c = flat(scale)
    pd, dd = flat(p), flat(delta)
    assert float((pd / c).norm()) == pytest.approx(rho, rel=1e-9)
    # KKT: δ − p is parallel to the ellipsoid normal p / c²
    normal = pd / c**2
    mu = float((dd - pd) @ normal / (normal @ normal))
    assert mu > 0
    assert torch.allclose(dd - pd, mu * normal, atol=1e-8)
    # and no feasible point sampled at random is closer
    dist = float((pd - dd).norm())
    for _ in range(2000):
        u = torch.randn(c.numel(), generator=g, dtype=torch.float64)
        q = c * u / u.norm() * rho * float(torch.rand(1, generator=g)) ** (1 / c.numel())
        assert float((q - dd).norm()) >= dist - 1e-12
