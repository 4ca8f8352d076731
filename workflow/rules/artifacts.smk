# Report: one rule per artifact of the registry (earlyphase.experiments, one `Artifact`
# declaration each), named after it. The rule reads the artifact's tables from
# results/tables, writes its outputs under figures/ through `python -m earlyphase report`
# (and what DVC reads: a table's metrics, a figure's plot points, under results/), and shows the declared outputs in the Snakemake HTML report with the declared caption
# (report/artifact.rst renders the rule's `caption` param). Reports take seconds: on a
# cluster they run where Snakemake runs.
for _artifact in REGISTRY.ARTIFACTS.values():

    rule:
        name:
            _artifact.name
        input:
            [f"{RESULTS}/tables/{table}" for table in _artifact.input_tables(config)],
        output:
            **{
                key: (
                    report(
                        f"{FIGURES}/{path}",
                        caption="../report/artifact.rst",
                        category=_artifact.category,
                    )
                    if key in _artifact.shown
                    else f"{FIGURES}/{path}"
                )
                for key, path in _artifact.outputs.items()
            },
            **dvc_outputs(_artifact),
        log:
            f"{RESULTS}/logs/report/{_artifact.name}.log",
        localrule: True
        conda:
            CONDA_ENV
        params:
            caption=_artifact.caption,
            # Bound per rule: Snakemake evaluates a shell f-string again when the job runs,
            # and by then the loop variable names the last artifact.
            artifact=_artifact.name,
            out=lambda w, output: output[0],  # the artifact's target
            dvc=lambda w, output: dvc_output_options(output),
        shell:
            "python -m earlyphase report {params.artifact} --runs {input} "
            "--out {params.out} {params.dvc} > {log} 2>&1"
