"""Runs of the Fisher-explosion experiments (Jastrzebski et al., seed 003), shared by
``fisher_table1``, ``fisher_onset`` and ``fisher_explosion`` (settings: ``experiments.fisher``).

* the LR grid: plain SGD runs at ``lr_scales`` x the setup's lr (the reference eta*), with
  the step decay of App. I.2; the report picks eta* as the grid point with the best final
  test accuracy and reads the Baseline at ``small_lr_scale`` (10x smaller);
* the penalties (FP, GP, GPx, GPr) at ``small_lr_scale``, each with its own alpha, the
  penalty gradient recomputed every ``every`` steps and reused in between (eq. 3);
* the onset sweep: FP from step E x steps_per_epoch for E in ``onset_epochs`` (Fig. 3).

Grid and penalty runs record tr(F) every ``probe.every`` steps over ``probe.window`` steps
(``probe`` is merged over the global probe settings), so the tr(F) trajectories and the
early-tr(F) vs accuracy figure come from the same runs as the table.
"""

from __future__ import annotations

from earlyphase.runs import resolve_run, steps_per_epoch, total_steps

PENALTY_LABELS = {"fisher": "FP", "gp": "GP", "gpx": "GPx", "gpr": "GPr"}


def _spec(config: dict) -> dict:
    return config["experiments"]["fisher"]


def fisher_run(config: dict, seed: int, lr_scale: float, penalty: dict | None = None, probe: bool = True):
    spec = _spec(config)
    setup = spec["setup"]
    spe = steps_per_epoch(config, setup)
    lr = config["setups"][setup]["lr"] * lr_scale
    schedule = {"kind": "multistep", "lr": lr, "gamma": spec["gamma"],
                "milestones": [int(round(e * spe)) for e in spec["milestones_epochs"]]}
    return resolve_run(config, setup, seed, lr_scale=lr_scale, lr_schedule=schedule, penalty=penalty,
                       probe=spec["probe"] if probe else False)


def penalty_spec(config: dict, kind: str, onset_step: int = 1) -> dict:
    spec = _spec(config)
    return {"kind": kind, "alpha": spec["penalties"][kind], "every": spec["every"],
            "onset_step": onset_step, "every_mode": "reuse"}


def grid_runs(config: dict) -> list:
    spec = _spec(config)
    return [(fisher_run(config, seed, scale), {"row": "grid", "penalty": None, "onset_epoch": None})
            for scale in spec["lr_scales"] for seed in spec["seeds"]]


def penalty_runs(config: dict) -> list:
    spec = _spec(config)
    entries = []
    for kind in spec["penalties"]:
        for seed in spec["seeds"]:
            run = fisher_run(config, seed, spec["small_lr_scale"], penalty_spec(config, kind))
            entries.append((run, {"row": PENALTY_LABELS[kind], "penalty": kind, "onset_epoch": 0}))
    return entries


def onset_runs(config: dict) -> list:
    spec = _spec(config)
    setup = spec["setup"]
    spe, steps = steps_per_epoch(config, setup), total_steps(config, setup)
    entries = []
    for epoch in spec["onset_epochs"]:
        if epoch * spe >= steps:
            continue
        for seed in spec["seeds"]:
            run = fisher_run(config, seed, spec["small_lr_scale"],
                             penalty_spec(config, "fisher", onset_step=epoch * spe), probe=False)
            entries.append((run, {"row": "FP onset", "penalty": "fisher", "onset_epoch": epoch}))
    return entries
