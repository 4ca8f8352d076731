import math

import pytest
import torch

from earlyphase.models import build_model


def test_fcn_has_no_bias_and_depth_counts_layers():
    m = build_model("fcn", 10, 1, width=32, depth=4)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc1.weight", "fc2.weight", "fc3.weight", "out.weight"]
    assert m.fc1.weight.shape == (32, 784) and m.out.weight.shape == (10, 32)
    assert m.block_names == (("fc1",), ("fc2",), ("fc3",)) and m.head_names == ("out",)


@pytest.mark.parametrize("param", ["sp", "ntk"])
def test_fcn_init_statistics(param):
    torch.manual_seed(0)
    m = build_model("fcn", 10, 3, width=1024, depth=3, parameterization=param)
    for lin, sigma2 in ((m.fc1, 2.0), (m.fc2, 2.0), (m.out, 1.0)):
        fan_in = lin.weight.shape[1]
        std = lin.weight.std().item()
        if param == "ntk":
            assert abs(std - 1.0) < 0.02
            assert lin.multiplier == pytest.approx(math.sqrt(sigma2 / fan_in))
        else:
            assert abs(std - math.sqrt(sigma2 / fan_in)) < 0.02 * math.sqrt(sigma2 / fan_in)
            assert lin.multiplier == 1.0
        # effective weight (multiplier * W) has variance sigma_w^2 / fan_in in both
        eff = (lin.multiplier * lin.weight).var().item() * fan_in
        assert eff == pytest.approx(sigma2, rel=0.03)


def test_fcn_ntk_and_sp_compute_the_same_function_for_matched_weights():
    torch.manual_seed(1)
    sp = build_model("fcn", 5, 1, width=20, depth=3, image_size=4, parameterization="sp")
    ntk = build_model("fcn", 5, 1, width=20, depth=3, image_size=4, parameterization="ntk")
    with torch.no_grad():
        for a, b in zip(sp.parameters(), ntk.parameters(), strict=True):
            b.copy_(a)
    x = torch.randn(6, 1, 4, 4)
    # ntk(x) with weights W equals sp(x) with weights multiplier*W, layer by layer
    h = x.flatten(1)
    for name in ("fc1", "fc2"):
        lin = ntk.get_submodule(name)
        h = torch.relu(h @ (lin.multiplier * lin.weight).t())
    expected = h @ (ntk.out.multiplier * ntk.out.weight).t()
    torch.testing.assert_close(ntk(x), expected)
    torch.testing.assert_close(
        sp(x),
        torch.relu(torch.relu(x.flatten(1) @ sp.fc1.weight.t()) @ sp.fc2.weight.t())
        @ sp.out.weight.t(),
    )


def test_fcn_criticality_preserves_activation_scale_with_depth():
    # He/critical init: mean squared pre-activation stays O(1) through many ReLU layers
    torch.manual_seed(2)
    m = build_model("fcn", 10, 1, width=512, depth=12, image_size=8, parameterization="ntk")
    x = torch.randn(256, 1, 8, 8)
    q_in = (x.flatten(1) @ (m.fc1.multiplier * m.fc1.weight).t()).pow(2).mean().item()
    q_last = (m.features(x) @ (m.out.multiplier * m.out.weight).t()).pow(2).mean().item()
    # sigma_w_last = 1 halves the scale; q stays within a small factor across 11 layers
    assert 0.2 < q_last / q_in < 1.5


def test_fcn_rejects_bad_options():
    with pytest.raises(ValueError):
        build_model("fcn", 10, 1, width=16, parameterization="mup")
    with pytest.raises(ValueError):
        build_model("fcn", 10, 1, width=16.5)
