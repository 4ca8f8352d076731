# Probe extraction and the probe figures: Figures 2 and 3 (tr(F), S_avg, S_worst over the
# early window) and arXiv v1 Appendix E.1 (feature rank), all from the `probes` runs.


rule probe_table:
    input:
        lambda w: run_products("probes"),
    output:
        f"{RESULTS}/tables/probes.parquet",
    log:
        f"{RESULTS}/logs/aggregate/probe_table.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        manifest=lambda w: manifest("probes"),
    shell:
        "python -m earlyphase probe-table --manifest {params.manifest:q} --out {output} > {log} 2>&1"


rule figure2:
    input:
        f"{RESULTS}/tables/probes.parquet",
    output:
        pdf=f"{FIGURES}/figure2.pdf",
        png=report(
            f"{FIGURES}/figure2.png",
            caption="../report/figure2.rst",
            category="Primary paper",
        ),
    log:
        f"{RESULTS}/logs/report/figure2.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report figure2 --runs {input} --out {output.pdf} > {log} 2>&1"


rule figure3:
    input:
        f"{RESULTS}/tables/probes.parquet",
    output:
        pdf=f"{FIGURES}/figure3.pdf",
        png=report(
            f"{FIGURES}/figure3.png",
            caption="../report/figure3.rst",
            category="Primary paper",
        ),
    log:
        f"{RESULTS}/logs/report/figure3.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report figure3 --runs {input} --out {output.pdf} > {log} 2>&1"


rule appendix_feature_rank:
    input:
        f"{RESULTS}/tables/probes.parquet",
    output:
        pdf=f"{FIGURES}/appendix_feature_rank.pdf",
        png=report(
            f"{FIGURES}/appendix_feature_rank.png",
            caption="../report/appendix_feature_rank.rst",
            category="Primary paper (appendix)",
        ),
    log:
        f"{RESULTS}/logs/report/appendix_feature_rank.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report appendix_feature_rank --runs {input} --out {output.pdf} > {log} 2>&1"
