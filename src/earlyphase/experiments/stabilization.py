"""arXiv v1 Table 2 of Liu & Gurevych: gradual unfreezing at the k chosen by Algorithm 2.

Static runs (listed here): the lr_d standard runs (shared with Table 1) and the GU runs
at ``random_k.n`` random k <= ``random_k.k_max`` per setup (seeded, the same for every
seed), against which the win rate is computed. The runs at the chosen k depend on the
head-only probe results (:mod:`.stabilization_probes`), so the workflow adds them after a
Snakemake checkpoint has run Algorithm 2 (:func:`chosen_runs`); their ids are ordinary GU
run ids, shared with any other artifact that trains the same k.
"""

from __future__ import annotations

from dataclasses import replace

from earlyphase.experiments.artifact import Artifact
from earlyphase.experiments.claim import Arms, Claim
from earlyphase.report import table_stabilization as table_stabilization_report
from earlyphase.runs import blocks_of, resolve_run, total_steps
from earlyphase.selection.stabilization import METRIC_LABELS, random_ks

EVALUATED = True


def k_max(config: dict, setup_name: str) -> int:
    """Largest k whose unfreezing finishes within the run."""
    return max(1, total_steps(config, setup_name) // blocks_of(config["setups"][setup_name]["arch"]))


def random_k_values(config: dict, setup_name: str) -> list[int]:
    spec = config["experiments"]["stabilization"]["random_k"]
    return random_ks(spec["seed"], spec["n"], min(spec["k_max"], k_max(config, setup_name)))


def algorithm_settings(config: dict, setup_name: str) -> dict:
    """Everything the choice of k depends on besides the probe trajectory."""
    spec = config["experiments"]["stabilization"]
    return {"tau": spec["tau"], "epsilon": spec["epsilon"], "transient": spec["transient"],
            "k_max": k_max(config, setup_name)}


def runs(config: dict) -> list:
    spec = config["experiments"]["stabilization"]
    entries = []
    for setup_name in spec["setups"]:
        for seed in spec["seeds"]:
            entries.append((resolve_run(config, setup_name, seed), {"role": "standard", "metric": None}))
            for k in random_k_values(config, setup_name):
                run = resolve_run(config, setup_name, seed, gu_k=k)
                entries.append((run, {"role": "random", "metric": None}))
    return entries


def chosen_runs(config: dict, setup_name: str, metric: str, k: int) -> list:
    spec = config["experiments"]["stabilization"]
    return [(resolve_run(config, setup_name, seed, gu_k=int(k)), {"role": "chosen", "metric": metric})
            for seed in spec["seeds"]]


def chosen_k_tests(config: dict) -> list[dict]:
    spec = config["experiments"]["stabilization"]
    return [{"setup": setup, "label": f"GU-{METRIC_LABELS[metric]}",
             "intervention": {"setup": setup, "role": "chosen", "metric": metric},
             "comparison": {"setup": setup, "role": "random"}}
            for setup in spec["setups"] for metric in spec["metrics"]]


CLAIMS = (
    Claim(id="stabilization-chosen-k-ood", paper="Liu & Gurevych (arXiv v1)", section="Table 2 (arXiv v1)",
          metric="OOD accuracy (pp)", comparison="GU at the k Algorithm 2 chose vs the mean over random k, same seed",
          statement="Gradual unfreezing at the k the stabilization heuristic picks beats a random k in OOD "
          "accuracy (the paper reports a win rate; ours is beside the test).", direction="up",
          tests=chosen_k_tests, arms=Arms("chosen_vs_random", "stabilization.parquet", "ood_acc")),
)

def chosen_runs_cost(config: dict, ledger) -> None:
    """Cost hook (:class:`earlyphase.operations.cost.Ledger`): the GU runs at the k Algorithm 2
    will choose. k is known only after the head-only probe runs, so one run per (setup,
    metric, seed) is counted at a mid-range k; choices that coincide make the real count smaller."""
    spec = config["experiments"]["stabilization"]
    for setup_name in spec["setups"]:
        for metric in spec["metrics"]:
            k = min(k_max(config, setup_name), spec["random_k"]["k_max"]) // 2 or 1
            for run, _ in chosen_runs(config, setup_name, metric, k):
                ledger.add_run(replace(run, run_id=f"{run.run_id}#{metric}"), EVALUATED)  # one per metric
                ledger.tally.unknown_k_runs += 1


ARTIFACTS = (
    Artifact(
        name="table_stabilization",
        outputs={"tex": "table_stabilization.tex", "csv": "table_stabilization.csv"},
        shown=("csv",),
        tables=("stabilization.parquet",),
        config_key="stabilization",
        run_sets=("stabilization_probes", "stabilization"),
        extra_costs={"chosen": chosen_runs_cost},
        render=table_stabilization_report.render,
        caption=(
            "**Stabilization heuristic (Liu & Gurevych arXiv v1, Algorithm 2 and Table 2).** The "
            "unfreezing interval k chosen per probe (S_worst, S_avg, tr(F)) from a run in which only "
            "the head is trainable (normalized signal, transient skipped, moving average, first "
            "smoothed change ≤ ε), the ID/OOD accuracy of gradual unfreezing at that k, and its win "
            "rate against random k ≤ 800, each beside the paper's value."
        ),
        category="Primary paper (arXiv v1)",
        metric_keys=("setup", "method"),
        metric_values=("k", "id_mean", "ood_mean", "n_seeds", "win_rate"),
        claims=CLAIMS,
    ),
)
