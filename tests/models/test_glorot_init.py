"""The simple CNN's Keras initialization (Jastrzebski et al.'s model): Glorot-uniform weights
with fans counted as Keras counts them, zero biases; PyTorch's default stays the default."""

from __future__ import annotations

import math

import pytest
import torch

from earlyphase import runs
from earlyphase.models import build_model


def keras_glorot_limit(weight: torch.Tensor) -> float:
    """Keras: a conv kernel (kh, kw, C_in, C_out) has fan_in = kh*kw*C_in and fan_out =
    kh*kw*C_out; a dense kernel (in, out) has fan_in = in, fan_out = out. PyTorch stores
    (C_out, C_in, kh, kw) and (out, in)."""
    receptive = math.prod(weight.shape[2:]) if weight.dim() == 4 else 1
    fan_in, fan_out = weight.shape[1] * receptive, weight.shape[0] * receptive
    return math.sqrt(6.0 / (fan_in + fan_out))


def _layers(net):
    return {name: getattr(net, name) for name in ("conv1", "conv2", "conv3", "conv4", "fc1", "fc2")}


def test_glorot_weights_lie_within_the_keras_limit_and_biases_are_zero():
    torch.manual_seed(0)
    net = build_model("simple_cnn", 10, 3, max_pools=2, init="glorot_uniform")
    for name, layer in _layers(net).items():
        limit = keras_glorot_limit(layer.weight)
        assert layer.weight.abs().max() <= limit, name
        assert layer.weight.abs().max() > 0.95 * limit, name  # fills the interval, not a narrower one
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias)), name
    # conv3 (32 -> 64 channels, 3x3): fan_in 288, fan_out 576, the receptive field counted
    assert keras_glorot_limit(net.conv3.weight) == pytest.approx(math.sqrt(6 / (9 * 32 + 9 * 64)))


def test_glorot_moments_match_the_uniform_distribution_on_a_large_layer():
    torch.manual_seed(1)
    net = build_model("simple_cnn", 10, 3, max_pools=2, init="glorot_uniform")
    weight = net.fc1.weight.detach().double()  # 128 x 2304 = 294,912 draws
    limit = keras_glorot_limit(weight)
    n = weight.numel()
    variance = limit**2 / 3  # of U(-limit, limit)
    assert abs(float(weight.mean())) < 5 * math.sqrt(variance / n)
    # the sample variance's standard error is sqrt((m4 - var^2) / n), m4 = limit^4 / 5
    stderr = math.sqrt((limit**4 / 5 - variance**2) / n)
    assert float(weight.var()) == pytest.approx(variance, abs=5 * stderr)
    # PyTorch's default (Kaiming-uniform, a = sqrt(5)) has variance 1 / (3 fan_in): a different law
    torch.manual_seed(1)
    default = build_model("simple_cnn", 10, 3, max_pools=2).fc1.weight.detach().double()
    assert float(default.var()) == pytest.approx(1 / (3 * 2304), rel=0.02)
    assert abs(float(default.var()) - variance) > 50 * stderr
    assert build_model("simple_cnn", 10, 3).fc1.bias.abs().sum() > 0  # default biases are not zero


def test_the_fisher_setup_uses_keras_init_and_the_primary_cnn_keeps_torch_default(default_params):
    fisher_setup = default_params["experiments"]["fisher"]["setup"]
    keras = runs.build_run_model(runs.resolve_run(default_params, fisher_setup, 0).config)
    assert keras.init == "glorot_uniform"
    assert all(torch.count_nonzero(layer.bias) == 0 for layer in _layers(keras).values())
    primary = runs.resolve_run(default_params, "cifar10-simplecnn", 0)
    assert "model" not in primary.config and runs.build_run_model(primary.config).init == "torch_default"


def test_an_unknown_init_is_refused():
    with pytest.raises(ValueError, match="init must be one of"):
        build_model("simple_cnn", 10, 3, init="he_normal")


def test_params_refuse_an_unknown_init_naming_the_key(default_params):
    import copy

    from earlyphase.params import ParamsError, validate_params

    params = copy.deepcopy(default_params)
    params["setups"]["cifar10-simplecnn-noaug"]["model"]["init"] = "he_normal"
    with pytest.raises(ParamsError, match=r"setups\.cifar10-simplecnn-noaug\.model\.init: 'he_normal'"):
        validate_params(params)
