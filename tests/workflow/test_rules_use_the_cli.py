"""Every rule runs its job through the command line (``python -m earlyphase <command>``), and
the commands the rules name exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from earlyphase.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]


def test_every_shell_command_is_an_earlyphase_subcommand():
    subcommands = set(build_parser()._subparsers._group_actions[0].choices)
    used = set()
    for path in RULE_FILES:
        text = path.read_text()
        assert "python -m earlyphase." not in text, f"{path.name} calls a module, not the CLI"
        used |= set(re.findall(r"python -m earlyphase (?:\{[^}]*\} )?([a-z][a-z_-]*)", text))
    assert {"train", "evaluate", "aggregate", "report", "run-log-table", "phase-diagram-job",
            "concat-tables", "cost"} <= used
    assert used <= subcommands, used - subcommands


def test_run_log_table_collects_each_runs_file_with_its_labels(tmp_path):
    manifest = []
    for i in range(2):
        final = tmp_path / f"run{i}" / "final"
        final.mkdir(parents=True)
        pd.DataFrame({"step": [0, 10], "value": [i, i + 0.5]}).to_parquet(final / "probes.parquet")
        (final / "config.json").write_text(json.dumps({"lr": 0.1 * (i + 1), "lr_scale": 1.0, "seed": i}))
        manifest.append({"run_id": f"r{i}", "final_dir": str(final), "eval_path": None, "row": f"row{i}"})
    manifest.append({"run_id": "missing", "final_dir": str(tmp_path / "none"), "eval_path": None, "row": "x"})
    out = tmp_path / "table.parquet"
    assert main(["run-log-table", "--manifest", json.dumps(manifest), "--file", "probes.parquet",
                 "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 4 and set(table["run_id"]) == {"r0", "r1"}
    assert table.loc[table["run_id"] == "r1", "value"].tolist() == [1.0, 1.5]
    assert set(table["row"]) == {"row0", "row1"} and table["seed"].tolist() == [0, 0, 1, 1]
