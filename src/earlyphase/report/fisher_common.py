"""Shared pieces of the Fisher-explosion reports (Jastrzebski et al. 2021).

Paper values (Table 1 and Table 4, SimpleCNN / CIFAR-10 w/o aug.) and the choice of eta*:
the LR-grid run (``row == "grid"``) with the best mean final test accuracy over seeds;
diverged grid points are never chosen. The Baseline is the grid point at the small LR.
"""

from __future__ import annotations

import pandas as pd

#: Table 1, test accuracy (%), SimpleCNN / CIFAR-10 (w/o aug.)
PAPER_TABLE1 = {"eta*": 76.94, "Baseline": 71.32, "GPx": 75.68, "GP": 75.73, "FP": 79.66, "GPr": 79.76}
#: Table 4, maximum tr(F) along the trajectory, same runs
PAPER_MAX_TRF = {"eta*": 24.21, "Baseline": 52.05, "GPx": 47.96, "GP": 25.03, "FP": 19.63, "GPr": 25.35}
ROWS = ["eta*", "Baseline", "GPx", "GP", "FP", "GPr"]


def grid_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per grid LR: mean/std ID and OOD accuracy, seeds, diverged count."""
    grid = runs[runs["row"] == "grid"]
    done = grid[grid["status"] == "completed"]
    table = done.groupby("lr").agg(id_mean=("id_acc", "mean"), id_std=("id_acc", "std"),
                                   ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
                                   n_seeds=("seed", "nunique"), lr_scale=("lr_scale", "first"))
    table = table.reindex(sorted(grid["lr"].unique()))  # grid points where every seed diverged stay, as NaN
    table.index.name = "lr"
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["n_diverged"] = grid[grid["status"] != "completed"].groupby("lr").size()
    table["n_diverged"] = table["n_diverged"].fillna(0).astype(int)
    return table.reset_index().sort_values("lr")


def pick_eta_star(runs: pd.DataFrame) -> float:
    table = grid_summary(runs)
    if table.empty or table["id_mean"].isna().all():
        raise ValueError("no completed LR-grid run: cannot pick eta*")
    return float(table.loc[table["id_mean"].idxmax(), "lr"])
