"""Probing in the middle of training leaves the training run bit-identical."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from earlyphase.probes import ProbeSuite, probe_mode

PROBE_CONFIG = {
    "probes": ["fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig"],
    "n_draws": 2,
    "apgd_iters": 3,
    "batch_size": 8,
    "eig_iters": 2,
    "seed": 3,
}


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),  # consumes the global RNG in training mode
        nn.Linear(24, 3),
    )


def snapshot(model):
    return (
        {k: v.clone() for k, v in model.state_dict().items()},
        {n: (p.grad.clone() if p.grad is not None else None) for n, p in model.named_parameters()},
        {n: p.grad for n, p in model.named_parameters()},
        {n: p.requires_grad for n, p in model.named_parameters()},
        [m.training for m in model.modules()],
    )


def assert_same(a, b):
    sa, ga, gref_a, ra, ta = a
    sb, gb, gref_b, rb, tb = b
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    for n in ga:
        assert (ga[n] is None) == (gb[n] is None)
        if ga[n] is not None:
            assert torch.equal(ga[n], gb[n]), n
        assert gref_a[n] is gref_b[n], n  # the very same .grad tensor objects
    assert ra == rb
    assert ta == tb


def rng_states():
    return torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


def train(probe: bool):
    model = small_cnn()
    model[0].weight.requires_grad_(False)  # a frozen block, as in gradual unfreezing
    opt = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad],
        lr=0.1,
        momentum=0.9,
        weight_decay=5e-4,
    )
    g = torch.Generator().manual_seed(1)
    x_probe = torch.randn(20, 3, 6, 6, generator=g)
    y_probe = torch.randint(0, 3, (20,), generator=g)
    suite = ProbeSuite(PROBE_CONFIG, x_probe, y_probe, "cpu")
    torch.manual_seed(42)
    np.random.seed(42)
    random.seed(42)
    model.train()
    for step in range(8):
        x = torch.randn(16, 3, 6, 6, generator=g)
        y = torch.randint(0, 3, (16,), generator=g)
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(x), y).backward()
        if probe and step in (2, 4, 6):
            before, rng_before = snapshot(model), rng_states()
            rec = suite(model, step)
            after, rng_after = snapshot(model), rng_states()
            assert_same(before, after)
            assert torch.equal(rng_before[0], rng_after[0])
            assert (rng_before[1] == rng_after[1]).all()
            assert rng_before[2] == rng_after[2]
            assert set(rec) >= {"step", "fisher_trace", "avg_sharpness", "worst_sharpness"}
            assert rec["n_params_fisher"] == sum(
                p.numel() for p in model.parameters() if p.requires_grad
            )
        opt.step()
    return model


def test_training_with_probes_is_bit_identical():
    plain = train(probe=False)
    probed = train(probe=True)
    sp, sq = plain.state_dict(), probed.state_dict()
    for k in sp:  # weights and BN buffers (running stats, num_batches_tracked)
        assert torch.equal(sp[k], sq[k]), k


def test_probe_mode_restores_after_in_place_changes_and_errors():
    model = small_cnn()
    model.train()
    model[4].eval()  # a mixed train/eval configuration must come back as it was
    model(torch.randn(4, 3, 6, 6)).sum().backward()
    before = snapshot(model)
    rng = rng_states()
    with pytest.raises(RuntimeError), probe_mode(model) as m:
        assert not any(mod.training for mod in m.modules())
        with torch.no_grad():
            for p in m.parameters():
                p.add_(1.0)
                p.grad.mul_(3)
            m[1].running_mean.add_(1)
        m[0].weight.requires_grad_(False)
        m[9].bias.grad = None
        torch.rand(3)
        np.random.rand()
        random.random()
        raise RuntimeError("probe failed")
    assert_same(before, snapshot(model))
    after = rng_states()
    assert torch.equal(rng[0], after[0]) and (rng[1] == after[1]).all() and rng[2] == after[2]
