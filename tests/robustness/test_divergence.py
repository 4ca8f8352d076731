"""A diverged run is a result, not a failure: training records where it diverged, evaluation
writes NaN rows, aggregation keeps the run with status "diverged", and Table 1 still renders,
excluding it from the means and saying so in a note."""

from __future__ import annotations

import math

import pandas as pd

from earlyphase.records.aggregate import collect
from earlyphase.report.table1 import write_table1
from earlyphase.training.evaluate import evaluate_run
from earlyphase.training.trainer import train_run

from .helpers import tiny_config

CORRUPTIONS, SEVERITIES = ["gaussian_noise", "contrast"], [1, 3]


def test_diverged_run_flows_through_evaluation_aggregation_and_table(tmp_path, smoke_params,
                                                                     tiny_clean_dir):
    from earlyphase.data.prepare import prepare_corrupted

    ood = tmp_path / "c"
    prepare_corrupted("cifar10", "generated", tiny_clean_dir, ood, tmp_path / "raw", CORRUPTIONS)
    base = tiny_config(smoke_params, steps=6, gu_k=None, penalty=None)
    huge = {**base, "lr": 1e6, "lr_schedule": {"kind": "constant", "lr": 1e6}}
    plan = [("ok", base, "lr_d", 0), ("boom", {**huge, "seed": 1}, "lr_d", 1),
            ("boom-gu", huge, "0.1·lr_d", 0)]
    manifest = []
    for name, config, row, seed in plan:
        config = {**config, "seed": seed}
        status = train_run(config, tmp_path / name, tiny_clean_dir, progress=False)
        eval_path = tmp_path / name / "eval.parquet"
        frame = evaluate_run(tmp_path / name / "final", tiny_clean_dir, ood, CORRUPTIONS, SEVERITIES,
                             eval_path, device="cpu", batch_size=64)
        assert len(frame) == 1 + len(CORRUPTIONS) * len(SEVERITIES)
        if name == "ok":
            assert status["status"] == "completed" and frame["accuracy"].notna().all()
        else:
            assert status["status"] == "diverged" and 1 <= status["diverged_at"] <= 6
            assert frame["accuracy"].isna().all() and (frame["status"] == "diverged").all()
        manifest.append({"run_id": name, "final_dir": str(tmp_path / name / "final"),
                         "eval_path": str(eval_path), "row": row})

    runs = collect(manifest)
    diverged = runs[runs["status"] == "diverged"]
    assert sorted(diverged["run_id"]) == ["boom", "boom-gu"]
    assert diverged["diverged_at"].notna().all() and diverged["id_acc"].isna().all()
    assert runs.loc[runs["run_id"] == "ok", "id_acc"].between(0, 100).all()

    tex, csv = tmp_path / "table1.tex", tmp_path / "table1.csv"
    write_table1(runs, tex)
    table = pd.read_csv(csv).set_index("row")
    assert table.loc["lr_d", "n_seeds"] == 1 and table.loc["lr_d", "n_diverged"] == 1
    assert table.loc["0.1·lr_d", "n_seeds"] == 0 and table.loc["0.1·lr_d", "n_diverged"] == 1
    assert math.isclose(table.loc["lr_d", "id_mean"], runs.loc[runs["run_id"] == "ok", "id_acc"].iloc[0])
    text = tex.read_text()
    assert text.count("diverged run(s) excluded") == 2
    assert "lr\\_d: 1 diverged run(s) excluded (loss not finite at step" in text  # escaped for LaTeX
    assert "\\end{table}" in text
    line = next(line for line in text.splitlines() if line.startswith("0.1$\\cdot$lr\\_d &"))
    assert line.count("--") == 2  # both cells of the all-diverged row are explicit blanks
