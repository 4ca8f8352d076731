"""The scale ladder's figure: does gradual unfreezing's effect grow with training compute?

Three panels against the training compute of one run (log scale): the paired GU - standard
difference of OOD accuracy and of ID accuracy (mean over seeds, thick bar: the 95 % interval,
thin bar: the interval adjusted for its set's multiplicity), and the absolute OOD accuracy of the
standard and the GU rows. Colour: the learning rate (lr_d, 0.1·lr_d); marker: the data set. The
paper's own difference, where it reports the data set, is a dashed line in the colour of its
learning rate.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from earlyphase.report._common import save_figure

LR_COLORS = dict(zip(("lr_d", "0.1·lr_d"), sns.color_palette("deep", 2), strict=True))
MARKERS = ("o", "s", "^", "D", "v", "P")
# Points of the two learning rates at one compute sit side by side, not on top of each other.
LR_NUDGE = {"lr_d": 0.97, "0.1·lr_d": 1.03}


def _difference_panel(ax: plt.Axes, points: pd.DataFrame, metric: str, markers: dict) -> None:
    for (lr, dataset), group in points.groupby(["lr", "dataset"], sort=False):
        x = group["flops_per_run"].to_numpy(dtype=float) * LR_NUDGE.get(lr, 1.0)
        y = group[f"{metric}_diff"].to_numpy(dtype=float)
        color = LR_COLORS.get(lr, "k")
        for low, high, width in (("adj_low", "adj_high", 0.8), ("ci_low", "ci_high", 2.6)):
            ax.vlines(x, group[f"{metric}_{low}"], group[f"{metric}_{high}"], color=color, lw=width, alpha=0.75)
        ax.plot(x, y, ls="", marker=markers[dataset], color=color, ms=6, mec="k", mew=0.6,
                label=f"{dataset}, {lr}")
    for (lr, dataset), group in points.groupby(["lr", "dataset"], sort=False):
        paper = group[f"{metric}_paper_diff"].dropna()
        if not paper.empty:
            ax.axhline(float(paper.iloc[0]), color=LR_COLORS.get(lr, "k"), ls="--", lw=1.0,
                       label=f"paper, {dataset}, {lr}")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("training compute of one run (FLOPs)")


def _absolute_panel(ax: plt.Axes, points: pd.DataFrame, markers: dict) -> None:
    for (lr, dataset), group in points.groupby(["lr", "dataset"], sort=False):
        x = group["flops_per_run"].to_numpy(dtype=float) * LR_NUDGE.get(lr, 1.0)
        color = LR_COLORS.get(lr, "k")
        ax.plot(x, group["standard_ood"], ls=":", marker=markers[dataset], mfc="white", color=color, ms=6)
        ax.plot(x, group["gu_ood"], ls="-", marker=markers[dataset], color=color, ms=6)
    ax.set_xscale("log")
    ax.set_xlabel("training compute of one run (FLOPs)")
    ax.set_ylabel("OOD accuracy (%)")
    ax.plot([], [], "k:", marker="o", mfc="white", label="standard")
    ax.plot([], [], "k-", marker="o", label="GU")


def plot_scale_ladder(points: pd.DataFrame, out_stem: Path | str) -> list[str]:
    """Draw the ladder from :func:`earlyphase.records.scale_ladder.ladder`'s frame."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.05)
    markers = {dataset: MARKERS[i % len(MARKERS)] for i, dataset in enumerate(dict.fromkeys(points["dataset"]))}
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.9))
    _difference_panel(axes[0], points, "ood", markers)
    axes[0].set_ylabel("GU − standard, OOD accuracy (points)")
    axes[0].set_title("(a) OOD gain of gradual unfreezing", fontsize=10)
    _difference_panel(axes[1], points, "id", markers)
    axes[1].set_ylabel("GU − standard, ID accuracy (points)")
    axes[1].set_title("(b) ID change", fontsize=10)
    _absolute_panel(axes[2], points, markers)
    axes[2].set_title("(c) OOD accuracy of each row", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    more_handles, more_labels = axes[2].get_legend_handles_labels()
    fig.legend(handles + more_handles, labels + more_labels, loc="lower center", ncol=4, frameon=False,
               fontsize=8, bbox_to_anchor=(0.5, -0.14))
    n_sets = points["set"].nunique()
    fig.suptitle(f"Scale ladder: Table 1's paired GU − standard differences against compute ({n_sets} published "
                 "sets; thick bars 95 % intervals, thin bars multiplicity-adjusted)", fontsize=10)
    fig.tight_layout()
    lo, hi = points["flops_per_run"].min(), points["flops_per_run"].max()
    for ax in axes:
        ax.set_xlim(lo / 2, hi * 2)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # 2x10^12 ... collide
    return save_figure(fig, out_stem)
