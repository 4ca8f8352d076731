"""Shared pieces of the Fisher-explosion reports (Jastrzebski et al. 2021).

Paper values (Table 1 and Table 4, SimpleCNN / CIFAR-10 w/o aug.) and the choice of eta*:
the LR-grid run (``row == "grid"``) with the best mean final validation accuracy over seeds,
on a part of the training set the runs held out (never the test set); diverged grid points
are never chosen (:mod:`earlyphase.selection.eta_star`, the rule the workflow's
checkpoint applies). The Baseline (``row == "Baseline"``) and the penalties ran at the small
LR, eta* x small_lr_scale.
"""

from __future__ import annotations

import pandas as pd

from earlyphase.selection.eta_star import choose_eta_star, grid_summary

__all__ = ["PAPER_MAX_TRF", "PAPER_TABLE1", "ROWS", "grid_summary", "pick_eta_star", "small_lr_note",
           "small_lr_rows"]

#: Table 1, test accuracy (%), SimpleCNN / CIFAR-10 (w/o aug.)
PAPER_TABLE1 = {"eta*": 76.94, "Baseline": 71.32, "GPx": 75.68, "GP": 75.73, "FP": 79.66, "GPr": 79.76}
#: Table 4, maximum tr(F) along the trajectory, same runs
PAPER_MAX_TRF = {"eta*": 24.21, "Baseline": 52.05, "GPx": 47.96, "GP": 25.03, "FP": 19.63, "GPr": 25.35}
ROWS = ["eta*", "Baseline", "GPx", "GP", "FP", "GPr"]


def pick_eta_star(runs: pd.DataFrame) -> float:
    """eta* by the rule the workflow's checkpoint applies (:mod:`earlyphase.selection.eta_star`)."""
    return choose_eta_star(runs)["eta_star"]


def small_lr_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs at eta* x small_lr_scale (Baseline, penalties, onset sweep)."""
    return runs[runs["row"] != "grid"]


def small_lr_note(runs: pd.DataFrame) -> str:
    """Where the small LR came from: eta* chosen after the grid, or the fixed reference lr."""
    small = small_lr_rows(runs)
    if small.empty:
        return ""
    lr = float(small["lr"].iloc[0])
    if "small_lr_from" in small and (small["small_lr_from"] == "reference").all():
        return f"{lr:.3g}, fixed before training as a multiple of the setup's reference LR, not of $\\eta^*$"
    return f"{lr:.3g} $= \\eta^*/10$, $\\eta^*$ chosen once the grid had finished"
