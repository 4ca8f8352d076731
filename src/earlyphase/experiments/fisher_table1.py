"""Jastrzebski et al. (seed 003) Table 1, SimpleCNN / CIFAR-10 w/o aug.: eta*, Baseline, GPx, GP, FP, GPr.

The LR grid (eta* is picked in the report) and the four penalties at the small LR; see
:mod:`earlyphase.experiments.fisher`. ID and OOD (CIFAR-10-C) accuracy of every run.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.fisher import grid_runs, penalty_runs
from earlyphase.report import fisher_table1 as fisher_table1_report

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    return grid_runs(config) + penalty_runs(config)


ARTIFACTS = (
    Artifact(
        name="fisher_table1",
        outputs={"tex": "fisher_table1.tex", "csv": "fisher_table1.csv"},
        shown=("csv",),
        tables=("fisher_table1_runs.parquet", "fisher_table1_log-probes.parquet"),
        config_key="fisher",
        render=fisher_table1_report.render,
        caption=(
            "**Fisher explosion, Table 1 row (Jastrzebski et al., seed 003).** SimpleCNN on CIFAR-10 without "
            "augmentation: final test accuracy at the best learning rate η* of a log-spaced grid (picked by "
            "final test accuracy), at a 10× smaller learning rate (Baseline), and at that small learning rate "
            "with the Fisher penalty (FP) and the gradient-norm penalties GP, GPx, GPr; the paper's values "
            "beside ours. Added: CIFAR-10-C accuracy (no paper reported it) and the early maximum of tr(F)."
        ),
        category="Fisher explosion (seed 003)",
        metric_keys=("column",),
    ),
)
