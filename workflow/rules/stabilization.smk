# arXiv v1 Algorithm 2 and Table 2: choose k from a head-only run's probes, train GU at
# that k, compare with random k (win rate).
#
# The chosen k depends on probe results, so the DAG is data-dependent: the checkpoint
# `stabilize` writes each choice (paths and input functions: stabilization_inputs.smk).


checkpoint stabilize:
    input:
        lambda w: f"{run_dir(w.probe_run)}/final",
    output:
        f"{RESULTS}/stabilization/{{probe_run}}/{{metric}}-{{settings}}.json",
    log:
        f"{RESULTS}/logs/stabilization/{{probe_run}}-{{metric}}-{{settings}}.log",
    wildcard_constraints:
        probe_run=r"[^/]+/[^/]+/seed\d+",
        metric=r"[a-z_]+",
        settings=r"[0-9a-f]{8}",
    localrule: True
    conda:
        CONDA_ENV
    params:
        settings=lambda w, output: json.dumps(STAB_BY_PATH[output[0]]["settings"]),
    shell:
        "python -m earlyphase stabilize --final {input} --probe-run {wildcards.probe_run} "
        "--metric {wildcards.metric} --settings {params.settings:q} --out {output} > {log} 2>&1"


rule aggregate_stabilization:
    input:
        choices=[choice["path"] for choice in STAB_CHOICES.values()],
        chosen=stab_chosen_products,
        static=lambda w: run_products("stabilization"),
    output:
        f"{RESULTS}/tables/stabilization.parquet",
    log:
        f"{RESULTS}/logs/aggregate/stabilization.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=stab_manifest,
    shell:
        "python -m earlyphase aggregate --manifest {params.manifest:q} --out {output} > {log} 2>&1"
