"""Liu & Gurevych arXiv v1 Appendix C (Figure 5): curvature of Table 1's final solutions
against their OOD accuracy.

No runs of its own: post-hoc probes (lambda_max, S_worst, S_avg) of the final models of
the Table 1 runs whose setup is listed in ``experiments.appendix_sharpness.setups``.
"""

from __future__ import annotations

from earlyphase.experiments import table1
from earlyphase.experiments.artifact import Artifact
from earlyphase.probes.posthoc import posthoc_settings
from earlyphase.report import appendix_sharpness_ood as appendix_sharpness_ood_report


def posthoc_runs(config: dict) -> list:
    """The Table 1 runs (with their labels) whose final models are probed post hoc."""
    if "appendix_sharpness" not in config["experiments"] or "table1" not in config["experiments"]:
        return []
    setups = config["experiments"]["appendix_sharpness"]["setups"]
    return [(run, labels) for run, labels in table1.runs(config) if run.setup in setups]


def posthoc_cost(config: dict, ledger) -> None:
    """Cost hook (:class:`earlyphase.operations.cost.Ledger`): one post-hoc probe job per
    probed final model."""
    settings = posthoc_settings(config, config["experiments"]["appendix_sharpness"])
    for run, _ in posthoc_runs(config):
        ledger.add_probe_job(run.config, settings)


ARTIFACTS = (
    Artifact(
        name="appendix_sharpness_ood",
        outputs={"pdf": "appendix_sharpness_ood.pdf", "png": "appendix_sharpness_ood.png"},
        shown=("png",),
        tables=("table1_runs.parquet", "appendix_sharpness.parquet"),
        config_key="appendix_sharpness",
        run_sets=("table1",),
        extra_costs={"posthoc": posthoc_cost},
        render=appendix_sharpness_ood_report.render,
        caption=(
            "**Final-solution curvature vs OOD accuracy (Liu & Gurevych arXiv v1, Appendix C, "
            "Figure 5).** Hessian λ_max, S_worst and S_avg of the final models of Table 1 (post-hoc "
            "probes on fixed un-augmented training points, BatchNorm in eval mode) against their OOD "
            "accuracy; one point per run, coloured by Table 1 row. S_worst is the best loss of "
            "`probe.apgd_iters` Auto-PGD iterations (the paper's 15): at a final solution, near a minimum, "
            "a lower bound that can lie a few per cent (up to about 5 %) below the maximum."
        ),
        category="Primary paper (appendix)",
    ),
)
