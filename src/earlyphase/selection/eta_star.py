"""eta*: the best learning rate of the Fisher experiment's LR grid (Jastrzebski et al., seed 003).

Seed 003 trains the Baseline and the four penalties at a learning rate 10x smaller than eta*,
the best point of an LR grid. eta* is known only once the grid runs are trained and
evaluated, so a Snakemake checkpoint (``choose_eta_star`` in workflow/rules/eta_star.smk)
calls :func:`choose_eta_star` on their records and the workflow adds the small-LR runs after
it; the reports pick eta* with the same function from the same records, so both always agree.

The rule: the mean final *validation* accuracy over seeds of each grid LR, over its completed
runs; the validation set is a fixed held-out part of the training set that no grid run trained
on (``experiments.fisher.validation_fraction``, :mod:`earlyphase.data.validation_split`).
The test set is never looked at: records without a validation accuracy are refused, not
ranked by test accuracy. A grid point where every seed diverged is never chosen; ties go to
the smaller LR.
"""

from __future__ import annotations

import pandas as pd

RULE = ("best mean final validation accuracy over seeds (a held-out part of the training set, never the test "
        "set; completed runs; diverged grid points never chosen)")


def grid_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per grid LR (rows labelled ``row == "grid"``): mean/std validation, ID (test) and OOD
    accuracy, seeds, diverged count, sorted by LR; grid points where every seed diverged stay,
    as NaN. ``val_mean`` is NaN throughout for records without a validation accuracy."""
    grid = runs[runs["row"] == "grid"]
    if "val_acc" not in grid:
        grid = grid.assign(val_acc=float("nan"))
    done = grid[grid["status"] == "completed"]
    table = done.groupby("lr").agg(val_mean=("val_acc", "mean"), val_std=("val_acc", "std"),
                                   id_mean=("id_acc", "mean"), id_std=("id_acc", "std"),
                                   ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
                                   n_seeds=("seed", "nunique"), lr_scale=("lr_scale", "first"))
    table = table.reindex(sorted(grid["lr"].unique()))
    table.index.name = "lr"
    table["lr_scale"] = grid.groupby("lr")["lr_scale"].first()
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["n_diverged"] = grid[grid["status"] != "completed"].groupby("lr").size()
    table["n_diverged"] = table["n_diverged"].fillna(0).astype(int)
    return table.reset_index().sort_values("lr")


def _check_validation(runs: pd.DataFrame) -> None:
    """Every completed grid run must carry its validation accuracy; never fall back on test."""
    done = runs[(runs["row"] == "grid") & (runs["status"] == "completed")]
    missing = done if "val_acc" not in done else done[done["val_acc"].isna()]
    if len(missing):
        names = ", ".join(str(r) for r in missing.get("run_id", missing.index)[:3])
        raise ValueError(
            f"{len(missing)} completed LR-grid run(s) have no validation accuracy (e.g. {names}): eta* is chosen "
            "on a validation split held out of the training set, never on the test set. Train and evaluate the "
            "grid with experiments.fisher.validation_fraction set (the evaluation then writes split 'val').")


def choose_eta_star(runs: pd.DataFrame) -> dict:
    """eta* of the grid runs in ``runs`` (aggregated run records with ``val_acc``) and the grid
    it was chosen from, as the JSON the checkpoint stores: ``{eta_star, lr_scale, rule, split,
    grid: [...]}``."""
    table = grid_summary(runs)
    if table.empty or (table["n_seeds"] == 0).all():
        raise ValueError("no completed LR-grid run: cannot pick eta*")
    _check_validation(runs)
    best = table.loc[table["val_mean"].idxmax()]  # first maximum in LR order: ties go to the smaller LR

    def number(value):
        return None if pd.isna(value) else float(value)

    grid = [{"lr": float(r.lr), "lr_scale": float(r.lr_scale), "val_mean": number(r.val_mean),
             "id_mean": number(r.id_mean), "n_seeds": int(r.n_seeds), "n_diverged": int(r.n_diverged)}
            for r in table.itertuples()]
    return {"eta_star": float(best["lr"]), "lr_scale": float(best["lr_scale"]), "rule": RULE,
            "split": "validation", "grid": grid}
