import numpy as np
import pytest
import torch
from torch.func import functional_call

from earlyphase.phase_diagram import fcn_experiment as fe


@pytest.fixture
def tiny_data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (96, 6, 6, 1), dtype=np.uint8)
    labels = rng.integers(0, 3, 96)
    return images, labels


def dense_top_eigenvalue(model, x, y):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    flat0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).double()
    x, y = x.double(), y.double()
    model = model.double()

    def lossf(flat):
        chunks = torch.split(flat, sizes)
        params = {n: c.reshape(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        return fe.mse_half_mean(functional_call(model, params, (x,)), y)

    h = torch.autograd.functional.hessian(lossf, flat0)
    model.float()
    return torch.linalg.eigvalsh(h)[-1].item()


@pytest.mark.parametrize("parameterization", ["sp", "ntk"])
def test_power_iteration_matches_dense_hessian(tiny_data, parameterization):
    images, labels = tiny_data
    x = fe.standardize_images(images)
    y = fe.one_hot(labels, 3)
    model = fe.build_fcn(3, (1, 6, 6), depth=3, width=8, parameterization=parameterization, seed=1)
    dense = dense_top_eigenvalue(model, x, y)
    power = fe.top_hessian_eigenvalue(
        model, x, y, iters=300, generator=torch.Generator().manual_seed(0)
    )
    assert power == pytest.approx(dense, rel=2e-3)
    # the run's lambda0 (20 iterations, as in the paper) is close as well
    df = fe.run_fcn_phase_diagram(
        images,
        labels,
        [1.0],
        num_classes=3,
        depth=3,
        width=8,
        parameterization=parameterization,
        steps=1,
        seed=1,
    )
    assert df["lambda0"].iloc[0] == pytest.approx(dense, rel=5e-2)


def test_loss_falls_for_small_c_and_rises_for_large_c(tiny_data):
    images, labels = tiny_data
    df = fe.run_fcn_phase_diagram(
        images,
        labels,
        [0.5, 16.0],
        num_classes=3,
        depth=3,
        width=32,
        steps=10,
        seed=0,
        batch_size=512,
    )
    small = df[df.c == 0.5].sort_values("step")["loss"].to_numpy()
    large = df[df.c == 16.0].sort_values("step")["loss"].to_numpy()
    assert np.all(np.diff(small) < 0)  # monotone decrease (sharpness-reduction phase)
    assert large[1] > 2 * large[0]  # catapult / divergence
    assert np.isclose(df[df.c == 0.5]["lr"].iloc[0] * df["lambda0"].iloc[0], 0.5)
    crit = fe.fcn_critical_constants(df).iloc[0]
    assert crit["c_loss"] == 16.0


def test_deterministic_given_seed(tiny_data):
    images, labels = tiny_data
    kw = dict(num_classes=3, depth=2, width=16, steps=4, batch_size=32, seed=3, sharpness_every=2)
    torch.manual_seed(123)
    a = fe.run_fcn_phase_diagram(images, labels, [1.0, 3.0], **kw)
    torch.manual_seed(999)
    b = fe.run_fcn_phase_diagram(images, labels, [1.0, 3.0], **kw)
    assert a.equals(b)
    c = fe.run_fcn_phase_diagram(images, labels, [1.0, 3.0], **{**kw, "seed": 4})
    assert not np.allclose(a["loss"], c["loss"])
    # sharpness only every 2 steps (and at the last step)
    measured = a[a.c == 1.0].set_index("step")["sharpness"].notna()
    assert list(measured[measured].index) == [0, 2, 4]
