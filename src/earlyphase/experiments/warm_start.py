"""Berariu et al. (seed 002): the warm-start generalization gap and its layer-reset variant.

Each run trains ``E_pre`` epochs on a fixed random ``fraction`` of the training set (seeded
by the run seed), resets the optimizer state, then trains the setup's ``epochs`` on the full
set (``E_pre = 0``: from scratch). Layer-reset variants pre-train ``reset_pretrain_epochs``
and re-initialize the listed blocks at the switch. Test accuracy is evaluated inside the
training job after every epoch of the last ``last_epochs`` epochs (``final/test_log.parquet``);
the report averages it, the paper's metric. OOD accuracy is that of the final model.
"""

from __future__ import annotations

import math

from earlyphase.runs import resolve_run, steps_per_epoch, total_steps, train_set_size

EVALUATED = True


def runs(config: dict) -> list:
    spec = config["experiments"]["warm_start"]
    setup_name = spec["setup"]
    setup = config["setups"][setup_name]
    full_spe = steps_per_epoch(config, setup_name)
    subset = math.floor(spec["fraction"] * train_set_size(config, setup["dataset"]))
    pre_spe = math.ceil(subset / setup["batch_size"])
    main = total_steps(config, setup_name)
    variants = [(epochs, []) for epochs in spec["pretrain_epochs"]]
    variants += [(spec["reset_pretrain_epochs"], list(blocks)) for blocks in spec["reset_variants"]]
    entries = []
    for seed in spec["seeds"]:
        for epochs, blocks in variants:
            pre = epochs * pre_spe
            total = pre + main
            start = max(pre + 1, total - (spec["last_epochs"] - 1) * full_spe)
            warm = {"pretrain_steps": pre, "fraction": spec["fraction"], "reset_blocks": blocks} if pre else None
            run = resolve_run(config, setup_name, seed, steps=total, warm_start=warm,
                              test_log={"every": full_spe, "start": start})
            label = {"pretrain_epochs": epochs, "reset": "+".join(str(b) for b in blocks) or "none"}
            entries.append((run, label))
    return entries
