import pytest
import torch
import torch.nn.functional as F
from torch import nn

from earlyphase.interventions import GradualUnfreezing, trainable_parameter_count, unfreeze_steps
from earlyphase.interventions.gradual_unfreezing import num_unfrozen_blocks
from earlyphase.models import block_parameters, build_model, head_parameters


def test_unfreeze_steps_follow_algorithm_1():
    assert unfreeze_steps(5, 3) == [15, 12, 9, 6, 3]
    assert unfreeze_steps(1, 7) == [7]

    # literal transcription of Algorithm 1, compared step by step
    def algorithm1(L, k, N):
        S, j, out = {"C"}, L - 1, []
        for i in range(1, N + 1):
            if i % k == 0 and i <= k * L:
                S.add(j)
                j -= 1
            out.append(set(S))
        return out

    for L, k in [(5, 1), (5, 2), (8, 3), (4, 250)]:
        ref = algorithm1(L, k, k * L + 5)
        gu = GradualUnfreezing(k)
        for i, S in enumerate(ref, start=1):
            assert set(gu.trainable_blocks(i, L)) | {"C"} == S
            assert num_unfrozen_blocks(i, L, k) == len(S) - 1


def test_rejects_bad_k():
    for k in (0, -1, 2.5):
        with pytest.raises(ValueError):
            GradualUnfreezing(k)


def _optimizer(kind, params, foreach):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4, foreach=foreach)
    return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01, foreach=foreach)


@pytest.mark.parametrize(
    "arch,opt,foreach",
    [
        ("resnet18", "sgd", False),
        ("resnet18", "sgd", True),
        ("resnet18", "adamw", False),
        ("resnet18", "adamw", True),
        ("vgg11", "sgd", True),
        ("vgg11", "adamw", False),
    ],
)
def test_frozen_parameters_do_not_move_and_blocks_start_on_schedule(arch, opt, foreach):
    torch.manual_seed(0)
    k = 2
    model = build_model(arch, 10, 3, width=0.125)
    L = len(model.block_names)
    optimizer = _optimizer(opt, model.parameters(), foreach)
    gu = GradualUnfreezing(k)
    gu.setup(model, optimizer)
    blocks = block_parameters(model)
    head = head_parameters(model)
    groups = [*blocks, head]  # index L is the head
    start = [k * (L - j) for j in range(L)] + [1]
    x = torch.randn(4, 3, 32, 32)
    y = torch.randint(0, 10, (4,))
    first_move = [None] * (L + 1)
    for step in range(1, k * L + 3):
        model.train()
        gu.before_step(step, model, optimizer)
        before = [[p.detach().clone() for _, p in g] for g in groups]
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for gi, g in enumerate(groups):
            moved = [not torch.equal(b, p) for b, (_, p) in zip(before[gi], g, strict=True)]
            if step < start[gi]:
                # frozen: bit-identical, no gradient, no optimizer state at all
                assert not any(moved), (gi, step)
                assert all(p.grad is None for _, p in g)
                assert all(len(optimizer.state.get(p, {})) == 0 for _, p in g)
            elif any(moved) and first_move[gi] is None:
                first_move[gi] = step
        # trainable count matches the schedule
        n = min(L, step // k)
        expected = sum(p.numel() for g in groups[L - n :] for _, p in g)
        assert trainable_parameter_count(model) == expected
    assert first_move == start
    if opt == "adamw":
        # Adam's step counter only counts steps since the block was unfrozen
        last = k * L + 2
        for gi, g in enumerate(groups):
            for _, p in g:
                assert int(optimizer.state[p]["step"]) == last - start[gi] + 1


def test_frozen_bn_running_stats_default_and_option():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 32, 32)
    for freeze_stats in (False, True):
        model = build_model("resnet18", 10, 3, width=0.125)
        gu = GradualUnfreezing(100, freeze_bn_stats=freeze_stats)
        model.train()
        gu.setup(model, None)
        gu.before_step(1, model, None)
        rm_stem = model.bn1.running_mean.clone()
        model(x)
        changed = not torch.equal(rm_stem, model.bn1.running_mean)
        assert changed is (not freeze_stats)
        assert model.bn1.training is (not freeze_stats)
        # once the stem is unfrozen, its BN goes back to train mode
        model.train()
        gu.before_step(100 * 5, model, None)
        assert model.bn1.training


def test_stateless_resume_gives_same_partition():
    m1 = build_model("vgg11", 10, 3, width=0.125)
    m2 = build_model("vgg11", 10, 3, width=0.125)
    a, b = GradualUnfreezing(3), GradualUnfreezing(3)
    a.setup(m1, None)
    for s in range(1, 14):
        a.before_step(s, m1, None)
    b.setup(m2, None)
    b.load_state_dict(a.state_dict())
    b.before_step(13, m2, None)
    assert [p.requires_grad for p in m1.parameters()] == [p.requires_grad for p in m2.parameters()]


def test_works_on_a_plain_module_with_declared_partition():
    class Tiny(nn.Module):
        block_names = (("a",), ("b",))
        head_names = ("c",)

        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 1)

    t = Tiny()
    gu = GradualUnfreezing(1)
    gu.setup(t, None)
    assert [p.requires_grad for p in t.parameters()] == [False, False, False, False, True, True]
    gu.before_step(1, t, None)
    assert [p.requires_grad for p in t.parameters()] == [False, False, True, True, True, True]
