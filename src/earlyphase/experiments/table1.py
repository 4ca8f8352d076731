"""Table 1 of Liu & Gurevych: rows lr_d, lr_d + GU, 0.1·lr_d, 0.1·lr_d + GU per setup (column)."""

from __future__ import annotations

from earlyphase.runs import resolve_run

EVALUATED = True


def row_label(lr_scale: float, gradual: bool) -> str:
    base = "lr_d" if lr_scale == 1.0 else f"{lr_scale:g}·lr_d"
    return base + (" + GU" if gradual else "")


def runs(config: dict) -> list:
    spec = config["experiments"]["table1"]
    entries = []
    for setup_name in spec["setups"]:
        for lr_scale in spec["lr_scales"]:
            for gu_k in (None, spec["gu_k"][setup_name]):
                for seed in spec["seeds"][setup_name]:
                    run = resolve_run(config, setup_name, seed, lr_scale=lr_scale, gu_k=gu_k)
                    entries.append((run, {"row": row_label(lr_scale, gu_k is not None)}))
    return entries
