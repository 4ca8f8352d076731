"""Figure 1 of Liu & Gurevych: the k sweep per setup and learning rate, plus the baselines."""

from __future__ import annotations

from earlyphase.experiments.artifact import Artifact
from earlyphase.report import figure1 as figure1_report
from earlyphase.runs import k_grid, resolve_run

EVALUATED = True


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


ARTIFACTS = (
    Artifact(
        name="figure1",
        outputs={"pdf": "figure1.pdf", "png": "figure1.png"},
        shown=("png",),
        tables=("figure1_runs.parquet",),
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
    ),
)
