"""The training update of a full batch, captured once as a CUDA graph and replayed.

At batch 128 on 32x32 images a ResNet-18 step is a few hundred small kernels; launching
them from Python costs more than running them. A CUDA graph records the kernels of one
update (forward, loss, backward, optimizer step, loss/accuracy accumulation) and replays
them with a single launch. The batch is copied into fixed input buffers first, so drawing
and augmenting it (:mod:`earlyphase.training.batches`) stays outside the graph.

A graph bakes in everything it read on the host when it was captured, so it is valid only
for one *state key*: the batch shape, each parameter's ``requires_grad`` (the frozen set of
gradual unfreezing), each module's ``training`` flag, each parameter group's learning
rate, and the storage of every parameter and optimizer buffer (a warm-start reset, or a
resume, replaces them). When the key changes the old graphs are dropped; the first
``WARMUP_STEPS`` steps under a new key run eagerly on a side stream (lazy allocations,
cuDNN autotuning, optimizer state creation) and the next one is captured, then replayed.
So a gradual-unfreezing run recaptures once per frozen set, an LR switch once more.

What stays eager, always correct: any batch of another shape (the last partial batch of
an epoch), runs whose interventions add a penalty (double backward, a term that changes
from step to step), optimizers other than SGD and Adam/AdamW (those only when built with
``capturable=True``, which the Trainer does for this path: their step counters then live on
the device), and everything after a failed capture (the error is recorded once and the run
continues eagerly), or after ``MAX_CAPTURES`` captures (a key that keeps changing).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

WARMUP_STEPS = 3
MAX_CAPTURES = 64


def graph_conflict(optimizer: torch.optim.Optimizer, interventions) -> str | None:
    """Why this run cannot be captured at all, or None."""
    from earlyphase.interventions.base import Intervention

    if isinstance(optimizer, torch.optim.Adam | torch.optim.AdamW):
        if not all(group.get("capturable") for group in optimizer.param_groups):
            return "CUDA graphs: Adam/AdamW must be built with capturable=True (step counts on the device)"
    elif not isinstance(optimizer, torch.optim.SGD):
        return f"CUDA graphs: only SGD, Adam and AdamW updates are captured, not {type(optimizer).__name__}"
    for intervention in interventions:
        if type(intervention).penalty is not Intervention.penalty:
            return f"CUDA graphs: {type(intervention).__name__} adds a penalty; penalty runs stay eager"
    return None


class GraphedUpdate:
    """Replays the captured update when it is valid for the current state, else runs eagerly.

    ``update(inputs, targets, capturing)`` is the eager update (the Trainer's); it must
    only touch tensors (no host reads). :meth:`__call__` returns nothing; the update writes
    its results into tensors that outlive it (parameters, optimizer buffers, accumulators).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 update: Callable[[torch.Tensor, torch.Tensor, bool], None], batch_size: int):
        self.model, self.optimizer, self.update = model, optimizer, update
        self.batch_size = batch_size
        self.failure: str | None = None
        self.captures = 0
        self.replays = 0
        self._key = None
        self._eager_under_key = 0
        self._graph = None
        self._static: tuple[torch.Tensor, torch.Tensor] | None = None
        self._side = self._side_stream()

    def state_key(self, inputs: torch.Tensor) -> tuple:
        params = list(self.model.parameters())
        buffers = [buf.data_ptr() for state in self.optimizer.state.values()
                   for buf in state.values() if torch.is_tensor(buf)]
        return (tuple(inputs.shape), inputs.stride(), tuple(p.requires_grad for p in params),
                tuple(m.training for m in self.model.modules()),
                tuple(group["lr"] for group in self.optimizer.param_groups),
                tuple(p.data_ptr() for p in params), tuple(buffers))

    # The CUDA-specific pieces (a test replaces them to check the bookkeeping on a CPU).
    def _side_stream(self):
        return torch.cuda.Stream()

    def _warm_up(self, inputs, targets) -> None:
        """One eager update on a side stream, as CUDA graph capture requires."""
        self._side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self._side):
            self.update(inputs, targets, False)
        torch.cuda.current_stream().wait_stream(self._side)

    def _record(self, static_inputs, static_targets):
        graph = torch.cuda.CUDAGraph()
        # thread_local: the checkpoint writer thread may run meanwhile (it touches no CUDA).
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            self.update(static_inputs, static_targets, True)
        return graph

    def _replay(self, graph) -> None:
        graph.replay()

    def _capture(self, inputs, targets) -> None:
        static_inputs, static_targets = inputs.clone(), targets.clone()
        self.optimizer.zero_grad(set_to_none=True)  # gradients are allocated inside the graph
        self._graph = self._record(static_inputs, static_targets)
        self._static = (static_inputs, static_targets)
        self.captures += 1

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        if self.failure is not None or inputs.shape[0] != self.batch_size:
            self.update(inputs, targets, False)
            return
        key = self.state_key(inputs)
        if key != self._key:
            self._key, self._eager_under_key = key, 0
            self._graph = self._static = None
        if self._graph is None and self._eager_under_key < WARMUP_STEPS:
            self._warm_up(inputs, targets)
            self._eager_under_key += 1
            # Creating optimizer state changes the key: the first steps may warm up anew.
            self._key = self.state_key(inputs)
            return
        if self._graph is None:
            if self.captures >= MAX_CAPTURES:
                self._give_up(f"CUDA graphs: more than {MAX_CAPTURES} captures; the state key keeps changing")
                self.update(inputs, targets, False)
                return
            try:
                self._capture(inputs, targets)
            except RuntimeError as err:  # capture failed before any kernel ran: step eagerly
                self._give_up(f"CUDA graph capture failed: {' '.join(str(err).split())[:300]}")
                self.update(inputs, targets, False)
                return
            self._key = self.state_key(inputs)
        static_inputs, static_targets = self._static
        static_inputs.copy_(inputs)
        static_targets.copy_(targets)
        self._replay(self._graph)
        self.replays += 1

    def _give_up(self, reason: str) -> None:
        self.failure = reason
        self._graph = self._static = None
        warnings.warn(f"{reason}; training continues eagerly", RuntimeWarning, stacklevel=3)

    def describe(self) -> dict:
        return {"captures": self.captures, "replays": self.replays, "failure": self.failure}
