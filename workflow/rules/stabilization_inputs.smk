# arXiv v1 Algorithm 2 (stabilization.smk makes it): the choices of k the checkpoint
# `stabilize` writes, and the input functions that read them once they exist.
#
# Each choice lies at results/stabilization/<head-only run id>/<metric>-<settings hash>.json:
# every input of the choice is in that path (the head-only run's id hashes its whole config,
# the settings hash covers tau, epsilon, transient and k_max). After the checkpoint has run,
# the functions below read k and add the GU runs at that k to RUNS; they are ordinary GU run
# ids (every parameter, k included, in the path), shared with any other artifact.
from earlyphase.experiments import stabilization as stab_experiment  # noqa: E402
from earlyphase.experiments import stabilization_probes as stab_probes  # noqa: E402
from snakemake.exceptions import IncompleteCheckpointException  # noqa: E402

STAB_CHOICES = {}  # (setup, metric) -> {path, probe_run, settings, settings_hash}
if (
    "stabilization" in config["experiments"]
    and "stabilization_probes" in config["experiments"]
):
    for _setup in config["experiments"]["stabilization"]["setups"]:
        _probe_run = stab_probes.probe_run(config, _setup).run_id
        _settings = stab_experiment.algorithm_settings(config, _setup)
        for _metric in config["experiments"]["stabilization"]["metrics"]:
            STAB_CHOICES[(_setup, _metric)] = {
                "path": f"{RESULTS}/stabilization/{_probe_run}/{_metric}-{grid.short_hash(_settings)}.json",
                "probe_run": _probe_run,
                "settings": _settings,
                "settings_hash": grid.short_hash(_settings),
            }
STAB_BY_PATH = {choice["path"]: choice for choice in STAB_CHOICES.values()}


def stab_chosen(setup, metric):
    """Runs at the k chosen for (setup, metric), registered in RUNS; raises (through
    checkpoints.get) until the choice exists."""
    choice = STAB_CHOICES[(setup, metric)]
    path = checkpoints.stabilize.get(
        probe_run=choice["probe_run"], metric=metric, settings=choice["settings_hash"]
    ).output[0]
    result = json.loads(Path(path).read_text())
    entries = stab_experiment.chosen_runs(config, setup, metric, result["k"])
    for run, labels in entries:
        RUNS.setdefault(run.run_id, run)
        labels.update(
            chosen_k=result["k"],
            stabilized=result["stabilized"],
            clipped=result["clipped"],
        )
    return entries


def stab_chosen_products(wildcards):
    """Products of the chosen-k runs whose choice exists. The choices themselves are direct
    inputs of the aggregation, so Snakemake re-evaluates this after each checkpoint job; the
    manifest (params) does not skip missing choices and fails loudly if one were missing.
    """
    out = []
    for setup, metric in STAB_CHOICES:
        try:
            entries = stab_chosen(setup, metric)
        except IncompleteCheckpointException:
            continue
        for run, _ in entries:
            out += [f"{run_dir(run.run_id)}/final", eval_path(run.run_id)]
    return out


def stab_manifest(wildcards):
    """The stabilization manifest: the static runs plus the chosen-k runs (all evaluated)."""
    chosen = [entry for key in STAB_CHOICES for entry in stab_chosen(*key)]
    return manifest("stabilization", extra=chosen, all_evaluated=True)
