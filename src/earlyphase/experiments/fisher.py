"""Runs of the Fisher-explosion experiments (Jastrzebski et al., seed 003), shared by
``fisher_table1``, ``fisher_onset`` and ``fisher_explosion`` (settings: ``experiments.fisher``).

* the LR grid: plain SGD runs at ``lr_scales`` x the setup's lr, with the step decay of
  App. I.2; eta* is the grid point with the best final *validation* accuracy
  (:mod:`earlyphase.selection.eta_star`), never chosen on the test set;
* the small-LR runs at ``small_lr_scale`` x eta* (10x smaller, as the paper does): the
  Baseline (no penalty), the penalties (FP, GP, GPx, GPr), each with its own alpha and the
  penalty gradient recomputed every ``every`` steps and reused in between (eq. 3), and the
  onset sweep, FP after E epochs for E in ``onset_epochs`` (Fig. 3).

``small_lr_from`` says what ``small_lr_scale`` multiplies. ``eta_star`` (default): eta*
itself, so the small-LR runs depend on the grid's results; the workflow adds them after a
Snakemake checkpoint has chosen eta* (:func:`small_lr_runs` with the checkpoint's choice), as
the stabilization table adds its chosen-k runs. ``reference``: the setup's lr, fixed before
training (a static DAG; the small-LR runs are ordinary runs of the experiments).

The validation split: every Fisher run (grid, Baseline, penalties, onset sweep) holds out
the same ``validation_fraction`` of the training set (the last part of a fixed permutation,
:mod:`earlyphase.data.validation_split`) and trains on the rest, so the eta* column and the
small-LR columns of the table saw the same training images; an epoch is a pass over the
images a run trains on. The evaluation adds the accuracy on the held-out part (``val_acc``).

Grid, Baseline and penalty runs record tr(F) every ``probe.every`` steps over
``probe.window`` steps (``probe`` is merged over the global probe settings), so the tr(F)
trajectories and the early-tr(F) vs accuracy figure come from the same runs as the table.
"""

from __future__ import annotations

import math

from earlyphase.data.validation_split import validation_size
from earlyphase.interventions.gradient_penalty import onset_after
from earlyphase.runs import resolve_run, short_hash, train_set_size

PENALTY_LABELS = {"fisher": "FP", "gp": "GP", "gpx": "GPx", "gpr": "GPr"}
SMALL_LR_PARTS = ("baseline", "penalties", "onset")
VALIDATION_SEED = 0  # the split's permutation seed: one split for every Fisher run


def _spec(config: dict) -> dict:
    return config["experiments"]["fisher"]


def after_eta_star(config: dict) -> bool:
    """Whether the small-LR runs wait for the grid (eta* chosen by the checkpoint)."""
    return _spec(config).get("small_lr_from", "eta_star") == "eta_star"


def validation_spec(config: dict) -> dict:
    """The held-out part of the training set, as the run config records it."""
    return {"fraction": float(_spec(config)["validation_fraction"]), "seed": VALIDATION_SEED}


def steps_per_epoch(config: dict) -> int:
    """Steps of one pass over the images a Fisher run trains on (the validation part held out)."""
    setup = config["setups"][_spec(config)["setup"]]
    n = train_set_size(config, setup["dataset"])
    return math.ceil((n - validation_size(n, validation_spec(config)["fraction"])) / setup["batch_size"])


def total_steps(config: dict) -> int:
    return max(1, round(config["setups"][_spec(config)["setup"]]["epochs"] * steps_per_epoch(config)))


def fisher_run(config: dict, seed: int, lr_scale: float, penalty: dict | None = None, probe: bool = True):
    spec = _spec(config)
    setup = spec["setup"]
    spe = steps_per_epoch(config)
    lr = config["setups"][setup]["lr"] * lr_scale
    schedule = {"kind": "multistep", "lr": lr, "gamma": spec["gamma"],
                "milestones": [int(round(e * spe)) for e in spec["milestones_epochs"]]}
    return resolve_run(config, setup, seed, lr_scale=lr_scale, lr_schedule=schedule, penalty=penalty,
                       probe=spec["probe"] if probe else False, steps=total_steps(config),
                       validation=validation_spec(config))


