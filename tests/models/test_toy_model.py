"""Adding a model as docs/extending.md describes it: one class (partition, build, features,
setup options) and one entry in MODELS (here patched in); the run grid, the options of a
setup and gradual unfreezing follow from it."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from earlyphase import models, runs
from earlyphase.training.trainer import Trainer


class ToyMLP(nn.Module):
    block_names = (("fc1",), ("fc2",))
    head_names = ("out",)
    setup_options = ("hidden",)

    def __init__(self, num_classes: int, in_features: int, hidden: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, num_classes)

    @classmethod
    def build(cls, num_classes, in_channels, width=1.0, **options):
        return cls(num_classes, in_channels * 32 * 32, **options)

    def features(self, x):
        return torch.relu(self.fc2(torch.relu(self.fc1(torch.flatten(x, 1)))))

    def forward(self, x):
        return self.out(self.features(x))


@pytest.fixture()
def toy_params(monkeypatch, smoke_params):
    monkeypatch.setitem(models.MODELS, "toy_mlp", ToyMLP)
    params = copy.deepcopy(smoke_params)
    params["setups"]["cifar10-toy"] = {**params["setups"]["cifar10-resnet18"], "arch": "toy_mlp",
                                      "model": {"hidden": 8}}
    return params


def test_the_grid_reads_the_partition_and_the_options(toy_params):
    assert runs.blocks_of("toy_mlp") == 2
    run = runs.resolve_run(toy_params, "cifar10-toy", 0, gu_k=2, steps=6)
    assert run.config["model"] == {"hidden": 8}
    net = runs.build_run_model(run.config)
    assert isinstance(net, ToyMLP) and net.fc1.out_features == 8


def test_gradual_unfreezing_trains_the_toy_model(tmp_path, toy_params, shapes_clean_dir):
    config = runs.resolve_run(toy_params, "cifar10-toy", 0, gu_k=2, steps=6).config
    trainer = Trainer({**config, "batch_size": 16, "log_every": 2}, tmp_path / "run", shapes_clean_dir,
                      progress=False, device="cpu")
    status = trainer.run()
    assert status["status"] == "completed"
    trainable = [row["trainable_params"] for row in trainer.log_rows]
    head = sum(p.numel() for p in trainer.model.out.parameters())
    assert trainable[0] == head + sum(p.numel() for p in trainer.model.fc2.parameters())  # k=2: top block at step 2
    assert trainable[-1] == sum(p.numel() for p in trainer.model.parameters())
