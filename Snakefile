# earlyphase: reproduce Liu & Gurevych, "Early Period of Training Impacts
# Out-of-Distribution Generalization", and the papers it builds on.
#
#   snakemake --cores N figures/table1.tex                     # one artifact
#   snakemake --cores N all                                    # every artifact of the paper
#   snakemake --cores 2 --configfile config/smoke.yaml         # a preset: its own targets
#   snakemake --cores 2 all --configfile config/smoke.yaml     # offline smoke run, every rule
#   snakemake --workflow-profile workflow/profiles/slurm ...   # the same on a SLURM cluster
# Targets go before --configfile, which takes every file name after it.


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
include: "workflow/rules/claims.smk"
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


# A preset (config/*.yaml) names its own artifacts (`targets:`); a run with it and no named
# target builds those (and `all` still builds every artifact).
if PRESET_TARGETS:

    rule preset:
        default_target: True
        input:
            PRESET_TARGETS,


rule data:
    input:
        sorted(CLEAN_SPECS) + sorted(OOD_SPECS),


# Everything `all` needs that is written under results/runs, and the checkpoints' choices
# that decide some of it: the DVC stage `runs` (dvc.yaml) tracks these folders, so the stage
# `paper` (`all`) must find them complete and only aggregate and report. Were a run, a
# post-hoc probe or a choice first made there, `runs` would be out of date after each repro.
rule runs:
    input:
        runs=[f"{run_dir(run_id)}/final" for run_id in RUNS]
        + [eval_path(run_id) for run_id in sorted(EVALUATED)],
        # the runs at eta*/10 (raises until choose_eta_star has run, which Snakemake schedules)
        after_eta_star=lambda w: [
            path
            for experiment in AFTER_CHECKPOINT
            for path in run_products(experiment)
        ],
        # the choices of k, then the GU runs at each chosen k
        stabilization=[choice["path"] for choice in STAB_CHOICES.values()],
        chosen_k=stab_chosen_products,
        posthoc=POSTHOC_PRODUCTS,


# Once every rule exists: a requested target that no rule makes stops here, with the nearest
# valid targets and the preset that makes it (earlyphase.operations.requested_targets).
check_requested_targets()
