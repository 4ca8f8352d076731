# Training: one job per run (setup × variant × seed); probes are recorded inline.


rule train:
    input:
        data=lambda w: grid.clean_data_dir(config, run_dataset(w.run)),
    output:
        directory(f"{RESULTS}/runs/{{run}}/final"),
    log:
        train_log_path(RESULTS, "{run}"),
    wildcard_constraints:
        run=RUN_ID_PATTERN,
    conda:
        CONDA_ENV
    threads: GPU_JOB_THREADS
    resources:
        **GPU_JOB_RESOURCES,
        runtime=720,
    params:
        config=lambda w: json.dumps(RUNS[w.run].config),
        run_dir=lambda w: run_dir(w.run),
        checkpoint_every=config["training"]["checkpoint_every"],
        checkpoint_minutes=config["training"].get("checkpoint_minutes", 0),
        device=config.get("device", "auto"),
    shell:
        "python -m earlyphase train --config {params.config:q} --run-dir {params.run_dir} "
        "--data {input.data} --checkpoint-every {params.checkpoint_every} "
        "--checkpoint-minutes {params.checkpoint_minutes} --threads {threads} --device {params.device} "
        "> {log} 2>&1"
