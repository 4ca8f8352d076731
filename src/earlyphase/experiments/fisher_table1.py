"""Jastrzebski et al. (seed 003) Table 1, SimpleCNN / CIFAR-10 w/o aug.: eta*, Baseline, GPx, GP, FP, GPr.

The LR grid and, at eta*/10, the Baseline and the four penalties; see
:mod:`earlyphase.experiments.fisher`. ID and OOD (CIFAR-10-C) accuracy of every run.
``runs`` lists what is known before training; :func:`runs_after_eta_star` the runs the
workflow adds once the checkpoint has chosen eta* (none with ``small_lr_from: reference``).
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.fisher import (
    after_eta_star,
    grid_runs,
    runs_after_eta_star_cost,
    small_lr_runs,
    static_small_lr_runs,
)
from earlyphase.report import fisher_table1 as fisher_table1_report

CONFIG_KEY = "fisher"
EVALUATED = True
PARTS = ("baseline", "penalties")


def runs(config: dict) -> list:
    return grid_runs(config) + static_small_lr_runs(config, PARTS)


def runs_after_eta_star(config: dict, eta_star_scale: float) -> list:
    return small_lr_runs(config, eta_star_scale, PARTS) if after_eta_star(config) else []


ARTIFACTS = (
    Artifact(
        name="fisher_table1",
        outputs={"tex": "fisher_table1.tex", "csv": "fisher_table1.csv"},
        shown=("csv",),
        tables=("fisher_table1_runs.parquet", "fisher_table1_log-probes.parquet"),
        config_key="fisher",
        extra_costs={"fisher_table1_at_eta_star": runs_after_eta_star_cost(runs_after_eta_star, EVALUATED)},
        render=fisher_table1_report.render,
        caption=(
            "**Fisher explosion, Table 1 row (Jastrzebski et al., seed 003).** SimpleCNN on CIFAR-10 without "
            "augmentation: final test accuracy at the best learning rate η* of a log-spaced grid (chosen by "
            "final accuracy on a validation split held out of the training set, never the test set, once the "
            "grid has finished), at η*/10 (Baseline), and at η*/10 "
            "with the Fisher penalty (FP) and the gradient-norm penalties GP, GPx, GPr; the paper's values "
            "beside ours. Added: CIFAR-10-C accuracy (no paper reported it) and the early maximum of tr(F)."
        ),
        category="Fisher explosion (seed 003)",
        metric_keys=("column",),
    ),
)
