"""Kalra & Barkeshli (seed 004): the FCN early-training phase diagram against width and depth.

Not training-loop runs: one job per (parameterization, depth, width, seed), each running
:func:`earlyphase.phase_diagram.fcn_experiment.run_fcn_phase_diagram` over the whole c grid.
``jobs(config)`` lists them with output tags that carry their parameters (readable part plus
a short hash of everything else, as run ids do).
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.probes.spec import FORWARD
from earlyphase.report import phase_diagram as phase_diagram_report
from earlyphase.runs import DATASET_SHAPES, clean_data_spec, short_hash

EVALUATED = False


def runs(config: dict) -> list:
    return []


def c_values(grid: dict) -> list[float]:
    n = int(round((grid["log2_max"] - grid["log2_min"]) / grid["step"])) + 1
    return [float(2.0 ** (grid["log2_min"] + grid["step"] * i)) for i in range(n)]


def jobs(config: dict) -> dict[str, dict]:
    """{tag: job spec}; the tag is the job's path under results/phase_diagram/fcn."""
    spec = config["experiments"]["phase_diagram"]
    dataset = spec["dataset"]
    out = {}
    for param in spec["parameterizations"]:
        for depth in spec["depths"]:
            for width in spec["widths"]:
                job = {"data": clean_data_spec(config, dataset), "num_classes": DATASET_SHAPES[dataset][0],
                       "parameterization": param, "depth": depth, "width": width,
                       "cs": c_values(spec["c_grid"]), "steps": spec["steps"], "batch_size": spec["batch_size"],
                       "n_sharpness": spec["n_sharpness"], "power_iters": spec["power_iters"]}
                for seed in spec["seeds"]:
                    tag = f"{dataset}/{param}-d{depth}-w{width}-{short_hash(job)}/seed{seed}"
                    out[tag] = {**job, "seed": seed}
    return out


def jobs_cost(config: dict, ledger) -> None:
    """Cost hook (:class:`earlyphase.operations.cost.Ledger`): per c value of a job, ``steps``
    SGD steps of ``batch_size`` and, at every step and the start, a sharpness
    (``power_iters`` Hessian-vector products on ``n_sharpness`` points, 2 training steps per
    128 points each) plus a loss pass. Rough: the FCN's width is not scaled."""
    step = ledger.costs.step_seconds("fcn", 128, 1.0)
    for tag, job in jobs(config).items():
        if not ledger.count_job(("fcn", tag)):
            continue
        n = len(job["cs"])
        train_s = n * job["steps"] * job["batch_size"] / 128.0 * step
        measure = 2.0 * job["power_iters"] * job["n_sharpness"] / 128.0 + FORWARD * job["n_sharpness"] / 128.0
        probe_s = n * (job["steps"] + 1) * measure * step
        ledger.add_packed_job("fcn", train_s, probe_s)


ARTIFACTS = (
    Artifact(
        name="phase_diagram",
        outputs={"pdf": "phase_diagram.pdf", "png": "phase_diagram.png", "depth_pdf": "phase_diagram_depth.pdf",
                 "depth_png": "phase_diagram_depth.png", "csv": "phase_diagram.csv"},
        shown=("png",),
        tables=("phase_diagram_runs.parquet",),
        config_key="phase_diagram",
        extra_costs={"fcn_phase_diagram_jobs": jobs_cost},
        render=phase_diagram_report.render,
        caption=(
            "**Early-training phase diagram (Kalra & Barkeshli, seed 004).** Bias-free ReLU FCNs trained with "
            "SGD and MSE at η = c/λ0: critical constants c_loss (loss catapult), c_sharp (sharpness catapult) "
            "and c_max (divergence) over the first steps, averaged over initializations (ten by default, as in "
            "Figure 3), against width per depth; MNIST by default (Figure 3(a)), CIFAR-10 by setting."
        ),
        category="Phase diagram (seed 004)",
    ),
)
