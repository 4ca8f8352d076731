"""The fast path computes what the plain path computes (CPU checks of acceleration.py).

channels_last and torch.compile must follow the plain fp32 loss trajectory while gradual
unfreezing changes the frozen set mid-run (a compiled graph that kept a stale frozen set
would update frozen blocks or skip unfrozen ones); bf16 autocast must stay finite and close
to fp32; execution settings never enter the run config; the benchmark's CPU mode runs.
The compile checks use the ``aot_eager`` backend: the same Dynamo guards and AOTAutograd
forward/backward split as inductor, without minutes of C++ code generation on a CPU.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from earlyphase import runs
from earlyphase.probes.suite import PROBES
from earlyphase.training.acceleration import CompiledForward, FastPath, optimizer_options
from earlyphase.training.trainer import Trainer, train_run

PLAIN = FastPath(precision="fp32", channels_last=False, compile=False)


@pytest.fixture()
def gu_config(smoke_params) -> dict:
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=5, gu_k=2, steps=5)
    return {**run.config, "batch_size": 32, "log_every": 1}


def _trajectory(config, run_dir, data_dir, fast) -> tuple[list[float], Trainer]:
    trainer = Trainer(config, run_dir, data_dir, progress=False, fast=fast)
    trainer.model.train()
    losses = []
    while trainer.step < config["total_steps"]:
        trainer.train_step()
        trainer._flush_log()
        losses.append(trainer.log_rows[-1]["loss"])
    return losses, trainer


def test_channels_last_and_compile_follow_the_plain_trajectory_through_unfreezing(
        tmp_path, gu_config, shapes_clean_dir):
    import torch._dynamo
    from torch._dynamo.utils import counters

    config = {**gu_config, "total_steps": 3}  # frozen set: head (step 1), head + layer4 (2, 3)
    plain, plain_trainer = _trajectory(config, tmp_path / "plain", shapes_clean_dir, PLAIN)
    torch._dynamo.reset()
    counters.clear()
    fast = FastPath(precision="fp32", channels_last=True, compile=True, compile_backend="aot_eager")
    compiled, trainer = _trajectory(config, tmp_path / "fast", shapes_clean_dir, fast)

    assert isinstance(trainer.train_forward, CompiledForward)
    assert trainer.train_forward.failure is None
    assert trainer.model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert counters["stats"]["unique_graphs"] >= 2, "a changed frozen set must recompile"
    assert compiled == pytest.approx(plain, rel=2e-4, abs=1e-5)
    # layer3 and below are still frozen after step 3: untouched, no gradient, no state.
    initial = Trainer(config, tmp_path / "init", shapes_clean_dir, progress=False,
                      fast=PLAIN).model
    for name in ("conv1.weight", "layer2.0.conv1.weight", "layer3.1.bn2.bias"):
        param = dict(trainer.model.named_parameters())[name]
        assert torch.equal(param, dict(initial.named_parameters())[name]), name
        assert param.grad is None and param not in trainer.optimizer.state, name
    # Unfrozen blocks moved as in the plain run (channels_last convolutions round differently).
    for name in ("layer4.0.conv1.weight", "layer4.1.bn2.weight", "fc.weight"):
        got = dict(trainer.model.named_parameters())[name]
        want = dict(plain_trainer.model.named_parameters())[name]
        assert not torch.equal(got, dict(initial.named_parameters())[name]), name
        torch.testing.assert_close(got, want, rtol=0, atol=1e-3)


def test_bf16_autocast_on_cpu_is_finite_and_close_to_fp32(tmp_path, gu_config, shapes_clean_dir):
    config = {**gu_config, "total_steps": 3}
    fp32, _ = _trajectory(config, tmp_path / "fp32", shapes_clean_dir, PLAIN)
    bf16_fast = FastPath(precision="bf16", channels_last=True, compile=False)
    bf16, trainer = _trajectory(config, tmp_path / "bf16", shapes_clean_dir, bf16_fast)
    assert all(torch.isfinite(torch.tensor(bf16)))
    assert bf16 != fp32  # autocast really ran in bf16
    assert bf16 == pytest.approx(fp32, rel=0.03)
    # Master weights, gradients and BatchNorm statistics stay fp32.
    assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}
    assert trainer.model.fc.weight.grad.dtype == torch.float32
    assert trainer.model.bn1.running_mean.dtype == torch.float32


def test_execution_settings_are_recorded_but_not_part_of_the_run(tmp_path, gu_config,
                                                                 shapes_clean_dir):
    config = {**gu_config, "total_steps": 2}
    train_run(config, tmp_path / "plain", shapes_clean_dir, progress=False, fast=PLAIN)
    train_run(config, tmp_path / "bf16", shapes_clean_dir, progress=False,
              fast={"precision": "bf16", "channels_last": True})
    a, b = (json.loads((tmp_path / r / "final" / "config.json").read_text())
            for r in ("plain", "bf16"))
    assert a == b == config
    run = json.loads((tmp_path / "bf16" / "final" / "execution.json").read_text())
    assert run["fast"]["precision"] == "bf16" and run["fast"]["channels_last"] is True
    assert run["device"] == "cpu"


def test_device_defaults_and_validation():
    assert FastPath.resolve(None, torch.device("cpu")) == PLAIN
    cuda = FastPath.resolve({"compile": None}, torch.device("cuda"))
    assert (cuda.precision, cuda.channels_last, cuda.compile) == ("bf16", True, False)
    assert optimizer_options(torch.device("cuda"), "sgd") == {"fused": True}
    assert optimizer_options(torch.device("cpu"), "adamw") == {}
    with pytest.raises(ValueError, match="precision"):
        FastPath.resolve({"precision": "fp16"}, torch.device("cpu"))
    with pytest.raises(ValueError, match="unknown fast-path"):
        FastPath.resolve({"amp": True}, torch.device("cpu"))


def test_compile_is_turned_off_for_gradient_penalties(tmp_path, gu_config, shapes_clean_dir):
    config = {**gu_config, "penalty": {"kind": "fisher", "alpha": 0.01, "every": 1}}
    fast = FastPath(precision="fp32", channels_last=False, compile=True,
                    compile_backend="aot_eager")
    trainer = Trainer(config, tmp_path / "run", shapes_clean_dir, progress=False, fast=fast)
    assert not trainer.fast.compile and "double backward" in trainer.fast.compile_disabled_because
    assert trainer.train_forward is trainer.model


def test_failed_compilation_falls_back_to_the_eager_model():
    def broken_backend(graph_module, example_inputs):
        raise RuntimeError("no compiler here")

    import torch._dynamo

    torch._dynamo.reset()
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    forward = CompiledForward(model, backend=broken_backend)
    x = torch.randn(5, 4)
    with pytest.warns(RuntimeWarning, match="continues eagerly"):
        out = forward(x)
    assert "no compiler here" in forward.failure
    torch.testing.assert_close(out, model(x), rtol=0, atol=0)


def test_benchmark_cpu_mode_writes_ratios_and_required_keys(tmp_path):
    from earlyphase.bench.__main__ import main

    out = tmp_path / "bench.json"
    reference = tmp_path / "throughput_reference.json"
    result = main(["--quick", "--device", "cpu", "--workloads", "resnet18-mnist", "--steps", "2",
                   "--warmup", "1", "--batch-size", "8", "--width", "0.125", "--probe-points", "8",
                   "--threads", "1",
                   "--out", str(out), "--reference-file", str(reference), "--note", "test"])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    assert saved["device"]["name"] and saved["device"]["type"] == "cpu"
    assert saved["device"]["peak_bf16_dense_tflops"] is None
    (row,) = saved["training"]
    assert row["workload"] == "resnet18-mnist" and row["batch_size"] == 8
    assert row["flops_per_step"] > 0
    for path in ("fast", "reference"):
        assert row[path]["seconds_per_step"] > 0 and row[path]["images_per_s"] > 0
        assert row[path]["tflops"] > 0 and row[path]["peak_fraction"] is None
    assert row["speedup_vs_reference"] > 0
    probes = {p["probe"]: p for p in saved["probes"]}
    assert set(probes) == set(PROBES)
    assert {"fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig"} <= set(probes)
    assert all(p["seconds"] > 0 and p["train_steps"] > 0 for p in probes.values())
    ref = json.loads(reference.read_text())
    (entry,) = ref["measurements"]
    assert entry["device"] == saved["device"]["name"] and entry["date"]
    assert entry["train_step"][0]["seconds_per_step"] == row["fast"]["seconds_per_step"]


def test_cli_execution_flags_reach_the_trainer(tmp_path, gu_config, shapes_clean_dir):
    import json

    from earlyphase.cli import main

    config = {**gu_config, "total_steps": 2}
    code = main(["train", "--config", json.dumps(config), "--run-dir", str(tmp_path / "run"),
                 "--data", str(shapes_clean_dir), "--device", "cpu", "--channels-last", "--no-progress"])
    assert code == 0
    execution = json.loads((tmp_path / "run" / "final" / "execution.json").read_text())
    assert execution["fast"]["channels_last"] is True and execution["fast"]["precision"] == "fp32"
