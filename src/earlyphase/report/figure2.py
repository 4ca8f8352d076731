"""Figure 2 of Liu & Gurevych: tr(F), S_avg, S_worst over the early window on CIFAR-10
(ResNet-18), standard training and gradual unfreezing at several k (see probe_dynamics)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.report.probe_dynamics import dynamics_points, figure2_setups, plot_dynamics


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    probes = tables[0]
    plot_dynamics(probes, figure2_setups(probes), out.with_suffix(""),
                  "Unfreezing at different times changes the early learning dynamics (Liu & Gurevych, Fig. 2)")


def plot_points(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The probe curves of this figure as points for DVC plots (see probe_dynamics)."""
    return dynamics_points(tables[0], figure2_setups(tables[0]))
