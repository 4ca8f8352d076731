"""Jastrzebski et al. (2021) Figure 3: final accuracy against the epoch the Fisher penalty starts.

x: onset epoch E (0 = from the start; log-scaled with 0 drawn at the left), y: final test
accuracy (left panel) and OOD accuracy on the corrupted test set (right panel, not in the paper), mean and std
over seeds. Horizontal lines: eta* (best LR of the grid) and the Baseline (eta*/10, no
penalty). The paper's finding: FP closes the gap only when applied early.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from earlyphase.report._common import save_figure
from earlyphase.report.data_names import data_names
from earlyphase.report.fisher_common import grid_summary, pick_eta_star, small_lr_rows


def onset_summary(runs: pd.DataFrame) -> pd.DataFrame:
    fp = runs[(runs["penalty"] == "fisher") & (runs["status"] == "completed")]
    return (fp.groupby("onset_epoch").agg(id_mean=("id_acc", "mean"), id_std=("id_acc", "std"),
                                          ood_mean=("ood_acc", "mean"), ood_std=("ood_acc", "std"),
                                          n_seeds=("seed", "nunique"))
            .reset_index().sort_values("onset_epoch"))


def plot_onset(runs: pd.DataFrame, out_pdf: Path) -> pd.DataFrame:
    table = onset_summary(runs)
    grid = grid_summary(runs).set_index("lr")
    eta_star = pick_eta_star(runs)
    baseline = runs[(runs["row"] == "Baseline") & (runs["status"] == "completed")]
    small = float(small_lr_rows(runs)["lr"].iloc[0])
    xs = np.maximum(table["onset_epoch"].to_numpy(dtype=float), 0.5)  # E = 0 drawn at 0.5
    data, corrupted = data_names(runs)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, key, title in ((axes[0], "id", "test accuracy (%)"), (axes[1], "ood", f"{corrupted} accuracy (%)")):
        ax.errorbar(xs, table[f"{key}_mean"], yerr=table[f"{key}_std"].fillna(0), marker="o", capsize=3,
                    label="FP from epoch E")
        references = ((grid.loc[eta_star, f"{key}_mean"], "tab:red", f"η* = {eta_star:.3g}"),
                      (baseline[f"{key}_acc"].mean(), "tab:blue", f"baseline, η = {small:.3g}"))
        for level, color, name in references:
            if not pd.isna(level):
                ax.axhline(level, color=color, ls="--", lw=1, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [("0" if e == 0 else f"{e:g}") for e in table["onset_epoch"]])
        ax.set_xlabel("onset epoch E of the Fisher penalty")
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Fisher penalty onset (Jastrzebski et al., Fig. 3): SimpleCNN, {data} w/o aug.")
    fig.tight_layout()
    save_figure(fig, out_pdf)
    return table


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    plot_onset(tables[0], out)
