"""Table 1 of Liu & Gurevych: rows lr_d, lr_d + GU, 0.1·lr_d, 0.1·lr_d + GU per setup (column)."""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.report import table1 as table1_report
from earlyphase.report.paper_values import TABLE1
from earlyphase.runs import resolve_run

EVALUATED = True
PAPER = "Liu & Gurevych (arXiv v1)"


def row_label(lr_scale: float, gradual: bool) -> str:
    base = "lr_d" if lr_scale == 1.0 else f"{lr_scale:g}·lr_d"
    return base + (" + GU" if gradual else "")


def runs(config: dict) -> list:
    spec = config["experiments"]["table1"]
    entries = []
    for setup_name in spec["setups"]:
        for lr_scale in spec["lr_scales"]:
            for gu_k in (None, spec["gu_k"][setup_name]):
                for seed in spec["seeds"][setup_name]:
                    run = resolve_run(config, setup_name, seed, lr_scale=lr_scale, gu_k=gu_k)
                    entries.append((run, {"row": row_label(lr_scale, gu_k is not None)}))
    return entries


def gu_tests(lr_scale: float):
    """The tests of a GU claim at ``lr_scale``: one per Table 1 column, GU row against the
    standard row of the same learning rate, paired by seed."""

    def tests(config: dict) -> list[dict]:
        spec = config["experiments"]["table1"]
        if lr_scale not in spec["lr_scales"]:
            return []
        gu, standard = row_label(lr_scale, True), row_label(lr_scale, False)
        return [{"setup": setup, "label": f"k={spec['gu_k'][setup]}", "intervention": {"setup": setup, "row": gu},
                 "comparison": {"setup": setup, "row": standard}} for setup in spec["setups"]]

    return tests


def paper_differences(lr_scale: float, metric: int) -> dict[str, float]:
    """The paper's GU - standard difference per setup (``metric``: 0 ID, 1 OOD)."""
    gu, standard = row_label(lr_scale, True), row_label(lr_scale, False)
    return {setup: round(TABLE1[(setup, gu)][metric] - TABLE1[(setup, standard)][metric], 2)
            for setup, row in TABLE1 if row == gu and (setup, standard) in TABLE1}


def gu_claims(lr_scale: float) -> tuple[Claim, Claim]:
    """Table 1's claim at one learning rate: GU raises OOD accuracy and leaves ID accuracy as it was."""
    gu, standard = row_label(lr_scale, True), row_label(lr_scale, False)
    common = {"paper": PAPER, "section": "Table 1", "comparison": f"{gu} vs {standard}, same seed",
              "tests": gu_tests(lr_scale)}
    name = row_label(lr_scale, False).replace("·", "")
    return (
        Claim(id=f"table1-{name}-ood", statement=f"At {standard}, gradual unfreezing raises OOD accuracy over "
              "standard training.", metric="OOD accuracy (pp)", direction="up",
              arms=Arms("runs", "table1_runs.parquet", "ood_acc"), paper_values=paper_differences(lr_scale, 1),
              **common),
        Claim(id=f"table1-{name}-id", statement=f"At {standard}, gradual unfreezing leaves ID accuracy where "
              "standard training puts it.", metric="ID accuracy (pp)", direction="unchanged",
              arms=Arms("runs", "table1_runs.parquet", "id_acc"), paper_values=paper_differences(lr_scale, 0),
              **common),
    )


ARTIFACTS = (
    Artifact(
        name="table1",
        outputs={"tex": "table1.tex", "csv": "table1.csv"},
        shown=("csv",),
        tables=("table1_runs.parquet", "claim_tests.parquet"),
        config_key="table1",
        render=table1_report.render,
        caption=(
            "**Table 1 (Liu & Gurevych, arXiv v1 Table 1).** ID and OOD test accuracy (%) of standard "
            "training and gradual unfreezing (GU) at lr_d and 0.1·lr_d: ResNet-18 on MNIST, CIFAR-10, "
            "CIFAR-100 and VGG-11 on CIFAR-10. Our mean and std over seeds beside the paper's value and "
            "the difference; OOD is averaged over the configured corruptions and severities. The paper's MNIST "
            "values are arXiv v1's, trained with SGD; ours use AdamW (the seed's Table 3) unless the SGD "
            "variant setup mnist-resnet18-sgd is listed, which adds its own column. A mark after each GU cell "
            "gives the verdict on the paper's claim (OOD up, ID unchanged) by the README's verdict rule: paired "
            "GU − standard differences over seeds, Bonferroni-adjusted t intervals over every test of the "
            "claims ledger, TOST for ID; the CSV's verdict columns hold the numbers."
        ),
        category="Primary paper",
        metric_keys=("setup", "row"),
        claims=(*gu_claims(1.0), *gu_claims(0.1)),
    ),
)
