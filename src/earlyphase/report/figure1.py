"""Figure 1 of Liu & Gurevych: change in ID and OOD accuracy against the unfreezing interval k.

For each setup and learning rate, the accuracy of gradual unfreezing at interval k minus
that of standard training at the same learning rate and seed; log-scaled k; mean and
standard deviation over seeds. The paper's observation: a small k leaves ID accuracy
unchanged but can improve OOD accuracy, a large k hurts both.

The curve joins the k of the log grid only. A k added to the grid (``k_extra``, e.g. Table 1's
k) can sit next to a grid point (38 beside 41): joined to the curve it would make the line
zig-zag between two points a reader cannot tell apart, so it is drawn as a separate marker
with its own error bar and named in the legend. The note under the figure says what the
band is and, where Table 1 reports the same setting from other seeds, which seeds each uses.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd
import seaborn as sns

from earlyphase.report._common import save_figure
from earlyphase.report.paper_values import SETUP_TITLES

METRICS = (("delta_id", "Δ ID accuracy (pp)"), ("delta_ood", "Δ OOD accuracy (pp)"))
X_LABEL = "unfreezing interval k (log scale)"
BAND_ALPHA = 0.2


def lr_label(lr_scale: float) -> str:
    return "lr_d" if lr_scale == 1.0 else f"{lr_scale:g}·lr_d"


def seed_list(seeds) -> str:
    """Seeds as a reader reads them: "0–3" for a run of consecutive seeds, else "0, 2, 5"."""
    seeds = sorted({int(s) for s in seeds})
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    if len(seeds) == 2 and seeds[1] == seeds[0] + 1:
        return f"{seeds[0]}–{seeds[1]}"
    return ", ".join(str(s) for s in seeds)


def accuracy_changes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per GU run: ΔID and ΔOOD against the standard run of the same setup, lr and seed.
    ``k_on_grid`` and ``table1_seeds`` come from the run labels (tables without them: every
    k on the grid, no Table 1 setting)."""
    completed = runs[runs["status"] == "completed"]
    base = completed[completed["gu_k"].isna()].set_index(["setup", "lr_scale", "seed"])[["id_acc", "ood_acc"]]
    gu = completed[completed["gu_k"].notna()].copy()
    joined = gu.join(base.add_suffix("_std"), on=["setup", "lr_scale", "seed"])
    joined["delta_id"] = joined["id_acc"] - joined["id_acc_std"]
    joined["delta_ood"] = joined["ood_acc"] - joined["ood_acc_std"]
    joined["k"] = joined["gu_k"].astype(int)
    joined["k_on_grid"] = joined["k_on_grid"].astype(bool) if "k_on_grid" in joined else True
    joined["table1_seeds"] = joined["table1_seeds"].fillna("") if "table1_seeds" in joined else ""
    return joined.dropna(subset=["delta_id", "delta_ood"])


def point_stats(changes: pd.DataFrame) -> pd.DataFrame:
    """Per setup, learning rate and k: mean and SD of both changes over seeds, the seeds."""
    grouped = changes.groupby(["setup", "lr_scale", "k", "k_on_grid"], sort=True)
    stats = grouped.agg(delta_id=("delta_id", "mean"), delta_id_sd=("delta_id", "std"),
                        delta_ood=("delta_ood", "mean"), delta_ood_sd=("delta_ood", "std"),
                        n_seeds=("seed", "nunique"), seeds=("seed", lambda s: tuple(sorted(set(s)))),
                        table1_seeds=("table1_seeds", "first")).reset_index()
    # One seed has no spread: no band, rather than a missing point.
    return stats.fillna({"delta_id_sd": 0.0, "delta_ood_sd": 0.0})


def series_name(lr_scale: float, on_grid: bool) -> str:
    return lr_label(lr_scale) if on_grid else f"{lr_label(lr_scale)}, k off the log grid"


