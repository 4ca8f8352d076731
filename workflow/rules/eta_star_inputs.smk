# Jastrzebski et al. (seed 003; eta_star.smk makes the choice): the Baseline and the four penalties train at eta*/10, where
# eta* is the best point of the LR grid. eta* is known only after the grid runs have been
# trained and evaluated, so the DAG is data-dependent: the checkpoint `choose_eta_star` writes
# results/fisher/eta_star-<grid tag>.json (the tag hashes the grid's run ids, each of which
# hashes its whole config, so every input of the choice is in the path). After it has run,
# each experiment's runs_after_eta_star adds the small-LR runs; they are ordinary run ids
# (every parameter, the learning rate included, in the path), shared with any other artifact.
# With experiments.fisher.small_lr_from: reference they are static runs and this is unused.
from earlyphase.experiments import fisher as fisher_experiment  # noqa: E402


def eta_star_choice():
    """The checkpoint's choice; raises (through checkpoints.get) until it exists, and
    Snakemake then schedules the grid and the checkpoint first."""
    path = checkpoints.choose_eta_star.get(
        grid=fisher_experiment.grid_tag(config)
    ).output[0]
    return json.loads(Path(path).read_text())


def runs_after_eta_star(experiment):
    """The experiment's runs at eta* x small_lr_scale, registered in RUNS (and EVALUATED)."""
    experiment_module = REGISTRY.EXPERIMENTS[experiment]
    if "fisher" not in config["experiments"] or not fisher_experiment.after_eta_star(
        config
    ):
        return []
    entries = experiment_module.runs_after_eta_star(
        config, eta_star_choice()["lr_scale"]
    )
    for run, _ in entries:
        RUNS.setdefault(run.run_id, run)
        if experiment_module.EVALUATED:
            EVALUATED.add(run.run_id)
    return entries


for _name, _module in REGISTRY.EXPERIMENTS.items():
    if hasattr(_module, "runs_after_eta_star"):
        AFTER_CHECKPOINT[_name] = runs_after_eta_star
