"""Experiment registry: one module per artifact, listing exactly the runs it needs.

Each module defines ``runs(config) -> list[(Run, labels)]`` (labels are the columns the
artifact's table or figure groups by) and ``EVALUATED`` (whether its runs need the ID/OOD
evaluation). Runs shared by several artifacts resolve to the same id and are trained
once. A new artifact is one module here plus one line in ``EXPERIMENTS``.
"""

from __future__ import annotations

from earlyphase.experiments import (
    figure1,
    fisher_explosion,
    fisher_onset,
    fisher_table1,
    phase_diagram,
    probes,
    stabilization,
    stabilization_probes,
    table1,
    table2,
    uv_model,
    warm_start,
)
from earlyphase.runs import Run

EXPERIMENTS = {
    "table1": table1,
    "figure1": figure1,
    "probes": probes,
    # companion papers: seed 003 (Fisher explosion), 004 (phase diagram), 002 (plasticity)
    "fisher_table1": fisher_table1,
    "fisher_onset": fisher_onset,
    "fisher_explosion": fisher_explosion,
    "phase_diagram": phase_diagram,
    "uv_model": uv_model,
    "warm_start": warm_start,
    "table2": table2,
    "stabilization_probes": stabilization_probes,
    "stabilization": stabilization,
}

Entry = tuple[Run, dict]


def experiment_runs(config: dict, name: str) -> list[Entry]:
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    # Several artifacts may share one settings section (module attribute CONFIG_KEY).
    if getattr(EXPERIMENTS[name], "CONFIG_KEY", name) not in config["experiments"]:
        return []
    return EXPERIMENTS[name].runs(config)


def all_runs(config: dict) -> dict[str, Run]:
    """Every run of every configured experiment, once each."""
    return {run.run_id: run for name in EXPERIMENTS for run, _ in experiment_runs(config, name)}


def evaluated_run_ids(config: dict) -> set[str]:
    """Runs whose ID/OOD accuracy some artifact reports."""
    return {
        run.run_id
        for name, module in EXPERIMENTS.items()
        if module.EVALUATED
        for run, _ in experiment_runs(config, name)
    }
