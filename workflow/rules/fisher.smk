# Jastrzebski et al. (seed 003), Catastrophic Fisher Explosion: Table 1 row (SimpleCNN,
# CIFAR-10 w/o aug.), the FP onset sweep (Fig. 3) and the tr(F) explosion figure.
# Runs: earlyphase.experiments.fisher; tables: the generic aggregate / run_log_table rules.


rule fisher_table1:
    input:
        runs=f"{RESULTS}/tables/fisher_table1_runs.parquet",
        probes=f"{RESULTS}/tables/fisher_table1_log-probes.parquet",
    output:
        tex=f"{FIGURES}/fisher_table1.tex",
        csv=report(
            f"{FIGURES}/fisher_table1.csv",
            caption="../report/fisher_table1.rst",
            category="Fisher explosion (seed 003)",
        ),
    log:
        f"{RESULTS}/logs/report/fisher_table1.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report fisher_table1 --runs {input.runs} {input.probes} --out {output.tex} > {log} 2>&1"


rule fisher_onset:
    input:
        f"{RESULTS}/tables/fisher_onset_runs.parquet",
    output:
        pdf=f"{FIGURES}/fisher_onset.pdf",
        png=report(
            f"{FIGURES}/fisher_onset.png",
            caption="../report/fisher_onset.rst",
            category="Fisher explosion (seed 003)",
        ),
    log:
        f"{RESULTS}/logs/report/fisher_onset.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report fisher_onset --runs {input} --out {output.pdf} > {log} 2>&1"


rule fisher_explosion:
    input:
        runs=f"{RESULTS}/tables/fisher_explosion_runs.parquet",
        probes=f"{RESULTS}/tables/fisher_explosion_log-probes.parquet",
    output:
        pdf=f"{FIGURES}/fisher_explosion.pdf",
        png=report(
            f"{FIGURES}/fisher_explosion.png",
            caption="../report/fisher_explosion.rst",
            category="Fisher explosion (seed 003)",
        ),
    log:
        f"{RESULTS}/logs/report/fisher_explosion.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report fisher_explosion --runs {input.runs} {input.probes} --out {output.pdf} > {log} 2>&1"
