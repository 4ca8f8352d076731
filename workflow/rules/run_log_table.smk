# Per-run logs of one experiment in one table: probes (tr(F) trajectories) or the periodic
# test log (warm start), with the experiment's labels. See earlyphase.records.run_logs.


rule run_log_table:
    input:
        lambda w: [
            f"{run_dir(run.run_id)}/final"
            for run, _ in experiment_entries(w.experiment)
        ],
    output:
        f"{RESULTS}/tables/{{experiment}}_log-{{log}}.parquet",
    log:
        f"{RESULTS}/logs/aggregate/{{experiment}}_log-{{log}}.log",
    wildcard_constraints:
        log="probes|test_log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=lambda w: manifest(w.experiment),
    shell:
        "python -m earlyphase run-log-table --manifest {params.manifest:q} --file {wildcards.log}.parquet "
        "--out {output} > {log} 2>&1"
