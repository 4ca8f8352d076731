# Shared set-up: validate params before any job starts, resolve the grid of runs, and
# the lookup tables and input functions of the workflow (functions live in the *common /
# *_inputs files, never beside rules, as snakemake --lint asks).
import json
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from earlyphase.params import ParamsError, apply_overlay, validate_params  # noqa: E402
from earlyphase.records.status import train_log_path  # noqa: E402
from earlyphase import runs as grid  # noqa: E402
from earlyphase.records import manifest as run_paths  # noqa: E402
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

# Every job runs `python -m earlyphase ...` in one software environment. With
# `--sdm conda` Snakemake activates workflow/envs/earlyphase.yaml (CONDA_ENV, named by
# every job's `conda` directive);
# otherwise it is the interpreter running Snakemake (the project's virtual environment,
# which need not be activated), put first on the job's PATH.
CONDA_ENV = "../envs/earlyphase.yaml"
if DeploymentMethod.CONDA not in workflow.deployment_settings.deployment_method:
    shell.prefix(
        f'set -euo pipefail; export PATH="{Path(sys.executable).parent}:$PATH"; '
    )

# K GPU jobs per device (earlyphase.operations.gpu_pool); an exported $EARLYPHASE_GPU_SLOTS wins.
os.environ.setdefault("EARLYPHASE_GPU_SLOTS", str(config.get("gpu_slots", 1)))

# The header every GPU job (train, evaluate, probe_checkpoint) shares: it asks the scheduler
# for one thread, one GPU and 8 GB, and each rule adds its runtime (minutes); its `run`
# wildcard is a run id (setup/variant/seedN).
GPU_JOB_THREADS = 1
GPU_JOB_RESOURCES = {"gpu": 1, "mem_mb": 8000}
RUN_ID_PATTERN = r"[^/]+/[^/]+/seed\d+"

DATA = config["paths"]["data"]
RESULTS = config["paths"]["results"]
FIGURES = config["paths"]["figures"]

RUNS = all_runs(config)
EVALUATED = evaluated_run_ids(config)


def run_dir(run_id):
    return run_paths.run_dir(config, run_id)


def run_dataset(run_id):
    return RUNS[run_id].config["data"]["dataset"]


def eval_path(run_id):
    return run_paths.eval_path(config, run_id, run_dataset(run_id))


def eval_spec(run_id):
    """Corruptions and severities the evaluation of a run averages over."""
    return grid.eval_spec(config, run_dataset(run_id))


# experiment -> function(experiment) giving the runs it adds once a checkpoint has run
# (eta_star.smk); called from input functions, it raises until the checkpoint exists.
AFTER_CHECKPOINT = {}


def experiment_entries(experiment):
    """An experiment's runs: those known before training, then those a checkpoint adds."""
    entries = list(experiment_runs(config, experiment))
    if experiment in AFTER_CHECKPOINT:
        entries += AFTER_CHECKPOINT[experiment](experiment)
    return entries


def manifest_json(entries, all_evaluated=False):
    """The aggregation manifest (JSON) of (run, labels) entries (earlyphase.records.manifest)."""
    return json.dumps(
        run_paths.manifest(config, list(entries), EVALUATED, all_evaluated)
    )


def manifest(experiment, extra=(), all_evaluated=False):
    """The manifest of one experiment's runs (those a checkpoint adds included) plus
    ``extra`` entries."""
    return manifest_json(experiment_entries(experiment) + list(extra), all_evaluated)


def run_products(experiment):
    """What aggregating an experiment reads: each run's final/ and, if evaluated, its eval."""
    products = []
    for run, _ in experiment_entries(experiment):
        products.append(f"{run_dir(run.run_id)}/final")
        if run.run_id in EVALUATED:
            products.append(eval_path(run.run_id))
    return products


def posthoc_path(run_id, tag):
    """Post-hoc probe results of a run's final model, beside the run."""
    return f"{run_dir(run_id)}/posthoc/{tag}.parquet"


def dvc_outputs(artifact):
    """What DVC reads of an artifact (dvc.yaml): a table's metrics file, a figure's plot points."""
    files = {"metrics": artifact.metrics_file, "plot_data": artifact.plot_file}
    return {key: f"{RESULTS}/{path}" for key, path in files.items() if path}


def dvc_output_options(output):
    """The report command's options that write those files."""
    keys = [key for key in ("metrics", "plot_data") if key in output.keys()]
    return " ".join(f"--{key.replace('_', '-')} {getattr(output, key)}" for key in keys)


# What the default target builds: the target of every configured artifact of the registry.
ARTIFACTS = REGISTRY.artifact_targets(config)
