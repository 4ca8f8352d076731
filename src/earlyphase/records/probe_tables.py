"""Probe extraction: the per-run probe records into one tidy table.

``collect_probes(manifest)`` reads each run's ``final/probes.parquet`` (written by the
training loop every ``probe.every`` steps inside the window, step 0 included) and returns
one row per (run, step) with the run's identifying parameters, its labels from the
manifest and every probe column (``fisher_trace``, ``fisher_trace_norm``,
``avg_sharpness``, ``worst_sharpness``, ``feature_rank``, ... as recorded).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

RUN_COLUMNS = ("setup", "dataset", "arch", "lr", "lr_scale", "gu_k", "seed", "total_steps")


def run_probes(final_dir: Path | str) -> pd.DataFrame:
    final_dir = Path(final_dir)
    config = json.loads((final_dir / "config.json").read_text())
    status = json.loads((final_dir / "status.json").read_text())
    probes = pd.read_parquet(final_dir / "probes.parquet")
    if "step" not in probes.columns:  # a run without probes: no rows
        probes = pd.DataFrame({"step": pd.Series(dtype="int64")})
    info = {
        "setup": config["setup"], "dataset": config["data"]["dataset"], "arch": config["arch"],
        "lr": config["lr"], "lr_scale": config["lr_scale"], "gu_k": config["gu_k"],
        "seed": config["seed"], "total_steps": config["total_steps"], "status": status["status"],
        "probe_every": (config.get("probe") or {}).get("every"),
    }
    for key, value in info.items():
        probes[key] = value
    return probes


def collect_probes(manifest: list[dict]) -> pd.DataFrame:
    """Tidy probe table of every run of ``manifest`` ({run_id, final_dir, **labels})."""
    frames = []
    for entry in manifest:
        frame = run_probes(entry["final_dir"])
        for key, value in entry.items():
            if key not in ("final_dir", "eval_path"):
                frame[key] = value
        frames.append(frame)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    front = ["run_id", *RUN_COLUMNS, "status", "probe_every", "step"]
    front = [c for c in front if c in table.columns]
    return table[front + [c for c in table.columns if c not in front]].sort_values(
        ["run_id", "step"], kind="stable").reset_index(drop=True)
