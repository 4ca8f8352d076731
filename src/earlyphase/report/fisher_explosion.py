"""Catastrophic Fisher explosion (Jastrzebski et al. 2021, Figs. 1-2, 18).

Left: tr(F) (per-example Fisher trace on fixed training points, recorded inline every
``probe.every`` steps over the early window) against the step, one curve per learning rate of
the grid (mean over seeds). Middle and right: early tr(F), its maximum over the probed window
(the paper's tr(F_i), taken where tr(F) peaks), against the final test accuracy and the
CIFAR-10-C accuracy, one point per run, coloured by learning rate. The paper's claim: small
learning rates reach a large early tr(F), and a large early tr(F) goes with worse accuracy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from earlyphase.report._common import save_figure
from earlyphase.report.data_names import data_names


def early_trace(runs: pd.DataFrame, probes: pd.DataFrame) -> pd.DataFrame:
    peak = probes.groupby("run_id")["fisher_trace"].max().rename("early_trF")
    return runs.join(peak, on="run_id")


def plot_explosion(runs: pd.DataFrame, probes: pd.DataFrame, out_pdf: Path) -> pd.DataFrame:
    points = early_trace(runs, probes)
    lrs = sorted(points["lr"].unique())
    colors = dict(zip(lrs, plt.cm.viridis(np.linspace(0, 0.9, len(lrs))), strict=True))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    curves = probes.groupby(["lr", "step"])["fisher_trace"].mean().reset_index()
    for lr in lrs:
        c = curves[curves["lr"] == lr]
        axes[0].plot(c["step"], c["fisher_trace"], color=colors[lr], label=f"η = {lr:.3g}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("tr(F)")
    axes[0].set_title("tr(F) over the early phase")
    axes[0].legend(fontsize=7)
    done = points[points["status"] == "completed"]
    data, corrupted = data_names(points)
    for ax, key, label in ((axes[1], "id_acc", "final test accuracy (%)"),
                           (axes[2], "ood_acc", f"{corrupted} accuracy (%)")):
        for lr in lrs:
            sub = done[done["lr"] == lr]
            ax.scatter(sub["early_trF"], sub[key], color=colors[lr], s=30, label=f"η = {lr:.3g}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("early tr(F) (max over the probe window)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_title("early tr(F) vs final accuracy")
    axes[2].set_title("... and OOD accuracy (not in the paper)")
    fig.suptitle(f"Catastrophic Fisher explosion (Jastrzebski et al.): SimpleCNN, {data} w/o aug.")
    fig.tight_layout()
    save_figure(fig, out_pdf)
    return points


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    plot_explosion(tables[0], tables[1], out)
