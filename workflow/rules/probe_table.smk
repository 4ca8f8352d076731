# Probe extraction: the probe records of the `probes` runs in one tidy table, read by
# Figures 2 and 3 and arXiv v1 Appendix E.1 (feature rank).


rule probe_table:
    input:
        lambda w: run_products("probes"),
    output:
        f"{RESULTS}/tables/probes.parquet",
    log:
        f"{RESULTS}/logs/aggregate/probe_table.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=lambda w: manifest("probes"),
    shell:
        "python -m earlyphase probe-table --manifest {params.manifest:q} --out {output} > {log} 2>&1"
