# earlyphase: reproduce Liu & Gurevych, "Early Period of Training Impacts
# Out-of-Distribution Generalization", and the papers it builds on.
#
#   snakemake --cores N figures/table1.tex                     # one artifact
#   snakemake --cores 2 --configfile config/smoke.yaml         # offline smoke run, every rule
#   snakemake --workflow-profile workflow/profiles/slurm ...   # the same on a SLURM cluster


configfile: "params.yaml"


report: "workflow/report/workflow.rst"


# Aggregations and reports take seconds: on a cluster they run where Snakemake runs (each
# such rule says `localrule: True`). The report rules and `rule all` come from the artifact
# registry (earlyphase.experiments); see docs/extending.md.


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/probe_table.smk"
include: "workflow/rules/run_log_table.smk"
include: "workflow/rules/stabilization_inputs.smk"
include: "workflow/rules/stabilization.smk"
include: "workflow/rules/eta_star_inputs.smk"
include: "workflow/rules/eta_star.smk"
include: "workflow/rules/posthoc_probes.smk"
include: "workflow/rules/phase_diagram_jobs.smk"
include: "workflow/rules/artifacts.smk"
include: "workflow/rules/cost.smk"


# Every configured artifact of the registry (earlyphase.experiments).
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
