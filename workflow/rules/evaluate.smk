# Evaluation: ID accuracy and OOD accuracy per corruption × severity of one run.


rule evaluate:
    input:
        final=f"{RESULTS}/runs/{{run}}/final",
        clean=lambda w: grid.clean_data_dir(config, run_dataset(w.run)),
        ood=lambda w: grid.ood_data_dir(config, run_dataset(w.run)),
    output:
        f"{RESULTS}/runs/{{run}}/eval/{{evaltag}}.parquet",
    log:
        f"{RESULTS}/logs/evaluate/{{run}}-{{evaltag}}.log",
    wildcard_constraints:
        run=RUN_ID_PATTERN,
    conda:
        CONDA_ENV
    threads: GPU_JOB_THREADS
    resources:
        **GPU_JOB_RESOURCES,
        runtime=60,
    params:
        corruptions=lambda w: ",".join(eval_spec(w.run)["corruptions"]),
        severities=lambda w: ",".join(str(s) for s in eval_spec(w.run)["severities"]),
        batch_size=config["training"]["eval_batch_size"],
        device=config.get("device", "auto"),
    shell:
        "OMP_NUM_THREADS={threads} python -m earlyphase evaluate --final {input.final} "
        "--clean {input.clean} --ood {input.ood} --corruptions {params.corruptions} "
        "--severities {params.severities} --batch-size {params.batch_size} --device {params.device} "
        "--out {output} "
        "> {log} 2>&1"
