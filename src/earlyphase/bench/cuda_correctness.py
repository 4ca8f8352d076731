"""Does the CUDA path compute what the CPU path computes? ``python -m earlyphase.bench.cuda_correctness``.

The first step of bench/gpu_check.sh: before any speed is worth reading, the fast path must be
right. Every check trains the benchmark's ResNet-18 on the same batches (drawn once on the
CPU and handed to each trainer), from the same initial weights, and compares losses (per
step) and weights (at the end):

* ``device_vs_cpu_fp32``: the device in fp32, NCHW, against the CPU in fp32 (cuDNN may use
  TF32 for fp32 convolutions: agreement to about 1e-3, not bit for bit);
* ``bf16_vs_fp32``: the device's default fast path (bf16 autocast, channels_last, fused SGD)
  against fp32 on the same device: the mean loss over the steps within 1 %, each step's
  within 5 %;
* ``graph_replay_vs_eager``: the update replayed as a CUDA graph against the eager one (same
  kernels): the graph must have been captured and replayed, and agree;
* ``unfreeze``: a gradual-unfreezing run (k = 2, a block joins every other step) with the
  optimizer a CUDA job builds (foreach SGD, see :func:`~earlyphase.training.acceleration.optimizer_options`)
  against the plain CPU run: it must get through every unfreeze and agree;
* ``resume``: a checkpoint written by a contiguous CPU run resumed on the device with its
  default layout and optimizer (buffers must take the parameters' strides, the
  implementation flags stay the device's), and a device checkpoint resumed on the device,
  each against the uninterrupted run.

On a CPU (``--device cpu``, the rehearsal) the device *is* the CPU: the comparisons that need
CUDA are skipped with the reason recorded, and the others run with the CUDA choices forced
where the CPU can run them (channels_last, the CUDA optimizer options: fused SGD runs on the
CPU). A check that raises is recorded as failed with its error, and the others still run.
Exit status 0 when no check failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

from earlyphase.bench.report import emit
from earlyphase.training.acceleration import FastPath, configure_cuda
from earlyphase.training.device import pick_device
from earlyphase.training.trainer import CHECKPOINT_NAME, Trainer, build_optimizer

from .fast_loop import bench_config
from .workloads import WORKLOADS

WORKLOAD = WORKLOADS["resnet18-cifar"]
FP32_NCHW = FastPath(precision="fp32", channels_last=False)
# Tolerances: relative loss differences (per step, or of the mean over the steps) and the
# relative difference of all weights together (norms).
TOLERANCE = {"device_vs_cpu_fp32": 1e-2, "bf16_vs_fp32_mean": 1e-2, "bf16_vs_fp32_max": 5e-2,
             "graph_replay_vs_eager": 1e-3, "unfreeze": 1e-2, "resume": 1e-2}


class Runs:
    """Trainers of one configuration on fixed batches, in folders of one scratch directory."""

    def __init__(self, root: Path, batch_size: int, width: float, steps: int, device: torch.device):
        self.root, self.device, self.steps = root, device, steps
        images, labels = WORKLOAD.images(batch_size * (steps + 1))
        np.save(root / "train_images.npy", images)
        np.save(root / "train_labels.npy", labels)
        self.base = {**bench_config(WORKLOAD, batch_size, width), "total_steps": steps, "log_every": 1,
                     "lr": 0.05, "lr_schedule": {"kind": "constant", "lr": 0.05}}
        self._batches: dict[tuple, dict[int, tuple[torch.Tensor, torch.Tensor]]] = {}
        self._count = 0

    def config(self, **changes) -> dict:
        return {**self.base, **changes}

    def batches(self, config: dict) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
        """The CPU stream's batch of every step (one draw per configuration)."""
        key = json.dumps(config, sort_keys=True)
        if key not in self._batches:
            cpu = self.trainer(config, torch.device("cpu"), FP32_NCHW, feed=False)
            self._batches[key] = {step: tuple(t.clone() for t in cpu.stream.batch(step))
                                  for step in range(1, self.steps + 1)}
        return self._batches[key]

    def trainer(self, config: dict, device: torch.device, fast: FastPath, *, feed: bool = True,
                run_dir: Path | None = None, cuda_optimizer: bool = False) -> Trainer:
        """A Trainer on ``device`` fed the fixed batches; ``cuda_optimizer``: the optimizer
        a CUDA job builds, also on the CPU."""
        self._count += 1
        run_dir = run_dir or self.root / f"run{self._count}"
        trainer = Trainer(config, run_dir, self.root, device=str(device), fast=fast, progress=False,
                          checkpoint_every=None)
        if cuda_optimizer and device.type != "cuda":
            changes = any(iv.changes_trainable_set for iv in trainer.interventions)
            trainer.optimizer = build_optimizer(config, trainer.model, torch.device("cuda"), False, changes)
        if feed:
            fixed = self.batches(config)
            trainer._batch = lambda step: tuple(t.to(trainer.device) for t in fixed[step])
        trainer.model.train()
        return trainer


