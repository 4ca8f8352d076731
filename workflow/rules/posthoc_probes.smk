# Post-hoc probes of saved final models and arXiv v1 Appendix C (Figure 5): λ_max, S_worst
# and S_avg of Table 1's final solutions against their OOD accuracy.
#
# The output lies beside the run: results/runs/<run>/posthoc/probe-<hash>.parquet, the hash
# covering every probe setting (probes, points, seed, rho, draws, iterations, batch ...).
from earlyphase.experiments import appendix_sharpness  # noqa: E402
from earlyphase.probes.posthoc import posthoc_settings, posthoc_tag  # noqa: E402

POSTHOC_SPECS = {}  # tag -> settings
# The probe results of every probed run (also built by `rule runs`).
POSTHOC_PRODUCTS = []
if "appendix_sharpness" in config["experiments"]:
    _spec = config["experiments"]["appendix_sharpness"]
    POSTHOC_SETTINGS = posthoc_settings(config, _spec)
    POSTHOC_TAG = posthoc_tag(POSTHOC_SETTINGS)
    POSTHOC_SPECS[POSTHOC_TAG] = POSTHOC_SETTINGS
    POSTHOC_RUNS = appendix_sharpness.posthoc_runs(config)
    POSTHOC_PRODUCTS = [
        posthoc_path(run.run_id, POSTHOC_TAG) for run, _ in POSTHOC_RUNS
    ]


rule probe_checkpoint:
    input:
        final=f"{RESULTS}/runs/{{run}}/final",
        data=lambda w: grid.clean_data_dir(config, run_dataset(w.run)),
    output:
        f"{RESULTS}/runs/{{run}}/posthoc/{{tag}}.parquet",
    log:
        f"{RESULTS}/logs/posthoc/{{run}}-{{tag}}.log",
    wildcard_constraints:
        run=RUN_ID_PATTERN,
        tag=r"probe-[0-9a-f]{8}",
    conda:
        CONDA_ENV
    threads: GPU_JOB_THREADS
    resources:
        **GPU_JOB_RESOURCES,
        runtime=60,
    params:
        settings=lambda w: json.dumps(POSTHOC_SPECS[w.tag]),
    shell:
        "OMP_NUM_THREADS={threads} python -m earlyphase probe-checkpoint --final {input.final} --data {input.data} "
        "--settings {params.settings:q} --out {output} > {log} 2>&1"


rule posthoc_table:
    input:
        lambda w: [posthoc_path(run.run_id, POSTHOC_TAG) for run, _ in POSTHOC_RUNS],
    output:
        f"{RESULTS}/tables/appendix_sharpness.parquet",
    log:
        f"{RESULTS}/logs/aggregate/appendix_sharpness.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        manifest=lambda w: json.dumps(
            [
                {
                    "run_id": run.run_id,
                    "posthoc_path": posthoc_path(run.run_id, POSTHOC_TAG),
                    **labels,
                }
                for run, labels in POSTHOC_RUNS
            ]
        ),
    shell:
        "python -m earlyphase posthoc-table --manifest {params.manifest:q} --out {output} > {log} 2>&1"
