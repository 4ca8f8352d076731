"""The training loop: deterministic on CPU, exact resume, divergence recorded, probes inert."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from earlyphase import runs
from earlyphase.training.trainer import CHECKPOINT_NAME, CorruptCheckpointError, Trainer, train_run


@pytest.fixture()
def tiny_config(smoke_params) -> dict:
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=3, gu_k=2, steps=12)
    return {**run.config, "batch_size": 32, "log_every": 3}


def _final_weights(run_dir):
    return torch.load(run_dir / "final" / "model.pt", weights_only=False)["model"]


def test_same_seed_gives_bit_identical_runs(tmp_path, tiny_config, shapes_clean_dir):
    train_run(tiny_config, tmp_path / "a", shapes_clean_dir, progress=False)
    train_run(tiny_config, tmp_path / "b", shapes_clean_dir, progress=False)
    log_a = pd.read_parquet(tmp_path / "a" / "final" / "train_log.parquet")
    log_b = pd.read_parquet(tmp_path / "b" / "final" / "train_log.parquet")
    pd.testing.assert_frame_equal(log_a, log_b, check_exact=True)
    for name, tensor in _final_weights(tmp_path / "a").items():
        assert torch.equal(tensor, _final_weights(tmp_path / "b")[name]), name
    status = json.loads((tmp_path / "a" / "final" / "status.json").read_text())
    assert status == {"status": "completed", "diverged_at": None, "steps": 12}
    assert not (tmp_path / "a" / CHECKPOINT_NAME).exists()


def test_resume_from_checkpoint_is_bit_identical(tmp_path, tiny_config, shapes_clean_dir):
    train_run(tiny_config, tmp_path / "whole", shapes_clean_dir, progress=False)
    # Interrupted run: 7 steps, checkpoint, then a brand-new trainer resumes.
    first = Trainer(tiny_config, tmp_path / "split", shapes_clean_dir, progress=False)
    for _ in range(7):
        first.train_step()
        if first.step % 3 == 0:
            first._flush_log()
    first.save_checkpoint()
    del first
    resumed = Trainer(tiny_config, tmp_path / "split", shapes_clean_dir, progress=False)
    assert resumed.try_resume() and resumed.step == 7
    resumed.step = 0  # run() resumes again from the file, as a rerun of the job would
    resumed.run()
    whole, split = _final_weights(tmp_path / "whole"), _final_weights(tmp_path / "split")
    for name in whole:
        assert torch.equal(whole[name], split[name]), name
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "whole" / "final" / "train_log.parquet"),
                                  pd.read_parquet(tmp_path / "split" / "final" / "train_log.parquet"))


def test_corrupt_checkpoint_is_reported_with_its_path(tmp_path, tiny_config, shapes_clean_dir):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptCheckpointError, match=r"checkpoint.pt.*Delete it"):
        train_run(tiny_config, tmp_path / "run", shapes_clean_dir, progress=False)
    assert not (tmp_path / "run" / "final").exists()


def test_divergence_is_recorded_not_raised(tmp_path, tiny_config, shapes_clean_dir):
    config = {**tiny_config, "gu_k": None, "lr": 1e6, "lr_schedule": {"kind": "constant", "lr": 1e6}}
    status = train_run(config, tmp_path / "run", shapes_clean_dir, progress=False)
    assert status["status"] == "diverged"
    assert status["diverged_at"] is not None and status["diverged_at"] % 3 == 0
    saved = json.loads((tmp_path / "run" / "final" / "status.json").read_text())
    assert saved["status"] == "diverged"


def test_inline_probes_do_not_change_the_trajectory(tmp_path, smoke_params, shapes_clean_dir):
    plain = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=1, gu_k=2, steps=10).config
    probed = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=1, gu_k=2, steps=10, probe=True).config
    probed["probe"] = {**probed["probe"], "every": 2, "window": 10, "points": 64, "batch_size": 32,
                       "probes": ["fisher_trace", "avg_sharpness", "worst_sharpness", "hessian_max_eig"],
                       "eig_iters": 3}
    for config in (plain, probed):
        config["batch_size"] = 32
    train_run(plain, tmp_path / "plain", shapes_clean_dir, progress=False)
    train_run(probed, tmp_path / "probed", shapes_clean_dir, progress=False)
    for name, tensor in _final_weights(tmp_path / "plain").items():
        assert torch.equal(tensor, _final_weights(tmp_path / "probed")[name]), name
    records = pd.read_parquet(tmp_path / "probed" / "final" / "probes.parquet")
    assert records["step"].tolist() == [0, 2, 4, 6, 8, 10]
    assert (records["fisher_trace"] > 0).all()
