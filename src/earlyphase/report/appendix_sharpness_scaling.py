"""Appendix figure: S_avg and S_worst over the early window with the perturbation scaling
that Figures 2 and 3 do not show.

The paper writes δ ~ N(0, ρ² diag(c²)) and ||δ ⊙ c⁻¹|| ≤ ρ without saying which c it used;
Figures 2 and 3 show the default (``registry.DEFAULT_SCALING``, c = 1 as in the reference
code), this figure the other (c = |w|, ASAM's adaptive sharpness), for every setup of the
probe runs, recorded at the same probe points. Layout and normalization as in
:mod:`.probe_dynamics`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from earlyphase.probes.registry import DEFAULT_SCALING, SCALINGS
from earlyphase.report.probe_dynamics import plot_dynamics, sharpness_metrics

OTHER_SCALING = next(s for s in SCALINGS if s != DEFAULT_SCALING)


def render(tables: list[pd.DataFrame], out: Path, note: str = "") -> None:
    probes = tables[0]
    columns = sharpness_metrics(OTHER_SCALING)
    if not set(columns) & set(probes.columns):
        raise ValueError(f"the probe table has none of {sorted(columns)}; add them to probe.probes")
    plot_dynamics(probes, list(dict.fromkeys(probes["setup"])), out.with_suffix(""),
                  f"Sharpness with the other scaling, {SCALINGS[OTHER_SCALING]} (Figures 2-3 use "
                  f"{SCALINGS[DEFAULT_SCALING]})", columns=columns)
