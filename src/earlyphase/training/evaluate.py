"""Evaluation of one trained run: ID test accuracy and OOD accuracy per corruption × severity,
and, for a run that held out a validation split of its training set (``validation`` in its
config, :mod:`earlyphase.data.validation_split`), the accuracy on that held-out part: the
split hyper-parameters are chosen on (eta* of the Fisher experiment), never the test set.

OOD accuracy follows the paper: accuracy on MNIST-C / CIFAR-10-C / CIFAR-100-C averaged
over corruption types and severities (the averaging happens in aggregation; this module
writes one tidy row per (corruption, severity)). BatchNorm is in eval mode (running
statistics of training). A diverged run gets rows with NaN accuracy, never a crash.

On CUDA evaluation is the fast path of training: pinned uint8 sets, large batches,
channels_last and bf16 autocast (accuracies can differ from fp32 in the last image or two
of a set); on the CPU it is the plain fp32 loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from earlyphase.data.loaders import load_clean, load_corrupted
from earlyphase.data.registry import DATASETS
from earlyphase.data.validation_split import validation_split
from earlyphase.operations.atomic import write_parquet
from earlyphase.runs import build_run_model
from earlyphase.training.device import pick_device


def _normalize(images_nhwc: np.ndarray, normalizer: dict, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(images_nhwc, copy=True)).to(device).permute(0, 3, 1, 2).float()
    mean = torch.tensor(normalizer["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(normalizer["std"], device=device).view(1, -1, 1, 1)
    return (tensor / 255.0 - mean) / std


# On CUDA a whole corruption set (10,000 images) is a few batches: the GPU is fed in large
# launches instead of many small ones.
CUDA_EVAL_BATCH = 8192


@torch.no_grad()
def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, normalizer: dict,
             device: torch.device, batch_size: int) -> float:
    """Top-1 accuracy in percent; images are read batch by batch (memory-mapped sets stay on disk).

    On CUDA see :func:`_accuracy_cuda`; the CPU path is the plain fp32 loop."""
    if device.type == "cuda":
        return _accuracy_cuda(model, images, labels, normalizer, device, max(batch_size, CUDA_EVAL_BATCH))
    correct = torch.zeros((), dtype=torch.long, device=device)  # one host read per set
    for start in range(0, len(labels), batch_size):
        inputs = _normalize(images[start:start + batch_size], normalizer, device)
        targets = torch.as_tensor(np.array(labels[start:start + batch_size]), device=device)
        correct += (model(inputs).argmax(1) == targets).sum()
    return 100.0 * correct.item() / len(labels)


def _accuracy_cuda(model, images, labels, normalizer, device, batch_size) -> float:
    """The set goes to the GPU as uint8 in one copy from pinned memory; batches are
    normalized there, in the channels_last layout (NHWC data permuted to NCHW keeps NHWC
    strides), and the forward pass runs under bf16 autocast."""
    host = torch.from_numpy(np.array(images, copy=True)).pin_memory()
    data = host.to(device, non_blocking=True).permute(0, 3, 1, 2)
    targets = torch.from_numpy(np.array(labels, copy=True)).pin_memory().to(device, non_blocking=True)
    mean = torch.tensor(normalizer["mean"], device=device).view(1, -1, 1, 1)
    std = torch.tensor(normalizer["std"], device=device).view(1, -1, 1, 1)
    correct = torch.zeros((), dtype=torch.long, device=device)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        for start in range(0, len(targets), batch_size):
            batch = (data[start:start + batch_size].float() / 255.0 - mean) / std
            batch = batch.contiguous(memory_format=torch.channels_last)
            correct += (model(batch).argmax(1) == targets[start:start + batch_size]).sum()
    return 100.0 * correct.item() / len(labels)


def evaluate_run(run_final_dir: Path | str, clean_dir: Path | str, ood_dir: Path | str,
                 corruptions: list[str], severities: list[int], out_path: Path | str, *,
                 device: str = "auto", batch_size: int = 1000) -> pd.DataFrame:
    """Write ``out_path`` (parquet): rows (split, corruption, severity, accuracy, n); split
    ``id`` (clean test set), ``ood`` (one per corruption × severity) and, for a run with a
    validation split, ``val`` (its held-out training images, corruption "none")."""
    run_final_dir = Path(run_final_dir)
    device_ = pick_device(device)
    checkpoint = torch.load(run_final_dir / "model.pt", map_location=device_, weights_only=False)
    config, status = checkpoint["config"], checkpoint["status"]
    model = build_run_model(config)
    model.load_state_dict(checkpoint["model"])
    model.to(device_).eval()
    if device_.type == "cuda":
        model.to(memory_format=torch.channels_last)  # the layout of _accuracy_cuda's batches
    dataset = DATASETS[config["data"]["dataset"]]
    diverged = status["status"] != "completed"

    def measure(images, labels) -> float:
        if diverged:
            return float("nan")
        return accuracy(model, images, labels, checkpoint["normalizer"], device_, batch_size)

    images, labels = load_clean(Path(clean_dir), "test")
    rows = [{"split": "id", "corruption": "none", "severity": 0, "accuracy": measure(images, labels),
             "n": len(labels)}]
    if config.get("validation"):
        images, labels = load_clean(Path(clean_dir), "train")
        _, held_out = validation_split(len(labels), **config["validation"])
        rows.append({"split": "val", "corruption": "none", "severity": 0,
                     "accuracy": measure(images[held_out], labels[held_out]), "n": len(held_out)})
    for corruption in corruptions:
        for severity in severities:
            images, labels = load_corrupted(Path(ood_dir), dataset.corruption_kind, corruption, severity)
            rows.append({"split": "ood", "corruption": corruption, "severity": severity,
                         "accuracy": measure(images, labels), "n": len(labels)})
    frame = pd.DataFrame(rows)
    frame["status"] = status["status"]
    write_parquet(out_path, frame)
    return frame
