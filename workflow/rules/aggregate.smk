# Aggregation: per-run records into one tidy table per artifact.

TABLE1_ENTRIES = [(run, {"row": row}) for row, run in TABLE1]
FIGURE1_ENTRIES = [(run, {}) for run in FIGURE1]


def _inputs(entries):
    return [f"{run_dir(r.run_id)}/final" for r, _ in entries] + [
        eval_path(r.run_id) for r, _ in entries
    ]


rule aggregate_table1:
    input:
        _inputs(TABLE1_ENTRIES),
    output:
        f"{RESULTS}/tables/table1_runs.parquet",
    params:
        manifest=manifest(TABLE1_ENTRIES),
    log:
        f"{RESULTS}/logs/aggregate/table1.log",
    shell:
        "{EARLYPHASE} aggregate --manifest {params.manifest:q} --out {output} > {log} 2>&1"


rule aggregate_figure1:
    input:
        _inputs(FIGURE1_ENTRIES),
    output:
        f"{RESULTS}/tables/figure1_runs.parquet",
    params:
        manifest=manifest(FIGURE1_ENTRIES),
    log:
        f"{RESULTS}/logs/aggregate/figure1.log",
    shell:
        "{EARLYPHASE} aggregate --manifest {params.manifest:q} --out {output} > {log} 2>&1"
