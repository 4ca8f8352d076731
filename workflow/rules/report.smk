# Report: LaTeX tables and seaborn figures, each made by the report module named after it.


rule table1:
    input:
        f"{RESULTS}/tables/table1_runs.parquet",
    output:
        tex=f"{FIGURES}/table1.tex",
        csv=report(
            f"{FIGURES}/table1.csv",
            caption="../report/table1.rst",
            category="Primary paper",
        ),
    log:
        f"{RESULTS}/logs/report/table1.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report table1 --runs {input} --out {output.tex} > {log} 2>&1"


rule figure1:
    input:
        f"{RESULTS}/tables/figure1_runs.parquet",
    output:
        pdf=f"{FIGURES}/figure1.pdf",
        png=report(
            f"{FIGURES}/figure1.png",
            caption="../report/figure1.rst",
            category="Primary paper",
        ),
    log:
        f"{RESULTS}/logs/report/figure1.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "python -m earlyphase report figure1 --runs {input} --out {output.pdf} > {log} 2>&1"
