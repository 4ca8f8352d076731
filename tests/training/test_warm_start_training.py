"""Two-phase (warm-start) training: the first phase sees only the fixed subset, the optimizer
state is reset at the switch, chosen blocks are re-initialized, resume stays exact, and the
periodic test log is recorded."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from earlyphase import runs
from earlyphase.interventions.warm_start import WarmStart, warm_start_subset
from earlyphase.training.trainer import Trainer, train_run

PRE = 5


@pytest.fixture()
def ws_config(smoke_params) -> dict:
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=1, steps=9,
                           warm_start={"pretrain_steps": PRE, "fraction": 0.5, "reset_blocks": []},
                           test_log={"every": 4, "start": 5})
    return {**run.config, "batch_size": 32, "log_every": 3, "optimizer": "adam", "lr": 1e-3,
            "lr_schedule": {"kind": "constant", "lr": 1e-3}, "momentum": 0.9,
            "augment": False}


def _warm_start(trainer: Trainer) -> WarmStart:
    (warm,) = [iv for iv in trainer.interventions if isinstance(iv, WarmStart)]
    return warm


def _rows(x: torch.Tensor) -> set[bytes]:
    return {row.numpy().tobytes() for row in x.reshape(len(x), -1)}


def test_first_phase_draws_only_from_the_seeded_subset(tmp_path, ws_config, shapes_clean_dir):
    trainer = Trainer(ws_config, tmp_path / "run", shapes_clean_dir, progress=False)
    n = len(trainer.train_labels)
    subset = warm_start_subset(n, 0.5, ws_config["seed"])
    assert torch.equal(_warm_start(trainer).subset.cpu(), torch.as_tensor(subset))
    normalized = trainer.normalizer(trainer.train_images)
    inside, outside = _rows(normalized[subset]), _rows(normalized[[i for i in range(n) if i not in set(subset)]])
    seen_pre, seen_post = set(), set()
    for step in range(1, 9):
        inputs, _ = trainer._batch(step)
        (seen_pre if step <= PRE else seen_post).update(_rows(inputs))
    assert seen_pre <= inside  # phase 1: the subset only
    assert len(seen_pre) == len(inside)  # ... and all of it (5 steps x 32 >= 128)
    assert seen_post & outside  # phase 2: the full set


def test_optimizer_state_is_reset_at_the_switch(tmp_path, ws_config, shapes_clean_dir):
    trainer = Trainer(ws_config, tmp_path / "run", shapes_clean_dir, progress=False)
    for _ in range(PRE):
        trainer.train_step()
    steps = {int(s["step"]) for s in trainer.optimizer.state.values()}
    assert steps == {PRE}
    trainer.train_step()  # first step of phase 2: fresh Adam moments and step count
    steps = {int(s["step"]) for s in trainer.optimizer.state.values()}
    assert steps == {1}


def test_reset_blocks_reinitializes_only_the_chosen_block(tmp_path, ws_config, shapes_clean_dir):
    config = {**ws_config, "warm_start": {**ws_config["warm_start"], "reset_blocks": ["head"]}}
    trainer = Trainer(config, tmp_path / "run", shapes_clean_dir, progress=False)
    for _ in range(PRE):
        trainer.train_step()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    _warm_start(trainer).end_pretraining(trainer.model, trainer.optimizer)
    after = trainer.model.state_dict()
    head = tuple(trainer.model.head_names)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(head) for k in changed)


def test_resume_across_the_switch_is_exact_and_test_log_written(tmp_path, ws_config, shapes_clean_dir):
    train_run(ws_config, tmp_path / "whole", shapes_clean_dir, progress=False)
    first = Trainer(ws_config, tmp_path / "split", shapes_clean_dir, progress=False)
    for _ in range(PRE):  # checkpoint exactly at the switch
        first.train_step()
    first.save_checkpoint()
    Trainer(ws_config, tmp_path / "split", shapes_clean_dir, progress=False).run()
    load = lambda d: torch.load(d / "final" / "model.pt", weights_only=False)["model"]  # noqa: E731
    whole, split = load(tmp_path / "whole"), load(tmp_path / "split")
    for name in whole:
        assert torch.equal(whole[name], split[name]), name
    log = pd.read_parquet(tmp_path / "whole" / "final" / "test_log.parquet")
    assert list(log["step"]) == [5, 9] and log["test_acc"].between(0, 100).all()
