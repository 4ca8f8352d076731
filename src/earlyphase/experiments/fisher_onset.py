"""Jastrzebski et al. (seed 003) Figure 3: final accuracy against the epoch the Fisher penalty starts.

The onset sweep at eta*/10 plus, as references, FP from the start, the Baseline and the LR
grid (the report draws eta* and the Baseline as horizontal lines). The FP onset after E
epochs is step E x steps_per_epoch + 1, the convention of Table 2's delays.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.experiments.fisher import (
    after_eta_star,
    grid_runs,
    runs_after_eta_star_cost,
    small_lr_runs,
    static_small_lr_runs,
    steps_per_epoch,
    total_steps,
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


def onset_tests(config: dict) -> list[dict]:
    """One test: the slope of test accuracy against log2(1 + E) over the FP runs (E = 0: from
    the start), when the sweep has an onset inside the run."""
    spec = config["experiments"]["fisher"]
    onsets = [e for e in spec["onset_epochs"] if e * steps_per_epoch(config) < total_steps(config)]
    if "fisher" not in spec["penalties"] or not onsets:
        return []
    return [{"setup": spec["setup"], "label": f"E = 0-{max(onsets)} ({len(onsets) + 1} values)",
             "intervention": {"penalty": "fisher"}, "x": "onset_epoch"}]


ONSET_CLAIM = Claim(
    id="fisher-onset-trend", paper="Jastrzebski et al. (seed 003)", section="Figure 3",
    statement="Applied later, the Fisher penalty recovers less: final test accuracy falls as its onset epoch E grows. "
    "Tested per seed as the least-squares slope of test accuracy on log2(1 + E) over the FP runs (E = 0: from the "
    "start), below 0.", metric="slope of test accuracy (pp per doubling of 1 + E)",
    comparison="slope against 0, per seed", direction="down", tests=onset_tests,
    arms=Arms("trend", "fisher_onset_runs.parquet", "id_acc"))


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
        claims=(ONSET_CLAIM,),
    ),
)
