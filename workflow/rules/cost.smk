# Cost model: runs, steps, probe points, evaluation passes and estimated GPU-hours of every
# artifact of the current configuration, from the measured per-step costs in
# bench/throughput_reference.json (a documented default when no GPU measurement exists).
#   snakemake cost        -> results/cost.txt (also printed)


rule cost:
    input:
        [path for path in ["bench/throughput_reference.json"] if Path(path).exists()],
    output:
        f"{RESULTS}/cost.txt",
    log:
        f"{RESULTS}/logs/cost.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=lambda w: json.dumps(dict(config)),
    shell:
        "python -m earlyphase cost all --config-json {params.config:q} --out {output} 2> {log} && cat {output}"