def train(trainer: Trainer, steps: int) -> list[float]:
    """``steps`` training steps; the mean loss of each."""
    losses = []
    for _ in range(steps):
        trainer.train_step()
        trainer._flush_log()
        losses.append(trainer.log_rows[-1]["loss"])
    return losses


def same_start(reference: Trainer, *others: Trainer) -> None:
    for other in others:
        other.model.load_state_dict(reference.model.state_dict())  # copies into each layout


def loss_difference(a: list[float], b: list[float]) -> dict:
    """Per-step relative loss differences, and that of the mean loss over the steps."""
    rel = [abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b, strict=True)]
    return {"max_rel_loss_diff": max(rel), "mean_rel_loss_diff": sum(rel) / len(rel),
            "rel_mean_loss_diff": abs(sum(a) - sum(b)) / max(abs(sum(b)), 1e-12),
            "losses": a, "reference_losses": b}


def weight_difference(a: Trainer, b: Trainer) -> float:
    """|a - b| / |b| over every floating-point parameter and buffer taken together (a tensor
    that is still near zero, a fresh bias, would make a per-tensor ratio meaningless)."""
    diff = total = 0.0
    reference = b.model.state_dict()
    for name, value in a.model.state_dict().items():
        if value.is_floating_point():
            want = reference[name].detach().double().cpu()
            diff += float((value.detach().double().cpu() - want).pow(2).sum())
            total += float(want.pow(2).sum())
    return (diff / max(total, 1e-30)) ** 0.5


def optimizer_flags(trainer: Trainer) -> dict:
    group = trainer.optimizer.param_groups[0]
    return {k: group.get(k) for k in ("fused", "foreach", "capturable")}


def check_device_vs_cpu(runs: Runs, device: torch.device) -> dict:
    if device.type != "cuda":
        return {"status": "skipped", "reason": "the device under test is the CPU itself"}
    config = runs.config()
    cpu = runs.trainer(config, torch.device("cpu"), FP32_NCHW)
    gpu = runs.trainer(config, device, FP32_NCHW)
    same_start(cpu, gpu)
    result = loss_difference(train(gpu, runs.steps), train(cpu, runs.steps))
    result["max_rel_weight_diff"] = weight_difference(gpu, cpu)
    result["cudnn_allow_tf32"] = torch.backends.cudnn.allow_tf32
    result["passed"] = result["max_rel_loss_diff"] <= TOLERANCE["device_vs_cpu_fp32"]
    return result


def check_bf16_vs_fp32(runs: Runs, device: torch.device) -> dict:
    config = runs.config()
    fp32 = runs.trainer(config, device, FP32_NCHW)
    fast = FastPath(precision="bf16", channels_last=device.type == "cuda")
    bf16 = runs.trainer(config, device, fast, cuda_optimizer=True)
    same_start(fp32, bf16)
    result = loss_difference(train(bf16, runs.steps), train(fp32, runs.steps))
    result["execution"] = bf16.execution()["fast"]
    result["optimizer"] = optimizer_flags(bf16)
    result["passed"] = (result["rel_mean_loss_diff"] <= TOLERANCE["bf16_vs_fp32_mean"]
                        and result["max_rel_loss_diff"] <= TOLERANCE["bf16_vs_fp32_max"])
    return result


def check_graph_replay(runs: Runs, device: torch.device) -> dict:
    if device.type != "cuda":
        return {"status": "skipped", "reason": "CUDA graphs need a CUDA device"}
    config = runs.config()
    eager = runs.trainer(config, device, FastPath.resolve({}, device))
    graphed = runs.trainer(config, device, FastPath.resolve({"cuda_graphs": True}, device))
    same_start(eager, graphed)
    result = loss_difference(train(graphed, runs.steps), train(eager, runs.steps))
    execution = graphed.execution()["fast"]
    replay = execution.get("cuda_graph_replay") or {}
    result.update({"execution": execution, "captures": replay.get("captures", 0),
                   "replays": replay.get("replays", 0), "failure": replay.get("failure")})
    if not result["replays"]:
        result["reason"] = ("fell back to eager: " + str(execution.get("cuda_graphs_disabled_because")
                                                         or replay.get("failure") or "no replay"))
    result["passed"] = bool(result["replays"]) and result["max_rel_loss_diff"] <= TOLERANCE["graph_replay_vs_eager"]
    return result


