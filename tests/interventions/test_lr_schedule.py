import pytest
import torch

from earlyphase.interventions import (
    ConstantLR,
    GradualUnfreezing,
    MultiStepLR,
    SwitchLR,
    build_interventions,
)


def test_constant():
    s = ConstantLR(0.1)
    assert [s.lr_at(i) for i in (1, 2, 10_000)] == [0.1, 0.1, 0.1]


def test_switch_l2h_and_h2l():
    lr_d, k = 0.1, 3
    l2h = SwitchLR(0.1 * lr_d, lr_d, k)
    h2l = SwitchLR(lr_d, 0.1 * lr_d, k)
    assert [l2h.lr_at(i) for i in range(1, 7)] == [0.1 * lr_d] * 3 + [lr_d] * 3
    assert [h2l.lr_at(i) for i in range(1, 7)] == [lr_d] * 3 + [0.1 * lr_d] * 3


def test_multistep_drops_after_milestones():
    s = MultiStepLR(1.0, [3, 5], gamma=0.1)
    got = [s.lr_at(i) for i in range(1, 8)]
    assert got == pytest.approx([1, 1, 1, 0.1, 0.1, 0.01, 0.01])
    with pytest.raises(ValueError):
        MultiStepLR(1.0, [5, 3])


def test_before_step_sets_every_group():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a], "lr": 9.0}, {"params": [b], "lr": 7.0}], lr=5.0)
    s = SwitchLR(0.01, 0.1, 2)
    for step, lr in [(1, 0.01), (2, 0.01), (3, 0.1)]:
        s.before_step(step, None, opt)
        assert [g["lr"] for g in opt.param_groups] == [lr, lr]
    assert s.state_dict() == {}


def test_build_interventions_from_config():
    ivs = build_interventions(
        {
            "gu_k": 250,
            "lr_schedule": {
                "kind": "switch",
                "lr_before": 0.01,
                "lr_after": 0.1,
                "switch_step": 200,
            },
        }
    )
    assert [type(i) for i in ivs] == [SwitchLR, GradualUnfreezing]
    assert ivs[0].lr_at(200) == 0.01 and ivs[0].lr_at(201) == 0.1 and ivs[1].k == 250
    ivs = build_interventions(
        {
            "gu_k": None,
            "penalty": None,
            "lr_schedule": {"kind": "multistep", "lr": 1e-3, "milestones": [10, 20], "gamma": 0.1},
        }
    )
    assert len(ivs) == 1 and ivs[0].lr_at(11) == pytest.approx(1e-4)
    assert build_interventions({}) == []
    with pytest.raises(ValueError, match="cosine"):
        build_interventions({"lr_schedule": {"kind": "cosine", "lr": 0.1}})
