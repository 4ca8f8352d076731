"""Per-run logs (``final/probes.parquet``, ``final/test_log.parquet``) of one experiment in one
tidy table: every row of each run's file, with the run id and the experiment's labels.

    python -m earlyphase run-log-table --manifest JSON --file probes.parquet --out TABLE.parquet

The manifest is the one the aggregate rule gets ([{run_id, final_dir, eval_path, **labels}]).
A run without the file (a diverged run stopped before it, or an older run) contributes no rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def collect_logs(manifest: list[dict], filename: str) -> pd.DataFrame:
    frames = []
    for entry in manifest:
        path = Path(entry["final_dir"]) / filename
        if not path.exists():
            continue
        frame = pd.read_parquet(path)
        config = json.loads((Path(entry["final_dir"]) / "config.json").read_text())
        labels = {k: v for k, v in entry.items() if k not in ("final_dir", "eval_path")}
        for key, value in {**labels, "lr": config["lr"], "lr_scale": config["lr_scale"],
                           "seed": config["seed"]}.items():
            frame[key] = value if not isinstance(value, (list, dict)) else json.dumps(value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"run_id": []})
