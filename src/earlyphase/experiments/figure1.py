"""Figure 1 of Liu & Gurevych: the k sweep per setup and learning rate, plus the baselines."""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.report import figure1 as figure1_report
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


ARTIFACTS = (
    Artifact(
        name="figure1",
        outputs={"pdf": "figure1.pdf", "png": "figure1.png"},
        shown=("png",),
        tables=("figure1_runs.parquet",),
        config_key="figure1",
        render=figure1_report.render,
        caption=(
            "**Figure 1 (Liu & Gurevych).** Change in ID and OOD accuracy of gradual unfreezing against "
            "standard training at the same learning rate and seed, as a function of the unfreezing "
            "interval k (log scale, from 1 to total_steps / number of blocks); mean ± std over seeds."
        ),
        category="Primary paper",
        plot_data=figure1_report.plot_points,
    ),
)
