"""Jastrzebski et al. (seed 003) Figure 3: final accuracy against the epoch the Fisher penalty starts.

The onset sweep at eta*/10 plus, as references, FP from the start, the Baseline and the LR
grid (the report draws eta* and the Baseline as horizontal lines). The FP onset after E
epochs is step E x steps_per_epoch + 1, the convention of Table 2's delays.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.fisher import (
    after_eta_star,
    grid_runs,
    runs_after_eta_star_cost,
    small_lr_runs,
    static_small_lr_runs,
)
from earlyphase.report import fisher_onset as fisher_onset_report

CONFIG_KEY = "fisher"
EVALUATED = True
PARTS = ("baseline", "penalties", "onset")


def _fp_only(entries: list) -> list:
    """FP from the start, of the penalty runs (the other penalties are Table 1's)."""
    return [(run, labels) for run, labels in entries if labels["penalty"] in (None, "fisher")]


def runs(config: dict) -> list:
    return _fp_only(static_small_lr_runs(config, PARTS)) + grid_runs(config)


def runs_after_eta_star(config: dict, eta_star_scale: float) -> list:
    return _fp_only(small_lr_runs(config, eta_star_scale, PARTS)) if after_eta_star(config) else []


ARTIFACTS = (
    Artifact(
        name="fisher_onset",
        outputs={"pdf": "fisher_onset.pdf", "png": "fisher_onset.png"},
        shown=("png",),
        tables=("fisher_onset_runs.parquet",),
        config_key="fisher",
        extra_costs={"fisher_onset_at_eta_star": runs_after_eta_star_cost(runs_after_eta_star, EVALUATED)},
        render=fisher_onset_report.render,
        caption=(
            "**Fisher penalty onset (Jastrzebski et al., Figure 3).** Final test and CIFAR-10-C accuracy of "
            "SimpleCNN trained at η*/10 with the Fisher penalty switched on after epoch E; "
            "dashed lines: η* and the unpenalized Baseline at η*/10. The paper: FP helps only when applied early."
        ),
        category="Fisher explosion (seed 003)",
    ),
)
