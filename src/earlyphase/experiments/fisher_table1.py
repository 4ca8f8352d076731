"""Jastrzebski et al. (seed 003) Table 1, SimpleCNN / CIFAR-10 w/o aug.: eta*, Baseline, GPx, GP, FP, GPr.

The LR grid and, at eta*/10, the Baseline and the four penalties; see
:mod:`earlyphase.experiments.fisher`. ID and OOD (CIFAR-10-C) accuracy of every run.
``runs`` lists what is known before training; :func:`runs_after_eta_star` the runs the
workflow adds once the checkpoint has chosen eta* (none with ``small_lr_from: reference``).
"""

from __future__ import annotations

import math

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.experiments.fisher import (
    PENALTY_LABELS,
    after_eta_star,
    grid_runs,
    runs_after_eta_star_cost,
    small_lr_runs,
    static_small_lr_runs,
)
from earlyphase.report import fisher_table1 as fisher_table1_report
from earlyphase.report.fisher_common import PAPER_MAX_TRF, PAPER_TABLE1

CONFIG_KEY = "fisher"
EVALUATED = True
PARTS = ("baseline", "penalties")
PAPER = "Jastrzebski et al. (seed 003)"
PAPER_SETUP = "cifar10-simplecnn-noaug"  # the only column the paper reports: its numbers are keyed to it
RUNS_TABLE, PROBES_TABLE = "fisher_table1_runs.parquet", "fisher_table1_log-probes.parquet"


def runs(config: dict) -> list:
    return grid_runs(config) + static_small_lr_runs(config, PARTS)


def runs_after_eta_star(config: dict, eta_star_scale: float) -> list:
    return small_lr_runs(config, eta_star_scale, PARTS) if after_eta_star(config) else []


def eta_star_words(config: dict) -> str:
    """What the runs' "eta*" is under ``config``: chosen on validation, or the reference LR
    (``small_lr_from: reference``)."""
    return "eta*" if after_eta_star(config) else "reference LR"


def small_lr_tests(intervention: str, comparison: str | None = None, needs: tuple[str, ...] = (), **extra):
    """The one test of a claim on the small-LR rows (``row`` labels): ``intervention`` against
    ``comparison``, or against the grid run at eta* where ``comparison`` is None; none when a
    penalty it ``needs`` is not configured."""

    def tests(config: dict) -> list[dict]:
        spec = config["experiments"]["fisher"]
        if any(kind not in spec["penalties"] for kind in needs):
            return []
        eta_star = eta_star_words(config)
        against = comparison or eta_star
        if "eta_star_share" in extra:  # a point between the comparison runs and eta*, e.g. their midpoint
            against = f"{extra['eta_star_share']:g} of gap"
        test = {"setup": spec["setup"], "label": f"{intervention} vs {against}", "intervention": {"row": intervention},
                **extra}
        if comparison:
            test["comparison"] = {"row": comparison}
        return [test]

    return tests


def _paper(value: float) -> dict[str, float]:
    return {PAPER_SETUP: round(value, 2)}


EXPLOSION_CLAIMS = (
    Claim(id="fisher-explosion-peak", paper=PAPER, section="Figures 1-2, Table 4",
          statement="With a small learning rate (eta*/10), tr(F) rises to a higher early peak than at eta*.",
          metric="log of the largest tr(F) recorded over the probed window", comparison="Baseline vs the LR-grid "
          "run at eta*, same seed", direction="up", tests=small_lr_tests("Baseline", probe="fisher_trace"),
          arms=Arms("vs_eta_star", PROBES_TABLE),
          paper_values={PAPER_SETUP: round(math.log(PAPER_MAX_TRF["Baseline"] / PAPER_MAX_TRF["eta*"]), 2)}),
    Claim(id="fisher-explosion-accuracy", paper=PAPER, section="Table 1",
          statement="Trained at the small learning rate eta*/10, the network ends with lower test accuracy than at "
          "eta*.", metric="test accuracy (pp)", comparison="Baseline vs the LR-grid run at eta*, same seed",
          direction="down", tests=small_lr_tests("Baseline"), arms=Arms("vs_eta_star", RUNS_TABLE, "id_acc"),
          paper_values=_paper(PAPER_TABLE1["Baseline"] - PAPER_TABLE1["eta*"])),
)

