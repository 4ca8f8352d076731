# Shared set-up: validate params before any job starts, resolve the grid of runs, and
# the lookup tables the rules' input functions use.
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from earlyphase.params import ParamsError, apply_overlay, validate_params  # noqa: E402
from earlyphase import runs as grid  # noqa: E402
from earlyphase import experiments as REGISTRY  # noqa: E402
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
# K GPU jobs per device (earlyphase.gpu_pool); an exported $EARLYPHASE_GPU_SLOTS wins.
os.environ.setdefault("EARLYPHASE_GPU_SLOTS", str(config.get("gpu_slots", 1)))
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


def manifest_json(entries, all_evaluated=False):
    """JSON list of runs for aggregation: paths plus the labels the table needs. A run's
    eval path is given when it is evaluated (``all_evaluated``: every run is)."""
    return json.dumps(
        [
            {
                "run_id": run.run_id,
                "final_dir": f"{run_dir(run.run_id)}/final",
                "eval_path": (
                    eval_path(run.run_id)
                    if all_evaluated or run.run_id in EVALUATED
                    else None
                ),
                **labels,
            }
            for run, labels in entries
        ]
    )


# experiment -> function(experiment) giving the runs it adds once a checkpoint has run
# (eta_star.smk); called from input functions, it raises until the checkpoint exists.
AFTER_CHECKPOINT = {}


def experiment_entries(experiment):
    """An experiment's runs: those known before training, then those a checkpoint adds."""
    entries = list(experiment_runs(config, experiment))
    if experiment in AFTER_CHECKPOINT:
        entries += AFTER_CHECKPOINT[experiment](experiment)
    return entries


def manifest(experiment):
    """The aggregation manifest of one experiment's runs."""
    return manifest_json(experiment_entries(experiment))


def run_products(experiment):
    """What aggregating an experiment reads: each run's final/ and, if evaluated, its eval."""
    products = []
    for run, _ in experiment_entries(experiment):
        products.append(f"{run_dir(run.run_id)}/final")
        if run.run_id in EVALUATED:
            products.append(eval_path(run.run_id))
    return products


# What `rule all` builds: the target of every configured artifact of the registry.
ARTIFACTS = REGISTRY.artifact_targets(config)
