# Berariu et al. (seed 002): warm-start generalization gap against pre-training epochs, and
# the layer-reset variant. Runs: earlyphase.experiments.warm_start (two-phase training jobs
# that log test accuracy every epoch of the last N); OOD from the ordinary evaluation.


rule warm_start:
    input:
        runs=f"{RESULTS}/tables/warm_start_runs.parquet",
        test_log=f"{RESULTS}/tables/warm_start_log-test_log.parquet",
    output:
        pdf=f"{FIGURES}/warm_start.pdf",
        png=report(
            f"{FIGURES}/warm_start.png",
            caption="../report/warm_start.rst",
            category="Plasticity (seed 002)",
        ),
        csv=f"{FIGURES}/warm_start.csv",
    log:
        f"{RESULTS}/logs/report/warm_start.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report warm_start --runs {input.runs} {input.test_log} --out {output.pdf} > {log} 2>&1"
