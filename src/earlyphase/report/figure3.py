"""Figure 3 of Liu & Gurevych (appendix): the probe dynamics of Figure 2 on the other
setups (MNIST and CIFAR-100 with ResNet-18), lr_d (see probe_dynamics)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.report.probe_dynamics import dynamics_points, figure3_setups, plot_dynamics


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    probes = tables[0]
    plot_dynamics(probes, figure3_setups(probes), out.with_suffix(""),
                  "Early learning dynamics on the other setups, lr_d (Liu & Gurevych, Fig. 3)")


def plot_points(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The probe curves of this figure as points for DVC plots (see probe_dynamics)."""
    return dynamics_points(tables[0], figure3_setups(tables[0]))
