"""Jastrzebski et al. (seed 003) Table 1, SimpleCNN / CIFAR-10 w/o aug.: eta*, Baseline, GPx, GP, FP, GPr.

The LR grid (eta* is picked in the report) and the four penalties at the small LR; see
:mod:`earlyphase.experiments.fisher`. ID and OOD (CIFAR-10-C) accuracy of every run.
"""

from __future__ import annotations

from earlyphase.experiments.fisher import grid_runs, penalty_runs

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    return grid_runs(config) + penalty_runs(config)
