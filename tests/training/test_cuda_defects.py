"""CPU checks of the CUDA fixes: what a GPU job does differently is checked here through the
settings, call patterns and bookkeeping it relies on (no GPU needed)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from earlyphase import runs
from earlyphase.models import build_model
from earlyphase.models._common import global_average_pool
from earlyphase.probes import average_sharpness, hessian_max_eigenvalue, worst_case_sharpness
from earlyphase.probes.base import probe_mode
from earlyphase.probes.suite import ProbeSuite
from earlyphase.training import acceleration, rng
from earlyphase.training.batches import BatchStream, Normalizer, random_crop_flip, stream_generator


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_global_average_pool_is_the_adaptive_pool_bit_for_bit(memory_format):
    x = torch.randn(6, 5, 4, 3).contiguous(memory_format=memory_format)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    pooled, ours = torch.flatten(nn.AdaptiveAvgPool2d((1, 1))(a), 1), global_average_pool(b)
    grad = torch.randn_like(pooled)
    pooled.backward(grad)
    ours.backward(grad)
    assert torch.equal(pooled, ours) and torch.equal(a.grad, b.grad)


@pytest.mark.parametrize("arch", ["resnet18", "vgg11", "simple_cnn"])
def test_no_model_uses_adaptive_pooling(arch):
    # use_deterministic_algorithms(True) rejects AdaptiveAvgPool2d's CUDA backward.
    model = build_model(arch, 10, 3, width=0.125)
    adaptive = [name for name, m in model.named_modules()
                if type(m).__name__.startswith("Adaptive")]
    assert adaptive == []


def test_deterministic_training_and_probes_run_and_repeat_exactly(tmp_path):
    from earlyphase.bench import determinism

    # Two `earlyphase train --deterministic` processes (gradual unfreezing, every default probe).
    result = determinism.main(["--device", "cpu", "--workload", "resnet18-cifar", "--batch-size", "16",
                               "--width", "0.125", "--steps", "4", "--points", "16",
                               "--out", str(tmp_path / "determinism.json")])
    assert result["identical"] and result["different_tensors"] == {}
    assert result["tables_identical"] == {"train_log.parquet": True, "probes.parquet": True}
    assert result["probe_records"] == 3 and result["tensors"] > 100  # steps 0, 2, 4; every tensor
    assert json.loads((tmp_path / "determinism.json").read_text())["identical"] is True


def test_the_determinism_check_sees_a_one_bit_difference(tmp_path):
    import pandas as pd

    from earlyphase.bench.determinism import compare

    for name, bump in (("a", 0.0), ("b", 1e-7)):
        final = tmp_path / name
        final.mkdir()
        weight = torch.ones(3)
        weight[1] += bump
        torch.save({"model": {"w": weight, "b": torch.zeros(2)}}, final / "model.pt")
        for table in ("train_log.parquet", "probes.parquet"):
            pd.DataFrame({"step": [1], "loss": [0.5]}).to_parquet(final / table)
    result = compare(tmp_path / "a", tmp_path / "b")
    assert not result["identical"] and list(result["different_tensors"]) == ["w"]
    assert compare(tmp_path / "a", tmp_path / "a")["identical"]


def test_cudnn_autotunes_unless_deterministic(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", False)
    called = []
    monkeypatch.setattr(torch, "use_deterministic_algorithms", lambda flag: called.append(flag))
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    acceleration.configure_cuda(deterministic=False)
    assert torch.backends.cudnn.benchmark is True and called == []
    acceleration.configure_cuda(deterministic=True)
    assert torch.backends.cudnn.benchmark is False and torch.backends.cudnn.deterministic is True
    assert called == [True]


class _FakeCuda:
    """torch.cuda as a 4-GPU process on device 2 would see it; every call is recorded."""

    def __init__(self):
        self.calls = []

    def is_available(self):
        return True

    def is_initialized(self):
        return True

    def current_device(self):
        return 2

    def get_rng_state(self, device="cuda"):
        self.calls.append(("get", device))
        return torch.tensor([device], dtype=torch.uint8)

    def set_rng_state(self, state, device="cuda"):
        self.calls.append(("set", device, int(state[0])))

    def get_rng_state_all(self):
        raise AssertionError("touches every visible GPU")

    def set_rng_state_all(self, states):
        raise AssertionError("touches every visible GPU")


def test_rng_state_touches_only_the_runs_own_gpu(monkeypatch):
    fake = _FakeCuda()
    monkeypatch.setattr(rng.torch, "cuda", fake)
    state = rng.rng_state("cuda:3")
    assert state["cuda"]["device"] == 3
    rng.set_rng_state(state)
    assert rng.rng_state()["cuda"]["device"] == 2  # no device given: the current one
    assert rng.rng_state("cpu").get("cuda") is None
    # A checkpoint of the old layout (one state per device) restores the current device only.
    rng.set_rng_state({**rng.rng_state("cpu"), "cuda": [torch.tensor([i], dtype=torch.uint8) for i in range(4)]})
    assert fake.calls == [("get", 3), ("set", 3, 3), ("get", 2), ("set", 2, 2)]


def test_a_step_draws_no_random_numbers_and_matches_the_per_step_generator(monkeypatch):
    n, batch = 50, 8
    images = torch.randint(0, 256, (n, 3, 6, 6), dtype=torch.uint8)
    stream = BatchStream(images, torch.arange(n), batch, seed=4, augment=True,
                         normalizer=Normalizer(images.permute(0, 2, 3, 1).numpy()))
    first = stream.batch(1)  # starts epoch 0: draws the whole epoch on the CPU
    created = []
    import earlyphase.training.batches as batches

    monkeypatch.setattr(batches, "stream_generator", lambda *a, **k: created.append(a))
    later = [stream.batch(step) for step in range(2, 8)]
    assert created == []  # no generator, no draw inside the epoch
    monkeypatch.undo()
    # The batch of a step is the one the step's own generator defines (the old definition).
    for step, (inputs, labels) in zip(range(1, 8), [first, *later], strict=True):
        index = stream._order[(step - 1) * batch:step * batch]
        expected = random_crop_flip(images[index], stream_generator(4, 0x5EED_0002, step))
        assert torch.equal(inputs, stream.normalizer(expected)) and torch.equal(labels, index)


def test_compile_uses_static_shapes_and_the_shared_cache(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(torch, "compile", lambda model, **kw: seen.update(kw) or model)
    monkeypatch.setenv("EARLYPHASE_COMPILE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    forward = acceleration.CompiledForward(nn.Linear(2, 2), backend="aot_eager")
    assert seen == {"backend": "aot_eager", "dynamic": False}
    assert forward.cache_dir == tmp_path / "cache"
    import os

    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "cache")


def test_probes_run_without_tf32_and_restore_the_setting():
    model = nn.Linear(3, 2)
    conv, matmul = torch.backends.cudnn.conv, torch.backends.cuda.matmul
    before = (conv.fp32_precision, matmul.fp32_precision)
    conv.fp32_precision = "tf32"
    try:
        with probe_mode(model):
            assert (conv.fp32_precision, matmul.fp32_precision) == ("ieee", "ieee")
        assert conv.fp32_precision == "tf32"
    finally:
        conv.fp32_precision, matmul.fp32_precision = before


class _HostReads:
    """Counts host reads of tensors (``float()``, ``.item()``, ``.tolist()``)."""

    def __init__(self, monkeypatch):
        self.count = 0
        for name in ("__float__", "item", "tolist"):
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._counted(original))

    def _counted(self, original):
        def read(tensor, *args):
            self.count += 1
            return original(tensor, *args)
        return read


def _probe_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    return model, torch.randn(24, 5), torch.randint(0, 3, (24,))


def test_probes_read_the_host_once_per_batch_or_iteration(monkeypatch):
    model, x, y = _probe_problem()
    gen = torch.Generator().manual_seed(0)
    reads = _HostReads(monkeypatch)
    average_sharpness(model, x, y, batch_size=12, generator=gen, n_draws=5)
    assert reads.count <= 2 * 3  # per batch: the losses, then mean and variance of the draws
    reads.count = 0
    worst_case_sharpness(model, x, y, batch_size=24, generator=gen, n_iters=6)
    assert reads.count <= 6 + 2  # one per iteration (loss and gradient norm), the clean loss, the norm
    reads.count = 0
    hessian_max_eigenvalue(model, x, y, batch_size=24, generator=gen, n_iter=7)
    assert reads.count <= 7 + 4  # one per iteration, the start norm and the final λ, residual


def test_the_suite_passes_draws_per_call_through():
    model, x, y = _probe_problem()
    settings = {"probes": ["avg_sharpness"], "n_draws": 4, "batch_size": 12, "seed": 3}
    looped = ProbeSuite(settings, x, y, "cpu")(model, 5)["avg_sharpness"]
    stacked = ProbeSuite({**settings, "draws_per_call": 4}, x, y, "cpu")(model, 5)["avg_sharpness"]
    from earlyphase.probes.suite import _probe_generator

    direct = average_sharpness(model, x, y, batch_size=12, n_draws=4, draws_per_call=4,
                               generator=_probe_generator(3, 5, "avg_sharpness", torch.device("cpu")))
    assert stacked == direct.value  # the suite's value is the vmap'd estimator's
    assert stacked == pytest.approx(looped, rel=1e-4, abs=1e-7)  # same draws, other kernels


def test_cuda_graphs_fall_back_cleanly_off_cuda_and_for_penalties(tmp_path, smoke_params, shapes_clean_dir):
    from earlyphase.training.trainer import Trainer

    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=2, steps=3)
    config = {**run.config, "batch_size": 32}
    trainer = Trainer(config, tmp_path / "a", shapes_clean_dir, progress=False, fast={"cuda_graphs": True})
    assert trainer.graphed is None and not trainer.fast.cuda_graphs
    assert "CUDA device" in trainer.execution()["fast"]["cuda_graphs_disabled_because"]

    from earlyphase.interventions import build_interventions
    from earlyphase.training.cuda_graph_step import graph_conflict

    penalty = {**config, "penalty": {"kind": "fisher", "alpha": 0.01, "every": 1}}
    assert "penalty" in graph_conflict(trainer.optimizer, build_interventions(penalty))
    adam = torch.optim.Adam(trainer.model.parameters())
    assert "capturable=True" in graph_conflict(adam, [])
    assert graph_conflict(torch.optim.AdamW(trainer.model.parameters(), capturable=True), []) is None
    assert "not RMSprop" in graph_conflict(torch.optim.RMSprop(trainer.model.parameters()), [])
    assert acceleration.optimizer_options(torch.device("cuda"), "adamw", cuda_graphs=True) == {
        "fused": True, "capturable": True}
    assert graph_conflict(trainer.optimizer, build_interventions(config)) is None


def test_a_log_flush_reads_the_host_once(tmp_path, smoke_params, shapes_clean_dir, monkeypatch):
    # On CUDA every host read is a sync: the loss and the accuracy sums come back together.
    from earlyphase.training.trainer import Trainer

    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=2, steps=3)
    trainer = Trainer({**run.config, "batch_size": 8}, tmp_path / "a", shapes_clean_dir, progress=False)
    trainer.model.train()
    for _ in range(2):
        trainer.train_step()
    reads = _HostReads(monkeypatch)
    assert trainer._flush_log()
    assert reads.count == 1
    row = trainer.log_rows[-1]
    assert row["loss"] > 0 and 0.0 <= row["accuracy"] <= 1.0 and row["step"] == 2
