# Data: the clean training/test sets and their corrupted (-C) test sets.

USED_DATASETS = sorted({run.config["data"]["dataset"] for run in RUNS.values()})
CLEAN_SPECS = {
    grid.clean_data_dir(config, name): grid.clean_data_spec(config, name)
    for name in USED_DATASETS
}
OOD_SPECS = {
    grid.ood_data_dir(config, name): grid.ood_data_spec(config, name)
    for name in USED_DATASETS
}


rule prepare_clean:
    output:
        directory(f"{DATA}/{{dataset}}/{{tag}}/clean"),
    log:
        f"{RESULTS}/logs/data/{{dataset}}-{{tag}}-clean.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        spec=lambda w, output: json.dumps(CLEAN_SPECS[output[0]]),
        raw=f"{DATA}/raw",
    shell:
        "python -m earlyphase prepare-clean --spec {params.spec:q} --out {output} "
        "--raw {params.raw} > {log} 2>&1"


rule prepare_ood:
    input:
        clean=f"{DATA}/{{dataset}}/{{tag}}/clean",
    output:
        directory(f"{DATA}/{{dataset}}/{{tag}}/c-{{oodtag}}"),
    log:
        f"{RESULTS}/logs/data/{{dataset}}-{{tag}}-c-{{oodtag}}.log",
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        spec=lambda w, output: json.dumps(OOD_SPECS[output[0]]),
        raw=f"{DATA}/raw",
    shell:
        "python -m earlyphase prepare-ood --spec {params.spec:q} --clean {input.clean} "
        "--out {output} --raw {params.raw} --workers {threads} > {log} 2>&1"
