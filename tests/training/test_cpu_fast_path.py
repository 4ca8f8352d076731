"""The CPU fast path as a run setting: params.yaml's training.precision / channels_last.

Set, they enter the run config and so the run id (a bf16 run is another run); at their
defaults they add nothing (the ids pinned before them stay). The trainer obeys the run
config, refuses an execution option that contradicts it, stays close to fp32, resumes
bit for bit and keeps gradual unfreezing's frozen blocks untouched.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

from earlyphase import runs
from earlyphase.params import ParamsError, validate_params
from earlyphase.training.acceleration import FastPath, run_config_entries
from earlyphase.training.trainer import Trainer, train_run

# Pinned in tests/interventions/test_registry.py: made before the fast-path settings existed.
PINNED_SMOKE_ID = "mnist-resnet18/lr0.01-std-28a0be9f/seed0"
FAST = {"precision": "bf16", "channels_last": True}


def _with_training(params: dict, **settings) -> dict:
    changed = copy.deepcopy(params)
    changed["training"].update(settings)
    return changed


def _gu_config(params: dict, steps: int = 6, k: int = 2) -> dict:
    run = runs.resolve_run(params, "cifar10-resnet18", seed=4, gu_k=k, steps=steps)
    return {**run.config, "batch_size": 8, "log_every": 1}


def test_defaults_add_nothing_and_keep_the_pinned_id(smoke_params):
    default = runs.resolve_run(smoke_params, "mnist-resnet18", 0)
    assert default.run_id == PINNED_SMOKE_ID
    explicit = runs.resolve_run(_with_training(smoke_params, precision="fp32", channels_last=False),
                                "mnist-resnet18", 0)
    assert explicit == default
    assert "precision" not in default.config and "channels_last" not in default.config


def test_each_setting_enters_the_config_and_the_id_when_set(smoke_params):
    ids = {runs.resolve_run(smoke_params, "mnist-resnet18", 0).run_id}
    for settings in ({"precision": "bf16"}, {"channels_last": True}, FAST):
        run = runs.resolve_run(_with_training(smoke_params, **settings), "mnist-resnet18", 0)
        assert {k: run.config[k] for k in settings} == settings
        assert run.run_id.startswith("mnist-resnet18/lr0.01-std-") and run.run_id.endswith("/seed0")
        ids.add(run.run_id)
    assert len(ids) == 4  # default, bf16, channels_last, both: four different runs


def test_run_config_entries_refuse_an_unknown_precision():
    assert run_config_entries({"precision": "fp32", "channels_last": False, "log_every": 5}) == {}
    with pytest.raises(ValueError, match="training.precision .* 'fp16'"):
        run_config_entries({"precision": "fp16"})


@pytest.mark.parametrize(("key", "value", "reason"), [("precision", "fp16", "fp16"),
                                                      ("channels_last", "yes", "not of type")])
def test_schema_rejects_a_bad_value_naming_the_key(default_params, key, value, reason):
    broken = _with_training(default_params, **{key: value})
    with pytest.raises(ParamsError) as err:
        validate_params(broken)
    assert f"training.{key}:" in str(err.value) and reason in str(err.value)


def test_the_run_config_drives_the_trainer_and_is_recorded(tmp_path, smoke_params, shapes_clean_dir):
    config = {**_gu_config(_with_training(smoke_params, **FAST)), "total_steps": 2}
    status = train_run(config, tmp_path / "run", shapes_clean_dir, progress=False)
    assert status["status"] == "completed"
    final = tmp_path / "run" / "final"
    assert {k: json.loads((final / "config.json").read_text())[k] for k in FAST} == FAST
    fast = json.loads((final / "execution.json").read_text())["fast"]
    assert (fast["precision"], fast["channels_last"]) == ("bf16", True)
    assert fast["cpu_bf16_native"] in (True, False)  # the CPU's bf16 support, recorded either way
    # An execution option that contradicts the run config is refused, naming the setting.
    with pytest.raises(ValueError, match=r"run config fixes precision='bf16'.*'fp32'"):
        Trainer(config, tmp_path / "other", shapes_clean_dir, progress=False, fast={"precision": "fp32"})
    with pytest.raises(ValueError, match="channels_last=True"):
        FastPath.resolve(FastPath(precision="bf16"), torch.device("cpu"), run_config=config)


def test_bf16_channels_last_loss_stays_close_to_fp32(tmp_path, smoke_params, shapes_clean_dir):
    losses = {}
    for name, params in (("fp32", smoke_params), ("fast", _with_training(smoke_params, **FAST))):
        config = {**_gu_config(params), "total_steps": 3}
        trainer = Trainer(config, tmp_path / name, shapes_clean_dir, progress=False)
        trainer.model.train()
        for _ in range(3):
            trainer.train_step()
            trainer._flush_log()
        losses[name] = [row["loss"] for row in trainer.log_rows]
    assert trainer.fast.precision == "bf16" and trainer.fast.channels_last
    assert trainer.model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert losses["fast"] != losses["fp32"]  # bf16 really ran
    assert losses["fast"] == pytest.approx(losses["fp32"], rel=0.05)  # a sanity check, not a bound


def test_fast_path_resume_equals_the_uninterrupted_run_across_unfreezing(tmp_path, smoke_params,
                                                                         shapes_clean_dir):
    """k = 1: layer4 joins at step 1, layer3 at 2, layer2 at 3, layer1 at 4; the resume at step 2
    crosses two joins."""
    config = _gu_config(_with_training(smoke_params, **FAST), steps=4, k=1)
    train_run(config, tmp_path / "whole", shapes_clean_dir, progress=False)
    first = Trainer(config, tmp_path / "split", shapes_clean_dir, progress=False)
    first.model.train()
    for _ in range(2):
        first.train_step()
        first._flush_log()
    first.save_checkpoint()
    del first
    resumed = Trainer(config, tmp_path / "split", shapes_clean_dir, progress=False)
    resumed.run()
    whole, split = (torch.load(tmp_path / r / "final" / "model.pt", weights_only=False)["model"]
                    for r in ("whole", "split"))
    for name in whole:
        assert torch.equal(whole[name], split[name]), name
    # After 4 steps the stem is still frozen: untouched; the blocks that joined moved.
    initial = Trainer(config, tmp_path / "init", shapes_clean_dir, progress=False).model.state_dict()
    for name in ("conv1.weight", "bn1.weight", "bn1.bias"):
        assert torch.equal(whole[name], initial[name]), name
    for name in ("layer1.0.conv1.weight", "layer2.0.conv1.weight", "layer3.1.bn2.weight", "fc.weight"):
        assert not torch.equal(whole[name], initial[name]), name


def test_cpu_bf16_support_reads_cpuinfo_when_torch_cannot_tell(monkeypatch):
    from earlyphase.training import cpu_bf16

    monkeypatch.setattr(cpu_bf16, "_torch_probes", lambda: None)
    monkeypatch.setattr(cpu_bf16, "_cpuinfo_flags", lambda: {"avx2", "avx512_bf16"})
    assert cpu_bf16.bf16_support()["instructions"] == ["avx512_bf16"] and cpu_bf16.native_bf16()
    monkeypatch.setattr(cpu_bf16, "_cpuinfo_flags", lambda: {"avx2", "fma"})
    assert not cpu_bf16.native_bf16()


def test_bf16_without_native_support_warns_and_records_it(monkeypatch):
    from earlyphase.training import cpu_bf16

    monkeypatch.setattr(cpu_bf16, "bf16_support", lambda: {"native": False, "instructions": [],
                                                            "capability": "AVX2"})
    with pytest.warns(RuntimeWarning, match="emulated"):
        path = FastPath.resolve({"precision": "bf16"}, torch.device("cpu"))
    assert path.precision == "bf16" and path.describe()["cpu_bf16_native"] is False
    monkeypatch.setattr(cpu_bf16, "bf16_support", lambda: {"native": True, "instructions": ["amx"],
                                                            "capability": "AVX512"})
    assert FastPath.resolve({"precision": "bf16"}, torch.device("cpu")).cpu_bf16_native is True
    assert FastPath.resolve(None, torch.device("cpu")).cpu_bf16_native is None  # fp32: not asked
