"""Figure 1 of Liu & Gurevych: the k sweep per setup and learning rate, plus the baselines."""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.report import figure1 as figure1_report
from earlyphase.report.figure1 import lr_label
from earlyphase.runs import k_grid, resolve_run

EVALUATED = True
PAPER = "Liu & Gurevych (arXiv v1)"
RUNS = "figure1_runs.parquet"


def table1_seeds(config: dict, setup_name: str, lr_scale: float, k: int) -> str:
    """The seeds Table 1 reports for GU at this setup, learning rate and k ("0,1,2,3"), or ""
    where Table 1 has no such row: the figure's caption names both seed sets when they differ."""
    table1 = config["experiments"].get("table1")
    if (not table1 or setup_name not in table1["setups"] or lr_scale not in table1["lr_scales"]
            or table1["gu_k"].get(setup_name) != k):
        return ""
    return ",".join(str(seed) for seed in table1["seeds"][setup_name])


def runs(config: dict) -> list:
    """Labels: ``k_on_grid`` (whether k is a point of the log grid, else one of ``k_extra``,
    drawn apart so the curve does not zig-zag between near neighbours) and ``table1_seeds``."""
    spec = config["experiments"]["figure1"]
    entries = []
    for setup_name in spec["setups"]:
        ks = k_grid(config, setup_name, spec["k_points"], spec["k_extra"])
        grid = set(k_grid(config, setup_name, spec["k_points"], []))
        for lr_scale in spec["lr_scales"]:
            for seed in spec["seeds"]:
                baseline = {"k_on_grid": None, "table1_seeds": ""}
                entries.append((resolve_run(config, setup_name, seed, lr_scale=lr_scale), baseline))
                for k in ks:
                    labels = {"k_on_grid": k in grid, "table1_seeds": table1_seeds(config, setup_name, lr_scale, k)}
                    entries.append((resolve_run(config, setup_name, seed, lr_scale=lr_scale, gu_k=k), labels))
    return entries


def _pair(setup: str, lr_scale: float, k: int) -> dict:
    """GU at interval k against standard training at the same learning rate, paired by seed."""
    return {"intervention": {"setup": setup, "lr_scale": lr_scale, "gu_k": k},
            "comparison": {"setup": setup, "lr_scale": lr_scale, "gu_k": None}}


def sweep_tests(config: dict) -> list[dict]:
    """Each k of the sweep is a test, per setup and learning rate (the group a summary reads)."""
    spec = config["experiments"]["figure1"]
    return [{"setup": setup, "label": f"{lr_label(lr)}, k={k}", "group": lr_label(lr), **_pair(setup, lr, k)}
            for setup in spec["setups"] for lr in spec["lr_scales"]
            for k in k_grid(config, setup, spec["k_points"], spec["k_extra"])]


def sweep_groups(config: dict) -> list[dict]:
    """The summary's tests: one per setup and learning rate."""
    spec = config["experiments"]["figure1"]
    return [{"setup": setup, "label": lr_label(lr), "group": lr_label(lr)}
            for setup in spec["setups"] for lr in spec["lr_scales"]]


def largest_k_tests(config: dict) -> list[dict]:
    spec = config["experiments"]["figure1"]
    tests = []
    for setup in spec["setups"]:
        k = max(k_grid(config, setup, spec["k_points"], spec["k_extra"]))
        tests += [{"setup": setup, "label": f"{lr_label(lr)}, k={k}", **_pair(setup, lr, k)}
                  for lr in spec["lr_scales"]]
    return tests


COMPARISON = "GU at interval k vs standard training at the same learning rate, same seed"
CLAIMS = (
    Claim(id="figure1-k-ood", paper=PAPER, section="Figure 1", metric="OOD accuracy (pp)", comparison=COMPARISON,
          statement="Gradual unfreezing at interval k raises OOD accuracy (one test per k of the sweep).",
          direction="up", tests=sweep_tests, arms=Arms("runs", RUNS, "ood_acc")),
    Claim(id="figure1-k-id", paper=PAPER, section="Figure 1", metric="ID accuracy (pp)", comparison=COMPARISON,
          statement="Gradual unfreezing at interval k leaves ID accuracy unchanged (one test per k of the sweep).",
          direction="unchanged", tests=sweep_tests, arms=Arms("runs", RUNS, "id_acc")),
    Claim(id="figure1-some-k", paper=PAPER, section="Figure 1", metric="OOD and ID accuracy (pp)",
          comparison=COMPARISON, statement="Some k of the sweep raises OOD accuracy with ID accuracy unchanged: "
          "reproduced where one k has both tests reproduced.", direction="up", tests=sweep_groups,
          combines=("figure1-k-ood", "figure1-k-id")),
    Claim(id="figure1-largest-k-id", paper=PAPER, section="Figure 1", metric="ID accuracy (pp)",
          comparison=COMPARISON, statement="At the largest k of the sweep, gradual unfreezing lowers ID accuracy.",
          direction="down", tests=largest_k_tests, arms=Arms("runs", RUNS, "id_acc")),
)

ARTIFACTS = (
    Artifact(
        name="figure1",
        outputs={"pdf": "figure1.pdf", "png": "figure1.png"},
        shown=("png",),
        tables=(RUNS,),
        config_key="figure1",
        render=figure1_report.render,
        caption=(
            "**Figure 1 (Liu & Gurevych).** Change in ID and OOD accuracy of gradual unfreezing against "
            "standard training at the same learning rate and seed, as a function of the unfreezing "
            "interval k (log scale, from 1 to total_steps / number of blocks). Lines: the mean over seeds "
            "on the log grid of k; shaded band: ±1 standard deviation over the n seeds of "
            "experiments.figure1.seeds. A k added to the grid (experiments.figure1.k_extra, such as Table 1's "
            "k) is drawn as a separate marker with a ±1 SD bar, not joined to the curve. Its points use "
            "Figure 1's seeds; where Table 1 reports the same setting from more seeds, the note under the "
            "figure names both seed sets (e.g. the laptop run: the k = 38 points use seeds 0–1, Table 1 "
            "uses seeds 0–3)."
        ),
        category="Primary paper",
        plot_data=figure1_report.plot_points,
        claims=CLAIMS,
    ),
)
