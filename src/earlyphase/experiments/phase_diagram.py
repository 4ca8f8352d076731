"""Kalra & Barkeshli (seed 004): the FCN early-training phase diagram against width and depth.

Not training-loop runs: one job per (parameterization, depth, width, seed), each running
:func:`earlyphase.phase_diagram.fcn_experiment.run_fcn_phase_diagram` over the whole c grid.
``jobs(config)`` lists them with output tags that carry their parameters (readable part plus
a short hash of everything else, as run ids do).
"""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
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
                if spec.get("sharpness_every", 1) != 1:  # the default stays out of the tag's hash
                    job["sharpness_every"] = spec["sharpness_every"]
                for seed in spec["seeds"]:
                    tag = f"{dataset}/{param}-d{depth}-w{width}-{short_hash(job)}/seed{seed}"
                    out[tag] = {**job, "seed": seed}
    return out


def jobs_cost(config: dict, ledger) -> None:
    """Cost hook (:class:`earlyphase.operations.cost.Ledger`): per c value of a job, ``steps``
    SGD steps of ``batch_size`` and, at every step and the start, a loss pass and the
    sharpness of the steps that measure it (``power_iters`` Hessian-vector products on
    ``n_sharpness`` points, 2 training steps per 128 points each; with ``sharpness_every``
    0 only lambda_0, once per job). Rough: the FCN's width is not scaled."""
    step = ledger.costs.step_seconds("fcn", 128, 1.0)
    for tag, job in jobs(config).items():
        if not ledger.count_job(("fcn", tag)):
            continue
        n, steps, every = len(job["cs"]), job["steps"], job.get("sharpness_every", 1)
        sharpness = 2.0 * job["power_iters"] * job["n_sharpness"] / 128.0
        loss = FORWARD * job["n_sharpness"] / 128.0
        measured = len({t for t in range(1, steps + 1) if t % every == 0 or t == steps}) if every else 0
        train_s = n * steps * job["batch_size"] / 128.0 * step
        probe_s = (sharpness + n * ((steps + 1) * loss + measured * sharpness)) * step
        ledger.add_packed_job("fcn", train_s, probe_s)


PAPER = "Kalra & Barkeshli (seed 004)"
TABLE = "phase_diagram_runs.parquet"
# "c_loss is about 2": within a factor sqrt(2) of 2 (two steps of the default c grid), fixed with the claim
ABOUT_TWO_MARGIN = 0.5


def _points(config: dict) -> list[tuple[int, int]]:
    """(depth, width) of the grid, from the smallest depth/width to the largest (ties: wider first)."""
    spec = config["experiments"]["phase_diagram"]
    return sorted(((d, w) for d in spec["depths"] for w in spec["widths"]), key=lambda p: (p[0] / p[1], -p[1]))


def critical_tests(constant: str, reference, where: str | None, **extra):
    """One test per parameterization: ``constant`` against ``reference`` (a number or another
    constant), at the grid point of the smallest or largest depth/width (``where``), or
    averaged over the points (None)."""

    def tests(config: dict) -> list[dict]:
        spec = config["experiments"]["phase_diagram"]
        points = _points(config)
        at, text = None, f"mean of {len(points)} points"
        if where is not None:
            depth, width = points[0] if where == "smallest" else points[-1]
            at, text = {"depth": depth, "width": width}, f"depth {depth}, width {width}"
        return [{"setup": f"fcn-{param}-{spec['dataset']}", "label": text, "select": {"parameterization": param},
                 "at": at, "constant": constant, "reference": reference, **extra}
                for param in spec["parameterizations"]]

    return tests


def trend_tests(config: dict) -> list[dict]:
    spec = config["experiments"]["phase_diagram"]
    if len({d / w for d, w in _points(config)}) < 2:
        return []
    return [{"setup": f"fcn-{param}-{spec['dataset']}", "label": f"{len(_points(config))} points",
             "select": {"parameterization": param}, "constant": "c_loss"} for param in spec["parameterizations"]]


_COMMON = {"paper": PAPER, "comparison": "per initialization (seed), over the initializations of each point"}
PHASE_CLAIMS = (
    Claim(id="pd-c-loss-about-2", section="Figure 3", direction="unchanged",
          statement="With MSE, the loss catapult starts at c_loss about 2 at small depth/width: tested at the grid "
          f"point of the smallest depth/width as log2(c_loss / 2) equivalent to 0 within +-{ABOUT_TWO_MARGIN:g} "
          "(c_loss within a factor sqrt 2 of 2).", metric="log2 c_loss - 1",
          tests=critical_tests("c_loss", 2.0, "smallest", margin=ABOUT_TWO_MARGIN),
          arms=Arms("critical_level", TABLE), **_COMMON),
    Claim(id="pd-c-loss-grows", section="Figure 3", direction="up",
          statement="c_loss grows as depth/width grows: tested per initialization as the least-squares slope of "
          "log2 c_loss on log2(depth/width) over the grid's points, above 0 (a point where no c of the grid "
          "raised the loss is left out; the ledger's note counts them).",
          metric="slope of log2 c_loss per doubling of depth/width", tests=trend_tests,
          arms=Arms("critical_trend", TABLE), **_COMMON),
    Claim(id="pd-sharpness-reduction-opens", section="Figure 3", direction="up",
          statement="The sharpness-reduction phase (2 < c < c_loss) opens as depth/width grows: tested as c_loss "
          "above 2 (log2(c_loss / 2) > 0) at the grid point of the largest depth/width. That the sharpness falls "
          "there is not tested when the preset measures lambda_0 only (sharpness_every: 0).",
          metric="log2 c_loss - 1", tests=critical_tests("c_loss", 2.0, "largest"),
          arms=Arms("critical_level", TABLE), **_COMMON),
    Claim(id="pd-catapult-below-c-max", section="Figure 4", direction="up",
          statement="The loss catapults below the largest trainable c (c_loss < c_max for each initialization; "
          "Figure 4's c_loss <= c_sharp <= c_max without c_sharp): tested as log2(c_max / c_loss), averaged per "
          "initialization over the grid's points, above 0.", metric="log2 c_max - log2 c_loss",
          tests=critical_tests("c_max", "c_loss", None), arms=Arms("critical_level", TABLE), **_COMMON),
)


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
        claims=PHASE_CLAIMS,
    ),
)
