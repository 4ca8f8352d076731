"""Aggregation: per-run records (config, status, evaluation) into tidy pandas tables.

One row per run, with its identifying parameters, its status (completed / diverged and
where), ID accuracy, OOD accuracy averaged over the configured corruptions and
severities, and ``val_acc``, the accuracy on the held-out validation split of runs that
have one (a table of runs without one has no such column). Tables and figures are built from these rows only.
The records are read through :class:`~earlyphase.records.run_record.RunRecord`.
"""

from __future__ import annotations

import pandas as pd

from earlyphase.records.run_record import RunRecord


def run_row(record: RunRecord) -> dict:
    """The tidy row of one run (accuracies in percent; NaN for diverged or unevaluated runs)."""
    config, status = record.config, record.status
    if record.eval_path is None:
        evaluation = pd.DataFrame({"split": ["id"], "accuracy": [float("nan")]})
    else:
        evaluation = record.evaluation
    ood = evaluation[evaluation["split"] == "ood"]
    val = evaluation[evaluation["split"] == "val"]
    row = {
        "setup": config["setup"],
        "dataset": config["data"]["dataset"],
        "data_source": config["data"].get("source"),  # "offline": a stand-in, not the real data set
        "arch": config["arch"],
        "optimizer": config["optimizer"],
        "lr": config["lr"],
        "lr_scale": config["lr_scale"],
        "gu_k": config["gu_k"],
        "seed": config["seed"],
        "total_steps": config["total_steps"],
        "status": status["status"],
        "diverged_at": status["diverged_at"],
        "id_acc": float(evaluation.loc[evaluation["split"] == "id", "accuracy"].iloc[0]),
        "ood_acc": float(ood["accuracy"].mean()) if len(ood) else float("nan"),
        "ood_cells": len(ood),
    }
    if len(val):  # held-out training images, what eta* is chosen on; other runs' rows stay as they were
        row["val_acc"] = float(val["accuracy"].iloc[0])
    return row


def collect(manifest: list[dict]) -> pd.DataFrame:
    """Rows for every entry of ``manifest`` ({run_id, final_dir, eval_path, **labels})."""
    rows = []
    for entry in manifest:
        labels = {k: v for k, v in entry.items() if k not in ("final_dir", "eval_path")}
        rows.append({**labels, **run_row(RunRecord(entry["final_dir"], entry["eval_path"]))})
    return pd.DataFrame(rows)


def summarize(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean, std and seed counts of ID/OOD accuracy per group; diverged runs counted apart."""
    completed = runs[runs["status"] == "completed"]
    stats = completed.groupby(by, dropna=False).agg(
        id_mean=("id_acc", "mean"), id_std=("id_acc", "std"),
        ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
        n_seeds=("seed", "nunique"),
    )
    diverged = runs[runs["status"] == "diverged"].groupby(by, dropna=False).size().rename("n_diverged")
    groups = runs.groupby(by, dropna=False).size().rename("n_runs")
    table = pd.concat([groups, stats, diverged], axis=1).reset_index()
    table["n_seeds"] = table["n_seeds"].fillna(0).astype(int)
    table["n_diverged"] = table["n_diverged"].fillna(0).astype(int)
    return table
