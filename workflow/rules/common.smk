# Shared set-up: validate params before any job starts, resolve the grid of runs, and
# the lookup tables and input functions of the workflow (functions live in the *common /
# *_inputs files, never beside rules, as snakemake --lint asks).
import json
import sys
from pathlib import Path

from snakemake.settings.types import DeploymentMethod

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from earlyphase.params import (
    Layer,
    ParamsError,
    apply_overlay,
    deep_merge,
    file_layer,
    overlay_layer,
    shown_path,
    validate_params,
)  # noqa: E402
from earlyphase.operations import requested_targets  # noqa: E402
from earlyphase.records.status import train_log_path  # noqa: E402
from earlyphase import runs as grid  # noqa: E402
from earlyphase.records import manifest as run_paths  # noqa: E402
from earlyphase import experiments as REGISTRY  # noqa: E402
from earlyphase.experiments import (
    all_runs,
    evaluated_run_ids,
    experiment_runs,
)  # noqa: E402


def parameter_layers():
    """Where `config` came from, in Snakemake's merge order: the configfile directive
    (params.yaml), each --configfile, --config, then config_overlay (how DVC picks a preset).
    A params error names the file and line of the key."""
    given = [Path(path) for path in workflow.config_settings.configfiles]
    directive = [Path(path) for path in workflow.configfiles[len(given) :]]
    layers = [file_layer(path) for path in directive + given]
    if workflow.config_settings.config:
        layers.append(Layer("--config", dict(workflow.config_settings.config)))
    overlay = overlay_layer(config, Path(workflow.basedir))
    return layers + ([overlay] if overlay else [])


try:
    config_layers = parameter_layers()
    config.update(apply_overlay(dict(config), Path(workflow.basedir)))
    validate_params(config, config_layers)
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


# What `all` builds: the target of every configured artifact of the registry.
ARTIFACTS = REGISTRY.artifact_targets(config)
# What a run without a named target builds: the preset's `targets` (config/*.yaml), if any.
PRESET_TARGETS = REGISTRY.preset_targets(config)


def preset_outputs():
    """Overlay file (config/*.yaml; "" for params.yaml alone) -> the files a run with it makes."""
    base = file_layer(Path(workflow.basedir) / "params.yaml").values
    presets = {"": REGISTRY.artifact_files(base)}
    for path in sorted((Path(workflow.basedir) / "config").glob("*.yaml")):
        try:
            preset = deep_merge(base, file_layer(path).values)
            presets[shown_path(path)] = REGISTRY.artifact_files(preset)
        except (ParamsError, KeyError, TypeError, ValueError):
            continue  # a broken overlay only loses its hint here; using it reports the error
    return presets


def makes(target):
    """Whether a target is a rule, an existing file or something a rule makes."""
    if workflow.is_rule(target) or os.path.exists(target):
        return True
    path = os.path.relpath(target)
    return any(rule.is_producer(path) for rule in workflow.rules)


def check_requested_targets():
    """Stop, before Snakemake plans anything, at a requested target that no rule makes."""
    unknown = [t for t in requested_targets.command_line_targets() if not makes(t)]
    if not unknown:
        return
    valid = [r.name for r in workflow.rules if not r.has_wildcards()]
    valid += [str(f) for r in workflow.rules for f in r.output if "{" not in str(f)]
    message = requested_targets.unknown_targets_message(
        unknown, valid, preset_outputs()
    )
    raise WorkflowError(message)
