# Aggregation: per-run records into one tidy table per experiment (see earlyphase.experiments).


rule aggregate:
    input:
        lambda w: run_products(w.experiment),
    output:
        f"{RESULTS}/tables/{{experiment}}_runs.parquet",
    log:
        f"{RESULTS}/logs/aggregate/{{experiment}}.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=lambda w: manifest(w.experiment),
    shell:
        "python -m earlyphase aggregate --manifest {params.manifest:q} --out {output} > {log} 2>&1"