def penalty_spec(config: dict, kind: str, onset_step: int = 1) -> dict:
    spec = _spec(config)
    return {"kind": kind, "alpha": spec["penalties"][kind], "every": spec["every"],
            "onset_step": onset_step, "every_mode": "reuse"}


def grid_runs(config: dict) -> list:
    spec = _spec(config)
    labels = {"row": "grid", "penalty": None, "onset_epoch": None,
              "validation_fraction": validation_spec(config)["fraction"]}
    return [(fisher_run(config, seed, scale), dict(labels)) for scale in spec["lr_scales"] for seed in spec["seeds"]]


def grid_tag(config: dict) -> str:
    """Names the checkpoint's output: the grid's run ids (each hashes its whole config)."""
    return short_hash(sorted(run.run_id for run, _ in grid_runs(config)))


def small_lr_scale(config: dict, eta_star_scale: float) -> float:
    """lr_scale of the small-LR runs: ``small_lr_scale`` x eta*'s scale, snapped to a grid
    scale it equals to rounding, so that a Baseline that is a grid point is the grid run."""
    scale = eta_star_scale * _spec(config)["small_lr_scale"]
    return next((s for s in _spec(config)["lr_scales"] if math.isclose(s, scale, rel_tol=1e-9)), scale)


def small_lr_runs(config: dict, eta_star_scale: float, parts=SMALL_LR_PARTS) -> list:
    """The Baseline, penalty and onset-sweep runs at ``small_lr_scale`` x the LR of scale
    ``eta_star_scale`` (eta*'s, or 1.0 for the setup's reference lr), the ``parts`` asked for."""
    spec = _spec(config)
    scale = small_lr_scale(config, eta_star_scale)
    mode = spec.get("small_lr_from", "eta_star")
    labels = {"small_lr_from": mode, "eta_star_scale": float(eta_star_scale)}
    entries = []
    if "baseline" in parts:
        entries += [(fisher_run(config, seed, scale), {"row": "Baseline", "penalty": None, "onset_epoch": None,
                                                       **labels}) for seed in spec["seeds"]]
    if "penalties" in parts:
        for kind in spec["penalties"]:
            for seed in spec["seeds"]:
                run = fisher_run(config, seed, scale, penalty_spec(config, kind, onset_after(0)))
                entries.append((run, {"row": PENALTY_LABELS[kind], "penalty": kind, "onset_epoch": 0, **labels}))
    if "onset" in parts:
        spe, steps = steps_per_epoch(config), total_steps(config)
        for epoch in spec["onset_epochs"]:
            if epoch * spe >= steps:
                continue
            for seed in spec["seeds"]:
                # the penalty from the first step after E epochs, as Table 2's delays are applied
                run = fisher_run(config, seed, scale, penalty_spec(config, "fisher", onset_after(epoch * spe)),
                                 probe=False)
                entries.append((run, {"row": "FP onset", "penalty": "fisher", "onset_epoch": epoch, **labels}))
    return entries


def static_small_lr_runs(config: dict, parts=SMALL_LR_PARTS) -> list:
    """The small-LR runs that are known before training (``small_lr_from: reference``)."""
    return [] if after_eta_star(config) else small_lr_runs(config, 1.0, parts)


def assumed_eta_star_scale(config: dict) -> float:
    """What the cost model assumes for eta* before the grid ran: the setup's reference lr."""
    return 1.0


def runs_after_eta_star_cost(runs_after_eta_star, evaluated: bool):
    """The cost hook (:class:`earlyphase.operations.cost.Ledger`) of an experiment's runs at
    eta* x ``small_lr_scale``. eta* is known only once the LR grid has run, so they are counted
    at :func:`assumed_eta_star_scale` (whose small-LR Baseline is then a grid run, counted once)."""

    def add(config: dict, ledger) -> None:
        for run, _ in runs_after_eta_star(config, assumed_eta_star_scale(config)):
            if ledger.add_run(run, evaluated):
                ledger.tally.unknown_eta_runs += 1

    return add
