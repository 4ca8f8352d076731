import numpy as np
import pytest
import torch

from earlyphase.interventions.warm_start import reset_blocks, warm_start_subset
from earlyphase.models import block_parameters, build_model, head_parameters


def test_subset_is_reproducible_distinct_and_a_true_half():
    a = warm_start_subset(50_000, 0.5, seed=0)
    b = warm_start_subset(50_000, 0.5, seed=0)
    c = warm_start_subset(50_000, 0.5, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.int64 and len(a) == 25_000 == len(np.unique(a))
    assert a.min() >= 0 and a.max() < 50_000 and np.all(np.diff(a) > 0)
    # a random half, not the first half: about half of each end is covered
    assert 0.45 < np.mean(a < 25_000) < 0.55
    assert len(warm_start_subset(11, 0.5, seed=0)) == 5
    assert np.array_equal(warm_start_subset(7, 1.0), np.arange(7))
    with pytest.raises(ValueError):
        warm_start_subset(10, 0.0)


@pytest.mark.parametrize("arch,width", [("resnet18", 0.125), ("fcn", 8), ("simple_cnn", 0.25)])
def test_reset_blocks_touches_only_the_chosen_blocks(arch, width):
    torch.manual_seed(0)
    model = build_model(arch, 10, 3, width)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    names = reset_blocks(model, [1, "head"], torch.Generator().manual_seed(3))
    assert names == [*model.block_names[1], *model.head_names]
    reset_ids = {id(p) for _, p in block_parameters(model)[1]} | {
        id(p) for _, p in head_parameters(model)
    }
    for n, p in model.named_parameters():
        if id(p) in reset_ids:
            if p.dim() > 1:  # weights are redrawn (BN weight/bias may be reset to 1/0)
                assert not torch.equal(p, before[n]), n
        else:
            assert torch.equal(p, before[n]), n


def test_reset_blocks_is_reproducible_and_leaves_global_rng_alone():
    m1 = build_model("vgg11", 10, 3, 0.125)
    m2 = build_model("vgg11", 10, 3, 0.125)
    m2.load_state_dict(m1.state_dict())
    torch.manual_seed(42)
    reset_blocks(m1, [0, 7], 5, init="model")
    after_global = torch.rand(3)
    torch.manual_seed(42)
    reset_blocks(m2, [0, 7], 5, init="model")
    assert torch.equal(after_global, torch.rand(3))
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    with pytest.raises(ValueError):
        reset_blocks(m1, [8], 0)
