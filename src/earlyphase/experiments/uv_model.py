"""Kalra & Barkeshli (seed 004) Figure 7: the uv model's early-training phase diagram.

No data and no training loop: one job per width runs
:func:`earlyphase.phase_diagram.uv_model.run_uv_phase_diagram` (all initializations and the
whole c grid, vectorised). ``jobs(config)`` lists them with tags carrying their parameters.
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.phase_diagram import c_values
from earlyphase.report import uv_phase_diagram as uv_phase_diagram_report
from earlyphase.runs import short_hash

EVALUATED = False


def runs(config: dict) -> list:
    return []


def jobs(config: dict) -> dict[str, dict]:
    spec = config["experiments"]["uv_model"]
    out = {}
    for width in spec["widths"]:
        job = {"width": width, "n_inits": spec["n_inits"], "steps": spec["steps"],
               "cs": c_values(spec["c_grid"]), "variants": list(spec["variants"]), "seed": spec["seed"]}
        out[f"w{width}-n{spec['n_inits']}-t{spec['steps']}-{short_hash(job)}"] = job
    return out


def jobs_cost(config: dict, ledger) -> None:
    """Cost hook (:class:`earlyphase.operations.cost.Ledger`): the jobs are counted, a few
    minutes of vectorised CPU work each, no GPU-hours."""
    for tag in jobs(config):
        ledger.count_job(("uv", tag))


ARTIFACTS = (
    Artifact(
        name="uv_phase_diagram",
        outputs={"pdf": "uv_phase_diagram.pdf", "png": "uv_phase_diagram.png", "csv": "uv_phase_diagram.csv"},
        shown=("png", "csv"),
        tables=("uv_phase_diagram.parquet",),
        config_key="uv_model",
        extra_costs={"uv_phase_diagram_jobs": jobs_cost},
        render=uv_phase_diagram_report.render,
        caption=(
            "**The uv model (Kalra & Barkeshli, Figure 7).** Two-layer linear network on one example, GD at "
            "η = c/λ0 (top eigenvalue) or c/tr H0: average critical constants against width. Paper: ⟨c_loss⟩ "
            "→ 2 at large width (larger at small width); c_max = 4 with trace scaling. The CSV lists the averages."
        ),
        category="Phase diagram (seed 004)",
    ),
)
