"""Jastrzebski et al. (seed 003) Figure 3: final accuracy against the epoch the Fisher penalty starts.

The onset sweep at the small LR plus, as references, FP from the start and the LR grid
(the report draws eta* and the Baseline as horizontal lines).
"""

from __future__ import annotations

from earlyphase.experiments.fisher import grid_runs, onset_runs, penalty_runs

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    from_start = [(run, labels) for run, labels in penalty_runs(config) if labels["penalty"] == "fisher"]
    return onset_runs(config) + from_start + grid_runs(config)
