"""Figures 2 and 3 of Liu & Gurevych: probe trajectories over the early window.

Standard training and gradual unfreezing at several k, trained only through the probe
window (the figures show nothing later), so these runs are not evaluated.
"""

from __future__ import annotations

from earlyphase.runs import resolve_run, total_steps

EVALUATED = False


def runs(config: dict) -> list:
    spec = config["experiments"]["probes"]
    window = config["probe"]["window"]
    entries = []
    for setup_name in spec["setups"]:
        steps = min(window, total_steps(config, setup_name))
        for seed in spec["seeds"]:
            for k in [None, *spec["k_values"]]:
                run = resolve_run(config, setup_name, seed, gu_k=k, probe=True, steps=steps)
                entries.append((run, {"k": k}))
    return entries
