"""Figures 2 and 3 of Liu & Gurevych: probe dynamics over the early window.

Per setup and metric (tr(F) normalized by the number of trainable parameters, S_avg,
S_worst with the default perturbation scaling c, ``registry.DEFAULT_SCALING``; the appendix
figure ``appendix_sharpness_scaling`` shows S_avg and S_worst with the other c), one curve
for standard training and one per unfreezing interval k, all at lr_d; dotted vertical marks
in the curve's colour at the unfreezing steps k, 2k, ..., kL inside the window. As in the
paper the y-axis is logarithmic and normalized to [0, 1000] for visualization: per panel,
``1 + 999 (v - min) / (max - min)`` over all its curves (the +1 keeps the minimum on the
log axis). Several seeds: their mean.

The seed's Figure 2 shows CIFAR-10 (ResNet-18) and its Figure 3 the other data sets;
:mod:`.figure2` and :mod:`.figure3` select the setups this way.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from earlyphase.models import num_blocks
from earlyphase.probes.registry import DEFAULT_SCALING, probe_class, with_scaling
from earlyphase.report._common import save_figure
from earlyphase.report.paper_values import SETUP_TITLES

FIGURE2_SETUPS = ("cifar10-resnet18",)


def sharpness_metrics(scaling: str) -> dict[str, str]:
    """Column -> label of S_avg and S_worst with perturbation scaling ``scaling``."""
    names = [with_scaling(name, scaling) for name in ("avg_sharpness", "worst_sharpness")]
    return {probe_class(name).column: probe_class(name).label for name in names}


# The probes of Figures 2 and 3, by the column each plots (tr(F) normalized), with their labels.
METRICS = {probe_class("fisher_trace").column: probe_class("fisher_trace").label,
           **sharpness_metrics(DEFAULT_SCALING)}


def curve_label(k) -> str:
    return "standard" if pd.isna(k) else f"GU k={int(k)}"


def normalized_curves(probes: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean over seeds per (setup, k, step), then per-setup scaling to [1, 1000]."""
    frame = probes[probes["status"] == "completed"] if "status" in probes else probes
    frame = frame.assign(k=frame["gu_k"]).dropna(subset=[metric])
    curves = frame.groupby(["setup", "arch", "k", "step"], dropna=False)[metric].mean().reset_index()
    out = []
    for _, group in curves.groupby("setup"):
        lo, hi = group[metric].min(), group[metric].max()
        span = hi - lo if hi > lo else 1.0
        out.append(group.assign(value=1.0 + 999.0 * (group[metric] - lo) / span))
    return pd.concat(out, ignore_index=True) if out else curves.assign(value=[])


def dynamics_points(probes: pd.DataFrame, setups: list[str]) -> pd.DataFrame:
    """The curves of :func:`plot_dynamics` as points for DVC plots, not normalized: per setup
    (panel), curve (series: standard or GU k) and step, the mean of each probe over seeds."""
    metrics = [m for m in METRICS if m in probes.columns]
    frame = probes[probes["setup"].isin(setups)]
    frame = frame[frame["status"] == "completed"] if "status" in frame else frame
    points = frame.groupby(["setup", "gu_k", "step"], dropna=False)[metrics].mean().reset_index()
    points["panel"] = points["setup"].map(lambda s: SETUP_TITLES.get(s, s))
    points["series"] = points["gu_k"].map(curve_label)
    order = points["gu_k"].fillna(-1)
    return points.assign(_order=order).sort_values(["setup", "_order", "step"])[["panel", "series", "step", *metrics]]


def plot_dynamics(probes: pd.DataFrame, setups: list[str], out_stem: Path | str, title: str,
                  columns: dict[str, str] | None = None) -> None:
    """``columns``: column -> label of the panels (default: :data:`METRICS`)."""
    columns = METRICS if columns is None else columns
    metrics = [m for m in columns if m in probes.columns]
    if not setups or not metrics:
        raise ValueError(f"nothing to plot: setups {setups}, probe columns {sorted(probes.columns)}")
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.0)
    fig, axes = plt.subplots(len(setups), len(metrics), figsize=(3.6 * len(metrics), 2.8 * len(setups)),
                             squeeze=False)
    ks = sorted({k for k in probes["gu_k"].dropna().unique()})
    palette = dict(zip([None, *ks], sns.color_palette("deep", len(ks) + 1), strict=True))
    window = probes["step"].max()
    for col, metric in enumerate(metrics):
        curves = normalized_curves(probes[probes["setup"].isin(setups)], metric)
        for row, setup in enumerate(setups):
            ax = axes[row, col]
            data = curves[curves["setup"] == setup]
            for k in [None, *ks]:
                part = data[data["k"].isna()] if k is None else data[data["k"] == k]
                if part.empty:
                    continue
                part = part.sort_values("step")
                ax.plot(part["step"], part["value"], color=palette[k], lw=1.4, label=curve_label(k))
                if k is not None:
                    n_blocks = num_blocks(part["arch"].iloc[0])
                    for j in range(1, n_blocks + 1):
                        if j * k <= window:
                            ax.axvline(j * k, color=palette[k], lw=0.7, ls=":", alpha=0.8)
            ax.set_yscale("log")
            ax.set_ylim(0.8, 1500)
            ax.set_xlim(0, window)
            ax.set_title(f"{SETUP_TITLES.get(setup, setup)}: {columns[metric]}", fontsize=9)
            ax.set_xlabel("step" if row == len(setups) - 1 else "")
            ax.set_ylabel("normalized (log)" if col == 0 else "")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, -0.04 if len(setups) > 1 else -0.1))
    fig.suptitle(title, y=1.02)
    fig.tight_layout()
    save_figure(fig, out_stem)


def figure2_setups(probes: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(probes["setup"]))
    chosen = [s for s in present if s in FIGURE2_SETUPS]
    return chosen or present[:1]


def figure3_setups(probes: pd.DataFrame) -> list[str]:
    present = list(dict.fromkeys(probes["setup"]))
    rest = [s for s in present if s not in figure2_setups(probes)]
    return rest or present
