# Kalra & Barkeshli (seed 004): early-training phase diagrams. These jobs are not training
# runs: one job per FCN (parameterization, depth, width, seed) and one per uv-model width,
# each at a path carrying its parameters (readable tag + short hash of its full spec; see
# earlyphase.experiments.phase_diagram / uv_model), and their concatenated tables; the
# figures are report rules (artifacts.smk).
from earlyphase.experiments import phase_diagram as _pd_experiment  # noqa: E402
from earlyphase.experiments import uv_model as _uv_experiment  # noqa: E402

PD_JOBS = (
    _pd_experiment.jobs(config) if "phase_diagram" in config["experiments"] else {}
)
UV_JOBS = _uv_experiment.jobs(config) if "uv_model" in config["experiments"] else {}


rule fcn_phase_diagram_run:
    input:
        data=lambda w: grid.clean_data_dir(config, PD_JOBS[w.tag]["data"]["dataset"]),
    output:
        f"{RESULTS}/phase_diagram/fcn/{{tag}}.parquet",
    log:
        f"{RESULTS}/logs/phase_diagram/fcn/{{tag}}.log",
    wildcard_constraints:
        tag=r"[^/]+/[^/]+/seed\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        spec=lambda w: json.dumps(PD_JOBS[w.tag]),
    shell:
        "OMP_NUM_THREADS={threads} python -m earlyphase phase-diagram-job fcn --spec {params.spec:q} --data {input.data} --out {output} > {log} 2>&1"


rule uv_phase_diagram_run:
    output:
        f"{RESULTS}/phase_diagram/uv/{{tag}}.parquet",
    log:
        f"{RESULTS}/logs/phase_diagram/uv/{{tag}}.log",
    wildcard_constraints:
        tag=r"w\d+-[^/]+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        spec=lambda w: json.dumps(UV_JOBS[w.tag]),
    shell:
        "python -m earlyphase phase-diagram-job uv --spec {params.spec:q} --out {output} > {log} 2>&1"


rule phase_diagram_table:
    input:
        [f"{RESULTS}/phase_diagram/fcn/{tag}.parquet" for tag in sorted(PD_JOBS)],
    output:
        f"{RESULTS}/tables/phase_diagram_runs.parquet",
    log:
        f"{RESULTS}/logs/aggregate/phase_diagram.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "python -m earlyphase concat-tables --inputs {input} --out {output} > {log} 2>&1"


rule uv_phase_diagram_table:
    input:
        [f"{RESULTS}/phase_diagram/uv/{tag}.parquet" for tag in sorted(UV_JOBS)],
    output:
        f"{RESULTS}/tables/uv_phase_diagram.parquet",
    log:
        f"{RESULTS}/logs/aggregate/uv_phase_diagram.log",
    localrule: True
    conda:
        CONDA_ENV
    shell:
        "python -m earlyphase concat-tables --inputs {input} --out {output} > {log} 2>&1"
