"""Figures and tables of the early-training phase diagram (Kalra & Barkeshli 2023).

* :func:`critical_constants_table` -- average critical constants per group (width, ...).
* :func:`plot_uv_phase_diagram` -- Figure 7: uv model, one panel per sharpness measure.
* :func:`plot_fcn_phase_diagram` -- Figure 3-style FCN diagram against width or depth, with
  the uv model's curves at the same depth-to-width ratio where given (:func:`uv_reference`).

Every plot shows ``<c_loss>``, ``<c_sharp>``, ``<c_max>`` (means over initializations) with
their 25-75 % quantile band, on a log-scaled c axis with reference lines at ``c = 2`` and
``c = 4``; the regions between the curves are shaded by phase (sharpness reduction, loss
catapult, loss and sharpness catapult, divergent).  Figures are written as PDF and PNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from earlyphase.phase_diagram import uv_model
from earlyphase.phase_diagram.critical_constants import average_critical_constants
from earlyphase.report._common import save_figure

CURVES = (
    ("c_loss", r"$\langle c_{\mathrm{loss}}\rangle$", "o"),
    ("c_sharp", r"$\langle c_{\mathrm{sharp}}\rangle$", "s"),
    ("c_max", r"$\langle c_{\max}\rangle$", "^"),
)
PHASES = (
    ("sharpness reduction", "#dbe9f6"),
    ("loss catapult", "#fde9c9"),
    ("loss & sharpness catapult", "#f9d0c4"),
    ("divergent", "#e6e6e6"),
)
UV_TITLES = {
    "hessian": r"(a) top eigenvalue $\lambda^H$, $\eta = c/\lambda^H_0$",
    "trace": r"(b) trace $\mathrm{tr}\,H$, $\eta = c/\mathrm{tr}\,H_0$",
    "frobenius": r"(c) $\|H\|_F^2$, $\eta = c/\mathrm{tr}\,H_0$",
}


def critical_constants_table(
    df: pd.DataFrame, by: Sequence[str] = ("width",), variant: str | None = None
) -> pd.DataFrame:
    """Average ``c_loss``, ``c_sharp``, ``c_max`` per group (mean, std, quartiles, counts).

    ``df`` holds one row per initialization (``run_uv_phase_diagram`` or
    ``fcn_critical_constants``); ``variant`` selects one uv-model panel."""
    if variant is not None:
        df = df[df["variant"] == variant]
    return average_critical_constants(df, by=list(by))


UV_REFERENCE_INITS = 500  # the uv model's Figure 7 count; 1 s of CPU at T = 10


def uv_reference(crit: pd.DataFrame, steps: int, seed: int = 0) -> pd.DataFrame:
    """The uv model's ``<c_loss>`` and ``<c_max>`` (eta = c/lambda_0) at every (depth, width)
    of an FCN diagram, at the uv width ``n = 2 w / d``: the two-layer uv model has the FCN's
    depth-to-width ratio there (2/n = d/w), the variable the paper's FCN diagram is read
    against. Same early window ``T = steps`` as the FCNs; one row per (depth, width)."""
    pairs = crit[["depth", "width"]].drop_duplicates().astype(int)
    uv_widths = [max(1, round(2 * w / d)) for d, w in zip(pairs["depth"], pairs["width"], strict=True)]
    pairs = pairs.assign(uv_width=uv_widths)
    uv = uv_model.run_uv_phase_diagram(
        widths=sorted(set(pairs["uv_width"])), n_inits=UV_REFERENCE_INITS, steps=steps, seed=seed,
        variants=("hessian",))
    means = uv.groupby("width")[["c_loss", "c_max"]].mean().rename(columns=lambda c: f"uv_{c}")
    return pairs.merge(means, left_on="uv_width", right_index=True).sort_values(["depth", "width"])


def _draw_uv_reference(ax: plt.Axes, reference: pd.DataFrame, x: str) -> None:
    """The uv model's curves, thin and black, over one panel's FCN curves."""
    reference = reference.sort_values(x)
    for key, label, ls in (("uv_c_loss", r"uv model $\langle c_{\mathrm{loss}}\rangle$ ($n = 2w/d$)", "--"),
                           ("uv_c_max", r"uv model $\langle c_{\max}\rangle$", ":")):
        ax.plot(reference[x], reference[key], color="k", ls=ls, lw=1.3, label=label)


def _new_figure(n_panels: int) -> tuple[plt.Figure, np.ndarray]:
    """A row of ``n_panels`` axes in the paper theme."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    fig, axes = plt.subplots(1, n_panels, figsize=(4.2 * n_panels, 3.6), squeeze=False)
    return fig, axes[0]


