"""Jastrzebski et al. (seed 003) Figs. 1/2: tr(F) over the early phase for small and large LRs,
and early tr(F) (its maximum over the probe window) against final accuracy across the LR grid.

The grid runs of :mod:`earlyphase.experiments.fisher` (probed inline); nothing extra is trained.
"""

from __future__ import annotations

from earlyphase.experiments.fisher import grid_runs

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    return grid_runs(config)
