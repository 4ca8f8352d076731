import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from earlyphase.interventions import build_interventions
from earlyphase.interventions.gradient_penalty import GradientPenalty

B, D, C = 6, 4, 3


def tiny(seed=0, bn=False):
    torch.manual_seed(seed)
    layers = [nn.Linear(D, 5)]
    if bn:
        layers.append(nn.BatchNorm1d(5))
    layers += [nn.Tanh(), nn.Linear(5, C)]
    return nn.Sequential(*layers).double()


def batch(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, D, generator=g, dtype=torch.float64), torch.randint(
        0, C, (B,), generator=g
    )


def per_sample_mean_grad_sqnorm(model, x, labels):
    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    for i in range(B):
        loss = F.cross_entropy(model(x[i : i + 1]), labels[i : i + 1])
        for t, g in zip(total, torch.autograd.grad(loss, params), strict=True):
            t += g / B
    return sum(t.pow(2).sum() for t in total)


@pytest.mark.parametrize("kind", ["fisher", "gp", "gpr"])
def test_weight_gradient_penalties_match_per_sample_loop(kind):
    model, (x, y) = tiny(), batch()
    alpha, seed = 0.37, 5
    pen = GradientPenalty(kind, alpha=alpha, seed=seed)
    logits = model(x)
    value = pen.penalty(1, model, x, y, logits)
    gen = torch.Generator().manual_seed(seed)
    if kind == "fisher":
        probs = torch.softmax(logits.detach().float(), 1)
        labels = torch.multinomial(probs, 1, generator=gen).squeeze(1)
    elif kind == "gpr":
        labels = torch.randint(0, C, (B,), generator=gen)
    else:
        labels = y
    expected = alpha * per_sample_mean_grad_sqnorm(model, x, labels)
    torch.testing.assert_close(value.detach(), expected, rtol=1e-10, atol=0)
    assert pen.last_value == pytest.approx(expected.item())


def test_fisher_labels_are_sampled_from_the_model():
    model = tiny()
    pen = GradientPenalty("fisher", seed=0)
    logits = torch.tensor([[5.0, -5.0, -5.0], [-5.0, -5.0, 5.0]], dtype=torch.float64)
    logits = logits.repeat(2000, 1)
    labels = pen.sample_labels(logits)
    assert (labels[0::2] == 0).float().mean() > 0.99 and (labels[1::2] == 2).float().mean() > 0.99
    flat = pen.sample_labels(torch.zeros(30000, 3, dtype=torch.float64))
    freq = torch.bincount(flat, minlength=3).double() / 30000
    assert torch.allclose(freq, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.02)
    del model


@pytest.mark.parametrize("reduction", ["batch", "mean"])
def test_gpx_matches_separate_input_autograd(reduction):
    model, (x, y) = tiny(), batch()
    pen = GradientPenalty("gpx", alpha=2.0, gpx_reduction=reduction)
    value = pen.penalty(1, model, x, y, model(x))
    sq = torch.zeros((), dtype=torch.float64)
    for i in range(B):
        xi = x[i : i + 1].clone().requires_grad_(True)
        (gi,) = torch.autograd.grad(F.cross_entropy(model(xi), y[i : i + 1]), xi)
        sq += gi.pow(2).sum()
    expected = 2.0 * (sq / B**2 if reduction == "batch" else sq / B)
    torch.testing.assert_close(value.detach(), expected, rtol=1e-10, atol=0)


def test_gpx_leaves_batchnorm_statistics_alone():
    model, (x, y) = tiny(bn=True), batch()
    model.train()
    logits = model(x)  # the loop's forward updates the running stats once
    after_loop = {k: v.clone() for k, v in model.state_dict().items()}
    term = GradientPenalty("gpx").penalty(1, model, x, y, logits)
    for k, v in model.state_dict().items():
        assert torch.equal(v, after_loop[k]), k
    # the loop's graph is still usable and the penalty reaches the BN affine parameters
    (F.cross_entropy(logits, y) + term).backward()
    assert model[1].weight.grad is not None


def _flat_grad(model):
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("kind", ["fisher", "gp", "gpr", "gpx"])
@pytest.mark.parametrize("every", [1, 3])
def test_penalty_gradient_matches_finite_differences(kind, every):
    model, (x, y) = tiny(), batch()
    pen = GradientPenalty(kind, alpha=0.5, every=every, seed=3)
    state0 = copy.deepcopy(pen.state_dict())

    def value():
        pen.load_state_dict(copy.deepcopy(state0))
        return pen.raw_penalty(model, x, y, model(x)).item()

    pen.load_state_dict(copy.deepcopy(state0))
    model.zero_grad(set_to_none=True)
    pen.penalty(1, model, x, y, model(x)).backward()
    analytic = _flat_grad(model)
    numeric = []
    eps = 1e-6
    for p in model.parameters():
        flat = p.data.view(-1)  # perturb in place without recording
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            fp = value()
            flat[i] = old - eps
            fm = value()
            flat[i] = old
            numeric.append((fp - fm) / (2 * eps))
    numeric = torch.tensor(numeric, dtype=torch.float64)
    assert analytic.abs().max() > 1e-4  # the check is not vacuous
    torch.testing.assert_close(analytic, numeric, rtol=1e-5, atol=1e-8)


