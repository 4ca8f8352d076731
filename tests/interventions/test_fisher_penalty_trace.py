"""The Fisher penalty estimates alpha·tr(F)/B: exact expectation over the sampled labels.

With labels drawn from the model, E||(1/B) sum_i g_i(yhat_i)||^2 = (1/B^2) sum_i E||g_i||^2
(the cross terms vanish because E_yhat g_i = 0), i.e. tr(F)/B with tr(F) the per-example
Fisher trace averaged over the batch. Checked exactly by enumerating every label
combination of a tiny network (3^4 = 81 combinations, weighted by their probability).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from earlyphase.interventions.gradient_penalty import GradientPenalty

B, D, C = 4, 3, 3


def _tiny_problem(seed: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(D, 4), nn.Tanh(), nn.Linear(4, C)).double()
    x = torch.randn(B, D, dtype=torch.float64)
    y = torch.zeros(B, dtype=torch.long)
    return model, x, y


def _model_probs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.softmax(model(x), 1)


def _exact_fisher_trace(model: nn.Module, x: torch.Tensor, probs: torch.Tensor) -> float:
    """Exact per-example Fisher trace: (1/B) sum_i sum_c p_i(c) ||grad log p_i(c)||^2."""
    trace = 0.0
    for i in range(B):
        for c in range(C):
            loss = F.cross_entropy(model(x[i:i + 1]), torch.tensor([c]))
            sq = sum(g.pow(2).sum() for g in torch.autograd.grad(loss, list(model.parameters())))
            trace += probs[i, c].item() * sq.item()
    return trace / B


def test_expected_fisher_penalty_equals_alpha_trace_over_batch_size():
    model, x, y = _tiny_problem(0)
    alpha = 0.01
    probs = _model_probs(model, x)
    trace = _exact_fisher_trace(model, x, probs)

    pen = GradientPenalty("fisher", alpha=alpha, every=1, seed=0)
    expected = 0.0
    for combo in itertools.product(range(C), repeat=B):
        labels = torch.tensor(combo)
        pen.sample_labels = lambda logits, labels=labels: labels  # this combination of sampled labels
        weight = torch.prod(probs[torch.arange(B), labels]).item()
        value = pen.raw_penalty(model, x, y, model(x)).item()
        expected += weight * value
    assert abs(expected - alpha * trace / B) <= 1e-12 * max(1.0, alpha * trace)


def test_single_draw_is_unbiased_over_many_seeds():
    """Monte Carlo over the penalty's own sampler: the mean of many draws approaches alpha·tr(F)/B."""
    model, x, y = _tiny_problem(1)
    values = []
    for seed in range(200):
        pen = GradientPenalty("fisher", alpha=1.0, every=1, seed=seed)
        values.append(pen.raw_penalty(model, x, y, model(x)).item())
    mean = sum(values) / len(values)
    trace = _exact_fisher_trace(model, x, _model_probs(model, x))
    std_err = torch.tensor(values).std().item() / len(values) ** 0.5
    assert abs(mean - trace / B) < 4 * std_err
