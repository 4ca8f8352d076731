import math

import numpy as np
import pytest
import torch

from earlyphase.phase_diagram import uv_model as uv


@pytest.fixture
def params():
    rng = np.random.default_rng(3)
    return uv.init_params(7, 5, rng)


@pytest.mark.parametrize("x,y", [(1.0, 0.0), (0.7, 0.4)])
def test_gradient_matches_torch_autograd(params, x, y):
    u, v = params
    gu, gv = uv.gradient(u, v, x, y)
    tu = torch.tensor(u, requires_grad=True)
    tv = torch.tensor(v, requires_grad=True)
    f = x * (tu * tv).sum(-1) / math.sqrt(u.shape[-1])
    (0.5 * (f - y) ** 2).sum().backward()
    np.testing.assert_allclose(gu, tu.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gv, tv.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_gradient_matches_finite_differences(params):
    u, v = params
    gu, _ = uv.gradient(u, v, 1.0, 0.0)
    eps = 1e-6
    du = np.zeros_like(u)
    du[:, 2] = eps
    fd = (uv.loss(u + du, v) - uv.loss(u - du, v)) / (2 * eps)
    np.testing.assert_allclose(fd, gu[:, 2], rtol=1e-6, atol=1e-9)


def test_gd_step_is_theta_minus_lr_grad(params):
    u, v = params
    lr = np.linspace(0.1, 0.5, u.shape[0])
    gu, gv = uv.gradient(u, v)
    u1, v1 = uv.gd_step(u, v, lr)
    np.testing.assert_allclose(u1, u - lr[:, None] * gu)
    np.testing.assert_allclose(v1, v - lr[:, None] * gv)


@pytest.mark.parametrize("width", [1, 2, 5, 16])
@pytest.mark.parametrize("x,y", [(1.0, 0.0), (1.3, 0.8), (0.5, -2.0)])
def test_closed_forms_match_dense_hessian(width, x, y):
    rng = np.random.default_rng(width)
    u, v = uv.init_params(width, 4, rng)
    h = uv.hessian(u, v, x, y)
    # dense Hessian against torch autograd
    tu = torch.tensor(u[0])
    tv = torch.tensor(v[0])

    def lfun(theta):
        a, b = theta[:width], theta[width:]
        return 0.5 * (x * (a * b).sum() / math.sqrt(width) - y) ** 2

    ht = torch.autograd.functional.hessian(lfun, torch.cat([tu, tv])).numpy()
    np.testing.assert_allclose(h[0], ht, rtol=1e-10, atol=1e-12)
    eig = np.linalg.eigvalsh(h)
    np.testing.assert_allclose(uv.sharpness(u, v, x, y), eig[:, -1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(uv.trace_hessian(u, v, x), eig.sum(-1), rtol=1e-9)
    np.testing.assert_allclose(uv.frobenius_sq(u, v, x, y), (eig**2).sum(-1), rtol=1e-9)


def test_gram_dynamics_match_parameter_space_gd():
    rng = np.random.default_rng(0)
    width = 9
    u, v = uv.init_params(width, 3, rng)
    cs = np.array([0.5, 2.5, 3.9])
    traj = uv.trajectories(*uv.gram_from_params(u, v), width, cs, steps=12, scaling="hessian")
    lam0 = uv.sharpness(u, v)
    for i, c in enumerate(cs):
        uu, vv = u.copy(), v.copy()
        lr = c / lam0
        for t in range(13):
            np.testing.assert_allclose(traj.loss[i, :, t], uv.loss(uu, vv), rtol=1e-8, atol=1e-14)
            np.testing.assert_allclose(traj.sharpness[i, :, t], uv.sharpness(uu, vv), rtol=1e-8)
            uu, vv = uv.gd_step(uu, vv, lr)


def test_trace_scaling_threshold_is_four_at_every_width():
    # trace update: lambda' - lambda = (eta f^2 / n)(eta lambda - 4): the trace-scaled model
    # diverges exactly above c = 4 (Fig. 7b: c_max = 4 independent of width)
    for width in (2, 64):
        df = uv.run_uv_phase_diagram(
            widths=[width],
            cs=uv.c_grid(1.8, 2.2, 0.05),
            n_inits=40,
            steps=200,
            variants=["trace"],
        )
        assert np.all(df["c_max"] <= 4.0 + 1e-9)
        assert np.all(df["c_max"] >= 2**1.95 - 1e-9)


def test_large_width_c_loss_is_two_and_small_width_larger():
    df = uv.run_uv_phase_diagram(
        widths=[4, 2048],
        cs=uv.c_grid(0.0, 2.5, 0.02),
        n_inits=60,
        steps=50,
        variants=["hessian"],
    )
    m = df.groupby("width")["c_loss"].mean()
    assert 2.0 <= m[2048] < 2.06
    assert m[4] > m[2048] + 0.3


def test_phase_diagram_deterministic_and_width_seeded_independently():
    kw = dict(cs=uv.c_grid(0.0, 2.4, 0.1), n_inits=20, steps=30, seed=5)
    a = uv.run_uv_phase_diagram(widths=[8, 32], **kw)
    b = uv.run_uv_phase_diagram(widths=[8, 32], **kw)
    c = uv.run_uv_phase_diagram(widths=[32], **kw)
    d = uv.run_uv_phase_diagram(widths=[32], **{**kw, "seed": 6})
    assert a.equals(b)
    a32 = a[a.width == 32].reset_index(drop=True)
    assert a32.equals(c)  # a width's draws do not depend on the other widths
    assert not np.allclose(c["trace0"].to_numpy(), d["trace0"].to_numpy())


def test_cli_writes_parquet(tmp_path):
    out = tmp_path / "uv.parquet"
    uv.main(
        ["--out", str(out), "--widths", "4", "8", "--n-inits", "5", "--steps", "10", "--dx", "0.25"]
    )
    import pandas as pd

    df = pd.read_parquet(out)
    assert set(df["variant"]) == {"hessian", "trace", "frobenius"}
    assert len(df) == 3 * 2 * 5
