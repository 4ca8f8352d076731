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


def test_divergence_threshold_applies_to_the_papers_loss(tiny_data):
    """k = 1e5 is an absolute level of L_t, the loss on the fixed subset after step t, with
    the paper's normalization 0.5·mean over examples and classes, which is O(1) at
    initialization (the paper's reason for a fixed k); the mini-batch loss plays no part."""
    from earlyphase.phase_diagram.critical_constants import DEFAULT_DIVERGENCE_FACTOR

    images, labels = tiny_data
    kw = dict(num_classes=3, depth=2, width=32, steps=3, batch_size=32, n_sharpness=128, power_iters=5, seed=1)
    df = fe.run_fcn_phase_diagram(images, labels, [1.0, 2.0, 4.0], **kw)
    # L_0 recomputed independently: the same initialization, every example (n_sharpness > n)
    x, y = fe.standardize_images(images), fe.one_hot(labels, 3)
    model = fe.build_fcn(3, tuple(x.shape[1:]), 2, 32, "sp", seed=1)
    with torch.no_grad():
        expected = 0.5 * float(((model(x) - y) ** 2).mean())
    loss0 = df[df.step == 0]["loss"].iloc[0]
    assert loss0 == pytest.approx(expected, rel=1e-5)
    assert 0.05 < loss0 < 5  # O(1): a fixed k means ~1e5 x L_0, as in the paper

    def c_max(frame):
        return fe.fcn_critical_constants(frame).iloc[0]["c_max"]

    assert c_max(df) == 4.0  # nothing diverges on this grid (censored at the top)
    at_c2_step2 = (df.c == 2.0) & (df.step == 2)
    assert c_max(df.assign(batch_loss=np.where(at_c2_step2, np.inf, df["batch_loss"]))) == 4.0
    below = df.assign(loss=np.where(at_c2_step2, 0.99 * DEFAULT_DIVERGENCE_FACTOR, df["loss"]))
    assert c_max(below) == 4.0
    at = df.assign(loss=np.where(at_c2_step2, DEFAULT_DIVERGENCE_FACTOR, df["loss"]))
    assert c_max(at) == 1.0
    # the run itself stops at the same level of the same quantity
    assert fe.run_fcn_phase_diagram.__kwdefaults__["stop_loss"] == DEFAULT_DIVERGENCE_FACTOR


def test_phase_diagram_defaults_follow_seed_004_figure_3(default_params):
    """Panel (a): FCNs on MNIST, each point an average over ten initializations."""
    spec = default_params["experiments"]["phase_diagram"]
    assert spec["dataset"] == "mnist" and len(spec["seeds"]) == 10
    from earlyphase.experiments.phase_diagram import jobs

    tags = jobs(default_params)
    assert all(tag.startswith("mnist/") for tag in tags)
    per_point = {tag.rsplit("/", 1)[0] for tag in tags}
    assert len(tags) == 10 * len(per_point)


def test_sharpness_every_zero_measures_lambda0_only(tiny_data):
    images, labels = tiny_data
    kw = dict(num_classes=3, depth=2, width=16, steps=4, batch_size=32, seed=3)
    full = fe.run_fcn_phase_diagram(images, labels, [1.0, 3.0], **kw)
    lean = fe.run_fcn_phase_diagram(images, labels, [1.0, 3.0], **kw, sharpness_every=0)
    assert lean["sharpness"].notna().groupby(lean["step"]).all().to_dict() == {0: True, 1: False, 2: False,
                                                                              3: False, 4: False}
    # the same training: losses, lambda_0 and hence c_loss and c_max are those of the full run
    assert np.array_equal(lean["loss"], full["loss"]) and lean["lambda0"].iloc[0] == full["lambda0"].iloc[0]
    lean_crit, full_crit = fe.fcn_critical_constants(lean).iloc[0], fe.fcn_critical_constants(full).iloc[0]
    assert np.isnan(lean_crit["c_sharp"])
    assert (lean_crit["c_loss"], lean_crit["c_max"]) == (full_crit["c_loss"], full_crit["c_max"])
