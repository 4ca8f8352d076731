# Seed Table 2: learning-rate switch and delayed Fisher penalty (runs from the `table2`
# experiment, aggregated by the generic `aggregate` rule).


rule table2:
    input:
        f"{RESULTS}/tables/table2_runs.parquet",
    output:
        tex=f"{FIGURES}/table2.tex",
        csv=report(
            f"{FIGURES}/table2.csv",
            caption="../report/table2.rst",
            category="Primary paper",
        ),
    log:
        f"{RESULTS}/logs/report/table2.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report table2 --runs {input} --out {output.tex} > {log} 2>&1"
