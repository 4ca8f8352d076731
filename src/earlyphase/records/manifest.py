"""Where a run's records live, and the manifest that hands them to an aggregation.

One builder serves the workflow's rules (workflow/rules/common.smk) and the rebuild of
published results (:mod:`earlyphase.records.published`), so both read the same records in the
same order and produce the same tables.
"""

from __future__ import annotations

from earlyphase.runs import Run, eval_tag


def run_dir(config: dict, run_id: str) -> str:
    return f"{config['paths']['results']}/runs/{run_id}"


def eval_path(config: dict, run_id: str, dataset: str) -> str:
    """The run's ID/OOD evaluation (its name carries everything the evaluation depends on)."""
    return f"{run_dir(config, run_id)}/eval/{eval_tag(config, dataset)}.parquet"


def manifest(config: dict, entries: list[tuple[Run, dict]], evaluated: set[str],
             all_evaluated: bool = False) -> list[dict]:
    """One record per (run, labels) entry: its final/ folder, its evaluation when the run is
    evaluated (``all_evaluated``: every run is), and the labels the table groups by."""
    return [
        {
            "run_id": run.run_id,
            "final_dir": f"{run_dir(config, run.run_id)}/final",
            "eval_path": (eval_path(config, run.run_id, run.config["data"]["dataset"])
                          if all_evaluated or run.run_id in evaluated else None),
            **labels,
        }
        for run, labels in entries
    ]
