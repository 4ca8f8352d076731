"""Interventions the training loop calls at named points (see :mod:`.base`).

``build_interventions(run_config)`` turns the intervention keys of a resolved run config into
a list of objects; each key of ``INTERVENTIONS`` maps to a builder that takes the run config
and returns an intervention or ``None`` (key absent or null). Keys read:

* ``lr_schedule``: ``{kind: constant, lr}`` | ``{kind: switch, lr_before, lr_after,
  switch_step}`` | ``{kind: multistep, lr, milestones, gamma}`` (``milestones`` in steps);
* ``gu_k``: int or null, gradual unfreezing with that ``k``; ``gu_freeze_bn_stats`` (bool,
  default false) puts frozen blocks' BatchNorm in eval mode;
* ``penalty``: ``{kind: fisher|gp|gpr|gpx, alpha, every, onset_step, every_mode, seed}`` or
  null; ``seed`` defaults to the run's ``seed``;
* ``warm_start``: ``{pretrain_steps, fraction, reset_blocks}`` or absent, two-phase training
  (:class:`.warm_start.WarmStart`; the subset and the resets are seeded by the run's ``seed``).

Adding an intervention is one file plus one line in ``INTERVENTIONS``. The list is returned in
the registry's order (warm start, then the schedule), which is also the order the loop calls
the hooks: the switch of a warm start happens before any other hook of its step.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Intervention
from .gradual_unfreezing import GradualUnfreezing, trainable_parameter_count, unfreeze_steps
from .lr_schedule import ConstantLR, LRSchedule, MultiStepLR, SwitchLR


def _build_lr_schedule(cfg: dict) -> Intervention | None:
    spec = cfg.get("lr_schedule")
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


def _build_gradual_unfreezing(cfg: dict) -> Intervention | None:
    k = cfg.get("gu_k")
    if k is None:
        return None
    return GradualUnfreezing(int(k), freeze_bn_stats=bool(cfg.get("gu_freeze_bn_stats", False)))


def _build_penalty(cfg: dict) -> Intervention | None:
    spec = cfg.get("penalty")
    if spec is None:
        return None
    from .gradient_penalty import GradientPenalty

    spec = dict(spec)
    spec.setdefault("seed", cfg.get("seed", 0))
    return GradientPenalty(**spec)


def _build_warm_start(cfg: dict) -> Intervention | None:
    spec = cfg.get("warm_start")
    if not spec:
        return None
    from .warm_start import WarmStart

    return WarmStart(spec["pretrain_steps"], spec["fraction"], spec.get("reset_blocks"), seed=cfg.get("seed", 0))


INTERVENTIONS: dict[str, Callable[[dict], Intervention | None]] = {
    "warm_start": _build_warm_start,
    "lr_schedule": _build_lr_schedule,
    "gu_k": _build_gradual_unfreezing,
    "penalty": _build_penalty,
}


def build_interventions(run_config: dict) -> list[Intervention]:
    """Interventions for one run, in registry order; keys absent or null are skipped."""
    out = []
    for builder in INTERVENTIONS.values():
        iv = builder(run_config)
        if iv is not None:
            out.append(iv)
    return out


__all__ = [
    "INTERVENTIONS",
    "build_interventions",
    "Intervention",
    "GradualUnfreezing",
    "trainable_parameter_count",
    "unfreeze_steps",
    "LRSchedule",
    "ConstantLR",
    "SwitchLR",
    "MultiStepLR",
]
