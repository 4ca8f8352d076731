"""Aggregate tables with made-up numbers for every report input, built from the experiments'
own run lists (``experiment_runs``) so they carry the columns and labels the workflow gives
them; the report functions turn them into the real .tex/.csv/metrics files without training."""

from __future__ import annotations

import numpy as np
import pandas as pd

from earlyphase.experiments import experiment_runs
from earlyphase.experiments import stabilization as stabilization_experiment
from earlyphase.experiments.claims import CLAIM_TESTS, declared_tests


def _rows(entries, rng, **extra) -> list[dict]:
    rows = []
    for run, labels in entries:
        c = run.config
        rows.append({**labels, **extra, "run_id": run.run_id, "setup": c["setup"], "dataset": c["data"]["dataset"],
                     "arch": c["arch"], "lr": c["lr"], "lr_scale": c["lr_scale"], "gu_k": c["gu_k"],
                     "seed": c["seed"], "total_steps": c["total_steps"], "status": "completed",
                     "diverged_at": None, "id_acc": float(rng.uniform(60, 99.9)),
                     "ood_acc": float(rng.uniform(20, 90)), "ood_cells": 75})
        if c.get("validation"):  # aggregation adds it for runs with a validation split (the Fisher runs)
            rows[-1]["val_acc"] = float(rng.uniform(60, 99.9))
    return rows


def runs_table(config: dict, experiment: str, seed: int = 0) -> pd.DataFrame:
    """``results/tables/<experiment>_runs.parquet`` as aggregation would write it."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(_rows(experiment_runs(config, experiment), rng))
    frame.loc[frame.index[-1], ["status", "diverged_at", "id_acc", "ood_acc"]] = ["diverged", 17, np.nan, np.nan]
    if "val_acc" in frame:
        frame.loc[frame.index[-1], "val_acc"] = np.nan
    return frame


def stabilization_table(config: dict, seed: int = 0) -> pd.DataFrame:
    """``results/tables/stabilization.parquet``: the static runs plus the chosen-k runs."""
    rng = np.random.default_rng(seed)
    rows = _rows(experiment_runs(config, "stabilization"), rng)
    spec = config["experiments"]["stabilization"]
    for setup in spec["setups"]:
        for i, metric in enumerate(spec["metrics"]):
            chosen = stabilization_experiment.chosen_runs(config, setup, metric, 100 + 37 * i)
            rows += _rows(chosen, rng, chosen_k=100 + 37 * i, stabilized=i != 1, clipped=False)
    return pd.DataFrame(rows)


def probe_log_table(runs: pd.DataFrame, column: str = "fisher_trace", seed: int = 0) -> pd.DataFrame:
    """``results/tables/<experiment>_log-probes.parquet``: a probe column over steps per run,
    with the run's labels and parameters (not its accuracies), as the run-log table has them."""
    rng = np.random.default_rng(seed)
    steps = np.arange(0, 100, 10)
    labels = runs.drop(columns=[c for c in ("status", "diverged_at", "id_acc", "ood_acc", "ood_cells", "val_acc")
                                if c in runs])
    return pd.concat([pd.DataFrame({**row, "step": steps, column: rng.uniform(1, 50, len(steps))})
                      for row in labels.to_dict("records")], ignore_index=True)


def phase_diagram_table(config: dict, seed: int = 0) -> pd.DataFrame:
    """``results/tables/phase_diagram_runs.parquet``: per job and c, a loss that falls below a
    random catapult threshold, rises above it and diverges at four times it; lambda_0 only."""
    from earlyphase.experiments import phase_diagram

    rng = np.random.default_rng(seed)
    frames = []
    for job in phase_diagram.jobs(config).values():
        catapult = 2.0 ** rng.uniform(0.5, 2.5)
        for c in job["cs"]:
            factor = 0.9 if c < catapult else (1.5 if c < 4 * catapult else np.inf)
            loss = [1.0 * factor**t for t in range(job["steps"] + 1)]
            frames.append(pd.DataFrame({
                "c": c, "step": range(job["steps"] + 1), "loss": loss, "sharpness": [5.0] + [np.nan] * job["steps"],
                "diverged": [False] + [not np.isfinite(factor)] * job["steps"], "lambda0": 5.0, "width": job["width"],
                "depth": job["depth"], "parameterization": job["parameterization"], "seed": job["seed"]}))
    return pd.concat(frames, ignore_index=True)


def probes_table(config: dict, seed: int = 0) -> pd.DataFrame:
    """``results/tables/probes.parquet``: Figure 2's probe columns every 10 steps of each probe run."""
    rng = np.random.default_rng(seed)
    frames = []
    for run, _ in experiment_runs(config, "probes"):
        c = run.config
        steps = np.arange(0, c["total_steps"] + 1, 10)
        frames.append(pd.DataFrame({
            "run_id": run.run_id, "setup": c["setup"], "dataset": c["data"]["dataset"], "arch": c["arch"],
            "lr": c["lr"], "lr_scale": c["lr_scale"], "gu_k": c["gu_k"], "seed": c["seed"], "status": "completed",
            "step": steps, **{column: rng.uniform(0.5, 50, len(steps))
                              for column in ("fisher_trace_norm", "avg_sharpness", "worst_sharpness")}}))
    return pd.concat(frames, ignore_index=True)


def report_inputs(config: dict, artifact) -> list[pd.DataFrame]:
    """The input tables of a table artifact, in the order its report function takes them."""
    frames = []
    for table in artifact.input_tables(config):
        if table == CLAIM_TESTS:
            frames.append(pd.DataFrame(declared_tests(config)))
        elif table == "probes.parquet":
            frames.append(probes_table(config))
        elif table == "stabilization.parquet":
            frames.append(stabilization_table(config))
        elif table.endswith("_log-probes.parquet"):
            frames.append(probe_log_table(runs_table(config, table.removesuffix("_log-probes.parquet"))))
        elif table == "phase_diagram_runs.parquet":
            frames.append(phase_diagram_table(config))
        elif table.endswith("_runs.parquet"):
            frames.append(runs_table(config, table.removesuffix("_runs.parquet")))
        else:
            raise ValueError(f"artifact {artifact.name}: no synthetic table for {table}")
    return frames