def _finish_figure(fig: plt.Figure, axes: np.ndarray, title: str, out_stem: str) -> list[str]:
    """Shared legend (from the first panel) below the panels, title, layout; writes the figure."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=7,
        frameon=False,
        fontsize=8,
        bbox_to_anchor=(0.5, -0.08),
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_stem)


def _curves_and_phases(table: pd.DataFrame) -> tuple[tuple, tuple]:
    """The curves to draw and the phases between them; without a sharpness trajectory
    (c_sharp never estimated) the two catapult phases are one band, named as such."""
    if table["c_sharp_mean"].notna().any():
        return CURVES, PHASES
    curves = tuple(curve for curve in CURVES if curve[0] != "c_sharp")
    return curves, (PHASES[0], ("catapult (sharpness not measured)", PHASES[1][1]), PHASES[3])


def _panel(ax: plt.Axes, table: pd.DataFrame, x: str, c_range: tuple[float, float]) -> None:
    table = table.sort_values(x)
    xs = table[x].to_numpy(dtype=float)
    lo, hi = c_range
    curves, phases = _curves_and_phases(table)
    bounds = [np.full_like(xs, lo)]
    for key, _, _ in curves:
        bounds.append(table[f"{key}_mean"].to_numpy(dtype=float))
    bounds.append(np.full_like(xs, hi))
    for (name, color), b0, b1 in zip(phases, bounds[:-1], bounds[1:], strict=True):
        # c_sharp may exceed c_max by one grid step; never shade an inverted band
        ax.fill_between(xs, b0, np.maximum(b0, b1), color=color, lw=0, label=name)
    palette = sns.color_palette("deep", len(CURVES))
    for (key, label, marker), color in zip(CURVES, palette, strict=True):
        if (key, label, marker) not in curves:
            continue
        ax.fill_between(xs, table[f"{key}_q25"], table[f"{key}_q75"], color=color, alpha=0.18, lw=0)
        ax.plot(xs, table[f"{key}_mean"], marker=marker, ms=4, lw=1.6, color=color, label=label)
    for ref in (2.0, 4.0):
        ax.axhline(ref, color="k", ls="--", lw=0.9, alpha=0.7)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_ylim(lo, hi)
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylabel(r"learning-rate constant $c$")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))


def plot_uv_phase_diagram(
    df: pd.DataFrame,
    out_stem: str,
    variants: Sequence[str] = ("hessian", "trace", "frobenius"),
) -> list[str]:
    """Figure 7 of the paper from ``run_uv_phase_diagram``'s frame; returns the written paths.

    x: width ``n`` (log2), y: ``c`` (log2); dashed lines at ``c = 2`` and ``c = 4``."""
    variants = [v for v in variants if v in set(df["variant"])]
    if not variants:
        raise ValueError("no requested variant in the frame")
    fig, axes = _new_figure(len(variants))
    c_range = (float(df["c_min_grid"].min()), float(df["c_max_grid"].max()))
    for ax, v in zip(axes, variants, strict=True):
        _panel(ax, critical_constants_table(df, ("width",), v), "width", c_range)
        ax.set_xlabel(r"width $n$")
        ax.set_title(UV_TITLES.get(v, v), fontsize=10)
    n_inits = int(df.groupby(["variant", "width"]).size().max())
    steps = int(df["steps"].iloc[0])
    title = (
        f"uv model, GD on one example: early-training phase diagram "
        f"(mean over {n_inits} initializations, first {steps} steps; bands: 25-75 %)"
    )
    return _finish_figure(fig, axes, title, out_stem)


def plot_fcn_phase_diagram(
    crit: pd.DataFrame,
    out_stem: str,
    x: str = "width",
    dataset: str = "",
    uv: pd.DataFrame | None = None,
) -> list[str]:
    """FCN phase diagram from ``fcn_critical_constants`` rows (one per seed).

    ``x="width"``: one panel per depth, width on the x axis; ``x="depth"``: one panel per
    width, depth on the x axis. ``uv``: :func:`uv_reference`'s rows, drawn on every panel."""
    if x not in ("width", "depth"):
        raise ValueError("x must be 'width' or 'depth'")
    other = "depth" if x == "width" else "width"
    panels = sorted(crit[other].unique())
    fig, axes = _new_figure(len(panels))
    lo = float(np.nanmin(crit[["c_loss", "c_sharp", "c_max"]].to_numpy())) / 1.2
    hi = float(np.nanmax(crit[["c_loss", "c_sharp", "c_max"]].to_numpy())) * 1.2
    lo, hi = min(lo, 1.0), max(hi, 8.0)
    params = ", ".join(sorted(crit["parameterization"].astype(str).unique()))
    for ax, val in zip(axes, panels, strict=True):
        table = average_critical_constants(crit[crit[other] == val], by=[x])
        _panel(ax, table, x, (lo, hi))
        if uv is not None:
            _draw_uv_reference(ax, uv[uv[other] == val], x)
        if x == "depth":
            ax.set_xscale("linear")
        ax.set_xlabel(x)
        ax.set_title(f"{other} = {val}", fontsize=10)
    n_seeds = int(crit.groupby([x, other]).size().max())
    title = (
        f"FCN ({params}){' on ' + dataset if dataset else ''}, MSE, SGD: early-training phase "
        f"diagram vs {x} (mean over {n_seeds} initializations; bands: 25-75 %)"
    )
    return _finish_figure(fig, axes, title, out_stem)
