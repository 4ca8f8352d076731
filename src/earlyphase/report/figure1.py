"""Figure 1 of Liu & Gurevych: change in ID and OOD accuracy against the unfreezing interval k.

For each setup and learning rate, the accuracy of gradual unfreezing at interval k minus
that of standard training at the same learning rate and seed; log-scaled k; mean and
standard deviation over seeds. The paper's observation: a small k leaves ID accuracy
unchanged but can improve OOD accuracy, a large k hurts both.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker
import pandas as pd
import seaborn as sns

from earlyphase.report._common import save_figure
from earlyphase.report.paper_values import SETUP_TITLES


def lr_label(lr_scale: float) -> str:
    return "lr_d" if lr_scale == 1.0 else f"{lr_scale:g}·lr_d"


def accuracy_changes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per GU run: ΔID and ΔOOD against the standard run of the same setup, lr and seed."""
    completed = runs[runs["status"] == "completed"]
    base = completed[completed["gu_k"].isna()].set_index(["setup", "lr_scale", "seed"])[["id_acc", "ood_acc"]]
    gu = completed[completed["gu_k"].notna()].copy()
    joined = gu.join(base.add_suffix("_std"), on=["setup", "lr_scale", "seed"])
    joined["delta_id"] = joined["id_acc"] - joined["id_acc_std"]
    joined["delta_ood"] = joined["ood_acc"] - joined["ood_acc_std"]
    return joined.dropna(subset=["delta_id", "delta_ood"])


def plot_points(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Figure 1's curves as points for DVC plots: per setup (panel), learning rate (series) and
    k, the mean ΔID and ΔOOD over seeds and the number of seeds."""
    changes = accuracy_changes(tables[0]).assign(series=lambda f: f["lr_scale"].map(lr_label))
    points = changes.groupby(["setup", "series", "gu_k"], sort=True).agg(
        delta_id=("delta_id", "mean"), delta_ood=("delta_ood", "mean"), n_seeds=("seed", "nunique")).reset_index()
    points["panel"] = points["setup"].map(lambda s: SETUP_TITLES.get(s, s))
    points["k"] = points["gu_k"].astype(int)
    return points[["panel", "series", "k", "delta_id", "delta_ood", "n_seeds"]]


def labelled_ticks(ks: list[int], min_ratio: float = 1.3) -> set[int]:
    """The k whose tick gets a label: each at least ``min_ratio`` times the previous labelled
    one, so that neighbours such as 38 and 41 do not print over each other on a log axis."""
    labelled = []
    for k in sorted(ks):
        if not labelled or k >= labelled[-1] * min_ratio:
            labelled.append(k)
    return set(labelled)


def plot_figure1(runs: pd.DataFrame, out_stem: Path | str) -> pd.DataFrame:
    """Write ``<out_stem>.pdf`` and ``.png``; return the plotted changes."""
    changes = accuracy_changes(runs)
    long = changes.melt(id_vars=["setup", "lr_scale", "gu_k", "seed"], value_vars=["delta_id", "delta_ood"],
                        var_name="metric", value_name="change")
    long["metric"] = long["metric"].map({"delta_id": "Δ ID accuracy (pp)", "delta_ood": "Δ OOD accuracy (pp)"})
    long["learning rate"] = long["lr_scale"].map(lr_label)
    setups = list(dict.fromkeys(runs["setup"]))
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    grid = sns.relplot(data=long, x="gu_k", y="change", hue="learning rate", col="setup", row="metric",
                       kind="line", marker="o", errorbar="sd", col_order=setups,
                       facet_kws={"sharey": False, "sharex": False}, height=2.8, aspect=1.35)
    for (metric, setup), ax in grid.axes_dict.items():
        ax.set_xscale("log")
        ks = sorted(long.loc[long["setup"] == setup, "gu_k"].unique())
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ks))  # label the k actually run
        shown = labelled_ticks(ks)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda k, _, shown=shown: f"{k:.0f}" if round(k) in shown else ""))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
        ax.set_title(f"{SETUP_TITLES.get(setup, setup)}" if metric.startswith("Δ ID") else "")
        ax.set_xlabel("unfreezing interval k (steps)")
        ax.set_ylabel(metric)
    grid.figure.suptitle("Gradual unfreezing vs standard training (Liu & Gurevych, Fig. 1)", y=1.02)
    grid.figure.subplots_adjust(wspace=0.35, hspace=0.35)
    save_figure(grid.figure, out_stem)
    return changes


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    """CLI entry: ``out`` is the .pdf path; the .png lands beside it."""
    plot_figure1(tables[0], out.with_suffix(""))
