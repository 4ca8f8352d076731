"""Kalra & Barkeshli (seed 004) Figure 7: the uv model's early-training phase diagram.

No data and no training loop: one job per width runs
:func:`earlyphase.phase_diagram.uv_model.run_uv_phase_diagram` (all initializations and the
whole c grid, vectorised). ``jobs(config)`` lists them with tags carrying their parameters.
"""

from __future__ import annotations

from earlyphase.experiments.phase_diagram import c_values
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
