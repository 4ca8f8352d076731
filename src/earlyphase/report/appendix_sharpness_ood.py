"""arXiv v1 Appendix C (Figure 5): curvature of the final solutions against OOD accuracy.

Tables: Table 1's runs (aggregate, with OOD accuracy) and their post-hoc probes (Hessian
λ_max, S_worst, S_avg of the final model on fixed un-augmented training points, BatchNorm
in eval mode). One panel per setup and metric, one point per run, coloured by Table 1 row;
log x for λ_max. The paper's point: lower final sharpness does not consistently mean
better OOD accuracy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from earlyphase.probes.registry import labels
from earlyphase.report._common import save_figure
from earlyphase.report.paper_values import SETUP_TITLES

# Post-hoc probes of the final model (Appendix C), in panel order.
METRICS = {name: f"{label} (final)"
           for name, label in labels(["hessian_max_eig", "worst_sharpness", "avg_sharpness"]).items()}


def joined(runs: pd.DataFrame, posthoc: pd.DataFrame) -> pd.DataFrame:
    metrics = [m for m in METRICS if m in posthoc.columns]
    data = runs.merge(posthoc[["run_id", *metrics]], on="run_id", how="inner")
    return data[data["status"] == "completed"]


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    data = joined(tables[0], tables[1])
    metrics = [m for m in METRICS if m in data.columns]
    setups = list(dict.fromkeys(data["setup"]))
    if not setups or not metrics:
        raise ValueError("no completed run with post-hoc probes to plot")
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(len(setups), len(metrics), figsize=(3.4 * len(metrics), 2.8 * len(setups)),
                             squeeze=False)
    for row, setup in enumerate(setups):
        part = data[data["setup"] == setup]
        for col, metric in enumerate(metrics):
            ax = axes[row, col]
            sns.scatterplot(data=part, x=metric, y="ood_acc", hue="row", style="row", ax=ax, s=40,
                            legend=(row == 0 and col == len(metrics) - 1))
            if metric == "hessian_max_eig" and (part[metric] > 0).all():
                ax.set_xscale("log")
            ax.set_xlabel(METRICS[metric])
            ax.set_ylabel(f"{SETUP_TITLES.get(setup, setup)}\nOOD accuracy (%)" if col == 0 else "")
    legend = axes[0, -1].get_legend()
    if legend is not None:
        legend.set_bbox_to_anchor((1.02, 1.0))
        legend.set_loc("upper left")
    fig.suptitle("Final-solution curvature vs OOD accuracy (Liu & Gurevych v1, Fig. 5)", y=1.02)
    fig.tight_layout()
    save_figure(fig, out.with_suffix(""))