def check_unfreeze(runs: Runs, device: torch.device) -> dict:
    config = runs.config(gu_k=2)  # ResNet-18: L = 5 blocks, one joins every second step
    cpu = runs.trainer(config, torch.device("cpu"), FP32_NCHW)
    fast = FastPath(precision="fp32", channels_last=True)  # the CUDA layout, fp32 to compare
    dev = runs.trainer(config, device, fast, cuda_optimizer=True)
    same_start(cpu, dev)
    result = loss_difference(train(dev, runs.steps), train(cpu, runs.steps))
    result["max_rel_weight_diff"] = weight_difference(dev, cpu)
    result["optimizer"] = optimizer_flags(dev)
    result["trainable_tensors"] = sum(1 for p in dev.model.parameters() if p.requires_grad)
    result["passed"] = result["max_rel_loss_diff"] <= TOLERANCE["unfreeze"]
    return result


def check_resume(runs: Runs, device: torch.device) -> dict:
    config = runs.config()
    half = runs.steps // 2
    default = FastPath(precision="fp32", channels_last=True)  # the CUDA layout, fp32 to compare
    # A contiguous CPU run, checkpointed half way, against its uninterrupted self.
    whole_cpu = runs.trainer(config, torch.device("cpu"), FP32_NCHW)
    writer = runs.trainer(config, torch.device("cpu"), FP32_NCHW)
    same_start(whole_cpu, writer)
    train(whole_cpu, runs.steps)
    train(writer, half)
    writer.save_checkpoint()
    (runs.root / "moved").mkdir()
    shutil.copy(writer.run_dir / CHECKPOINT_NAME, runs.root / "moved" / CHECKPOINT_NAME)
    moved = runs.trainer(config, device, default, run_dir=runs.root / "moved", cuda_optimizer=True)
    assert moved.try_resume() and moved.step == half
    layouts = all(state["momentum_buffer"].stride() == p.stride()
                  for p, state in moved.optimizer.state.items() if "momentum_buffer" in state)
    flags = optimizer_flags(moved)
    train(moved, runs.steps - half)
    cross = weight_difference(moved, whole_cpu)
    # A device run checkpointed half way and resumed on the device, against its uninterrupted self.
    whole = runs.trainer(config, device, default, cuda_optimizer=True)
    first = runs.trainer(config, device, default, cuda_optimizer=True)
    same_start(whole, first)
    train(whole, runs.steps)
    train(first, half)
    first.save_checkpoint()
    second = runs.trainer(config, device, default, run_dir=first.run_dir, cuda_optimizer=True)
    assert second.try_resume() and second.step == half
    train(second, runs.steps - half)
    same = weight_difference(second, whole)
    return {"cpu_checkpoint_on_device": {"buffer_layouts_match": layouts, "optimizer": flags,
                                         "max_rel_weight_diff": cross},
            "device_checkpoint_on_device": {"max_rel_weight_diff": same, "identical": same == 0.0},
            "passed": layouts and cross <= TOLERANCE["resume"] and same <= TOLERANCE["resume"]
            and flags["fused"] is True}  # the checkpoint's groups said fused=None


CHECKS = {"device_vs_cpu_fp32": check_device_vs_cpu, "bf16_vs_fp32": check_bf16_vs_fp32,
          "graph_replay_vs_eager": check_graph_replay, "unfreeze": check_unfreeze, "resume": check_resume}


def run_checks(device: torch.device, batch_size: int, width: float, steps: int) -> dict:
    configure_cuda(deterministic=False)  # as a training job
    results = []
    with tempfile.TemporaryDirectory(prefix="earlyphase-correctness-") as folder:
        runs = Runs(Path(folder), batch_size, width, steps, device)
        for name, check in CHECKS.items():
            began = time.monotonic()
            try:
                result = check(runs, device)
            except Exception as err:  # noqa: BLE001 - recorded; the other checks still run
                result = {"passed": False, "reason": f"{type(err).__name__}: {err}",
                          "traceback": traceback.format_exc(limit=6)}
            status = result.pop("status", None) or ("passed" if result.pop("passed") else "failed")
            results.append({"name": name, "status": status, "seconds": time.monotonic() - began, **result})
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {"device": str(device), "device_name": name, "torch": torch.__version__,
            "workload": WORKLOAD.name, "batch_size": batch_size, "width": width, "steps": steps,
            "tolerance": TOLERANCE, "checks": results,
            "passed": all(r["status"] != "failed" for r in results)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m earlyphase.bench.cuda_correctness",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch CPU threads (the CPU reference runs)")
    parser.add_argument("--out", help="write the result as JSON here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run_checks(pick_device(args.device), args.batch_size, args.width, args.steps)
    for check in result["checks"]:
        detail = check.get("reason") or ", ".join(f"{k} {check[k]:.3g}" for k in
                                                  ("max_rel_loss_diff", "rel_mean_loss_diff", "max_rel_weight_diff")
                                                  if isinstance(check.get(k), float))
        print(f"{check['name']:<24} {check['status']:<8} {check['seconds']:6.1f} s  {detail}")
    emit(result, args.out, echo=False)
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
