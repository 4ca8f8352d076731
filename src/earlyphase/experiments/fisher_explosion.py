"""Jastrzebski et al. (seed 003) Figs. 1/2: tr(F) over the early phase for small and large LRs,
and early tr(F) (its maximum over the probe window) against final accuracy across the LR grid.

The grid runs of :mod:`earlyphase.experiments.fisher` (probed inline); nothing extra is trained.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.fisher import grid_runs
from earlyphase.report import fisher_explosion as fisher_explosion_report

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    return grid_runs(config)


ARTIFACTS = (
    Artifact(
        name="fisher_explosion",
        outputs={"pdf": "fisher_explosion.pdf", "png": "fisher_explosion.png"},
        shown=("png",),
        tables=("fisher_explosion_runs.parquet", "fisher_explosion_log-probes.parquet"),
        config_key="fisher",
        render=fisher_explosion_report.render,
        caption=(
            "**Catastrophic Fisher explosion (Jastrzebski et al., Figures 1-2).** tr(F) over the early phase "
            "for each learning rate of the grid, and early tr(F) (maximum over the probed window) against "
            "final test and CIFAR-10-C accuracy: small learning rates reach a larger early tr(F)."
        ),
        category="Fisher explosion (seed 003)",
    ),
)
