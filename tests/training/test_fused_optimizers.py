"""The optimizers a CUDA job builds, checked on the CPU (fused SGD runs there in recent torch).

Two defects of fused SGD that no CPU run would meet by itself: it raises ``TypeError`` at
the first step after a gradual-unfreezing block joins (its momentum buffers appear only when
every parameter lacks one), and it updates the wrong elements when a momentum buffer's
memory layout differs from its parameter's (a CPU-written checkpoint resumed on channels_last
CUDA parameters). Here the CUDA choice of :func:`optimizer_options` is forced on the CPU.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from earlyphase import runs
from earlyphase.training import acceleration
from earlyphase.training import trainer as trainer_module
from earlyphase.training.acceleration import FastPath
from earlyphase.training.trainer import CHECKPOINT_NAME, Trainer

PLAIN = FastPath(precision="fp32", channels_last=False, compile=False)
CHANNELS_LAST = FastPath(precision="fp32", channels_last=True, compile=False)


def _config(smoke_params, steps: int, gu_k: int | None = None) -> dict:
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=5, gu_k=gu_k, steps=steps)
    # Momentum and weight decay on: the smoke configuration has neither, and both matter here.
    return {**run.config, "batch_size": 8, "log_every": 1, "momentum": 0.9, "weight_decay": 5e-4}


@pytest.fixture()
def cuda_optimizers(monkeypatch):
    """Build every Trainer's optimizer as a CUDA job would (fused / foreach), on the CPU."""
    def as_on_cuda(device, kind, cuda_graphs=False, trainable_set_changes=False):
        return acceleration.optimizer_options(torch.device("cuda"), kind, cuda_graphs, trainable_set_changes)

    monkeypatch.setattr(trainer_module, "optimizer_options", as_on_cuda)


def _train(trainer: Trainer, steps: int) -> Trainer:
    trainer.model.train()
    for _ in range(steps):
        trainer.train_step()
    return trainer


