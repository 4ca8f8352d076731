"""Step-indexed learning-rate schedules, applied as interventions.

``before_step(step)`` writes ``lr_at(step)`` into every parameter group, so the optimizer's
own ``lr`` argument is irrelevant. Steps count from 1.

* ``ConstantLR(lr)``: the primary paper trains every Table 1 model with a constant rate.
* ``SwitchLR(lr_before, lr_after, switch_step)``: ``lr_before`` for steps ``1 .. switch_step``,
  ``lr_after`` from step ``switch_step + 1``. The primary paper's Table 2 uses
  ``lr_l2h = SwitchLR(0.1 lr_d, lr_d, k)`` and ``lr_h2l = SwitchLR(lr_d, 0.1 lr_d, k)``.
* ``MultiStepLR(lr, milestones_steps, gamma)``: ``lr * gamma ** m`` where ``m`` counts the
  milestones strictly below the step, i.e. the rate drops *after* each milestone step, as
  torch's ``MultiStepLR`` drops after each milestone epoch ("decayed x0.1 after epochs 150 and
  225" = milestones ``[150 S, 225 S]`` with ``S`` steps per epoch).

The schedules are functions of the step only, so they carry no state to checkpoint.
"""

from __future__ import annotations

import bisect

import torch
from torch import nn

from .base import Intervention
from .registration import Registration


class LRSchedule(Intervention):
    def lr_at(self, step: int) -> float:
        raise NotImplementedError

    def before_step(self, step: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        lr = self.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr


class ConstantLR(LRSchedule):
    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def lr_at(self, step: int) -> float:
        return self.lr


class SwitchLR(LRSchedule):
    def __init__(self, lr_before: float, lr_after: float, switch_step: int) -> None:
        if switch_step < 0:
            raise ValueError(f"switch_step must be >= 0, got {switch_step}")
        self.lr_before = float(lr_before)
        self.lr_after = float(lr_after)
        self.switch_step = int(switch_step)

    def lr_at(self, step: int) -> float:
        return self.lr_before if step <= self.switch_step else self.lr_after


class MultiStepLR(LRSchedule):
    def __init__(self, lr: float, milestones_steps, gamma: float = 0.1) -> None:
        ms = [int(m) for m in milestones_steps]
        if ms != sorted(ms):
            raise ValueError(f"milestones must be increasing, got {ms}")
        self.lr = float(lr)
        self.milestones_steps = ms
        self.gamma = float(gamma)

    def lr_at(self, step: int) -> float:
        m = bisect.bisect_left(self.milestones_steps, step)  # milestones < step
        return self.lr * self.gamma**m


def _run_config(schedule: dict | None, config: dict, run: dict) -> dict:
    # no schedule given: the setup's learning rate, constant
    return {"lr_schedule": schedule or {"kind": "constant", "lr": run["lr"]}}


def _id_tag(run_config: dict) -> str:
    kind = run_config["lr_schedule"]["kind"]
    return "" if kind == "constant" else kind


def _build(run_config: dict) -> Intervention | None:
    spec = run_config.get("lr_schedule")
    if spec is None:
        return None
    spec = dict(spec)
    kind = spec.pop("kind", "constant")
    if kind == "constant":
        return ConstantLR(**spec)
    if kind == "switch":
        return SwitchLR(**spec)
    if kind == "multistep":
        if "milestones" in spec:
            spec["milestones_steps"] = spec.pop("milestones")
        return MultiStepLR(**spec)
    raise ValueError(f"unknown lr_schedule kind {kind!r}; valid: constant, switch, multistep")


# run config key ``lr_schedule``: {kind: constant, lr} | {kind: switch, lr_before, lr_after,
# switch_step} | {kind: multistep, lr, milestones, gamma} (milestones in steps)
REGISTRATION = Registration(run_config=_run_config, id_tag=_id_tag, build=_build)
