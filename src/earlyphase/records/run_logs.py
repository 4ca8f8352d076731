"""Per-run logs of one experiment's runs in one tidy table: every row of each run's
``final/probes.parquet`` or ``final/test_log.parquet``, with the run id and the experiment's labels.

The manifest is the one the aggregate rule gets ([{run_id, final_dir, eval_path, **labels}]);
each run's files are read through :class:`~earlyphase.records.run_record.RunRecord`. One
collector makes both tables the workflow keeps:

    python -m earlyphase run-log-table --manifest JSON --file probes.parquet --out TABLE.parquet
    python -m earlyphase probe-table --manifest JSON --out TABLE.parquet

* ``collect_logs(manifest, filename)`` (rule ``run_log_table``, e.g. tr(F) trajectories or
  the warm-start test log): the file's columns, then the labels and the run's ``lr``,
  ``lr_scale`` and ``seed`` (list and dict values as JSON). A run without the file (a
  diverged run stopped before it, or an older run) contributes no rows.
* ``collect_probes(manifest)`` (rule ``probe_table``, Figures 2 and 3, Appendix E.1): the
  probe log of every run, which must exist (a run that recorded no probes gives no rows),
  led by the run's identifying parameters, its status and ``probe.every``; sorted by run
  and step.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from earlyphase.records.run_record import RunRecord

MANIFEST_PATHS = ("final_dir", "eval_path")  # manifest keys that are paths, not labels
RUN_COLUMNS = ("setup", "dataset", "arch", "lr", "lr_scale", "gu_k", "seed", "total_steps")


def _labelled_logs(manifest: list[dict], read: Callable[[RunRecord], pd.DataFrame | None],
                   columns: Callable[[RunRecord, dict], dict]) -> list[pd.DataFrame]:
    """Per run: the frame ``read`` gives (None: no rows from this run) with ``columns`` added
    in order, each a constant over the run's rows."""
    frames = []
    for entry in manifest:
        record = RunRecord(entry["final_dir"])
        frame = read(record)
        if frame is None:
            continue
        labels = {k: v for k, v in entry.items() if k not in MANIFEST_PATHS}
        for key, value in columns(record, labels).items():
            frame[key] = value
        frames.append(frame)
    return frames


def collect_logs(manifest: list[dict], filename: str) -> pd.DataFrame:
    def read(record: RunRecord) -> pd.DataFrame | None:
        return record.table(filename) if record.has(filename) else None

    def columns(record: RunRecord, labels: dict) -> dict:
        config = record.config
        # The run's own lr, lr_scale and seed win over labels of the same name.
        merged = {**labels, "lr": config["lr"], "lr_scale": config["lr_scale"], "seed": config["seed"]}
        return {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in merged.items()}

    frames = _labelled_logs(manifest, read, columns)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"run_id": []})


def _probe_rows(record: RunRecord) -> pd.DataFrame:
    probes = record.probe_log
    if "step" not in probes.columns:  # a run without probes: no rows
        probes = pd.DataFrame({"step": pd.Series(dtype="int64")})
    return probes


def _probe_run_columns(record: RunRecord, labels: dict) -> dict:
    config, status = record.config, record.status
    run = {
        "setup": config["setup"], "dataset": config["data"]["dataset"], "arch": config["arch"],
        "lr": config["lr"], "lr_scale": config["lr_scale"], "gu_k": config["gu_k"],
        "seed": config["seed"], "total_steps": config["total_steps"], "status": status["status"],
        "probe_every": (config.get("probe") or {}).get("every"),
    }
    return {**run, **labels}  # labels win over run parameters of the same name


def collect_probes(manifest: list[dict]) -> pd.DataFrame:
    """Tidy probe table of every run of ``manifest`` ({run_id, final_dir, **labels})."""
    frames = _labelled_logs(manifest, _probe_rows, _probe_run_columns)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    front = ["run_id", *RUN_COLUMNS, "status", "probe_every", "step"]
    front = [c for c in front if c in table.columns]
    return table[front + [c for c in table.columns if c not in front]].sort_values(
        ["run_id", "step"], kind="stable").reset_index(drop=True)
