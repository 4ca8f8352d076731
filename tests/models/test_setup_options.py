"""Model options a paper varies are setup keys: validated, part of the run id only when set,
and passed to the model's constructor."""

from __future__ import annotations

import copy

import pytest
import torch

from earlyphase import runs
from earlyphase.models import MODELS, num_blocks, setup_options
from earlyphase.params import ParamsError, validate_params

SETUP = "cifar10-simplecnn"


def _with_model(params: dict, options: dict) -> dict:
    params = copy.deepcopy(params)
    params["setups"][SETUP]["model"] = options
    return params


def test_options_reach_the_model_and_the_id(smoke_params):
    plain = runs.resolve_run(smoke_params, SETUP, 0)
    assert "model" not in plain.config  # today's ids: no key when nothing is set
    two = runs.resolve_run(_with_model(smoke_params, {"max_pools": 2}), SETUP, 0)
    assert two.config["model"] == {"max_pools": 2}
    assert two.run_id != plain.run_id
    assert runs.build_run_model(plain.config).max_pools == 1
    net = runs.build_run_model(two.config)
    assert net.max_pools == 2
    assert net(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_options_are_validated(smoke_params):
    validate_params(_with_model(smoke_params, {"max_pools": 2}))
    with pytest.raises(ParamsError, match=rf"setups\.{SETUP}\.model\.max_pools"):
        validate_params(_with_model(smoke_params, {"max_pools": 3}))
    other = copy.deepcopy(smoke_params)
    other["setups"]["cifar10-vgg11"]["model"] = {"max_pools": 2}
    with pytest.raises(ParamsError, match=r"setups\.cifar10-vgg11\.model\.max_pools.*no such option"):
        validate_params(other)


def test_block_counts_and_options_are_read_from_the_classes():
    assert {a: num_blocks(a) for a in MODELS if a != "fcn"} == {"resnet18": 5, "vgg11": 8, "simple_cnn": 4}
    with pytest.raises(ValueError, match="no fixed block partition"):
        num_blocks("fcn")  # depth-dependent
    assert setup_options("simple_cnn") == ("max_pools", "init")
    assert setup_options("resnet18") == ()


def test_schema_arch_enum_equals_the_models():
    from earlyphase.params import params_schema

    schema = params_schema()  # the enum is filled from MODELS when the schema is loaded
    assert schema["properties"]["setups"]["additionalProperties"]["properties"]["arch"]["enum"] == list(MODELS)


def _keras_flat_size(size: int, channels: int = 64) -> int:
    """Flattened size of the Keras CIFAR-10 example: conv 'same', conv 'valid', pool, twice."""
    for _ in range(2):
        size = (size - 2) // 2  # 'same' keeps the size, 'valid' 3x3 takes 2, the 2x2 pool halves
    return channels * size * size


def test_seed003_cnn_is_the_keras_example_and_seed000_keeps_one_pool(default_params):
    fisher_setup = default_params["experiments"]["fisher"]["setup"]
    keras = runs.build_run_model(runs.resolve_run(default_params, fisher_setup, 0).config)
    assert keras.max_pools == 2
    assert keras.feature_dim == _keras_flat_size(32) == 2304
    assert keras.features(torch.zeros(2, 3, 32, 32)).shape == (2, 2304)
    primary = runs.build_run_model(runs.resolve_run(default_params, SETUP, 0).config)
    assert primary.max_pools == 1
    assert primary.feature_dim == 64 * 14 * 14  # 32 -> 30 -> 28 after the valid convs, one pool
