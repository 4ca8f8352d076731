"""Berariu et al. (2021) Figure 2 / Figure 6: warm start against training from scratch.

x: epochs of pre-training on the fixed half of the training set (0 = from scratch); y: mean
test accuracy over the last N epochs of the full-data phase (evaluated every epoch inside the
training job; left) and OOD accuracy of the final model on the corrupted test set (right; not
in the paper).
Layer-reset variants (blocks re-initialized after pre-training) are drawn as separate markers
at their pre-training length. Mean and std over seeds. Also writes a CSV beside the figure.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from earlyphase.report._common import save_figure, write_csv
from earlyphase.report.data_names import data_names


def warm_start_table(runs: pd.DataFrame, test_log: pd.DataFrame) -> pd.DataFrame:
    last = test_log.groupby("run_id")["test_acc"].agg(last_mean="mean", n_evals="size")
    rows = runs.join(last, on="run_id")
    done = rows[rows["status"] == "completed"]
    table = done.groupby(["reset", "pretrain_epochs"]).agg(
        last_mean=("last_mean", "mean"), last_std=("last_mean", "std"), n_evals=("n_evals", "first"),
        final_id=("id_acc", "mean"), ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
        n_seeds=("seed", "nunique")).reset_index()
    scratch = table[(table["reset"] == "none") & (table["pretrain_epochs"] == 0)]
    if len(scratch):
        table["gap_vs_scratch"] = table["last_mean"] - float(scratch["last_mean"].iloc[0])
    return table.sort_values(["reset", "pretrain_epochs"])


def plot_warm_start(runs: pd.DataFrame, test_log: pd.DataFrame, out_pdf: Path) -> pd.DataFrame:
    table = warm_start_table(runs, test_log)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    plain = table[table["reset"] == "none"]
    resets = table[table["reset"] != "none"]
    markers = iter("sD^v<>ph*")
    data, corrupted = data_names(runs)
    for ax, key, std, label in ((axes[0], "last_mean", "last_std", "test accuracy, mean of last epochs (%)"),
                                (axes[1], "ood_mean", "ood_std", f"{corrupted} accuracy, final model (%)")):
        ax.errorbar(plain["pretrain_epochs"], plain[key], yerr=plain[std].fillna(0), marker="o", capsize=3,
                    label="warm start (no reset)")
        scratch = plain[plain["pretrain_epochs"] == 0]
        if len(scratch):
            ax.axhline(float(scratch[key].iloc[0]), color="0.3", ls="--", lw=1, label="from scratch")
        for reset, sub in resets.groupby("reset"):
            ax.errorbar(sub["pretrain_epochs"], sub[key], yerr=sub[std].fillna(0), ls="none",
                        marker=next(markers, "x"), capsize=3, label=f"reset blocks {reset}")
        ax.set_xlabel("pre-training epochs on half of the data")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Warm start vs from scratch (Berariu et al.), ResNet-18 on {data}")
    fig.tight_layout()
    save_figure(fig, out_pdf)
    return table


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    table = plot_warm_start(tables[0], tables[1], out)
    write_csv(table, out.with_suffix(".csv"))

