"""Interventions the training loop calls at named points (see :mod:`.base`), and their registry.

:data:`INTERVENTIONS` maps each intervention's name to its
:class:`~.registration.Registration`: the run-config entries it adds, its tag in the run id
and the builder of the object the loop calls. The name is the keyword of
:func:`earlyphase.runs.resolve_run` and its main run-config key:

* ``warm_start``: ``{pretrain_steps, fraction, reset_blocks}`` or absent, two-phase training
  (:mod:`.warm_start`; the subset and the resets are seeded by the run's ``seed``);
* ``lr_schedule``: ``{kind: constant, lr}`` | ``{kind: switch, lr_before, lr_after,
  switch_step}`` | ``{kind: multistep, lr, milestones, gamma}`` (:mod:`.lr_schedule`;
  ``milestones`` in steps; default: the setup's lr, constant);
* ``gu_k``: int or null, gradual unfreezing with that ``k`` (:mod:`.gradual_unfreezing`);
  ``gu_freeze_bn_stats`` (bool) puts frozen blocks' BatchNorm in eval mode;
* ``penalty``: ``{kind: fisher|gp|gpr|gpx, alpha, every, onset_step, every_mode, seed}`` or
  null (:mod:`.gradient_penalty`; ``seed`` defaults to the run's ``seed``).

Adding an intervention is one module (its :class:`~.base.Intervention` subclass and its
``REGISTRATION``) plus its registration here (the module in the ``from . import`` line and one
entry in :data:`INTERVENTIONS`); :func:`earlyphase.runs.resolve_run` and the training loop need
no change (docs/extending.md). ``build_interventions`` returns the
list in the registry's order (warm start, then the schedule), which is also the order the
loop calls the hooks: the switch of a warm start happens before any other hook of its step.
"""

from __future__ import annotations

from . import gradient_penalty, gradual_unfreezing, lr_schedule, warm_start
from .base import Intervention
from .gradual_unfreezing import GradualUnfreezing, trainable_parameter_count, unfreeze_steps
from .lr_schedule import ConstantLR, LRSchedule, MultiStepLR, SwitchLR
from .registration import Registration

INTERVENTIONS: dict[str, Registration] = {
    "warm_start": warm_start.REGISTRATION,
    "lr_schedule": lr_schedule.REGISTRATION,
    "gu_k": gradual_unfreezing.REGISTRATION,
    "penalty": gradient_penalty.REGISTRATION,
}
"""Name -> registration, in the order the loop calls the hooks."""

ID_TAG_ORDER = ("gu_k", "warm_start", "lr_schedule", "penalty")
"""The order of the interventions' tags in a run id (``gu_k250-ws100-multistep-fisher``), which
the existing ids fix; an intervention not listed here puts its tag after these."""


def run_config_entries(arguments: dict, config: dict, run: dict) -> dict:
    """The run-config entries of every registered intervention, from ``arguments`` (name ->
    the value given to ``resolve_run``; a name left out is ``None``) and the setup's part of
    the run config ``run``."""
    unknown = sorted(set(arguments) - set(INTERVENTIONS))
    if unknown:
        raise TypeError(f"unknown intervention(s) {unknown}; registered: {', '.join(INTERVENTIONS)}")
    entries: dict = {}
    for name, registration in INTERVENTIONS.items():
        entries.update(registration.run_config(arguments.get(name), config, run))
    return entries


def run_id_tags(run_config: dict) -> list[str]:
    """The non-empty id tags of a resolved run config's interventions, in :data:`ID_TAG_ORDER`."""
    order = [*(n for n in ID_TAG_ORDER if n in INTERVENTIONS), *(n for n in INTERVENTIONS if n not in ID_TAG_ORDER)]
    return [tag for tag in (INTERVENTIONS[n].id_tag(run_config) for n in order) if tag]


def build_interventions(run_config: dict) -> list[Intervention]:
    """Interventions for one run, in registry order; keys absent or null are skipped."""
    out = []
    for registration in INTERVENTIONS.values():
        iv = registration.build(run_config)
        if iv is not None:
            out.append(iv)
    return out


__all__ = [
    "ID_TAG_ORDER",
    "INTERVENTIONS",
    "Registration",
    "build_interventions",
    "run_config_entries",
    "run_id_tags",
    "Intervention",
    "GradualUnfreezing",
    "trainable_parameter_count",
    "unfreeze_steps",
    "LRSchedule",
    "ConstantLR",
    "SwitchLR",
    "MultiStepLR",
]
