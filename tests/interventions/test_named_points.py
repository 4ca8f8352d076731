"""An intervention reaches the loop only through its named points: a toy one registered in
INTERVENTIONS chooses the batches (the ``batch`` point, as warm start does) and turns
torch.compile off (``compile_conflict``), with no special case in the Trainer."""

from __future__ import annotations

import torch

from earlyphase import interventions, runs
from earlyphase.interventions.base import Intervention, TrainingData
from earlyphase.interventions.registration import Registration
from earlyphase.training.acceleration import FastPath
from earlyphase.training.trainer import Trainer


class FirstBatchOnly(Intervention):
    """Repeats batch 1 of the loop's stream at every step (a toy)."""

    compile_conflict = "the toy intervention says so"

    def setup_data(self, data: TrainingData) -> None:
        self.data = data
        self.seen: list[int] = []

    def batch(self, step: int):
        self.seen.append(step)
        return self.data.stream.batch(1)


def test_a_registered_intervention_chooses_batches_and_disables_compile(monkeypatch, smoke_params,
                                                                        tmp_path, shapes_clean_dir):
    monkeypatch.setitem(interventions.INTERVENTIONS, "first_batch_only", Registration(
        run_config=lambda on, config, run: {"first_batch_only": True} if on else {},
        id_tag=lambda cfg: "first_batch" if cfg.get("first_batch_only") else "",
        build=lambda cfg: FirstBatchOnly() if cfg.get("first_batch_only") else None))
    config = {**runs.resolve_run(smoke_params, "cifar10-simplecnn", 0, steps=3, first_batch_only=True).config,
              "batch_size": 16}
    fast = FastPath(precision="fp32", channels_last=False, compile=True, compile_backend="aot_eager")
    trainer = Trainer(config, tmp_path / "run", shapes_clean_dir, progress=False, fast=fast, device="cpu")
    (toy,) = [iv for iv in trainer.interventions if isinstance(iv, FirstBatchOnly)]
    assert not trainer.fast.compile and trainer.fast.compile_disabled_because == "the toy intervention says so"
    first, _ = trainer.stream.batch(1)
    for _ in range(3):
        trainer.train_step()
    assert toy.seen == [1, 2, 3]
    assert torch.equal(trainer._batch(3)[0], first)
