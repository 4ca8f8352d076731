"""Small models shared by the probe tests."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Quadratic(nn.Module):
    """Loss ½(w − w*)ᵀH(w − w*) that ignores its inputs.

    The parameter vector w is split into two tensors (to exercise multi-tensor handling) and
    starts at w*.  ``forward`` returns the loss once per example; use ``mean_loss`` as the
    probes' ``loss_fn``.
    """

    def __init__(self, h: Tensor, w_star: Tensor, split: int):
        super().__init__()
        self.register_buffer("h", h)
        self.register_buffer("w_star", w_star.clone())
        self.a = nn.Parameter(w_star[:split].clone())
        self.b = nn.Parameter(w_star[split:].clone())

    def forward(self, x: Tensor) -> Tensor:
        d = torch.cat([self.a, self.b]) - self.w_star
        return (0.5 * d @ self.h @ d).expand(x.shape[0])


def mean_loss(outputs: Tensor, targets: Tensor) -> Tensor:
    return outputs.mean()


def spd_matrix(eigenvalues: list[float], seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    n = len(eigenvalues)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T


def tiny_mlp(seed: int, d_in: int = 5, hidden: int = 7, classes: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, classes)).double()


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)
