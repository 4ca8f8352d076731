# The claims ledger's test list: every test its claims make under this configuration, fixed
# before any result (earlyphase.experiments.claims). Its length is the m of the Bonferroni
# adjustment that Table 1's marks and figures/claims.* share.


rule claim_tests:
    output:
        f"{RESULTS}/tables/claim_tests.parquet",
    log:
        f"{RESULTS}/logs/aggregate/claim_tests.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        config=lambda w: json.dumps(dict(config)),
    shell:
        "python -m earlyphase claim-tests --config-json {params.config:q} --out {output} > {log} 2>&1"
