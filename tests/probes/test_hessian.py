"""λ_max against a dense Hessian of a tiny network."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from earlyphase.probes import half_mse, hessian_max_eigenvalue

from .helpers import gen, tiny_mlp


def dense_hessian(model, x, y, loss):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat0 = torch.cat([p.detach().flatten() for p in model.parameters()])

    def f(flat):
        ps = {n: t.view(s) for n, t, s in zip(names, flat.split(sizes), shapes, strict=True)}
        return loss(functional_call(model, ps, (x,)), y)

    return torch.autograd.functional.hessian(f, flat0)


@pytest.fixture(scope="module")
def data():
    model = tiny_mlp(3)
    x = torch.randn(64, 5, generator=gen(7), dtype=torch.float64)
    y = torch.randint(0, 4, (64,), generator=gen(8))
    return model, x, y


@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_matches_dense_hessian_cross_entropy(data, method):
    model, x, y = data
    evals = torch.linalg.eigvalsh(dense_hessian(model, x, y, F.cross_entropy))
    top = float(evals[-1])
    assert top > abs(float(evals[0]))  # power iteration targets the largest magnitude
    r = hessian_max_eigenvalue(model, x, y, batch_size=24, generator=gen(0), method=method)
    assert r.eigenvalue == pytest.approx(top, rel=0.01)
    assert r.n_hvp == 20


def test_matches_dense_hessian_half_mse(data):
    model, x, y = data

    def loss(out, t):  # independent formula: 0.5 * mean over examples of ||f(x) - e_y||²
        return 0.5 * ((out - torch.eye(4, dtype=out.dtype)[t]) ** 2).sum() / out.shape[0]

    top = float(torch.linalg.eigvalsh(dense_hessian(model, x, y, loss))[-1])
    r = hessian_max_eigenvalue(
        model, x, y, batch_size=64, generator=gen(0), loss_fn=half_mse, method="lanczos"
    )
    assert r.eigenvalue == pytest.approx(top, rel=0.01)
    assert half_mse(model(x), y).item() == pytest.approx(loss(model(x), y).item())


def test_warm_start_and_trainable_subset(data):
    model, x, y = data
    r1 = hessian_max_eigenvalue(model, x, y, batch_size=64, generator=gen(0), n_iter=5)
    r2 = hessian_max_eigenvalue(
        model, x, y, batch_size=64, generator=gen(0), n_iter=5, init_vector=r1.vector
    )
    r_long = hessian_max_eigenvalue(model, x, y, batch_size=64, generator=gen(0), n_iter=10)
    # 5 + 5 warm-started iterations are the same as 10 iterations from the same start
    assert r2.eigenvalue == pytest.approx(r_long.eigenvalue, rel=1e-8)

    # only the head trainable: the Hessian block of the head parameters
    for p in model[0].parameters():
        p.requires_grad_(False)
    try:
        r = hessian_max_eigenvalue(
            model, x, y, batch_size=64, generator=gen(0), params="trainable", method="lanczos"
        )
        # a mismatched warm start vector (all parameters) is ignored
        r_ws = hessian_max_eigenvalue(
            model,
            x,
            y,
            batch_size=64,
            generator=gen(0),
            params="trainable",
            method="lanczos",
            init_vector=r1.vector,
        )
    finally:
        for p in model[0].parameters():
            p.requires_grad_(True)
    h = dense_hessian(model, x, y, F.cross_entropy)
    n_first = sum(p.numel() for p in model[0].parameters())
    top_head = float(torch.linalg.eigvalsh(h[n_first:, n_first:])[-1])
    assert set(r.vector) == {"2.weight", "2.bias"}
    assert r.eigenvalue == pytest.approx(top_head, rel=1e-6)
    assert r_ws.eigenvalue == r.eigenvalue
