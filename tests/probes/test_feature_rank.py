"""feature_rank probe: numerical rank of the head's input on the probe points."""

from __future__ import annotations

import torch
from torch import nn

from earlyphase.probes.feature_rank import feature_rank, rank_of
from earlyphase.probes.suite import ProbeSuite


class LinearFeatures(nn.Module):
    """features(x) = W x with a BatchNorm after it (eval mode must be used by the probe)."""

    def __init__(self, d_in=10, d_feat=8):
        super().__init__()
        self.lin = nn.Linear(d_in, d_feat, bias=False)
        self.bn = nn.BatchNorm1d(d_feat, affine=False)
        self.fc = nn.Linear(d_feat, 3)

    def features(self, x):
        return self.bn(self.lin(x))

    def forward(self, x):
        return self.fc(self.features(x))


def test_rank_of_matrix_with_known_rank_and_effective_rank():
    g = torch.Generator().manual_seed(0)
    low = torch.randn(50, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 12, generator=g, dtype=torch.float64)
    out = rank_of(low)
    assert out.rank == 3 and out.dim == 12 and out.n_points == 50
    q, _ = torch.linalg.qr(torch.randn(20, 5, generator=g, dtype=torch.float64))
    assert abs(rank_of(q).effective_rank - 5.0) < 1e-9  # equal singular values: erank = rank
    assert rank_of(torch.zeros(4, 4)).rank == 0


def test_probe_uses_eval_batchnorm_and_recovers_input_rank():
    torch.manual_seed(0)
    model = LinearFeatures()
    model.bn.running_mean.fill_(0.0)
    model.bn.running_var.fill_(1.0)
    # inputs of rank 4 in a 10-dim space: W x has rank 4 too, in eval BN (a fixed affine map
    # with zero mean: rank kept); train-mode BN would centre the batch and drop one rank.
    x = torch.randn(64, 4) @ torch.randn(4, 10)
    model.train()
    out = feature_rank(model, x, batch_size=64)
    assert out.rank == 4
    assert model.training and int(model.bn.num_batches_tracked) == 0  # left as found


def test_suite_records_feature_rank():
    torch.manual_seed(0)
    model = LinearFeatures()
    x, y = torch.randn(32, 10), torch.randint(0, 3, (32,))
    rec = ProbeSuite({"probes": ["feature_rank"], "batch_size": 16}, x, y, "cpu")(model, 5)
    assert rec["step"] == 5 and rec["feature_rank"] == 8 and rec["feature_dim"] == 8
    assert 1.0 <= rec["feature_effective_rank"] <= 8.0
