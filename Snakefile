# earlyphase: reproduce Liu & Gurevych, "Early Period of Training Impacts
# Out-of-Distribution Generalization", and the papers it builds on.
#
#   snakemake --cores N figures/table1.tex                     # one artifact
#   snakemake --cores 2 --configfile config/smoke.yaml         # offline smoke run, every rule
#   snakemake --workflow-profile workflow/profiles/slurm ...   # the same on a SLURM cluster


configfile: "params.yaml"


report: "workflow/report/workflow.rst"


# Aggregations and reports take seconds: on a cluster they run where Snakemake runs.
localrules:
    aggregate,
    aggregate_stabilization,
    appendix_feature_rank,
    appendix_sharpness_ood,
    cost,
    figure1,
    figure2,
    figure3,
    fisher_explosion,
    fisher_onset,
    fisher_table1,
    phase_diagram,
    phase_diagram_table,
    posthoc_table,
    probe_table,
    run_log_table,
    stabilize,
    table1,
    table2,
    table_stabilization,
    uv_phase_diagram,
    uv_phase_diagram_table,
    warm_start,


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/probe_figures.smk"
include: "workflow/rules/table2.smk"
include: "workflow/rules/stabilization.smk"
include: "workflow/rules/posthoc.smk"
include: "workflow/rules/cost.smk"
include: "workflow/rules/run_logs.smk"
include: "workflow/rules/fisher.smk"
include: "workflow/rules/phase_diagram.smk"
include: "workflow/rules/warm_start.smk"


rule all:
    default_target: True
    input:
        ARTIFACTS,


rule data:
    input:
        sorted(CLEAN_SPECS) + sorted(OOD_SPECS),


rule runs:
    input:
        [f"{run_dir(run_id)}/final" for run_id in RUNS]
        + [eval_path(run_id) for run_id in sorted(EVALUATED)],