def plot_points(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Figure 1's curves as points for DVC plots: per setup (panel), series and k, the mean
    ΔID and ΔOOD over seeds and the number of seeds. A k off the log grid is a series of its
    own, so DVC does not join it to the curve either."""
    points = point_stats(accuracy_changes(tables[0]))
    points["panel"] = points["setup"].map(lambda s: SETUP_TITLES.get(s, s))
    points["series"] = [series_name(lr, grid)
                        for lr, grid in zip(points["lr_scale"], points["k_on_grid"], strict=True)]
    return points[["panel", "series", "k", "delta_id", "delta_ood", "n_seeds"]]


def labelled_ticks(ks: list[int], min_ratio: float = 1.3) -> set[int]:
    """The k whose tick gets a label: each at least ``min_ratio`` times the previous labelled
    one, so that neighbours do not print over each other on a log axis."""
    labelled: list[int] = []
    for k in sorted(ks):
        if not labelled or k >= labelled[-1] * min_ratio:
            labelled.append(k)
    return set(labelled)


def band_label(stats: pd.DataFrame) -> str:
    """What the shaded band is, with the seed count of the grid points ("n = 1–2" if it varies)."""
    counts = stats.loc[stats["k_on_grid"], "n_seeds"] if stats["k_on_grid"].any() else stats["n_seeds"]
    low, high = min(counts), max(counts)
    return f"±1 SD over n = {low} seeds" if low == high else f"±1 SD over n = {low}–{high} seeds"


def caption_note(stats: pd.DataFrame) -> str:
    """What the lines, the band and the separate markers are, and which seeds each point uses
    where Table 1 reports the same setting from other seeds."""
    extra = stats[~stats["k_on_grid"]]
    sentences = [
        "Lines: mean over seeds of GU minus standard training at the same learning rate and seed, "
        f"on the log grid of k; shaded band: {band_label(stats)} per point."
    ]
    if len(extra):
        ks = ", ".join(str(k) for k in sorted(extra["k"].unique()))
        sentences.append(f"Diamonds with bars: k = {ks}, off the grid, mean ± 1 SD, not joined to the line.")
    several = stats["setup"].nunique() > 1
    for (setup, k, table1), points in stats[stats["table1_seeds"] != ""].groupby(["setup", "k", "table1_seeds"]):
        ours = seed_list(seed for seeds in points["seeds"] for seed in seeds)
        theirs = seed_list(int(s) for s in table1.split(","))
        where = f" of {SETUP_TITLES.get(setup, setup)}" if several else ""
        if ours != theirs:
            sentences.append(f"The k = {k} points{where} use seeds {ours}; Table 1 uses seeds {theirs}.")
    return " ".join(sentences)


def _draw_series(ax, stats: pd.DataFrame, metric: str, color) -> None:
    """One learning rate in one panel: the grid curve with its band, the off-grid markers."""
    grid, extra = stats[stats["k_on_grid"]], stats[~stats["k_on_grid"]]
    mean, sd = grid[metric], grid[f"{metric}_sd"]
    ax.fill_between(grid["k"], mean - sd, mean + sd, color=color, alpha=BAND_ALPHA, lw=0)
    ax.plot(grid["k"], mean, color=color, marker="o", ms=4.5, lw=1.6)
    if len(extra):
        ax.errorbar(extra["k"], extra[metric], yerr=extra[f"{metric}_sd"], fmt="D", ms=5, color=color,
                    mfc="white", mew=1.4, elinewidth=1.2, capsize=3, zorder=3)


def _format_k_axis(ax, stats: pd.DataFrame) -> None:
    """Log k: a labelled tick with a grid line at every grid k; a bare tick at every other k
    (the legend names it: its label or grid line would print over its neighbour's)."""
    ax.set_xscale("log")
    grid = sorted(stats.loc[stats["k_on_grid"], "k"].unique())
    shown = labelled_ticks(grid)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(grid))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda k, _: f"{k:.0f}" if round(k) in shown else ""))
    ax.xaxis.set_minor_locator(matplotlib.ticker.FixedLocator(sorted(set(stats["k"]) - set(grid))))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.tick_params(axis="x", which="minor", bottom=True, length=4, width=1, color="0.3")
    ax.grid(False, axis="x", which="minor")


def _legend_handles(stats: pd.DataFrame, colors: dict) -> list:
    handles = [matplotlib.lines.Line2D([], [], color=color, marker="o", ms=4.5, lw=1.6, label=lr_label(lr))
               for lr, color in colors.items()]
    handles.append(matplotlib.patches.Patch(color="0.5", alpha=BAND_ALPHA + 0.1, label=band_label(stats)))
    extra = stats[~stats["k_on_grid"]]
    if len(extra):
        ks = ", ".join(str(k) for k in sorted(extra["k"].unique()))
        name = "Table 1's k" if (extra["table1_seeds"] != "").all() else "off the grid"
        handles.append(matplotlib.lines.Line2D([], [], color="0.3", marker="D", ms=5, mfc="white", mew=1.4,
                                               ls="none", label=f"k = {ks} ({name}), not joined"))
    return handles


def draw_figure1(runs: pd.DataFrame):
    """The figure (matplotlib), not yet saved: one column per setup, ΔID above ΔOOD."""
    stats = point_stats(accuracy_changes(runs))
    setups = list(dict.fromkeys(runs["setup"]))
    scales = sorted(stats["lr_scale"].unique(), reverse=True)  # lr_d first
    colors = dict(zip(scales, sns.color_palette("deep", len(scales)), strict=True))
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    figure, axes = plt.subplots(len(METRICS), len(setups), figsize=(4.2 * len(setups), 6.0),
                                sharex="col", squeeze=False)
    for col, setup in enumerate(setups):
        mine = stats[stats["setup"] == setup]
        for row, (metric, label) in enumerate(METRICS):
            ax = axes[row, col]
            for lr_scale, color in colors.items():
                _draw_series(ax, mine[mine["lr_scale"] == lr_scale], metric, color)
            _format_k_axis(ax, mine)
            ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
            ax.set_title(SETUP_TITLES.get(setup, setup) if row == 0 else "")
            ax.set_xlabel(X_LABEL if row == len(METRICS) - 1 else "")
            ax.set_ylabel(label if col == 0 else "")
    # Inside the first panel, where matplotlib finds the fewest data under it.
    axes[0, 0].legend(handles=_legend_handles(stats, colors), loc="best", fontsize=8, framealpha=0.9)
    figure.suptitle("Gradual unfreezing vs standard training (Liu & Gurevych, Fig. 1)")
    figure.tight_layout()
    figure.text(0.5, 0.0, caption_note(stats), ha="center", va="top", wrap=True, fontsize=8)
    return figure


def plot_figure1(runs: pd.DataFrame, out_stem: Path | str) -> pd.DataFrame:
    """Write ``<out_stem>.pdf`` and ``.png``; return the plotted changes."""
    save_figure(draw_figure1(runs), out_stem)
    return accuracy_changes(runs)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    """CLI entry: ``out`` is the .pdf path; the .png lands beside it."""
    plot_figure1(tables[0], out.with_suffix(""))
