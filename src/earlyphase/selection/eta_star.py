"""eta*: the best learning rate of the Fisher experiment's LR grid (Jastrzebski et al., seed 003).

Seed 003 trains the Baseline and the four penalties at a learning rate 10x smaller than eta*,
the grid point with the best final test accuracy. eta* is known only once the grid runs are
trained and evaluated, so a Snakemake checkpoint (``choose_eta_star`` in
workflow/rules/eta_star.smk) calls :func:`choose_eta_star` on their records and the workflow
adds the small-LR runs after it; the reports pick eta* with the same function from the same
records, so both always agree.

The rule: the mean final test accuracy over seeds of each grid LR, over its completed runs;
a grid point where every seed diverged is never chosen; ties go to the smaller LR.
"""

from __future__ import annotations

import pandas as pd

RULE = "best mean final test accuracy over seeds (completed runs; diverged grid points never chosen)"


def grid_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per grid LR (rows labelled ``row == "grid"``): mean/std ID and OOD accuracy, seeds,
    diverged count, sorted by LR; grid points where every seed diverged stay, as NaN."""
    grid = runs[runs["row"] == "grid"]
    done = grid[grid["status"] == "completed"]
    table = done.groupby("lr").agg(id_mean=("id_acc", "mean"), id_std=("id_acc", "std"),
                                   ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
                                   n_seeds=("seed", "nunique"), lr_scale=("lr_scale", "first"))
    table = table.reindex(sorted(grid["lr"].unique()))
    table.index.name = "lr"
    table["lr_scale"] = grid.groupby("lr")["lr_scale"].first()
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["n_diverged"] = grid[grid["status"] != "completed"].groupby("lr").size()
    table["n_diverged"] = table["n_diverged"].fillna(0).astype(int)
    return table.reset_index().sort_values("lr")


def choose_eta_star(runs: pd.DataFrame) -> dict:
    """eta* of the grid runs in ``runs`` (aggregated run records) and the grid it was chosen
    from, as the JSON the checkpoint stores: ``{eta_star, lr_scale, rule, grid: [...]}``."""
    table = grid_summary(runs)
    if table.empty or table["id_mean"].isna().all():
        raise ValueError("no completed LR-grid run: cannot pick eta*")
    best = table.loc[table["id_mean"].idxmax()]  # first maximum in LR order: ties go to the smaller LR
    grid = [{"lr": float(r.lr), "lr_scale": float(r.lr_scale), "id_mean": None if pd.isna(r.id_mean) else
             float(r.id_mean), "n_seeds": int(r.n_seeds), "n_diverged": int(r.n_diverged)}
            for r in table.itertuples()]
    return {"eta_star": float(best["lr"]), "lr_scale": float(best["lr_scale"]), "rule": RULE, "grid": grid}
