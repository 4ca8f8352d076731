"""The probe table (``earlyphase probe-table``, Figures 2 and 3): every probed run's probe log,
led by the run's parameters and sorted by run and step, from the same collector as the
run-log tables (earlyphase.records.run_logs)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from earlyphase.cli import main
from earlyphase.records.run_logs import RUN_COLUMNS, collect_probes
from earlyphase.records.run_record import MissingRecordError


def _run(root, name, seed, probes, gu_k=None):
    final = root / name / "final"
    final.mkdir(parents=True)
    config = {"setup": "c10", "data": {"dataset": "cifar10"}, "arch": "resnet18", "lr": 0.1, "lr_scale": 1.0,
              "gu_k": gu_k, "seed": seed, "total_steps": 9, "probe": {"every": 3}}
    (final / "config.json").write_text(json.dumps(config))
    (final / "status.json").write_text(json.dumps({"status": "completed", "diverged_at": None}))
    probes.to_parquet(final / "probes.parquet")
    return {"run_id": name, "final_dir": str(final), "eval_path": None}


def test_probe_table_leads_with_the_run_and_sorts_by_run_and_step(tmp_path):
    manifest = [
        {**_run(tmp_path, "b", 1, pd.DataFrame({"step": [3, 0], "fisher_trace": [2.0, 1.0]}), gu_k=2), "k": 2},
        {**_run(tmp_path, "a", 0, pd.DataFrame({"step": [0, 3], "fisher_trace": [5.0, 6.0]})), "k": None},
        {**_run(tmp_path, "c", 2, pd.DataFrame()), "k": 4},  # no probes recorded: no rows
    ]
    out = tmp_path / "probes.parquet"
    assert main(["probe-table", "--manifest", json.dumps(manifest), "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert list(table.columns) == ["run_id", *RUN_COLUMNS, "status", "probe_every", "step", "fisher_trace", "k"]
    assert table["run_id"].tolist() == ["a", "a", "b", "b"] and table["step"].tolist() == [0, 3, 0, 3]
    assert table["fisher_trace"].tolist() == [5.0, 6.0, 1.0, 2.0]
    assert table["gu_k"].tolist()[2:] == [2, 2] and table["probe_every"].unique().tolist() == [3]


def test_labels_win_over_run_parameters_of_the_same_name(tmp_path):
    entry = {**_run(tmp_path, "a", 0, pd.DataFrame({"step": [0], "x": [1.0]})), "seed": 99}
    assert collect_probes([entry])["seed"].tolist() == [99]


def test_a_probed_run_without_its_probe_log_is_an_error_naming_it(tmp_path):
    entry = _run(tmp_path, "a", 0, pd.DataFrame({"step": [0]}))
    (tmp_path / "a" / "final" / "probes.parquet").unlink()
    with pytest.raises(MissingRecordError, match="a/final/probes.parquet"):
        collect_probes([entry])


def test_no_runs_make_an_empty_table():
    assert collect_probes([]).empty and list(collect_probes([]).columns) == []
