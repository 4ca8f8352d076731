"""The bookkeeping of the CUDA-graph update, on a CPU: a stand-in "graph" that replays the
recorded update eagerly. Capture happens once per state (frozen set, learning rate), the
last partial batch stays eager, and the trajectory is the eager one bit for bit."""

from __future__ import annotations

import torch

from earlyphase import runs
from earlyphase.training.cuda_graph_step import WARMUP_STEPS, GraphedUpdate
from earlyphase.training.trainer import Trainer


class ReplayedEagerly(GraphedUpdate):
    """A GraphedUpdate whose 'graph' reruns the update on the static buffers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.captured_keys, self.replayed_shapes = [], []

    def _side_stream(self):
        return None

    def _warm_up(self, inputs, targets):
        self.update(inputs, targets, False)

    def _record(self, static_inputs, static_targets):
        self.captured_keys.append(self.state_key(static_inputs))
        return lambda: self.update(static_inputs, static_targets, False)

    def _replay(self, graph):
        self.replayed_shapes.append(tuple(self._static[0].shape))
        graph()


def _train(config, run_dir, data, graphed: bool):
    trainer = Trainer(config, run_dir, data, progress=False)
    if graphed:
        trainer.graphed = ReplayedEagerly(trainer.model, trainer.optimizer, trainer._update,
                                          config["batch_size"])
    trainer.model.train()
    while trainer.step < config["total_steps"]:
        trainer.train_step()
    trainer._flush_log()
    return trainer


def test_recaptures_per_frozen_set_and_lr_keeps_partial_batches_eager(tmp_path, smoke_params,
                                                                      shapes_clean_dir):
    run = runs.resolve_run(smoke_params, "cifar10-resnet18", seed=3, gu_k=6, steps=30,
                           lr_schedule={"kind": "switch", "lr_before": 0.05, "lr_after": 0.01,
                                        "switch_step": 15})
    # 256 images: 5 full batches and one of 16 per epoch; the simple CNN has 4 blocks.
    config = {**run.config, "arch": "simple_cnn", "width": 0.25, "batch_size": 48}
    eager = _train(config, tmp_path / "eager", shapes_clean_dir, graphed=False)
    graphed = _train(config, tmp_path / "graphed", shapes_clean_dir, graphed=True)
    g = graphed.graphed

    assert g.failure is None and g.captures == len(g.captured_keys) >= 3
    assert len(set(g.captured_keys)) == len(g.captured_keys)  # never twice for one state
    frozen_sets = {key[2] for key in g.captured_keys}
    lrs = {key[4] for key in g.captured_keys}
    assert len(frozen_sets) >= 2 and lrs == {(0.05,), (0.01,)}
    assert set(g.replayed_shapes) == {(48, 3, 32, 32)}  # the partial batch of 16 never replays
    assert 5 <= g.replays <= 30 - WARMUP_STEPS
    assert graphed.log_rows == eager.log_rows
    for (name, a), b in zip(eager.model.state_dict().items(), graphed.model.state_dict().values(),
                            strict=True):
        assert torch.equal(a, b), name
