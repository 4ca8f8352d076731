"""Jastrzebski et al. (seed 003) Figure 3: final accuracy against the epoch the Fisher penalty starts.

The onset sweep at the small LR plus, as references, FP from the start and the LR grid
(the report draws eta* and the Baseline as horizontal lines).
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.fisher import grid_runs, onset_runs, penalty_runs
from earlyphase.report import fisher_onset as fisher_onset_report

CONFIG_KEY = "fisher"
EVALUATED = True


def runs(config: dict) -> list:
    from_start = [(run, labels) for run, labels in penalty_runs(config) if labels["penalty"] == "fisher"]
    return onset_runs(config) + from_start + grid_runs(config)


ARTIFACTS = (
    Artifact(
        name="fisher_onset",
        outputs={"pdf": "fisher_onset.pdf", "png": "fisher_onset.png"},
        shown=("png",),
        tables=("fisher_onset_runs.parquet",),
        config_key="fisher",
        render=fisher_onset_report.render,
        caption=(
            "**Fisher penalty onset (Jastrzebski et al., Figure 3).** Final test and CIFAR-10-C accuracy of "
            "SimpleCNN trained at the small learning rate with the Fisher penalty switched on from epoch E; "
            "dashed lines: η* and the unpenalized small-LR baseline. The paper: FP helps only when applied early."
        ),
        category="Fisher explosion (seed 003)",
    ),
)
