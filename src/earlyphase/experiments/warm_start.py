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

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.report import warm_start as warm_start_report
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


def warm_start_tests(config: dict) -> list[dict]:
    """One test per pre-training length E > 0 (no layer reset): warm start against from scratch."""
    spec = config["experiments"]["warm_start"]
    if 0 not in spec["pretrain_epochs"]:
        return []
    return [{"setup": spec["setup"], "label": f"E = {epochs}",
             "intervention": {"pretrain_epochs": epochs, "reset": "none"},
             "comparison": {"pretrain_epochs": 0, "reset": "none"}}
            for epochs in spec["pretrain_epochs"] if epochs > 0]


WARM_START_CLAIM = Claim(
    id="warm-start-gap", paper="Berariu et al. (seed 002)", section="Figure 2",
    statement="A model pre-trained on half the training set, then trained on all of it, ends with lower test "
    "accuracy than one trained from scratch for the same final budget.", metric="final test accuracy (pp)",
    comparison="warm start vs from scratch, same seed", direction="down", tests=warm_start_tests,
    arms=Arms("runs", "warm_start_runs.parquet", "id_acc"))


ARTIFACTS = (
    Artifact(
        name="warm_start",
        outputs={"pdf": "warm_start.pdf", "png": "warm_start.png", "csv": "warm_start.csv"},
        shown=("png",),
        tables=("warm_start_runs.parquet", "warm_start_log-test_log.parquet"),
        config_key="warm_start",
        render=warm_start_report.render,
        caption=(
            "**Warm start (Berariu et al., seed 002).** ResNet-18 on CIFAR-10: pre-training for E epochs on a "
            "fixed random half of the training set, optimizer reset, then training on all of it; mean test "
            "accuracy over the last epochs (evaluated each epoch) and final CIFAR-10-C accuracy against E, "
            "with from-scratch training (E = 0) and variants that re-initialize blocks after pre-training."
        ),
        category="Plasticity (seed 002)",
        claims=(WARM_START_CLAIM,),
    ),
)
