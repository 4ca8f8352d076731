"""One training run: the loop of every experiment, with interventions and inline probes.

Reads one resolved run config (see :mod:`earlyphase.runs`), trains, records the training
log and, when configured, the curvature probes every ``probe.every`` steps inside the
early window (the paper's protocol), and writes the run folder:

    <run_dir>/final/{config.json, status.json, train_log.parquet, probes.parquet, model.pt}
    <run_dir>/checkpoint.pt      resumable state, removed when the run completes

``final/`` appears atomically, only when the run is complete. A rerun after an
interruption resumes from ``checkpoint.pt`` and produces bit-identical results on CPU.
A run whose loss becomes NaN/inf stops and is recorded as diverged instead of failing.

Checkpoints are due by wall clock (``checkpoint_minutes``, the pipeline's setting: every
10 minutes) and/or every ``checkpoint_every`` steps (small runs and tests), and when the
process is asked to stop (SIGTERM, e.g. a scheduler's time limit: the state of the last
finished step is saved and the job exits with :class:`RunInterrupted`). They are written
by a background thread from a host copy (:mod:`earlyphase.training.checkpoint_writer`).

A run config with ``validation: {fraction, seed}`` trains on its training set without the
held-out validation part (:mod:`earlyphase.data.validation_split`); the normalization
statistics and the probe points come from the images it trains on.

Interventions (gradual unfreezing, LR schedules, penalties, warm start) are small objects
the loop calls at named points (:mod:`earlyphase.interventions.base`); step ``i`` counts
from 1 as in the paper's Algorithm 1.

How the step executes (bf16 autocast, channels_last, torch.compile, fused optimizers) is
the ``fast`` block, an execution setting like ``device`` that is not part of the run id,
except ``precision`` and ``channels_last`` when the run config fixes them (the CPU fast
path, params.yaml ``training``); see :mod:`earlyphase.training.acceleration`. It is
recorded in ``final/execution.json``.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from earlyphase.data.loaders import load_clean
from earlyphase.data.validation_split import validation_split
from earlyphase.interventions import build_interventions
from earlyphase.interventions.base import TrainingData
from earlyphase.operations.atomic import atomic_path
from earlyphase.runs import build_run_model
from earlyphase.training.acceleration import FastPath, load_optimizer_state, optimizer_options
from earlyphase.training.batches import BatchStream, Normalizer, stream_generator, to_nchw_tensor
from earlyphase.training.checkpoint_writer import CheckpointWriter
from earlyphase.training.device import pick_device
from earlyphase.training.progress import RunProgress
from earlyphase.training.rng import rng_state, seed_everything, set_rng_state

_PROBE_POINTS_STREAM = 0x5EED_0003
CHECKPOINT_NAME = "checkpoint.pt"


class CorruptCheckpointError(RuntimeError):
    """A resume checkpoint that cannot be read."""


class RunInterrupted(RuntimeError):
    """The run stopped on request (SIGTERM) after saving its checkpoint; a rerun resumes."""


PAUSE_ENV, RELEASE_ENV = "EARLYPHASE_TEST_PAUSE_AT", "EARLYPHASE_TEST_RELEASE"


def pause_point(point: str) -> None:
    """Test hook, inert unless ``$EARLYPHASE_TEST_PAUSE_AT`` equals ``point``.

    Points: ``step:<i>`` (after step i and its checkpoint), ``checkpoint:<i>`` (inside the
    atomic checkpoint write: the partial file exists, the rename has not happened),
    ``probe:<i>`` (inside the probe of step i) and ``final`` (inside the write of final/).
    The process prints ``EARLYPHASE_PAUSED <point>`` on stderr and sleeps there until the
    file ``$EARLYPHASE_TEST_RELEASE`` exists (forever without it), so a robustness test can
    SIGKILL it at a known spot. See tests/robustness and docs/robustness.md.
    """
    if not pausing_at(point):
        return
    print(f"EARLYPHASE_PAUSED {point}", file=sys.stderr, flush=True)
    release = os.environ.get(RELEASE_ENV)
    while not (release and os.path.exists(release)):
        time.sleep(0.05)


def pausing_at(point: str) -> bool:
    return os.environ.get(PAUSE_ENV) == point


def build_optimizer(config: dict, model: torch.nn.Module, device: torch.device | None = None,
                    cuda_graphs: bool = False, trainable_set_changes: bool = False) -> torch.optim.Optimizer:
    params = list(model.parameters())
    kind, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    # fused=True on CUDA (foreach for SGD when blocks unfreeze mid-run)
    fused = optimizer_options(device or torch.device("cpu"), kind, cuda_graphs, trainable_set_changes)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config["momentum"], weight_decay=wd, **fused)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(config["momentum"], 0.999), weight_decay=wd,
                                 **fused)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(config["momentum"], 0.999), weight_decay=wd,
                                **fused)
    raise ValueError(f"unknown optimizer {kind!r}; known: sgd, adamw, adam")


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same problem
        raise CorruptCheckpointError(
            f"cannot read resume checkpoint {path}: {err}. Delete it to restart this run from step 0."
        ) from err


class Trainer:
    """State of one run; :meth:`run` trains from step 1 (or the checkpoint) to the end."""

    def __init__(self, config: dict, run_dir: Path | str, data_dir: Path | str, *,
                 device: str = "auto", checkpoint_every: int | None = 500,
                 checkpoint_minutes: float | None = None, progress: bool = True,
                 fast: dict | FastPath | None = None, clock=time.monotonic):
        self.config = config
        self.run_dir = Path(run_dir)
        self.device = pick_device(device)
        self.fast = FastPath.resolve(fast, self.device, run_config=config)  # the config's precision wins
        self.interventions = build_interventions(config)  # from the config alone; no RNG drawn
        for intervention in self.interventions:
            if self.fast.compile and intervention.compile_conflict:
                self.fast = self.fast.without_compile(intervention.compile_conflict)
        self.checkpoint_every = checkpoint_every or None  # 0 / None: no step-based checkpoints
        self.checkpoint_seconds = None if checkpoint_minutes is None else 60.0 * checkpoint_minutes
        self.clock = clock
        self._last_checkpoint = clock()
        self.stop_requested = False  # set by a signal handler (cli): checkpoint, then stop
        self._progress: RunProgress | None = None
        self.writer = CheckpointWriter(self.run_dir / CHECKPOINT_NAME,
                                       during_write=lambda state: pause_point(f"checkpoint:{state['step']}"))
        self.progress = progress
        seed_everything(config["seed"])

        images, labels = load_clean(Path(data_dir), "train")
        if config.get("validation"):  # train without the held-out part (the evaluation measures it)
            keep, _ = validation_split(len(labels), **config["validation"])
            images, labels = images[keep], labels[keep]
        self.normalizer = Normalizer(images)
        self.train_images = to_nchw_tensor(images, self.device)
        self.train_labels = torch.as_tensor(np.array(labels), dtype=torch.long, device=self.device)
        self.stream = BatchStream(self.train_images, self.train_labels, config["batch_size"],
                                  config["seed"], config["augment"], self.normalizer)
        data = TrainingData(self.train_images, self.train_labels, self.normalizer, self.stream,
                            config["batch_size"], config["seed"], config["augment"])
        for intervention in self.interventions:
            intervention.setup_data(data)
        self.test_set = load_clean(Path(data_dir), "test") if config.get("test_log") else None

        self.model = build_run_model(config).to(self.device)
        self.fast.prepare_model(self.model)  # channels_last
        self.train_forward = self.fast.training_forward(self.model)  # model, or torch.compile'd
        self.optimizer = build_optimizer(config, self.model, self.device, self.fast.cuda_graphs,
                                         any(iv.changes_trainable_set for iv in self.interventions))
        for intervention in self.interventions:
            intervention.setup(self.model, self.optimizer)
        self.probes = self._build_probes() if config.get("probe") else None
        self.graphed = self._build_graphed_update()

        self.step = 0
        self.log_rows: list[dict] = []
        self.probe_rows: list[dict] = []
        self.test_rows: list[dict] = []  # periodic test accuracy (config["test_log"])
        self.status = {"status": "running", "diverged_at": None}
        self._loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        self._correct = torch.zeros((), device=self.device, dtype=torch.long)
        self._seen = 0

    def _build_graphed_update(self):
        """The CUDA-graph replay of the update (``fast.cuda_graphs``), or None (eager)."""
        if not self.fast.cuda_graphs:
            return None
        from earlyphase.training.cuda_graph_step import GraphedUpdate, graph_conflict

        conflict = graph_conflict(self.optimizer, self.interventions)
        if conflict:
            self.fast = self.fast.without_cuda_graphs(conflict)
            return None
        return GraphedUpdate(self.model, self.optimizer, self._update, self.config["batch_size"])

    # ------------------------------------------------------------------ probes
    def _build_probes(self):
        from earlyphase.probes.suite import ProbeSuite

        probe = self.config["probe"]
        generator = stream_generator(self.config["seed"], _PROBE_POINTS_STREAM, 0)
        order = torch.randperm(len(self.train_labels), generator=generator)[: probe["points"]]
        order = order.to(self.device)
        inputs = self.normalizer(self.train_images[order])  # un-augmented training points
        targets = self.train_labels[order]
        # `every`, `window` and `points` are the loop's business; the rest configures the suite.
        settings = {k: v for k, v in probe.items() if k not in ("every", "window", "points")}
        return ProbeSuite({**settings, "seed": self.config["seed"]}, inputs, targets, self.device)

    def _maybe_probe(self) -> None:
        probe = self.config["probe"]
        if self.probes is None or self.step % probe["every"] or self.step > probe["window"]:
            return
        record = self.probes(self.model, self.step)
        self._pause(f"probe:{self.step}")
        record["step"] = self.step
        self.probe_rows.append(record)

    def _batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of ``step``: the first intervention's choice (warm start), else the stream's."""
        for intervention in self.interventions:
            chosen = intervention.batch(step)
            if chosen is not None:
                return chosen
        return self.stream.batch(step)

    def _maybe_test(self) -> None:
        """Test accuracy (%) every ``every`` steps from step ``start`` (config["test_log"])."""
        spec = self.config.get("test_log")
        if not spec or self.step < spec["start"] or (self.step - spec["start"]) % spec["every"]:
            return
        from earlyphase.training.evaluate import accuracy

        self.model.eval()
        acc = accuracy(self.model, *self.test_set, self.normalizer.state_dict(), self.device, 1000)
        self.model.train()
        self.test_rows.append({"step": self.step, "test_acc": acc})

    # ------------------------------------------------------------------ checkpoints
    def _checkpoint_state(self) -> dict:
        return {
            "step": self.step,
            "model": self.model.state_dict(),
            "requires_grad": {n: p.requires_grad for n, p in self.model.named_parameters()},
            "optimizer": self.optimizer.state_dict(),
            "interventions": [iv.state_dict() for iv in self.interventions],
            "probes": self.probes.state_dict() if self.probes else None,
            "log_rows": self.log_rows,
            "probe_rows": self.probe_rows,
            "test_rows": self.test_rows,
            "accumulators": (self._loss_sum.cpu(), self._correct.cpu(), self._seen),
            "rng": rng_state(self.device),
            "config": self.config,
        }

    def save_checkpoint(self, wait: bool = True) -> None:
        """Copy the state of the current step and write it: on disk when this returns, or,
        with ``wait=False`` (the loop), in the background while training goes on."""
        self.writer.save(self._checkpoint_state())
        self._last_checkpoint = self.clock()
        if wait:
            self.writer.wait()

    def checkpoint_due(self) -> bool:
        if self.checkpoint_every and self.step % self.checkpoint_every == 0:
            return True
        return (self.checkpoint_seconds is not None
                and self.clock() - self._last_checkpoint >= self.checkpoint_seconds)

    def _pause(self, point: str) -> None:
        """:func:`pause_point`, with the checkpoint in flight on disk first (a test that
        kills the process there knows which checkpoint it leaves)."""
        if pausing_at(point):
            self.writer.wait()
            if self._progress is not None:
                self._progress.flush()  # the progress file of this step is on disk too
        pause_point(point)

    def try_resume(self) -> bool:
        path = self.run_dir / CHECKPOINT_NAME
        if not path.exists():
            return False
        state = load_checkpoint(path)
        if state.get("config") != self.config:
            raise CorruptCheckpointError(
                f"{path} belongs to a run with a different config; delete it to restart this run."
            )
        self.model.load_state_dict(state["model"])
        for name, param in self.model.named_parameters():
            param.requires_grad_(state["requires_grad"][name])
        # this process's fused/foreach choice; buffers in the parameters' layout
        load_optimizer_state(self.optimizer, state["optimizer"])
        for intervention, iv_state in zip(self.interventions, state["interventions"], strict=True):
            intervention.load_state_dict(iv_state)
        if self.probes is not None:
            self.probes.load_state_dict(state["probes"])
        self.step = state["step"]
        self.log_rows, self.probe_rows = state["log_rows"], state["probe_rows"]
        self.test_rows = state.get("test_rows", [])
        loss_sum, correct, self._seen = state["accumulators"]
        self._loss_sum, self._correct = loss_sum.to(self.device), correct.to(self.device)
        set_rng_state(state["rng"])
        return True

    # ------------------------------------------------------------------ loop
    def train_step(self) -> None:
        self.step += 1
        for intervention in self.interventions:
            intervention.before_step(self.step, self.model, self.optimizer)
        inputs, targets = self._batch(self.step)
        inputs = self.fast.prepare_inputs(inputs)
        if self.graphed is not None:
            self.graphed(inputs, targets)  # the captured update, or the eager one
        else:
            self._update(inputs, targets)
        self._seen += len(targets)

    def _update(self, inputs: torch.Tensor, targets: torch.Tensor, capturing: bool = False) -> None:
        """Forward, loss and penalties, backward, optimizer step, and the device-side
        loss/accuracy sums: tensor work only, so that it can be captured in a CUDA graph."""
        # bf16 on the fast path. Under CUDA graphs the weight-cast cache is off for the eager
        # warm-up steps too: a compiled forward then sees one autocast state, not two (which
        # would recompile it inside the stream capture).
        with self.fast.autocast(self.device, cache=not (capturing or self.fast.cuda_graphs)):
            logits = self.train_forward(inputs)
            loss = F.cross_entropy(logits, targets)
            objective = loss
            for intervention in self.interventions:
                extra = intervention.penalty(self.step, self.model, inputs, targets, logits)
                if extra is not None:
                    objective = objective + extra
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        self.optimizer.step()
        # Accumulate on the device; the host reads them only every `log_every` steps.
        self._loss_sum += loss.detach().double() * len(targets)
        self._correct += (logits.detach().argmax(1) == targets).sum()

    def _flush_log(self) -> bool:
        """Record the mean loss/accuracy since the last flush; False when it is not finite."""
        # One host read of both sums (one sync per flush; the sync check counts them).
        loss_sum, correct = torch.stack([self._loss_sum, self._correct.double()]).tolist()
        mean_loss = loss_sum / max(self._seen, 1)
        self.log_rows.append({
            "step": self.step,
            "loss": mean_loss,
            "accuracy": correct / max(self._seen, 1),
            "lr": self.optimizer.param_groups[0]["lr"],
            "trainable_params": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
        })
        self._loss_sum.zero_()
        self._correct.zero_()
        self._seen = 0
        return math.isfinite(mean_loss)

    def run(self) -> dict:
        total = self.config["total_steps"]
        resumed = self.try_resume()
        self.model.train()
        if not resumed and self.probes is not None:
            self._maybe_probe()  # the state at initialization (step 0)
        progress = RunProgress(self.run_dir, total, start_step=self.step, show=self.progress)
        self._progress = progress
        try:
            self._loop(progress, total)
        except RunInterrupted:
            raise
        except Exception:
            progress.close("failed")  # the progress file stops saying "running" at once
            raise
        self.writer.wait()  # a checkpoint still in flight must not outlive final/
        if self.status["status"] == "running":
            self.status = {"status": "completed", "diverged_at": None}
        progress.close(self.status["status"])
        self.status["steps"] = self.step
        self.write_final()
        return self.status

    def _loop(self, progress: RunProgress, total: int) -> None:
        while self.step < total:
            self.train_step()
            progress.advance()
            if self.step % self.config["log_every"] == 0 or self.step == total:
                if not self._flush_log():
                    self.status = {"status": "diverged", "diverged_at": self.step}
                    break
                progress.logged(self.step, self.log_rows[-1]["loss"])
            self._maybe_probe()
            self._maybe_test()
            if self.step < total and self.checkpoint_due():
                self.save_checkpoint(wait=False)
            self._pause(f"step:{self.step}")
            if self.stop_requested and self.step < total:
                self.save_checkpoint()
                progress.close("stopped")
                raise RunInterrupted(f"stopped on request after step {self.step}; its checkpoint "
                                     f"{self.run_dir / CHECKPOINT_NAME} is saved, a rerun resumes")

    def execution(self) -> dict:
        """How this process executed the run (not part of the run id; see acceleration.py)."""
        fast = self.fast.describe()
        failure = getattr(self.train_forward, "failure", None)
        if failure:
            fast["compile"], fast["compile_disabled_because"] = False, failure
        if self.graphed is not None:
            fast["cuda_graph_replay"] = self.graphed.describe()
            if self.graphed.failure:
                fast["cuda_graphs"], fast["cuda_graphs_disabled_because"] = False, self.graphed.failure
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return {"device": str(self.device), "device_name": name, "torch": torch.__version__,
                "fast": fast}

    def write_final(self) -> None:
        with atomic_path(self.run_dir / "final") as final:
            final.mkdir()
            (final / "config.json").write_text(json.dumps(self.config, indent=2, sort_keys=True) + "\n")
            (final / "status.json").write_text(json.dumps(self.status, indent=2, sort_keys=True) + "\n")
            (final / "execution.json").write_text(json.dumps(self.execution(), indent=2) + "\n")
            pd.DataFrame(self.log_rows).to_parquet(final / "train_log.parquet", index=False)
            probe_frame = pd.DataFrame(self.probe_rows if self.probe_rows else [], columns=None)
            probe_frame.to_parquet(final / "probes.parquet", index=False)
            if self.config.get("test_log"):
                pd.DataFrame(self.test_rows, columns=["step", "test_acc"]).to_parquet(
                    final / "test_log.parquet", index=False)
            torch.save({"model": self.model.state_dict(), "normalizer": self.normalizer.state_dict(),
                        "config": self.config, "status": self.status}, final / "model.pt")
            pause_point("final")
        checkpoint = self.run_dir / CHECKPOINT_NAME
        if checkpoint.exists():
            checkpoint.unlink()


def train_run(config: dict, run_dir: Path | str, data_dir: Path | str, **kwargs) -> dict:
    """Train one run to completion (resuming if a checkpoint exists); return its status."""
    return Trainer(config, run_dir, data_dir, **kwargs).run()
