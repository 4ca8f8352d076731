# The checkpoint that picks eta* from the trained and evaluated LR grid (eta_star_inputs.smk
# reads its choice).


checkpoint choose_eta_star:
    input:
        lambda w: [
            path
            for run, _ in fisher_experiment.grid_runs(config)
            for path in (f"{run_dir(run.run_id)}/final", eval_path(run.run_id))
        ],
    output:
        f"{RESULTS}/fisher/eta_star-{{grid}}.json",
    log:
        f"{RESULTS}/logs/fisher/eta_star-{{grid}}.log",
    wildcard_constraints:
        grid=r"[0-9a-f]{8}",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=lambda w: manifest_json(
            fisher_experiment.grid_runs(config), all_evaluated=True
        ),
    shell:
        "python -m earlyphase choose-eta-star --manifest {params.manifest:q} --out {output} > {log} 2>&1"
