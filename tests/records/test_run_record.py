"""The one reader of a finished run's records (earlyphase.records.run_record): it reads back
what a run wrote, and a missing file fails with an error that names it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from earlyphase.probes.posthoc import collect_posthoc
from earlyphase.records.aggregate import collect
from earlyphase.records.run_record import MissingRecordError, RunRecord

CONFIG = {"setup": "cifar10-resnet18", "data": {"dataset": "cifar10"}, "arch": "resnet18", "optimizer": "sgd",
          "lr": 0.1, "lr_scale": 1.0, "gu_k": 2, "seed": 3, "total_steps": 9, "probe": {"every": 3}}
STATUS = {"status": "diverged", "diverged_at": 6}
TABLES = {
    "train_log.parquet": pd.DataFrame({"step": [0, 1, 2], "loss": [2.3, 2.1, float("inf")]}),
    "probes.parquet": pd.DataFrame({"step": [0, 3], "fisher_trace": [1.5, 4.0]}),
    "test_log.parquet": pd.DataFrame({"step": [3], "test_acc": [41.0]}),
}


def _run(tmp_path):
    final = tmp_path / "run" / "final"
    final.mkdir(parents=True)
    (final / "config.json").write_text(json.dumps(CONFIG))
    (final / "status.json").write_text(json.dumps(STATUS))
    for name, frame in TABLES.items():
        frame.to_parquet(final / name)
    evaluation = pd.DataFrame({"split": ["id", "ood"], "accuracy": [90.0, 60.0]})
    evaluation.to_parquet(tmp_path / "run" / "eval.parquet")
    posthoc = pd.DataFrame([{"step": 9, "hessian_eigenvalue": 12.5}])
    posthoc.to_parquet(tmp_path / "run" / "posthoc.parquet")
    return RunRecord(str(final), str(tmp_path / "run" / "eval.parquet"), str(tmp_path / "run" / "posthoc.parquet"))


def test_records_read_back_what_the_run_wrote(tmp_path):
    record = _run(tmp_path)
    assert record.config == CONFIG and record.status == STATUS
    pd.testing.assert_frame_equal(record.train_log, TABLES["train_log.parquet"])
    pd.testing.assert_frame_equal(record.probe_log, TABLES["probes.parquet"])
    pd.testing.assert_frame_equal(record.test_log, TABLES["test_log.parquet"])
    assert record.evaluation["accuracy"].tolist() == [90.0, 60.0]
    assert record.posthoc["hessian_eigenvalue"].tolist() == [12.5]
    assert record.has("probes.parquet") and not record.has("model.pt")


def test_string_and_path_arguments_make_the_same_record(tmp_path):
    record = _run(tmp_path)
    assert record == RunRecord(tmp_path / "run" / "final", tmp_path / "run" / "eval.parquet",
                               tmp_path / "run" / "posthoc.parquet")


def test_each_table_read_is_a_fresh_frame(tmp_path):
    record = _run(tmp_path)
    frame = record.probe_log
    frame["label"] = "changed"  # collectors add columns to the frame they get
    assert "label" not in record.probe_log.columns


@pytest.mark.parametrize("name, read", [
    ("config.json", lambda r: r.config), ("status.json", lambda r: r.status),
    ("train_log.parquet", lambda r: r.train_log), ("probes.parquet", lambda r: r.probe_log),
    ("test_log.parquet", lambda r: r.test_log),
])
def test_a_missing_file_of_final_is_named(tmp_path, name, read):
    record = _run(tmp_path)
    (record.final_dir / name).unlink()
    with pytest.raises(MissingRecordError, match=f"final/{name}.*the final/ folder has no {name}") as err:
        read(record)
    assert isinstance(err.value, FileNotFoundError) and err.value.path == record.final_dir / name


def test_an_unfinished_run_says_it_has_no_final_folder(tmp_path):
    with pytest.raises(MissingRecordError, match="no final/ folder: has the run finished"):
        _ = RunRecord(tmp_path / "never" / "final").config


def test_a_missing_evaluation_or_posthoc_file_is_named(tmp_path):
    record = _run(tmp_path)
    record.eval_path.unlink()
    record.posthoc_path.unlink()
    with pytest.raises(MissingRecordError, match=r"eval\.parquet \(the run's evaluation"):
        _ = record.evaluation
    with pytest.raises(MissingRecordError, match=r"posthoc\.parquet \(the post-hoc probes"):
        _ = record.posthoc
    with pytest.raises(ValueError, match="not evaluated"):
        _ = RunRecord(record.final_dir).evaluation


def test_collectors_report_the_missing_record(tmp_path):
    record = _run(tmp_path)
    (record.final_dir / "status.json").unlink()
    entry = {"run_id": "r", "final_dir": str(record.final_dir), "eval_path": None}
    with pytest.raises(MissingRecordError, match="status.json"):
        collect([entry])
    record.posthoc_path.unlink()
    with pytest.raises(MissingRecordError, match="posthoc.parquet"):
        collect_posthoc([{"run_id": "r", "posthoc_path": str(record.posthoc_path)}])
