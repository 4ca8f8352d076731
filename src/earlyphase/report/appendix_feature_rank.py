"""arXiv v1 Appendix E.1 (Figure 7): rank of the features fed to the head over the first
steps, standard training and gradual unfreezing at several k (from the probe runs).

Top row: numerical rank (singular values above the float32 ``matrix_rank`` threshold,
see :mod:`earlyphase.probes.feature_rank`); bottom row: effective rank exp(entropy of the
normalized singular values). Mean over seeds; dotted marks at the unfreezing steps.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from earlyphase.models import num_blocks
from earlyphase.report._common import save_figure
from earlyphase.report.paper_values import SETUP_TITLES
from earlyphase.report.probe_dynamics import curve_label

ROWS = {"feature_rank": "numerical rank", "feature_effective_rank": "effective rank"}


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    probes = tables[0]
    if "feature_rank" not in probes.columns:
        raise ValueError("the probe table has no feature_rank column; add feature_rank to probe.probes")
    probes = probes[probes["status"] == "completed"].dropna(subset=["feature_rank"])
    setups = list(dict.fromkeys(probes["setup"]))
    ks = sorted(probes["gu_k"].dropna().unique())
    palette = dict(zip([None, *ks], sns.color_palette("deep", len(ks) + 1), strict=True))
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(len(ROWS), len(setups), figsize=(3.6 * len(setups), 5.2), squeeze=False)
    for col, setup in enumerate(setups):
        data = probes[probes["setup"] == setup]
        window = data["step"].max()
        for row, (metric, label) in enumerate(ROWS.items()):
            ax = axes[row, col]
            for k in [None, *ks]:
                part = data[data["gu_k"].isna()] if k is None else data[data["gu_k"] == k]
                if part.empty:
                    continue
                curve = part.groupby("step")[metric].mean()
                ax.plot(curve.index, curve.values, color=palette[k], lw=1.4, label=curve_label(k))
                if k is not None:
                    for j in range(1, num_blocks(part["arch"].iloc[0]) + 1):
                        if j * k <= window:
                            ax.axvline(j * k, color=palette[k], lw=0.7, ls=":")
            ax.set_title(f"{SETUP_TITLES.get(setup, setup)}" if row == 0 else "", fontsize=9)
            ax.set_ylabel(label if col == 0 else "")
            ax.set_xlabel("step" if row == len(ROWS) - 1 else "")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, -0.05))
    fig.suptitle("Rank of the features before the head, early training (Liu & Gurevych v1, Fig. 7)", y=1.02)
    fig.tight_layout()
    save_figure(fig, out.with_suffix(""))
