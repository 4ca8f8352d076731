"""The measured training step: :meth:`earlyphase.training.trainer.Trainer.train_step` itself.

A Trainer is built on synthetic data written to a temporary clean-data folder, so the
benchmark times exactly the step every run executes (batch drawing and augmentation on the
device, the fast-path settings, interventions hooks, loss accumulation), including the
host read of the accumulated loss every ``log_every`` steps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from earlyphase.training.acceleration import FastPath
from earlyphase.training.trainer import Trainer

from .workloads import OPTIMIZER, Workload

LOG_EVERY = 10  # the paper configuration's log interval (params.yaml training.log_every)


def bench_config(workload: Workload, batch_size: int, width: float, optimizer: dict | None = None) -> dict:
    """A resolved run config for ``workload`` (no interventions, no probes); ``optimizer``
    (keys of :data:`OPTIMIZER`) replaces the benchmark's SGD."""
    optimizer = optimizer or OPTIMIZER
    return {
        "setup": f"bench-{workload.name}", "data": {"dataset": "synthetic"},
        "arch": workload.arch, "width": workload.width(width), "num_classes": workload.num_classes,
        "in_channels": workload.channels, **optimizer, "lr_scale": 1.0,
        "batch_size": batch_size, "total_steps": 10**9, "augment": workload.augment,
        "gu_k": None, "lr_schedule": {"kind": "constant", "lr": optimizer["lr"]},
        "penalty": None, "probe": None, "log_every": LOG_EVERY, "gu_freeze_bn_stats": False,
        "seed": 0, **({"model": dict(workload.model)} if workload.model else {}),
    }


def build_trainer(workload: Workload, batch_size: int, width: float, n_images: int,
                  device: torch.device, fast: dict | FastPath | None, optimizer: dict | None = None) -> Trainer:
    images, labels = workload.images(n_images)
    with tempfile.TemporaryDirectory(prefix="earlyphase-bench-") as folder:
        np.save(Path(folder) / "train_images.npy", images)
        np.save(Path(folder) / "train_labels.npy", labels)
        trainer = Trainer(bench_config(workload, batch_size, width, optimizer), Path(folder) / "run", folder,
                          device=str(device), progress=False, fast=fast)
    trainer.model.train()
    return trainer


def trainer_step(trainer: Trainer):
    """One training step as :meth:`Trainer.run` performs it (without checkpoints)."""

    def step() -> None:
        trainer.train_step()
        if trainer.step % LOG_EVERY == 0:
            trainer._flush_log()

    return step