def _train(pen, steps, model=None, opt=None, start=1, record=None):
    model = model or tiny()
    opt = opt or torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(start, steps + 1):
        x, y = batch(seed=100 + step)
        logits = model(x)
        term = pen.penalty(step, model, x, y, logits)
        loss = F.cross_entropy(logits, y) + (term if term is not None else 0.0)
        opt.zero_grad(set_to_none=True)
        if record is not None and term is not None:
            gt = torch.autograd.grad(term, list(model.parameters()), retain_graph=True)
            record[step] = (term.detach().clone(), [g.clone() for g in gt])
        elif record is not None:
            record[step] = None
        loss.backward()
        opt.step()
    return model, opt


def test_onset_and_every_reuse_mode_uses_the_last_computed_gradient():
    pen = GradientPenalty("fisher", alpha=0.3, every=3, onset_step=5, seed=1)
    rec = {}
    gen_states = {}
    orig = pen.raw_penalty

    def spy(model, inputs, targets, logits):
        gen_states[len(gen_states)] = pen._cache_step
        return orig(model, inputs, targets, logits)

    pen.raw_penalty = spy
    _train(pen, 11, record=rec)
    assert all(rec[s] is None for s in range(1, 5))
    assert all(rec[s] is not None for s in range(5, 12))
    assert len(gen_states) == 3  # computed at steps 5, 8, 11 only
    for a, b in [(5, 6), (5, 7), (8, 9), (8, 10)]:
        assert torch.equal(rec[a][0], rec[b][0])  # same (stale) value
        for ga, gb in zip(rec[a][1], rec[b][1], strict=True):
            assert torch.equal(ga, gb)  # same (stale) gradient though the weights moved
    assert not torch.equal(rec[5][0], rec[8][0])


def test_reuse_mode_recompute_step_equals_fresh_penalty_gradient():
    model, (x, y) = tiny(), batch()
    a = GradientPenalty("gp", alpha=0.3, every=4)
    b = GradientPenalty("gp", alpha=0.3, every=1)
    ga = torch.autograd.grad(a.penalty(1, model, x, y, model(x)), list(model.parameters()))
    gb = torch.autograd.grad(b.penalty(1, model, x, y, model(x)), list(model.parameters()))
    for u, v in zip(ga, gb, strict=True):
        torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-15)


def test_skip_mode_applies_penalty_only_on_recompute_steps():
    pen = GradientPenalty("gp", alpha=0.3, every=3, onset_step=2, every_mode="skip")
    rec = {}
    _train(pen, 9, record=rec)
    assert [s for s in range(1, 10) if rec[s] is not None] == [2, 5, 8]


def test_exact_resume_with_state_dict():
    def fresh():
        return GradientPenalty("fisher", alpha=0.3, every=3, onset_step=2, seed=9)

    full, _ = _train(fresh(), 10)
    pen = fresh()
    model, opt = _train(pen, 6)  # a checkpoint after step 6 (cache from step 5)
    saved = copy.deepcopy((model.state_dict(), opt.state_dict(), pen.state_dict()))
    model2 = tiny(seed=123)
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    pen2 = fresh()
    pen2.setup(model2, opt2)
    model2.load_state_dict(saved[0])
    opt2.load_state_dict(saved[1])
    pen2.load_state_dict(saved[2])
    _train(pen2, 10, model=model2, opt=opt2, start=7)
    for p, q in zip(full.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)


def test_frozen_parameters_get_no_penalty_gradient():
    model, (x, y) = tiny(), batch()
    model[0].weight.requires_grad_(False)
    for every in (1, 3):
        model.zero_grad(set_to_none=True)
        GradientPenalty("fisher", every=every).penalty(1, model, x, y, model(x)).backward()
        assert model[0].weight.grad is None
        assert model[2].weight.grad is not None and model[2].weight.grad.abs().sum() > 0


def test_validation_and_registry():
    with pytest.raises(ValueError, match="unknown penalty kind"):
        GradientPenalty("l2")
    with pytest.raises(ValueError):
        GradientPenalty("fisher", every=0)
    with pytest.raises(ValueError):
        GradientPenalty("fisher", every_mode="sometimes")
    (iv,) = build_interventions(
        {"seed": 4, "penalty": {"kind": "fisher", "alpha": 0.01, "every": 10, "onset_step": 50}}
    )
    assert isinstance(iv, GradientPenalty)
    assert (iv.kind, iv.alpha, iv.every, iv.onset_step, iv.seed) == ("fisher", 0.01, 10, 50, 4)
    assert not iv.is_active(49) and iv.is_recompute_step(50) and iv.is_recompute_step(60)
    assert not iv.is_recompute_step(55)
