"""A run with a validation split trains without its held-out images and its evaluation
measures them (split "val"); the Fisher runs carry the split, other runs do not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlyphase import runs
from earlyphase.data.loaders import load_clean
from earlyphase.data.validation_split import validation_split
from earlyphase.experiments import fisher
from earlyphase.records.aggregate import run_row
from earlyphase.records.run_record import RunRecord
from earlyphase.training.evaluate import accuracy, evaluate_run
from earlyphase.training.trainer import Trainer, train_run

SPLIT = {"fraction": 0.25, "seed": 0}


@pytest.fixture()
def held_out_config(smoke_params) -> dict:
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=1, steps=4, validation=SPLIT)
    return {**run.config, "arch": "simple_cnn", "width": 0.25, "batch_size": 32, "log_every": 2}


def test_the_trainer_never_sees_the_validation_images(tmp_path, held_out_config, shapes_clean_dir):
    images, labels = load_clean(shapes_clean_dir, "train")
    train_idx, val_idx = validation_split(len(labels), **SPLIT)
    trainer = Trainer(held_out_config, tmp_path / "run", shapes_clean_dir, progress=False)
    assert len(trainer.train_labels) == len(train_idx) == len(labels) - len(val_idx)
    seen = trainer.train_images.cpu().numpy()
    assert np.array_equal(seen, np.asarray(images)[train_idx].transpose(0, 3, 1, 2))
    held_out = {np.asarray(images)[i].tobytes() for i in val_idx}
    assert not held_out & {image.transpose(1, 2, 0).tobytes() for image in seen}


def test_the_evaluation_measures_the_held_out_images(tmp_path, held_out_config, shapes_clean_dir):
    train_run(held_out_config, tmp_path / "run", shapes_clean_dir, progress=False)
    out = tmp_path / "eval.parquet"
    frame = evaluate_run(tmp_path / "run" / "final", shapes_clean_dir, tmp_path / "no-ood", [], [1], out,
                         device="cpu", batch_size=64)
    val = frame[frame["split"] == "val"].iloc[0]
    images, labels = load_clean(shapes_clean_dir, "train")
    _, val_idx = validation_split(len(labels), **SPLIT)
    assert val["n"] == len(val_idx)
    checkpoint = torch.load(tmp_path / "run" / "final" / "model.pt", weights_only=False)
    model = runs.build_run_model(held_out_config)
    model.load_state_dict(checkpoint["model"])
    expected = accuracy(model.eval(), np.asarray(images)[val_idx], labels[val_idx], checkpoint["normalizer"],
                        torch.device("cpu"), 64)
    assert val["accuracy"] == pytest.approx(expected)
    record = run_row(RunRecord(tmp_path / "run" / "final", out))
    assert record["val_acc"] == pytest.approx(expected) and record["id_acc"] != record["val_acc"]


def test_only_the_fisher_runs_hold_out_a_validation_split(default_params):
    spec = default_params["experiments"]["fisher"]
    entries = fisher.grid_runs(default_params) + fisher.small_lr_runs(default_params, 1.0)
    assert {tuple(sorted(r.config["validation"].items())) for r, _ in entries} == {
        (("fraction", spec["validation_fraction"]), ("seed", fisher.VALIDATION_SEED))}
    # an epoch is a pass over the 45,000 images they train on
    assert fisher.steps_per_epoch(default_params) == -(-45_000 // 128)
    assert all(r.config["total_steps"] == 300 * 352 for r, _ in entries)
    assert "validation" not in runs.resolve_run(default_params, "cifar10-simplecnn", 0).config
    assert "validation" not in runs.resolve_run(default_params, "cifar10-resnet18", 0).config
