import pytest
import torch
from torch import nn

from earlyphase.models import (
    MODELS,
    block_parameters,
    build_model,
    check_partition,
    head_parameters,
)

SMALL = {"resnet18": 0.125, "vgg11": 0.125, "simple_cnn": 0.25, "fcn": 16}


def _build(arch, in_channels, size, num_classes=7, **kw):
    extra = {"image_size": size} if arch in ("simple_cnn", "fcn") else {}
    return build_model(arch, num_classes, in_channels, SMALL[arch], **extra, **kw)


@pytest.mark.parametrize("arch", sorted(MODELS))
@pytest.mark.parametrize("in_channels,size", [(1, 28), (3, 32)])
def test_forward_shapes_and_features(arch, in_channels, size):
    torch.manual_seed(0)
    m = _build(arch, in_channels, size)
    x = torch.randn(3, in_channels, size, size)
    out = m(x)
    assert out.shape == (3, 7)
    f = m.features(x)
    assert f.ndim == 2 and f.shape[0] == 3 and f.shape[1] == m.feature_dim
    # the head applied to the features reproduces the forward pass (features = head input)
    m.eval()
    h = m.features(x)
    for name in m.head_names:
        h = m.get_submodule(name)(h)
        if name != m.head_names[-1]:
            h = torch.relu(h)
    torch.testing.assert_close(h, m(x))


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_every_parameter_in_exactly_one_group(arch):
    m = _build(arch, 3, 32)
    check_partition(m)
    groups = [*block_parameters(m), head_parameters(m)]
    ids = [id(p) for g in groups for _, p in g]
    assert len(ids) == len(set(ids))
    assert set(ids) == {id(p) for p in m.parameters()}
    assert all(len(g) > 0 for g in groups)


def test_check_partition_detects_missing_and_duplicate():
    m = _build("simple_cnn", 3, 32)
    m.block_names = m.block_names[1:]  # conv1 now in no group
    with pytest.raises(ValueError, match="conv1"):
        check_partition(m)
    m.block_names = (("conv1",), ("conv1",), ("conv2",), ("conv3",), ("conv4",))
    with pytest.raises(ValueError, match="two groups"):
        check_partition(m)


def test_partitions_match_the_paper():
    r = _build("resnet18", 3, 32)
    assert r.block_names == (("conv1", "bn1"), ("layer1",), ("layer2",), ("layer3",), ("layer4",))
    assert r.head_names == ("fc",)
    v = _build("vgg11", 3, 32)
    assert len(v.block_names) == 8 and len(v.head_names) == 3
    for names in v.block_names:
        mods = list(v.get_submodule(names[0]).modules())
        assert sum(isinstance(x, nn.Conv2d) for x in mods) == 1
        assert sum(isinstance(x, nn.BatchNorm2d) for x in mods) == 1
    assert all(isinstance(v.get_submodule(n), nn.Linear) for n in v.head_names)
    assert sum(isinstance(x, nn.MaxPool2d) for x in v.modules()) == 5
    assert not any(isinstance(x, nn.Dropout) for x in v.modules())


def test_resnet18_structure_full_width():
    m = build_model("resnet18", 10, 3)
    assert sum(p.numel() for p in m.parameters()) == 11_173_962  # CIFAR ResNet-18
    assert m.conv1.kernel_size == (3, 3) and m.conv1.stride == (1, 1)
    assert not any(isinstance(x, nn.MaxPool2d) for x in m.modules())
    for name in ("layer1", "layer2", "layer3", "layer4"):
        assert len(m.get_submodule(name)) == 2
    assert m.layer1[0].downsample is None
    assert all(m.get_submodule(f"layer{i}")[0].downsample is not None for i in (2, 3, 4))
    # torchvision naming, so state dicts line up
    keys = set(m.state_dict())
    assert {
        "conv1.weight",
        "bn1.running_mean",
        "layer2.0.downsample.0.weight",
        "layer4.1.bn2.weight",
        "fc.weight",
        "fc.bias",
    } <= keys


def test_width_multiplier_rounding():
    m = build_model("resnet18", 10, 3, width=0.5)
    assert m.conv1.out_channels == 32 and m.fc.in_features == 256
    m = build_model("resnet18", 10, 3, width=0.001)
    assert m.conv1.out_channels == 1 and m.fc.in_features == 1
    v = build_model("vgg11", 10, 3, width=0.25)
    assert v.block1[0].out_channels == 16 and v.fc1.in_features == 128
    assert v.fc2.in_features == 128 and v.fc3.out_features == 10


def test_simple_cnn_pools_option():
    one = build_model("simple_cnn", 10, 3, image_size=32)
    two = build_model("simple_cnn", 10, 3, image_size=32, max_pools=2)
    assert sum(isinstance(x, nn.MaxPool2d) for x in one.modules()) == 1
    assert sum(isinstance(x, nn.MaxPool2d) for x in two.modules()) == 2
    # 32 -> 32 (same) -> 30 (valid) -> 30 -> 28 -> pool 14 : 64*14*14
    assert one.fc1.in_features == 64 * 14 * 14 and one.fc1.out_features == 128
    # Keras layout: 32 -> 30 -> pool 15 -> 15 -> 13 -> pool 6
    assert two.fc1.in_features == 64 * 6 * 6
    assert [c.out_channels for c in (one.conv1, one.conv2, one.conv3, one.conv4)] == [
        32,
        32,
        64,
        64,
    ]
    with pytest.raises(ValueError):
        build_model("simple_cnn", 10, 3, max_pools=3)


def test_unknown_arch_names_valid_ones():
    with pytest.raises(ValueError) as e:
        build_model("resnet50", 10, 3)
    assert "resnet50" in str(e.value)
    for name in MODELS:
        assert name in str(e.value)
