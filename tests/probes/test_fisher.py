"""tr(F) estimators against the exact Fisher trace of a tiny network."""

from __future__ import annotations

import math

import pytest
import torch

from earlyphase.probes import fisher_trace

from .helpers import gen, tiny_mlp


def exact_fisher_terms(model, x):
    """Per example: E_c ||∇ log p(c|x)||² and Var_c ||∇ log p(c|x)||², by enumeration."""
    params = list(model.parameters())
    means, variances = [], []
    for i in range(x.shape[0]):
        logp = torch.log_softmax(model(x[i : i + 1]), dim=-1)[0]
        p = logp.exp().detach()
        sq = []
        for c in range(logp.shape[0]):
            g = torch.autograd.grad(logp[c], params, retain_graph=True)
            sq.append(sum(float((gi**2).sum()) for gi in g))
        sq_t = torch.tensor(sq, dtype=torch.float64)
        m = float((p * sq_t).sum())
        means.append(m)
        variances.append(float((p * sq_t**2).sum()) - m**2)
    return torch.tensor(means), torch.tensor(variances)


@pytest.fixture(scope="module")
def setup():
    model = tiny_mlp(0)
    x = torch.randn(300, 5, generator=gen(11), dtype=torch.float64) * 1.5
    means, variances = exact_fisher_terms(model, x)
    n_params = sum(p.numel() for p in model.parameters())
    return model, x, means, variances, n_params


def test_per_sample_matches_exact_within_3_sigma(setup):
    model, x, means, variances, n_params = setup
    exact = float(means.mean())
    sigma = math.sqrt(float(variances.sum())) / x.shape[0]
    y = torch.zeros(x.shape[0], dtype=torch.long)
    r = fisher_trace(model, x, y, batch_size=64, generator=gen(1), chunk_size=50)
    assert r.n_params == n_params
    assert abs(r.trace - exact) < 3 * sigma
    assert r.trace_norm == pytest.approx(r.trace / n_params)
    # its own standard error is of the right size (it also includes the spread over x)
    assert sigma * 0.7 < r.stderr < sigma * 3


def test_loop_equals_per_sample_for_the_same_labels(setup):
    model, x, *_ = setup
    y = torch.zeros(x.shape[0], dtype=torch.long)
    a = fisher_trace(model, x[:60], y[:60], batch_size=16, generator=gen(4), estimator="loop")
    b = fisher_trace(
        model,
        x[:60],
        y[:60],
        batch_size=16,
        generator=gen(4),
        estimator="per_sample",
        chunk_size=7,
    )
    assert a.trace == pytest.approx(b.trace, rel=1e-10)


def test_given_labels_give_the_exact_per_class_value(setup):
    """With every label fixed to c the estimator is mean_x ||∇ log p(c|x)||²."""
    model, x, *_ = setup
    xs = x[:20]
    c = 2
    params = list(model.parameters())
    direct = 0.0
    for i in range(20):
        g = torch.autograd.grad(torch.log_softmax(model(xs[i : i + 1]), -1)[0, c], params)
        direct += sum(float((gi**2).sum()) for gi in g)
    labels = torch.full((20,), c)
    r = fisher_trace(model, xs, labels, generator=gen(0), labels=labels)
    assert r.trace == pytest.approx(direct / 20, rel=1e-10)


def test_batched_estimator_is_unbiased(setup):
    model, x, means, variances, n_params = setup
    exact = float(means.mean())
    y = torch.zeros(x.shape[0], dtype=torch.long)
    values, errs = [], []
    for seed in range(4):
        r = fisher_trace(model, x, y, batch_size=4, generator=gen(100 + seed), estimator="batched")
        values.append(r.trace)
        errs.append(r.stderr)
    est = sum(values) / len(values)
    se = math.sqrt(sum(e**2 for e in errs)) / len(errs)
    assert abs(est - exact) < 3 * se
    # and it is a noisier estimator than per-sample (cross terms)
    sigma_per_sample = math.sqrt(float(variances.sum())) / x.shape[0]
    assert errs[0] > sigma_per_sample


def test_trainable_selection_counts_only_trainable(setup):
    model, x, *_ = setup
    y = torch.zeros(x.shape[0], dtype=torch.long)
    model[0].weight.requires_grad_(False)
    try:
        r_tr = fisher_trace(model, x[:30], y[:30], generator=gen(0), params="trainable")
        r_all = fisher_trace(model, x[:30], y[:30], generator=gen(0), params="all")
    finally:
        model[0].weight.requires_grad_(True)
    assert r_tr.n_params == r_all.n_params - model[0].weight.numel()
    assert 0 < r_tr.trace < r_all.trace  # same labels (same generator), fewer terms
    assert model[0].weight.grad is None


@pytest.mark.parametrize("frozen", [False, True])
def test_hook_and_vmap_per_sample_norms_equal_the_loop_on_a_bn_cnn(frozen):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 5, 3, padding=1, stride=2),
        torch.nn.BatchNorm2d(5),
        torch.nn.ReLU(inplace=True),
        torch.nn.Conv2d(5, 4, 3, padding=2, dilation=2),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 3),
    ).double()
    model(torch.randn(16, 3, 8, 8, dtype=torch.float64))  # non-trivial running statistics
    if frozen:
        for p in model[0].parameters():
            p.requires_grad_(False)
    x = torch.randn(30, 3, 8, 8, generator=gen(3), dtype=torch.float64)
    y = torch.zeros(30, dtype=torch.long)
    kw = dict(batch_size=8, chunk_size=8, params="trainable")
    loop = fisher_trace(model, x, y, generator=gen(0), estimator="loop", **kw)
    hooks = fisher_trace(model, x, y, generator=gen(0), per_sample_method="hooks", **kw)
    vm = fisher_trace(model, x, y, generator=gen(0), per_sample_method="vmap", **kw)
    assert hooks.trace == pytest.approx(loop.trace, rel=1e-10)
    assert vm.trace == pytest.approx(loop.trace, rel=1e-10)
    assert hooks.stderr == pytest.approx(loop.stderr, rel=1e-8)


@pytest.mark.parametrize(("estimator", "method"), [("per_sample", "hooks"), ("per_sample", "vmap"),
                                                   ("loop", "auto"), ("batched", "auto")])
def test_every_estimator_works_under_no_grad(setup, estimator, method):
    """Callers in evaluation code hold torch.no_grad(); the probe enables gradients itself."""
    model, x, *_ = setup
    y = torch.zeros(40, dtype=torch.long)
    kwargs = dict(batch_size=8, estimator=estimator, per_sample_method=method)
    plain = fisher_trace(model, x[:40], y, generator=gen(6), **kwargs)
    with torch.no_grad():
        inside = fisher_trace(model, x[:40], y, generator=gen(6), **kwargs)
        assert not torch.is_grad_enabled()  # the caller's mode is left as it was
    assert inside.trace == plain.trace > 0
