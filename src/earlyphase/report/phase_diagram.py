"""Kalra & Barkeshli (2023) Figure 3: the FCN early-training phase diagram.

From the tidy trajectories of every (parameterization, depth, width, seed) job: the critical
constants c_loss, c_sharp, c_max per initialization (Definition 1; see
:mod:`earlyphase.phase_diagram.critical_constants`), averaged over seeds, against width
(one panel per depth; ``phase_diagram.{pdf,png}``) and against depth (one panel per width;
``phase_diagram_depth.{pdf,png}``), each with the uv model's ``<c_loss>`` and ``<c_max>`` at
the same depth-to-width ratio (uv width ``n = 2w/d``) and the same early window, the paper's
minimal model drawn beside the networks. The per-seed constants go to ``phase_diagram.csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.phase_diagram.fcn_experiment import fcn_critical_constants
from earlyphase.report._common import write_csv
from earlyphase.report.phase_diagram_figures import plot_fcn_phase_diagram, uv_reference


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    runs = tables[0]
    crit = fcn_critical_constants(runs)
    dataset = str(runs["dataset"].iloc[0]) if "dataset" in runs else ""
    uv = uv_reference(crit, steps=int(runs["step"].max()))
    for param, sub in crit.groupby("parameterization"):
        suffix = "" if param == crit["parameterization"].iloc[0] else f"_{param}"
        stem = str(out.with_suffix(""))
        plot_fcn_phase_diagram(sub, stem + suffix, x="width", dataset=dataset, uv=uv)
        plot_fcn_phase_diagram(sub, stem + "_depth" + suffix, x="depth", dataset=dataset, uv=uv)
    write_csv(crit, out.with_suffix(".csv"))