def _momentum(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {name: trainer.optimizer.state[p]["momentum_buffer"]
            for name, p in trainer.model.named_parameters() if p in trainer.optimizer.state}


def test_the_cuda_choice_for_sgd_is_fused_except_when_blocks_unfreeze():
    cuda = torch.device("cuda")
    assert acceleration.optimizer_options(cuda, "sgd") == {"fused": True}
    assert acceleration.optimizer_options(cuda, "sgd", trainable_set_changes=True) == {"foreach": True}
    assert acceleration.optimizer_options(cuda, "adamw", trainable_set_changes=True) == {"fused": True}
    assert acceleration.optimizer_options(torch.device("cpu"), "sgd", trainable_set_changes=True) == {}


def test_gradual_unfreezing_with_the_cuda_optimizer_equals_plain_sgd_bit_for_bit(
        tmp_path, smoke_params, shapes_clean_dir, cuda_optimizers):
    config = _config(smoke_params, steps=4, gu_k=1)  # a block joins at every step
    gu = _train(Trainer(config, tmp_path / "gu", shapes_clean_dir, progress=False, fast=PLAIN), 4)
    assert gu.optimizer.defaults["foreach"] is True and not gu.optimizer.defaults["fused"]
    with pytest.MonkeyPatch.context() as plain_build:
        plain_build.setattr(trainer_module, "optimizer_options", lambda *args: {"foreach": False})
        plain = _train(Trainer(config, tmp_path / "plain", shapes_clean_dir, progress=False, fast=PLAIN), 4)
    # The blocks joined one by one: the stem is still frozen, layer1 (joined at step 4) moved.
    params = dict(gu.model.named_parameters())
    assert params["conv1.weight"] not in gu.optimizer.state
    assert params["layer1.0.conv1.weight"] in gu.optimizer.state
    for name, value in gu.model.state_dict().items():
        assert torch.equal(value, plain.model.state_dict()[name]), name
    ours, reference = _momentum(gu), _momentum(plain)
    assert ours.keys() == reference.keys() and len(ours) > 10
    for name in ours:
        assert torch.equal(ours[name], reference[name]), name


def test_fused_sgd_itself_fails_at_the_first_unfreeze(tmp_path, smoke_params, shapes_clean_dir, monkeypatch):
    # Why gradual unfreezing gets foreach: the hazard, reproduced with fused=True forced. If a
    # future torch accepts this, the foreach exception in optimizer_options can be revisited.
    monkeypatch.setattr(trainer_module, "optimizer_options", lambda *args: {"fused": True})
    trainer = Trainer(_config(smoke_params, steps=4, gu_k=1), tmp_path / "run", shapes_clean_dir,
                      progress=False, fast=PLAIN)
    _train(trainer, 1)  # the head alone: every buffer is created at once
    with pytest.raises(TypeError, match="NoneType"):
        _train(trainer, 1)  # layer4 joins: buffers for some parameters only


def _checkpoint_of_a_contiguous_cpu_run(smoke_params, shapes_clean_dir, run_dir) -> dict:
    config = _config(smoke_params, steps=6)
    writer = _train(Trainer(config, run_dir, shapes_clean_dir, progress=False, fast=PLAIN), 3)
    writer.save_checkpoint()
    return config


def _resume(config, run_dir, data_dir, steps: int) -> Trainer:
    trainer = Trainer(config, run_dir, data_dir, progress=False, fast=CHANNELS_LAST)
    assert trainer.try_resume() and trainer.step == 3
    return _train(trainer, steps)


def test_a_contiguous_checkpoint_resumes_on_channels_last_fused_sgd_correctly(
        tmp_path, smoke_params, shapes_clean_dir, monkeypatch):
    config = _checkpoint_of_a_contiguous_cpu_run(smoke_params, shapes_clean_dir, tmp_path / "fused")
    for other in ("plain", "unfixed"):
        (tmp_path / other).mkdir()
        shutil.copy(tmp_path / "fused" / CHECKPOINT_NAME, tmp_path / other / CHECKPOINT_NAME)
    # Reference: the same resume with the plain for-loop SGD (layout-agnostic).
    plain = _resume(config, tmp_path / "plain", shapes_clean_dir, 3)

    monkeypatch.setattr(trainer_module, "optimizer_options", lambda *args: {"fused": True})
    fused = Trainer(config, tmp_path / "fused", shapes_clean_dir, progress=False, fast=CHANNELS_LAST)
    assert fused.try_resume()
    # The checkpoint's groups say fused=None (a CPU job's SGD); the resume keeps this job's choice.
    assert fused.optimizer.param_groups[0]["fused"] is True
    conv = fused.model.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    for name, param in fused.model.named_parameters():
        assert fused.optimizer.state[param]["momentum_buffer"].stride() == param.stride(), name
    _train(fused, 3)
    for name, value in fused.model.state_dict().items():
        torch.testing.assert_close(value, plain.model.state_dict()[name], rtol=1e-5, atol=1e-6, msg=name)

    # Without the layout fix the same resume drifts far off: the check above can see it.
    monkeypatch.setattr(acceleration, "match_state_layout", lambda optimizer: 0)
    unfixed = _resume(config, tmp_path / "unfixed", shapes_clean_dir, 3)
    drift = (unfixed.model.conv1.weight - plain.model.conv1.weight).abs().max().item()
    assert drift > 1e-3


def test_match_state_layout_keeps_values_and_reports_conversions():
    param = torch.nn.Parameter(torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    buffer = torch.randn(2, 3, 4, 5)
    optimizer.state[param]["momentum_buffer"] = buffer
    assert acceleration.match_state_layout(optimizer) == 1
    moved = optimizer.state[param]["momentum_buffer"]
    assert moved.stride() == param.stride() and torch.equal(moved, buffer)
    assert acceleration.match_state_layout(optimizer) == 0


def test_a_type_error_in_training_fails_the_run_with_a_clear_message(
        tmp_path, smoke_params, shapes_clean_dir, monkeypatch, capsys):
    from earlyphase.cli import main
    from earlyphase.records.status import run_state

    def broken_step(self):
        self.step += 1
        raise TypeError("expected Tensor as element 0 in argument 2, but got NoneType")

    monkeypatch.setattr(Trainer, "train_step", broken_step)
    config = _config(smoke_params, steps=4)
    run_dir = tmp_path / "runs" / "cifar10-resnet18" / "plain" / "seed5"
    code = main(["train", "--config", json.dumps(config), "--run-dir", str(run_dir), "--data",
                 str(shapes_clean_dir), "--device", "cpu", "--checkpoint-every", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert "earlyphase train: error:" in err and "step 1 with TypeError" in err and "NoneType" in err
    assert json.loads((run_dir / "progress.json").read_text())["state"] == "failed"
    log = tmp_path / "logs" / "train" / "cifar10-resnet18" / "plain" / "seed5.log"
    log.parent.mkdir(parents=True)
    log.write_text(err)
    state = run_state(str(tmp_path), "cifar10-resnet18/plain/seed5", config)
    assert state.state == "failed" and "TypeError" in state.detail
