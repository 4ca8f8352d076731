"""Figure 1 of Liu & Gurevych: the k sweep per setup and learning rate, plus the baselines."""

from __future__ import annotations

from earlyphase.runs import k_grid, resolve_run

EVALUATED = True


def runs(config: dict) -> list:
    spec = config["experiments"]["figure1"]
    entries = []
    for setup_name in spec["setups"]:
        ks = k_grid(config, setup_name, spec["k_points"], spec["k_extra"])
        for lr_scale in spec["lr_scales"]:
            for seed in spec["seeds"]:
                entries.append((resolve_run(config, setup_name, seed, lr_scale=lr_scale), {}))
                for k in ks:
                    entries.append((resolve_run(config, setup_name, seed, lr_scale=lr_scale, gu_k=k), {}))
    return entries