PENALTY_CLAIMS = (
    Claim(id="fisher-fp-recovers", paper=PAPER, section="Table 1",
          statement="At the small learning rate, the Fisher penalty (FP) recovers most of the gap to eta*: tested as "
          "FP above the midpoint between the Baseline and eta* (d > 0: more than half the gap recovered).",
          metric="test accuracy (pp)", comparison="FP vs (Baseline + eta*) / 2, same seed", direction="up",
          tests=small_lr_tests("FP", "Baseline", needs=("fisher",), eta_star_share=0.5),
          arms=Arms("vs_eta_star", RUNS_TABLE, "id_acc"),
          paper_values=_paper(PAPER_TABLE1["FP"] - (PAPER_TABLE1["Baseline"] + PAPER_TABLE1["eta*"]) / 2)),
    *(Claim(id=f"fisher-fp-vs-{kind}", paper=PAPER, section="Table 1",
            statement=f"FP does at least as well as {PENALTY_LABELS[kind]} (the paper: better). Tested as 'up': a "
            f"detectably higher FP reproduces it, a detectably lower one contradicts it.",
            metric="test accuracy (pp)", comparison=f"FP vs {PENALTY_LABELS[kind]}, same seed", direction="up",
            tests=small_lr_tests("FP", PENALTY_LABELS[kind], needs=("fisher", kind)),
            arms=Arms("runs", RUNS_TABLE, "id_acc"),
            paper_values=_paper(PAPER_TABLE1["FP"] - PAPER_TABLE1[PENALTY_LABELS[kind]]))
      for kind in ("gp", "gpx")),
    Claim(id="fisher-gpr-like-fp", paper=PAPER, section="Table 1",
          statement="GPr (gradient norm with random labels) behaves like FP: the same test accuracy within the "
          "equivalence margin.", metric="test accuracy (pp)", comparison="GPr vs FP, same seed",
          direction="unchanged", tests=small_lr_tests("GPr", "FP", needs=("fisher", "gpr")),
          arms=Arms("runs", RUNS_TABLE, "id_acc"), paper_values=_paper(PAPER_TABLE1["GPr"] - PAPER_TABLE1["FP"])),
)


ARTIFACTS = (
    Artifact(
        name="fisher_table1",
        outputs={"tex": "fisher_table1.tex", "csv": "fisher_table1.csv"},
        shown=("csv",),
        tables=("fisher_table1_runs.parquet", "fisher_table1_log-probes.parquet"),
        config_key="fisher",
        extra_costs={"fisher_table1_at_eta_star": runs_after_eta_star_cost(runs_after_eta_star, EVALUATED)},
        render=fisher_table1_report.render,
        caption=(
            "**Fisher explosion, Table 1 row (Jastrzebski et al., seed 003).** SimpleCNN on CIFAR-10 without "
            "augmentation: final test accuracy at the best learning rate η* of a log-spaced grid (chosen by "
            "final accuracy on a validation split held out of the training set, never the test set, once the "
            "grid has finished), at η*/10 (Baseline), and at η*/10 "
            "with the Fisher penalty (FP) and the gradient-norm penalties GP, GPx, GPr; the paper's values "
            "beside ours. Added: CIFAR-10-C accuracy (no paper reported it) and the early maximum of tr(F)."
        ),
        category="Fisher explosion (seed 003)",
        metric_keys=("column",),
        claims=(*EXPLOSION_CLAIMS, *PENALTY_CLAIMS),
    ),
)
