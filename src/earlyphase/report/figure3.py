"""Figure 3 of Liu & Gurevych (appendix): the probe dynamics of Figure 2 on the other
setups (MNIST and CIFAR-100 with ResNet-18), lr_d (see probe_dynamics)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.report.probe_dynamics import figure3_setups, plot_dynamics


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    probes = tables[0]
    plot_dynamics(probes, figure3_setups(probes), out.with_suffix(""),
                  "Early learning dynamics on the other setups, lr_d (Liu & Gurevych, Fig. 3)")
