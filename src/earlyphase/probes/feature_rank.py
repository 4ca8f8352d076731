"""Rank of the representation fed to the head (arXiv v1 Appendix E.1, Figure 7).

``feature_rank(model, inputs)`` stacks ``model.features(x)`` over the probe points (an
``N x D`` matrix, BatchNorm in eval mode with its running statistics, as every probe) and
returns

* ``rank``: the numerical rank, the number of singular values above
  ``tol = sigma_max * max(N, D) * eps`` with ``eps`` the machine epsilon of float32 (the
  features are computed in float32; the SVD runs in float64). This is the default threshold
  of ``numpy.linalg.matrix_rank`` / ``torch.linalg.matrix_rank`` for float32 data;
  ``rel_tol`` replaces ``max(N, D) * eps`` by a relative threshold of your choice;
* ``effective_rank``: ``exp(H(p))`` with ``p = sigma / sum(sigma)`` (Roy & Vetterli, 2007),
  a threshold-free companion that moves smoothly when the spectrum decays.

The features are not centred (the head sees them as they are).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import probe_mode


@dataclass(frozen=True)
class FeatureRank:
    rank: int
    effective_rank: float
    dim: int
    n_points: int
    tol: float


@torch.no_grad()
def feature_matrix(model: nn.Module, inputs: Tensor, batch_size: int = 256) -> Tensor:
    """``model.features`` over ``inputs`` in probe mode (eval BN), flattened, float64 on CPU."""
    with probe_mode(model) as inner:
        chunks = [inner.features(inputs[i:i + batch_size]).flatten(1).double().cpu()
                  for i in range(0, inputs.shape[0], batch_size)]
    return torch.cat(chunks)


def rank_of(features: Tensor, rel_tol: float | None = None) -> FeatureRank:
    """Numerical and effective rank of an ``N x D`` matrix (see the module docstring)."""
    n, d = features.shape
    sigma = torch.linalg.svdvals(features.double())
    sigma_max = float(sigma.max()) if sigma.numel() else 0.0
    factor = rel_tol if rel_tol is not None else max(n, d) * torch.finfo(torch.float32).eps
    tol = sigma_max * factor
    rank = int((sigma > tol).sum()) if sigma_max > 0 else 0
    if sigma_max > 0:
        p = sigma / sigma.sum()
        p = p[p > 0]
        effective = float(torch.exp(-(p * p.log()).sum()))
    else:
        effective = 0.0
    return FeatureRank(rank=rank, effective_rank=effective, dim=d, n_points=n, tol=tol)


def feature_rank(model: nn.Module, inputs: Tensor, batch_size: int = 256,
                 rel_tol: float | None = None) -> FeatureRank:
    return rank_of(feature_matrix(model, inputs, batch_size), rel_tol)
