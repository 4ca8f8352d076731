# Shared set-up: validate params before any job starts, resolve the grid of runs, and
# the lookup tables the rules' input functions use.
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from earlyphase.params import ParamsError, apply_overlay, validate_params  # noqa: E402
from earlyphase import runs as grid  # noqa: E402
from earlyphase.experiments import (
    all_runs,
    evaluated_run_ids,
    experiment_runs,
)  # noqa: E402

config.update(apply_overlay(dict(config), Path(workflow.basedir)))
try:
    validate_params(config)
except ParamsError as err:
    raise WorkflowError(str(err)) from None

# Jobs run `python -m earlyphase ...` with the interpreter that runs Snakemake (its
# virtual environment need not be activated): put that interpreter first on PATH.
os.environ["PATH"] = (
    f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
)
DATA = config["paths"]["data"]
RESULTS = config["paths"]["results"]
FIGURES = config["paths"]["figures"]

RUNS = all_runs(config)
EVALUATED = evaluated_run_ids(config)


def run_dir(run_id):
    return f"{RESULTS}/runs/{run_id}"


def run_dataset(run_id):
    return RUNS[run_id].config["data"]["dataset"]


def eval_path(run_id):
    return (
        f"{run_dir(run_id)}/eval/{grid.eval_tag(config, run_dataset(run_id))}.parquet"
    )


def manifest(experiment):
    """JSON list of an experiment's runs for aggregation: paths plus the labels it needs."""
    return json.dumps(
        [
            {
                "run_id": run.run_id,
                "final_dir": f"{run_dir(run.run_id)}/final",
                "eval_path": eval_path(run.run_id) if run.run_id in EVALUATED else None,
                **labels,
            }
            for run, labels in experiment_runs(config, experiment)
        ]
    )


def run_products(experiment):
    """What aggregating an experiment reads: each run's final/ and, if evaluated, its eval."""
    products = []
    for run, _ in experiment_runs(config, experiment):
        products.append(f"{run_dir(run.run_id)}/final")
        if run.run_id in EVALUATED:
            products.append(eval_path(run.run_id))
    return products


ARTIFACTS = [
    f"{FIGURES}/table1.tex",
    f"{FIGURES}/figure1.pdf",
]
# Liu & Gurevych, every remaining artifact (each only when its experiment is configured).
ARTIFACTS += [
    f"{FIGURES}/{name}"
    for name, experiment in [
        ("figure2.pdf", "probes"),
        ("figure3.pdf", "probes"),
        ("appendix_feature_rank.pdf", "probes"),
        ("table2.tex", "table2"),
        ("table_stabilization.tex", "stabilization"),
        ("appendix_sharpness_ood.pdf", "appendix_sharpness"),
    ]
    if experiment in config["experiments"]
]
# Companion papers (one target each; rules in fisher.smk, phase_diagram.smk, warm_start.smk).
ARTIFACTS += [
    f"{FIGURES}/{name}"
    for key, names in {
        "fisher": ["fisher_table1.tex", "fisher_onset.pdf", "fisher_explosion.pdf"],
        "phase_diagram": ["phase_diagram.pdf"],
        "uv_model": ["uv_phase_diagram.pdf"],
        "warm_start": ["warm_start.pdf"],
    }.items()
    if key in config["experiments"]
    for name in names
]
